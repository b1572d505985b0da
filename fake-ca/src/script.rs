//! Scripted faults: what the test wants to go wrong, on which request, how many times.

use acme_proto::UnixTime;

/// What a request is, by its method and URL; scripts match on it and the CA counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// GET the directory.
    Directory,
    /// HEAD or GET newNonce.
    NewNonce,
    /// POST newAccount.
    NewAccount,
    /// POST to an account URL (fetch, update, deactivate).
    Account,
    /// POST-as-GET an account's orders list.
    AccountOrders,
    /// POST keyChange.
    KeyChange,
    /// POST newOrder.
    NewOrder,
    /// POST newAuthz.
    NewAuthz,
    /// POST-as-GET an order.
    Order,
    /// POST to an authorization (fetch or deactivate).
    Authorization,
    /// POST to a challenge (fetch, or the response `{}`).
    Challenge,
    /// POST an order's finalize URL.
    Finalize,
    /// POST-as-GET a certificate chain.
    Certificate,
    /// POST revokeCert.
    Revoke,
    /// GET renewalInfo.
    RenewalInfo,
    /// A URL the CA does not serve.
    Unknown,
    /// In a script only: matches every request.
    Any,
}

impl RequestKind {
    pub(crate) fn matches(self, kind: Self) -> bool {
        self == Self::Any || self == kind
    }
}

/// How a scripted refusal says when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <IMF-fixdate>` for this instant.
    HttpDate(UnixTime),
}

/// Something to go wrong, installed with [`FakeCa::script`](crate::FakeCa::script).
///
/// Refusals (`BadNonce`, `RateLimited`, `Unavailable`, `ServerError`, `OrderNotReady`,
/// `AlreadyReplaced`) answer instead of the CA, and change nothing on it; for a POST the
/// JWS is still verified first, so its nonce is spent. Outcomes (`InvalidChallenge*`,
/// `AuthorizationPendingPolls`, `OrderProcessingPolls`, and the lies about what was
/// ordered: `OrderIdentifiers`, `ForeignAuthorizations`, `AuthorizationFor`,
/// `CertificateForOtherKey`, `CertificateNames`) change how the request is
/// processed. Damage (the rest) changes the response after normal processing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Refuse a POST's valid nonce: 400 `badNonce` (with a fresh nonce).
    BadNonce,
    /// 429 `rateLimited` with this `Retry-After`.
    RateLimited(RetryAfter),
    /// 503 `serverInternal`, with a `Retry-After` when given.
    Unavailable(Option<RetryAfter>),
    /// 500 `serverInternal`.
    ServerError,
    /// 403 `orderNotReady` (for finalize).
    OrderNotReady,
    /// 409 `alreadyReplaced` (for newOrder).
    AlreadyReplaced,
    /// The challenge response fails: the challenge and its authorization become
    /// `invalid`, the error a problem of type `urn:ietf:params:acme:error:<type>` with
    /// `detail`, and one subproblem of that type naming the identifier.
    InvalidChallenge {
        /// The problem type's last part, for example `incorrectResponse` or `dns`.
        problem_type: String,
        /// The problem's detail.
        detail: String,
    },
    /// The challenge response fails with exactly this problem document as the error.
    InvalidChallengeWith(serde_json::Value),
    /// After the challenge response, the authorization stays `pending` (challenge
    /// `processing`) for this many polls.
    AuthorizationPendingPolls(u32),
    /// After finalize, the order stays `processing` for this many polls.
    OrderProcessingPolls(u32),
    /// On newOrder: the order is created for these identifiers (`(type, value)`, as
    /// requested on the wire) instead of those requested; its authorizations follow.
    OrderIdentifiers(Vec<(String, String)>),
    /// On newOrder: the order lists this many more authorizations, each for a DNS name
    /// the client did not ask for (`foreign-N.example`).
    ForeignAuthorizations(usize),
    /// On newOrder: the order's first authorization is for this DNS name instead of its
    /// first identifier (the order's identifiers stay as requested). On newAuthz: the
    /// authorization is for this name instead of the one asked for.
    AuthorizationFor(String),
    /// On finalize: the certificate is for another public key than the CSR's.
    CertificateForOtherKey,
    /// On finalize: the certificate names these DNS names instead of the order's.
    CertificateNames(Vec<String>),
    /// The body cut in half.
    TruncatedBody,
    /// `Content-Type: text/html` instead of the right one.
    WrongContentType,
    /// A body of exactly this many bytes (a JSON object padded with spaces).
    HugeBody(usize),
    /// A body with bytes that are not UTF-8 inside a JSON string.
    NonUtf8Body,
    /// No `Replay-Nonce` header.
    NoReplayNonce,
    /// No `Location` header.
    NoLocation,
    /// Every dns-persist-01 challenge in the body (an authorization's, or a challenge's
    /// own) carries these members instead of the CA's: `issuer-domain-names` when
    /// given, and `accounturi` when given (a hostile directory naming another CA or
    /// another account for the record).
    DnsPersistMembers {
        /// `issuer-domain-names`, as sent (they need not be valid names).
        issuer_domain_names: Option<Vec<String>>,
        /// `accounturi`, as sent.
        accounturi: Option<String>,
    },
}

/// Where a fault takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Refusal,
    Outcome,
    Damage,
}

impl Fault {
    pub(crate) fn stage(&self) -> Stage {
        match self {
            Self::BadNonce
            | Self::RateLimited(_)
            | Self::Unavailable(_)
            | Self::ServerError
            | Self::OrderNotReady
            | Self::AlreadyReplaced => Stage::Refusal,
            Self::InvalidChallenge { .. }
            | Self::InvalidChallengeWith(_)
            | Self::AuthorizationPendingPolls(_)
            | Self::OrderProcessingPolls(_)
            | Self::OrderIdentifiers(_)
            | Self::ForeignAuthorizations(_)
            | Self::AuthorizationFor(_)
            | Self::CertificateForOtherKey
            | Self::CertificateNames(_) => Stage::Outcome,
            Self::TruncatedBody
            | Self::WrongContentType
            | Self::HugeBody(_)
            | Self::NonUtf8Body
            | Self::NoReplayNonce
            | Self::NoLocation
            | Self::DnsPersistMembers { .. } => Stage::Damage,
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    kind: RequestKind,
    fault: Fault,
    remaining: usize,
}

/// The queue of installed faults, first installed first matched.
#[derive(Debug, Clone, Default)]
pub(crate) struct Script {
    entries: Vec<Entry>,
}

impl Script {
    pub(crate) fn push(&mut self, kind: RequestKind, fault: Fault, times: usize) {
        if times > 0 {
            self.entries.push(Entry {
                kind,
                fault,
                remaining: times,
            });
        }
    }

    /// Takes one use of the first fault for `kind` that `accept` takes.
    pub(crate) fn take(
        &mut self,
        kind: RequestKind,
        accept: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let index = self
            .entries
            .iter()
            .position(|e| e.kind.matches(kind) && accept(&e.fault))?;
        let entry = &mut self.entries[index];
        entry.remaining -= 1;
        let fault = entry.fault.clone();
        if entry.remaining == 0 {
            self.entries.remove(index);
        }
        Some(fault)
    }

    /// Takes one use of every distinct damage fault for `kind`.
    pub(crate) fn take_damage(&mut self, kind: RequestKind) -> Vec<Fault> {
        let mut taken: Vec<Fault> = Vec::new();
        while let Some(f) = self.take(kind, |f| {
            f.stage() == Stage::Damage && !taken.iter().any(|t| same_variant(t, f))
        }) {
            taken.push(f);
        }
        taken
    }

    pub(crate) fn remaining(&self) -> usize {
        self.entries.iter().map(|e| e.remaining).sum()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

fn same_variant(a: &Fault, b: &Fault) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
