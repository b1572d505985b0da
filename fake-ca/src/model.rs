//! The CA's objects, as it keeps them. Object `n` (from 1) is at index `n - 1`.

use acme_proto::{Jwk, UnixTime};
use serde_json::{Value, json};

/// An identifier as the CA keeps it: type `dns` or `ip`, value normalized.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ident {
    pub(crate) kind: &'static str,
    /// For an order, with the `*.` of a wildcard; for an authorization, without.
    pub(crate) value: String,
}

impl Ident {
    pub(crate) fn json(&self) -> Value {
        json!({"type": self.kind, "value": self.value})
    }

    pub(crate) fn is_wildcard(&self) -> bool {
        self.value.starts_with("*.")
    }

    /// The identifier an authorization for this one names: without `*.`.
    pub(crate) fn base(&self) -> Self {
        Self {
            kind: self.kind,
            value: self
                .value
                .strip_prefix("*.")
                .unwrap_or(&self.value)
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) jwk: Jwk,
    pub(crate) contact: Vec<String>,
    pub(crate) terms_agreed: bool,
    pub(crate) deactivated: bool,
    pub(crate) orders: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthzStatus {
    Pending,
    Valid,
    Invalid,
    Deactivated,
}

impl AuthzStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::Deactivated => "deactivated",
        }
    }
}

/// A validation under way: the answered challenge, polls left, and how it ends.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    pub(crate) challenge: usize,
    pub(crate) polls_left: u32,
    /// `None`: valid; `Some(problem)`: invalid with this error.
    pub(crate) error: Option<Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct Authz {
    pub(crate) account: usize,
    pub(crate) identifier: Ident,
    pub(crate) wildcard: bool,
    pub(crate) status: AuthzStatus,
    pub(crate) expires: UnixTime,
    pub(crate) challenges: Vec<usize>,
    pub(crate) pre_authorized: bool,
    pub(crate) validation: Option<Validation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChallengeStatus {
    Pending,
    Processing,
    Valid,
    Invalid,
}

impl ChallengeStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Valid => "valid",
            Self::Invalid => "invalid",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Challenge {
    pub(crate) authz: usize,
    pub(crate) kind: &'static str,
    pub(crate) token: String,
    pub(crate) status: ChallengeStatus,
    pub(crate) validated: Option<UnixTime>,
    pub(crate) error: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderState {
    /// `pending`, `ready` or `invalid`, from its authorizations.
    Open,
    Processing {
        polls_left: u32,
    },
    Valid,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) account: usize,
    pub(crate) identifiers: Vec<Ident>,
    pub(crate) authzs: Vec<usize>,
    pub(crate) expires: UnixTime,
    pub(crate) not_before: Option<UnixTime>,
    pub(crate) not_after: Option<UnixTime>,
    pub(crate) profile: Option<String>,
    pub(crate) replaces: Option<String>,
    pub(crate) state: OrderState,
    pub(crate) certificate: Option<usize>,
}
