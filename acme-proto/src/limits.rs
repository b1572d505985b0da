//! How much the core reads: a body cap per kind of response, checked before parsing.
//!
//! The cap travels with each [`Request`](crate::Request) as `max_response_body`, so the
//! driver stops reading at the cap; the core checks it again before parsing, so a driver
//! that forgot cannot make the core parse an oversized body.

use core::fmt;

/// The kinds of response the core reads, each with its own body cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseKind {
    /// The directory (RFC 8555 §7.1.1).
    Directory,
    /// A `newNonce` response (no body expected).
    Nonce,
    /// An account object.
    Account,
    /// An account's list of orders, one page.
    OrderList,
    /// An order object.
    Order,
    /// An authorization object.
    Authorization,
    /// A challenge object.
    Challenge,
    /// A PEM certificate chain.
    Certificate,
    /// An ARI renewal information object (RFC 9773).
    RenewalInfo,
    /// An empty-bodied answer (revocation, deactivation of some servers).
    Empty,
    /// A problem document: the cap for error bodies of every request.
    Problem,
}

impl ResponseKind {
    /// Every kind, for iteration.
    pub const ALL: [Self; 11] = [
        Self::Directory,
        Self::Nonce,
        Self::Account,
        Self::OrderList,
        Self::Order,
        Self::Authorization,
        Self::Challenge,
        Self::Certificate,
        Self::RenewalInfo,
        Self::Empty,
        Self::Problem,
    ];

    /// A short name, as used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::Nonce => "newNonce response",
            Self::Account => "account",
            Self::OrderList => "order list",
            Self::Order => "order",
            Self::Authorization => "authorization",
            Self::Challenge => "challenge",
            Self::Certificate => "certificate chain",
            Self::RenewalInfo => "renewal information",
            Self::Empty => "empty response",
            Self::Problem => "problem document",
        }
    }
}

impl fmt::Display for ResponseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Body caps per [`ResponseKind`], in bytes.
///
/// The defaults are generous for real CAs (a 100-name order is about 15 KiB, a chain with
/// three certificates about 6 KiB) and small enough that thousands of orders in flight stay
/// bounded. Every cap can be changed with [`Limits::with`].
///
/// ```
/// use acme_proto::{Limits, ResponseKind};
/// let limits = Limits::default().with(ResponseKind::Certificate, 1 << 20);
/// assert_eq!(limits.max_body(ResponseKind::Certificate), 1 << 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    directory: usize,
    nonce: usize,
    account: usize,
    order_list: usize,
    order: usize,
    authorization: usize,
    challenge: usize,
    certificate: usize,
    renewal_info: usize,
    empty: usize,
    problem: usize,
}

impl Default for Limits {
    fn default() -> Self {
        const KIB: usize = 1024;
        Self {
            directory: 64 * KIB,
            nonce: 4 * KIB,
            account: 64 * KIB,
            order_list: 1024 * KIB,
            order: 512 * KIB,
            authorization: 64 * KIB,
            challenge: 64 * KIB,
            certificate: 512 * KIB,
            renewal_info: 16 * KIB,
            empty: 4 * KIB,
            problem: 256 * KIB,
        }
    }
}

impl Limits {
    /// The longest URL accepted from a server, in bytes as serialized: longer ones are
    /// [`Malformed`](crate::Malformed) wherever they appear (directory, resources,
    /// `Location`, `Link`) before they are requested or kept.
    ///
    /// Real CAs use URLs of about 100 bytes; the cap keeps what the core stores per
    /// order, and an [`OrderSnapshot`](crate::client::OrderSnapshot), bounded.
    pub const MAX_URL_LEN: usize = 2048;

    /// The body cap for `kind`.
    pub const fn max_body(&self, kind: ResponseKind) -> usize {
        match kind {
            ResponseKind::Directory => self.directory,
            ResponseKind::Nonce => self.nonce,
            ResponseKind::Account => self.account,
            ResponseKind::OrderList => self.order_list,
            ResponseKind::Order => self.order,
            ResponseKind::Authorization => self.authorization,
            ResponseKind::Challenge => self.challenge,
            ResponseKind::Certificate => self.certificate,
            ResponseKind::RenewalInfo => self.renewal_info,
            ResponseKind::Empty => self.empty,
            ResponseKind::Problem => self.problem,
        }
    }

    /// The cap a driver must enforce while reading the answer to a request expecting
    /// `kind`: the larger of that kind's cap and the problem-document cap, since any
    /// request may be answered with a problem.
    pub const fn read_cap(&self, kind: ResponseKind) -> usize {
        let own = self.max_body(kind);
        if own > self.problem {
            own
        } else {
            self.problem
        }
    }

    /// These limits with the cap for `kind` set to `bytes`.
    #[must_use]
    pub const fn with(mut self, kind: ResponseKind, bytes: usize) -> Self {
        let slot = match kind {
            ResponseKind::Directory => &mut self.directory,
            ResponseKind::Nonce => &mut self.nonce,
            ResponseKind::Account => &mut self.account,
            ResponseKind::OrderList => &mut self.order_list,
            ResponseKind::Order => &mut self.order,
            ResponseKind::Authorization => &mut self.authorization,
            ResponseKind::Challenge => &mut self.challenge,
            ResponseKind::Certificate => &mut self.certificate,
            ResponseKind::RenewalInfo => &mut self.renewal_info,
            ResponseKind::Empty => &mut self.empty,
            ResponseKind::Problem => &mut self.problem,
        };
        *slot = bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_sets_only_one_kind() {
        let base = Limits::default();
        for kind in ResponseKind::ALL {
            let changed = base.clone().with(kind, 7);
            for other in ResponseKind::ALL {
                let expected = if other == kind {
                    7
                } else {
                    base.max_body(other)
                };
                assert_eq!(changed.max_body(other), expected, "{kind} changed {other}");
            }
        }
    }

    #[test]
    fn read_cap_covers_problem_documents() {
        let l = Limits::default()
            .with(ResponseKind::Problem, 100)
            .with(ResponseKind::Nonce, 10);
        assert_eq!(l.read_cap(ResponseKind::Nonce), 100);
        let l = l.with(ResponseKind::Order, 1000);
        assert_eq!(l.read_cap(ResponseKind::Order), 1000);
    }
}
