//! Lies about what was ordered, set up on the fake CA before the order: other
//! identifiers, foreign or duplicate authorizations, a certificate for another key or
//! other names.

use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};

use super::pick;
use super::setup::NAMES;

/// Lies about what was ordered, installed on the fake CA before the order (each is
/// refused by the core: see `checks.rs` for what must then never be presented or
/// issued). `requested` are the order's names as `NAMES` spells them. The input's
/// end reads as no lie.
pub(super) fn install_lies(
    u: &mut Unstructured<'_>,
    ca: &mut FakeCa,
    requested: &[&str],
) -> Result<()> {
    use acme_proto_fake_ca::{Fault, RequestKind};
    for _ in 0..2 {
        let times = u.int_in_range(1..=3usize)?;
        let (kind, fault) = match u.int_in_range(0..=11u8)? {
            // No lie (most often on the first draw's zero, always on the second's).
            0..=4 => break,
            5 => (
                RequestKind::NewOrder,
                Fault::OrderIdentifiers(lied_identifiers(u, requested)?),
            ),
            6 => (
                RequestKind::NewOrder,
                Fault::ForeignAuthorizations(u.int_in_range(1..=2)?),
            ),
            7 | 8 => (
                RequestKind::NewOrder,
                Fault::AuthorizationFor(lied_name(u, requested)?),
            ),
            9 => (RequestKind::Finalize, Fault::CertificateForOtherKey),
            _ => (
                RequestKind::Finalize,
                Fault::CertificateNames(lied_names(u, requested)?),
            ),
        };
        trace!("lie on {kind:?} ({times}×): {fault:?}");
        ca.script(kind, fault, times);
    }
    Ok(())
}

/// A name not requested: foreign, another requested one (two authorizations for one
/// identifier), the first one upper-cased (the same name), or a wildcard's base.
fn lied_name(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => "foreign.example".to_owned(),
        1 => pick(u, requested)?.unwrap_or_default().to_owned(),
        2 => requested
            .first()
            .copied()
            .unwrap_or_default()
            .to_ascii_uppercase(),
        3 => "c.example.org".to_owned(),
        _ => (*u.choose(&NAMES)?).to_owned(),
    })
}

/// `(type, value)` as the wire has them.
pub(super) fn wire_identifier(name: &str) -> (String, String) {
    let kind = if name.parse::<std::net::IpAddr>().is_ok() {
        "ip"
    } else {
        "dns"
    };
    (kind.to_owned(), name.to_owned())
}

/// The order's identifiers, lied about: one dropped, one added, one replaced, or the
/// same set reordered, duplicated or upper-cased (which the core must accept).
fn lied_identifiers(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<Vec<(String, String)>> {
    let mut names: Vec<String> = requested.iter().map(|n| (*n).to_owned()).collect();
    match u.int_in_range(0..=6u8)? {
        0 => {
            let at = u.choose_index(names.len().max(1))?;
            if at < names.len() {
                names.remove(at);
            }
        }
        1 => names.push(lied_name(u, requested)?),
        2 => {
            let at = u.choose_index(names.len().max(1))?;
            let other = lied_name(u, requested)?;
            if let Some(name) = names.get_mut(at) {
                *name = other;
            }
        }
        3 => names.reverse(),
        4 => {
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
        }
        5 => names = names.iter().map(|n| n.to_ascii_uppercase()).collect(),
        _ => names.clear(),
    }
    Ok(names.iter().map(|n| wire_identifier(n)).collect())
}

/// The certificate's DNS names, lied about: one requested name missing, a name added
/// (accepted, reported as unrequested), or only foreign names.
fn lied_names(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<Vec<String>> {
    let mut names: Vec<String> = requested.iter().map(|n| (*n).to_owned()).collect();
    match u.int_in_range(0..=3u8)? {
        0 => {
            let at = u.choose_index(names.len().max(1))?;
            if at < names.len() {
                names.remove(at);
            }
        }
        1 => names.push("extra.example".to_owned()),
        2 => names = vec!["foreign.example".to_owned()],
        _ => names = names.iter().map(|n| n.to_ascii_uppercase()).collect(),
    }
    Ok(names)
}
