//! What the server's order, authorizations and certificate are checked against: the
//! identifiers requested and the CSR's key.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::OrderFlow;
use super::state::OrderMachine;
use crate::certificate::CertificateChain;
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;
use crate::problem::Problem;
use crate::resource::{Authorization, Challenge, Order};
use crate::status::AuthorizationStatus;

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

/// Why an authorization failed: the error of its invalid challenge, naming the identifier.
pub(super) fn failure_of(authorization: &Authorization) -> Option<Problem> {
    if authorization.status == AuthorizationStatus::Valid {
        return None;
    }
    authorization
        .challenges
        .iter()
        .filter_map(Challenge::known)
        .find_map(|c| {
            let mut problem = c.error.clone()?;
            if problem.identifier.is_none() {
                problem.identifier = Some(authorization.identifier.clone());
            }
            Some(problem)
        })
}

impl OrderMachine {
    /// Checks the server's order against the one asked for (RFC 8555 §7.4): the same
    /// identifiers, as a set, and no more authorizations than identifiers.
    pub(super) fn check_order(&mut self, order: &Order) -> Result<(), Error> {
        pub(super) fn mismatch(field: &'static str, found: impl core::fmt::Display) -> Error {
            Malformed::new("order", MalformedKind::mismatch(field, found)).into()
        }
        if self.identifiers.is_empty() {
            // A version 1 snapshot: the order as first fetched is the reference.
            check_identifiers(&order.identifiers).map_err(|_| {
                mismatch(
                    "identifiers",
                    "more or longer identifiers than OrderFlow allows",
                )
            })?;
            self.identifiers = order.identifiers.clone();
        }
        let mut asked = self.identifiers.clone();
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

    /// Checks that an authorization is for one of the order's identifiers, and for one no
    /// other authorization of the order covers: the caller is never asked to present a
    /// challenge for a name it did not order.
    pub(super) fn check_authorization(
        &mut self,
        index: usize,
        authorization: &Authorization,
    ) -> Result<(), Error> {
        let identifier = match (&authorization.identifier, authorization.wildcard) {
            (Identifier::Dns(name), true) if !name.is_wildcard() => {
                crate::identifier::DnsName::new(&alloc::format!("*.{}", name.as_str()))
                    .ok()
                    .map(Identifier::Dns)
            }
            (Identifier::Dns(name), _) if name.is_wildcard() => None,
            (_, true) => None,
            (other, false) => Some(other.clone()),
        };
        // Equal identifiers have the same first index.
        let claimed = |at: u32| {
            self.slots
                .iter()
                .enumerate()
                .any(|(i, s)| i != index && s.identifier == Some(at))
        };
        let requested = identifier
            .and_then(|id| self.identifiers.iter().position(|r| *r == id))
            .and_then(|at| u32::try_from(at).ok());
        match requested {
            Some(at) if !claimed(at) => {
                if let Some(slot) = self.slots.get_mut(index) {
                    slot.identifier = Some(at);
                }
                Ok(())
            }
            _ => {
                let shown = if authorization.wildcard {
                    alloc::format!("*.{}", authorization.identifier)
                } else {
                    authorization.identifier.to_string()
                };
                Err(Malformed::new(
                    "authorization",
                    MalformedKind::mismatch("identifier", shown),
                )
                .into())
            }
        }
    }

    /// Checks a downloaded chain's end-entity certificate against the CSR and the order.
    pub(super) fn check_certificate(&self, chain: &CertificateChain) -> Result<Vec<String>, Error> {
        let key = self.csr_key.as_deref().ok_or(Misuse::InvalidArgument(
            "no CSR to check the certificate against: give the CSR of a resumed order \
             with provide_csr before its certificate is downloaded",
        ))?;
        let identifiers = self
            .order
            .as_ref()
            .map_or(&self.identifiers, |o| &o.identifiers);
        Ok(crate::certificate::check_issued(
            chain.end_entity(),
            key,
            identifiers,
        )?)
    }
}
