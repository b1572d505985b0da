//! The one error type of the core, split by whose fault it is.
//!
//! * [`Error::Problem`]: the server refused, with an RFC 7807 problem document.
//! * [`Error::Malformed`]: the server's response broke the protocol (too large, wrong
//!   content type, invalid JSON, a missing or invalid header, an impossible value).
//! * [`Error::Misuse`]: the caller asked for something that cannot be done.
//! * [`Error::Crypto`]: a key or signature operation failed.
//! * [`Error::Timeout`], [`Error::Transport`]: the operation ran out of time, or the
//!   driver's transport kept failing.
//! * [`Error::RetryAfter`]: the server asked to be polled again only after the
//!   operation's deadline (a `Retry-After` on a poll): the operation ends at once, with
//!   the time to try again. A refusal with a `Retry-After` (429, 503) past the deadline
//!   ends as [`Error::Problem`], whose [`Problem::retry_after`] holds the time. The core only counts transport failures; their
//!   causes belong to the driver that moves the bytes, which reports them itself.
//! * [`Error::Bug`]: a state the core's machines cannot be in (never the server's or
//!   the caller's doing).

use alloc::boxed::Box;
use core::fmt;

use crate::fault::{CryptoError, Malformed, Misuse};
use crate::problem::Problem;
use crate::time::UnixTime;

/// Everything that can go wrong in the core.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a problem document (RFC 8555 §6.7).
    Problem(Box<Problem>),
    /// The server's response could not be accepted.
    Malformed(Malformed),
    /// The caller asked for something that cannot be done.
    Misuse(Misuse),
    /// A key or signature operation failed.
    Crypto(CryptoError),
    /// The operation did not finish before its deadline
    /// ([`Policy::operation_timeout`](crate::Policy)), or a wait on the server ran out
    /// of patience ([`Policy::poll_patience`](crate::Policy): the server left a resource
    /// `pending` or `processing` that long without asking for more time).
    Timeout {
        /// The operation that ran out of time.
        operation: &'static str,
    },
    /// The driver reported transport failures and the request could not (or could no
    /// longer) be resent: the driver knows the underlying cause.
    Transport {
        /// How many times the request was sent.
        attempts: u32,
    },
    /// The server asked (with `Retry-After` on a resource still in progress) to be
    /// polled again no sooner than `until`, longer than
    /// [`Policy::max_retry_after`](crate::Policy) from then and past the operation's
    /// deadline: waiting could not help, so the operation ended at once. Try again from
    /// `until`.
    RetryAfter {
        /// The operation that ended.
        operation: &'static str,
        /// The time the server named.
        until: UnixTime,
    },
    /// The caller ended the operation early (for an order:
    /// [`OrderFlow::abandon`](crate::client::OrderFlow::abandon)).
    Abandoned,
    /// A state the core's machines cannot be in was found: a bug in acme-proto, not in
    /// the server's answers or the caller's use. The operation ends; please report it.
    Bug(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Problem(p) => write!(f, "the ACME server refused: {p}"),
            Self::Malformed(m) => write!(f, "malformed response from the ACME server: {m}"),
            Self::Misuse(m) => write!(f, "invalid request: {m}"),
            Self::Crypto(c) => write!(f, "cryptographic failure: {c}"),
            Self::Timeout { operation } => write!(f, "{operation} did not finish in time"),
            Self::Transport { attempts: 1 } => f.write_str("the request failed in transport"),
            Self::Transport { attempts } => {
                write!(f, "the request failed in transport {attempts} times")
            }
            Self::RetryAfter { operation, until } => write!(
                f,
                "{operation}: the server asked to wait until {until}, past the operation's deadline"
            ),
            Self::Abandoned => f.write_str("the operation was abandoned by its caller"),
            Self::Bug(what) => write!(f, "a bug in acme-proto (please report it): {what}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crypto(c) => c.source.as_deref().map(|s| s as _),
            _ => None,
        }
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Self {
        Self::Problem(Box::new(p))
    }
}
impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}
impl From<Misuse> for Error {
    fn from(m: Misuse) -> Self {
        Self::Misuse(m)
    }
}
impl From<CryptoError> for Error {
    fn from(c: CryptoError) -> Self {
        Self::Crypto(c)
    }
}
