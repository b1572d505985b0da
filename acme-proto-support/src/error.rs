//! The drivers' error: the core's, plus what only a driver knows (the transport's
//! cause, the solver's failures, the CSR).

use std::fmt;

use acme_proto::Identifier;
use acme_proto::client::RolloverState;

/// A solver's own error.
pub type SolverError = Box<dyn std::error::Error + Send + Sync>;

/// Everything an operation driven by a driver can end with. `T` is the driver's
/// transport error.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverError<T> {
    /// The core ended the operation: a problem document from the server, a malformed
    /// response, a timeout, a misuse or a key failure.
    Acme(acme_proto::Error),
    /// The transport kept failing and the core gave up
    /// ([`acme_proto::Error::Transport`]); `last` is the last failure's cause.
    Transport {
        /// How many times the request was sent.
        attempts: u32,
        /// The last transport failure, if it was seen by the driver.
        last: Option<T>,
    },
    /// The solver could not put a challenge in place.
    Solver {
        /// The identifier being authorized.
        identifier: Identifier,
        /// The solver's error.
        source: SolverError,
    },
    /// The solver chose none of the challenges offered for an identifier.
    NoChallengeChosen {
        /// The identifier.
        identifier: Identifier,
        /// The challenge types offered.
        offered: Vec<&'static str>,
    },
    /// The CSR or the certificate key could not be made.
    Csr(CsrError),
    /// The order could not be saved (see [`SaveOrder`](crate::SaveOrder)): it was
    /// abandoned, and what it presented cleaned up.
    Save(crate::SaveError),
    /// The operation waited for an answer the driver never gives: a bug in an event
    /// handler that neither answered nor failed.
    Stalled,
}

impl<T> DriverError<T> {
    /// The server's problem document, when the server refused.
    pub fn problem(&self) -> Option<&acme_proto::Problem> {
        match self {
            Self::Acme(acme_proto::Error::Problem(problem)) => Some(problem),
            _ => None,
        }
    }

    /// The error for an operation the core ended with `error`, `last` being the last
    /// transport failure the driver saw.
    pub fn from_outcome(error: acme_proto::Error, last: Option<T>) -> Self {
        match error {
            acme_proto::Error::Transport { attempts } => Self::Transport { attempts, last },
            error => Self::Acme(error),
        }
    }
}

impl<T: fmt::Display> fmt::Display for DriverError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Acme(e) => fmt::Display::fmt(e, f),
            Self::Transport {
                attempts,
                last: Some(last),
            } => write!(f, "the request failed {attempts} time(s), last: {last}"),
            Self::Transport {
                attempts,
                last: None,
            } => write!(f, "the request failed in transport {attempts} time(s)"),
            Self::Solver { identifier, source } => write!(
                f,
                "the challenge for {identifier} could not be put in place: {source}"
            ),
            Self::NoChallengeChosen {
                identifier,
                offered,
            } => write!(
                f,
                "no challenge chosen for {identifier} (offered: {})",
                offered.join(", ")
            ),
            Self::Csr(e) => write!(f, "the CSR could not be made: {e}"),
            Self::Save(e) => write!(f, "the order could not be saved: {e}"),
            Self::Stalled => f.write_str("the operation waits for an answer that never came"),
        }
    }
}

impl<T: std::error::Error + 'static> std::error::Error for DriverError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Acme(e) => Some(e),
            Self::Transport { last, .. } => last.as_ref().map(|e| e as _),
            Self::Solver { source, .. } => Some(&**source),
            Self::Csr(e) => Some(e),
            Self::Save(e) => Some(&**e),
            _ => None,
        }
    }
}

impl<T> From<acme_proto::Error> for DriverError<T> {
    fn from(e: acme_proto::Error) -> Self {
        Self::Acme(e)
    }
}

impl<T> From<acme_proto::Malformed> for DriverError<T> {
    fn from(e: acme_proto::Malformed) -> Self {
        Self::Acme(e.into())
    }
}

impl<T> From<acme_proto::Misuse> for DriverError<T> {
    fn from(e: acme_proto::Misuse) -> Self {
        Self::Acme(e.into())
    }
}

/// Why a CSR or its key could not be made. The certificate library's own error is the
/// [`source`](std::error::Error::source), so that no crate of that library is in this
/// type's API.
#[derive(Debug)]
pub struct CsrError(Box<dyn std::error::Error + Send + Sync>);

impl CsrError {
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(source))
    }
}

impl fmt::Display for CsrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for CsrError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// A key rollover that did not end with the new key in use: why, what the client knows
/// of the server's side, and the new key, given back so that it is never lost.
///
/// When [`state`](Self::state) is [`RolloverState::Unknown`], the key change was sent
/// but its answer was lost and the lookup by the new key could not tell either: the
/// server may now hold either key. Keep both, and find the account with each to learn
/// which. `K` is the key's type; `T` the driver's transport error.
#[non_exhaustive]
pub struct KeyChangeError<K, T> {
    /// Why the rollover ended.
    pub error: DriverError<T>,
    /// Whether the server applied it (never `Applied` here).
    pub state: RolloverState,
    /// The new key, as it was given.
    pub new_key: K,
}

impl<K, T> KeyChangeError<K, T> {
    /// The error for a rollover that ended with `error` in `state`.
    pub fn new(error: DriverError<T>, state: RolloverState, new_key: K) -> Self {
        Self {
            error,
            state,
            new_key,
        }
    }
}

impl<K, T: fmt::Debug> fmt::Debug for KeyChangeError<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is left out: it may be a private key.
        f.debug_struct("KeyChangeError")
            .field("error", &self.error)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<K, T: fmt::Display> fmt::Display for KeyChangeError<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            RolloverState::Unknown => write!(
                f,
                "the key rollover may or may not have been applied (keep both keys): {}",
                self.error
            ),
            _ => write!(f, "the key rollover was not applied: {}", self.error),
        }
    }
}

impl<K, T: std::error::Error + 'static> std::error::Error for KeyChangeError<K, T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
