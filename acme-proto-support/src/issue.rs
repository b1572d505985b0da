//! What `issue()` needs in both drivers: the certificate key and CSR, and the
//! bookkeeping of the challenges an order presented.

use acme_proto::client::{ChallengeOffer, Issued, OrderEvent};
use acme_proto::crypto::AccountKey;
use acme_proto::{Identifier, Misuse};
use zeroize::Zeroizing;

use crate::error::{CsrError, DriverError};

/// A certificate `issue()` obtained, with the private key it generated.
///
/// `Debug` never shows the private key: `Zeroizing`'s `Debug` is opaque (zeroize 1.9.1
/// and later, which the workspace requires).
#[derive(Debug)]
#[non_exhaustive]
pub struct Certificate {
    /// The chain(s) the server issued.
    pub issued: Issued,
    /// The certificate's private key (P-256, PKCS#8 PEM), zeroized on drop.
    pub private_key_pem: Zeroizing<String>,
}

impl Certificate {
    /// A certificate from its parts.
    pub fn new(issued: Issued, private_key_pem: Zeroizing<String>) -> Self {
        Self {
            issued,
            private_key_pem,
        }
    }
}

/// Logs the names a certificate carries beyond its order's (some CAs add one): the
/// certificate is kept, since every ordered name and the CSR's key were checked by the
/// core, but the operator should know. Names go through [`ServerText`](acme_proto::ServerText), never raw.
pub fn report_unrequested_names(issued: &Issued) {
    for name in &issued.unrequested_names {
        tracing::warn!(
            name = %acme_proto::ServerText::new(name),
            certificate = %issued.certificate_url,
            "the certificate names more than the order asked for"
        );
    }
}

/// A new P-256 key and a CSR (DER) for it naming `identifiers` as subjectAltNames,
/// with an empty subject (as CAs that follow the CA/B Forum rules expect).
///
/// Only DNS names (wildcards included) and IP addresses can be named.
/// A driver's error type comes back (`T` being its transport error), so that the
/// driver's `issue()` can use `?`.
///
/// The key is made by ring (through rcgen, whose backend it is), from the operating
/// system's random bytes: a tenth of the CPU the core's pure-Rust P-256 takes for the
/// key and the CSR's signature, which made them the largest share of a driver's CPU per
/// certificate. Its PKCS#8 DER inside rcgen's `KeyPair` is zeroized when the pair is
/// dropped (rcgen's `zeroize` feature), and the PEM is written into a zeroized buffer.
/// Not wiped: the copy of the private scalar inside ring's `EcdsaKeyPair`, which
/// rcgen's `KeyPair` holds and ring does not zeroize.
pub fn certificate_request(
    identifiers: &[Identifier],
) -> Result<(Vec<u8>, Zeroizing<String>), DriverError> {
    let pair = Zeroizing::new(
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(csr_error)?,
    );
    let csr = csr_with(identifiers, &pair)?;
    Ok((csr, Zeroizing::new(pair.serialize_pem())))
}

/// A CSR (DER) naming `identifiers`, as [`certificate_request`] makes, for an existing
/// key (PKCS#8 PEM, P-256 or another key rcgen reads): for an order resumed with the key
/// saved when it was created.
pub fn csr_for_key(
    identifiers: &[Identifier],
    private_key_pem: &str,
) -> Result<Vec<u8>, DriverError> {
    let pair = Zeroizing::new(rcgen::KeyPair::from_pem(private_key_pem).map_err(csr_error)?);
    csr_with(identifiers, &pair)
}

fn csr_error(error: rcgen::Error) -> DriverError {
    DriverError::Csr(CsrError::new(error))
}

fn csr_with(identifiers: &[Identifier], pair: &rcgen::KeyPair) -> Result<Vec<u8>, DriverError> {
    let mut names = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        names.push(match (identifier.dns_name(), identifier) {
            (Some(name), _) => name.as_str().to_owned(),
            (None, Identifier::Ip(ip)) => ip.to_string(),
            _ => {
                return Err(Misuse::InvalidArgument(
                    "only dns and ip identifiers can be put in a CSR",
                )
                .into());
            }
        });
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(csr_error)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(pair).map_err(csr_error)?;
    Ok(csr.der().to_vec())
}

/// Copies an account key: [`AccountKey`] is not `Clone` (its secret is zeroized on
/// drop), so the copy goes through PKCS#8, in a zeroized buffer.
pub fn copy_key(key: &AccountKey) -> Result<AccountKey, acme_proto::Error> {
    AccountKey::from_pkcs8_der(&key.to_pkcs8_der()?)
}

/// What a driver does with one [`OrderEvent`], as [`action`] says.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Put `offer` in place with the solver, then call
    /// [`OrderFlow::challenge_ready`](acme_proto::client::OrderFlow::challenge_ready).
    Present(ChallengeOffer),
    /// Remove `offer` with the solver; a failure is logged, not fatal.
    Cleanup(ChallengeOffer),
    /// Nothing to do.
    None,
}

/// What to do for `event`, choosing among offers with `choose` (the solver's choice).
///
/// Nothing is recorded here: the order's own cleanup list (its `Cleanup` events, and
/// [`OrderFlow::abandon`](acme_proto::client::OrderFlow::abandon) when the driver ends
/// it early) is the only one. A present that fails half-way is the driver's to clean up
/// at once: the order never heard of it.
pub fn action(
    event: OrderEvent,
    choose: impl FnOnce(&[ChallengeOffer]) -> Option<&ChallengeOffer>,
) -> Result<Action, DriverError> {
    Ok(match event {
        OrderEvent::Authorize {
            identifier, offers, ..
        } => {
            let Some(offer) = choose(&offers).cloned() else {
                return Err(DriverError::NoChallengeChosen {
                    identifier,
                    offered: offers.iter().map(ChallengeOffer::type_name).collect(),
                });
            };
            tracing::debug!(url = %offer.url, kind = offer.type_name(), "presenting");
            Action::Present(offer)
        }
        OrderEvent::Cleanup(offer) => Action::Cleanup(offer),
        OrderEvent::Created { url } => {
            tracing::info!(%url, "order created");
            Action::None
        }
        OrderEvent::ReplacesDropped { cert_id, problem } => {
            // The core's policy: the order was sent again without `replaces` (it is then
            // not exempt from the CA's rate limits).
            tracing::warn!(
                %cert_id,
                problem = %problem.kind,
                detail = %acme_proto::ServerText::new(problem.detail.as_deref().unwrap_or("")),
                "the CA refused `replaces` (the certificate was already replaced); ordered without it"
            );
            Action::None
        }
        // The CSR is given up front; nothing else needs an answer.
        _ => Action::None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use acme_proto::crypto::SignatureAlgorithm;
    use zeroize::Zeroize as _;

    type Error = DriverError;

    #[test]
    fn the_certificate_key_is_p256_pkcs8_matching_the_csr() {
        let names = [Identifier::dns("www.example.org").unwrap()];
        let (csr, pem) = certificate_request(&names).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{}",
            pem.as_str()
        );
        let key = AccountKey::from_pem(&pem).unwrap();
        assert_eq!(key.algorithm(), SignatureAlgorithm::Es256);
        // The CSR carries that key's public point (uncompressed, after the SPKI header).
        let pair = rcgen::KeyPair::from_pem(&pem).unwrap();
        let public = pair.public_key_raw();
        assert!(csr.windows(public.len()).any(|w| w == public));
        let refused: Result<_, Error> = certificate_request(&[Identifier::Other {
            kind: "email".into(),
            value: "a@b".into(),
        }]);
        assert!(refused.is_err());
    }

    #[test]
    fn an_rcgen_key_pair_can_be_zeroized() {
        // rcgen's `zeroize` feature: what `certificate_request` relies on to wipe
        // rcgen's copy of the PKCS#8 DER.
        let mut pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        assert!(!pair.serialized_der().is_empty());
        pair.zeroize();
        assert!(pair.serialized_der().is_empty());
    }
}
