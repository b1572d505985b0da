//! The drivers' error: the core's, plus what only a driver knows (the transport's
//! cause, the solver's failures, the CSR).

use std::fmt;

use acme_proto::Identifier;
use acme_proto::client::RolloverState;

use crate::transport::TransportError;

/// A solver's own error.
pub type SolverError = Box<dyn std::error::Error + Send + Sync>;

/// Everything an operation driven by a driver can end with.
#[derive(Debug)]
#[non_exhaustive]
pub enum DriverError {
    /// The core ended the operation: a problem document from the server, a malformed
    /// response, a timeout, a misuse or a key failure.
    Acme(acme_proto::Error),
    /// The transport kept failing and the core gave up
    /// ([`acme_proto::Error::Transport`]); `last` is the last failure's cause.
    Transport {
        /// How many times the request was sent.
        attempts: u32,
        /// The last transport failure, if it was seen by the driver.
        last: Option<TransportError>,
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

impl DriverError {
    /// The server's problem document, when the server refused.
    pub fn problem(&self) -> Option<&acme_proto::Problem> {
        match self {
            Self::Acme(acme_proto::Error::Problem(problem)) => Some(problem),
            _ => None,
        }
    }

    /// The error for an operation the core ended with `error`, `last` being the last
    /// transport failure the driver saw.
    pub fn from_outcome(error: acme_proto::Error, last: Option<TransportError>) -> Self {
        match error {
            acme_proto::Error::Transport { attempts } => Self::Transport { attempts, last },
            error => Self::Acme(error),
        }
    }
}

impl fmt::Display for DriverError {
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

impl std::error::Error for DriverError {
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

impl From<acme_proto::Error> for DriverError {
    fn from(e: acme_proto::Error) -> Self {
        Self::Acme(e)
    }
}

impl From<acme_proto::Malformed> for DriverError {
    fn from(e: acme_proto::Malformed) -> Self {
        Self::Acme(e.into())
    }
}

impl From<acme_proto::Misuse> for DriverError {
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
pub struct KeyChangeError<K> {
    /// Why the rollover ended.
    pub error: DriverError,
    /// Whether the server applied it (never `Applied` here).
    pub state: RolloverState,
    /// The new key, as it was given.
    pub new_key: K,
}

impl<K> KeyChangeError<K> {
    /// The error for a rollover that ended with `error` in `state`.
    pub fn new(error: DriverError, state: RolloverState, new_key: K) -> Self {
        Self {
            error,
            state,
            new_key,
        }
    }
}

impl<K> fmt::Debug for KeyChangeError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is left out: it may be a private key.
        f.debug_struct("KeyChangeError")
            .field("error", &self.error)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<K> fmt::Display for KeyChangeError<K> {
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

impl<K> std::error::Error for KeyChangeError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
