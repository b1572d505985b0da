//! Authorizations (RFC 8555 §7.1.4).

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::challenge::{Challenge, KnownChallenge};
use super::{Resource, is_false, null_as_default};
use crate::identifier::Identifier;
use crate::status::AuthorizationStatus;
use crate::time::UnixTime;

/// An authorization object: the account's proof of control over one identifier
/// (RFC 8555 §7.1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Authorization {
    /// The identifier authorized. For a wildcard order it is the base name, without
    /// `*.`, and [`wildcard`](Self::wildcard) is set.
    pub identifier: Identifier,
    /// The authorization's status.
    pub status: AuthorizationStatus,
    /// When the authorization stops being usable (required for valid ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<UnixTime>,
    /// The ways the server offers to prove control, any one of which is enough; after
    /// validation, the one that succeeded.
    pub challenges: Vec<Challenge>,
    /// Whether the authorization is for the wildcard of [`identifier`](Self::identifier).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub wildcard: bool,
}

impl Authorization {
    /// The challenges of types this crate knows, in the server's order.
    pub fn known_challenges(&self) -> impl Iterator<Item = &KnownChallenge> {
        self.challenges.iter().filter_map(Challenge::known)
    }

    /// The first challenge of type `type_name` (`"http-01"`, …) that this crate knows.
    pub fn challenge(&self, type_name: &str) -> Option<&KnownChallenge> {
        self.known_challenges()
            .find(|c| c.kind.type_name() == type_name)
    }
}

impl Resource for Authorization {
    const NAME: &'static str = "authorization";
}
