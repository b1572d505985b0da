//! What the server's order and certificate are checked against: the identifiers
//! requested and the CSR's key (the authorizations are checked by the authorization
//! table, `client/authorization_table.rs`).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::OrderFlow;
use super::state::OrderMachine;
use crate::certificate::CertificateChain;
use crate::client::Client;
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;
use crate::resource::Order;
use crate::time::UnixTime;

/// The bounds [`OrderFlow::new`] keeps on identifiers, so every snapshot reads back.
pub(super) fn check_identifiers(identifiers: &[Identifier]) -> Result<(), Misuse> {
    if identifiers.len() > OrderFlow::MAX_IDENTIFIERS {
        return Err(Misuse::InvalidArgument(
            "more identifiers than OrderFlow::MAX_IDENTIFIERS",
        ));
    }
    let too_long = identifiers.iter().any(|i| {
        // Cannot fail: a type and a value, both strings.
        serde_json::to_vec(i).map_or(true, |json| json.len() > OrderFlow::MAX_IDENTIFIER_LEN)
    });
    if too_long {
        return Err(Misuse::InvalidArgument(
            "an identifier longer than OrderFlow::MAX_IDENTIFIER_LEN",
        ));
    }
    Ok(())
}

/// Checks an order object just read (its URLs, its identifiers against those
/// `requested`), and keeps only what it holds.
pub(super) fn read_order(
    client: &Client,
    requested: &mut Vec<Identifier>,
    order: Order,
) -> Result<Order, Error> {
    for url in order
        .authorizations
        .iter()
        .chain(core::iter::once(&order.finalize))
        .chain(order.certificate.iter())
    {
        client.check_url(url)?;
    }
    check_order(requested, &order)?;
    // Parsed lists grow by doubling: keep only what they hold.
    let mut order = order;
    order.identifiers.shrink_to_fit();
    order.authorizations.shrink_to_fit();
    Ok(order)
}

/// Checks the server's order against the one asked for (RFC 8555 §7.4): the same
/// identifiers, as a set, and no more authorizations than identifiers. With no
/// identifiers `requested` (a version 1 snapshot), the order's become them.
fn check_order(requested: &mut Vec<Identifier>, order: &Order) -> Result<(), Error> {
    fn mismatch(field: &'static str, found: impl core::fmt::Display) -> Error {
        Malformed::new("order", MalformedKind::mismatch(field, found)).into()
    }
    if requested.is_empty() {
        // A version 1 snapshot: the order as first fetched is the reference.
        check_identifiers(&order.identifiers).map_err(|_| {
            mismatch(
                "identifiers",
                "more or longer identifiers than OrderFlow allows",
            )
        })?;
        *requested = order.identifiers.clone();
    }
    let mut asked = requested.clone();
    let mut given = order.identifiers.clone();
    asked.sort();
    asked.dedup();
    given.sort();
    given.dedup();
    if asked != given || order.identifiers.len() > asked.len() {
        let listed = given
            .iter()
            .take(8)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(mismatch("identifiers", listed));
    }
    if order.authorizations.len() > asked.len() {
        return Err(mismatch(
            "authorizations",
            alloc::format!(
                "{} authorizations for {} identifiers",
                order.authorizations.len(),
                asked.len()
            ),
        ));
    }
    Ok(())
}

/// Checks a downloaded chain's end-entity certificate against the CSR's key and the
/// order's identifiers; gives the names the CA added.
impl OrderMachine {
    /// Checks a downloaded chain: its end-entity certificate is for the CSR's key,
    /// names every identifier of the order, and is valid until `valid_until` at least.
    /// Gives the names it holds beyond the order's.
    pub(super) fn check_certificate(
        &self,
        chain: &CertificateChain,
        valid_until: UnixTime,
    ) -> Result<Vec<String>, Error> {
        let key = self.csr_key.as_deref().ok_or(Misuse::InvalidArgument(
            "no CSR to check the certificate against: give the CSR of a resumed order \
             with provide_csr before its certificate is downloaded",
        ))?;
        let identifiers = &self
            .live()
            .ok_or(Error::Bug("a certificate checked for an order not live"))?
            .order
            .identifiers;
        let end_entity = chain.end_entity();
        let unrequested = crate::certificate::check_issued(end_entity, key, identifiers)?;
        if end_entity.not_after() < valid_until {
            return Err(Malformed::new(
                "certificate",
                MalformedKind::Invalid(
                    "it expires sooner than Policy::min_certificate_validity from now",
                ),
            )
            .into());
        }
        Ok(unrequested)
    }
}
