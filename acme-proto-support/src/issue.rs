//! What `issue()` needs in both drivers: the certificate key and CSR, and the
//! bookkeeping of the challenges an order presented.

use acme_proto::client::{ChallengeOffer, Issued, OrderEvent};
use acme_proto::crypto::AccountKey;
use acme_proto::{Identifier, Misuse};
use zeroize::Zeroizing;

use crate::error::DriverError;

/// A certificate `issue()` obtained, with the private key it generated.
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

/// A new P-256 key and a CSR (DER) for it naming `identifiers` as subjectAltNames,
/// with an empty subject (as CAs that follow the CA/B Forum rules expect).
///
/// Only DNS names (wildcards included) and IP addresses can be named.
/// A driver's error type comes back (`T` being its transport error), so that the
/// driver's `issue()` can use `?`.
pub fn certificate_request<T>(
    identifiers: &[Identifier],
) -> Result<(Vec<u8>, Zeroizing<String>), DriverError<T>> {
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
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key)?;
    Ok((csr.der().to_vec(), Zeroizing::new(key.serialize_pem())))
}

/// Copies an account key: [`AccountKey`] is not `Clone` (its secret is zeroized on
/// drop), so the copy goes through PKCS#8, in a zeroized buffer.
pub fn copy_key(key: &AccountKey) -> Result<AccountKey, acme_proto::Error> {
    AccountKey::from_pkcs8_der(&key.to_pkcs8_der()?)
}

/// What a driver does with one [`OrderEvent`], as [`Presentations::on_event`] says.
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

/// The challenges an order presented and not yet cleaned up, so that every one is
/// cleaned up however the order ends, also when it ends in the driver (a solver
/// error, no challenge chosen) before the core could say so.
#[derive(Debug, Default)]
pub struct Presentations {
    presented: Vec<ChallengeOffer>,
}

impl Presentations {
    /// What to do for `event`, choosing among offers with `choose` (the solver's
    /// choice). An offer to present is recorded before it is presented, so that a
    /// half-done present is cleaned up too.
    pub fn on_event<T>(
        &mut self,
        event: OrderEvent,
        choose: impl FnOnce(&[ChallengeOffer]) -> Option<&ChallengeOffer>,
    ) -> Result<Action, DriverError<T>> {
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
                self.presented.push(offer.clone());
                Action::Present(offer)
            }
            OrderEvent::Cleanup(offer) => {
                self.presented.retain(|p| p.url != offer.url);
                Action::Cleanup(offer)
            }
            OrderEvent::Created { url } => {
                tracing::info!(%url, "order created");
                Action::None
            }
            // The CSR is given up front; nothing else needs an answer.
            _ => Action::None,
        })
    }

    /// The offers presented and never cleaned up, for the driver to clean up once
    /// the order is over.
    pub fn into_leftovers(self) -> Vec<ChallengeOffer> {
        self.presented
    }
}
