//! The driver's error: the core's, plus what only the driver knows (the transport's
//! causes, the solver's failures, the CSR).

use std::fmt;

use acme_proto::Identifier;

use crate::solver::SolverError;
use crate::transport::TransportError;

/// Everything an operation driven by this crate can end with.
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
        /// The last transport failure, if it was seen by this driver.
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
    Csr(rcgen::Error),
    /// The operation waited for an answer the driver never gives: a bug in an event
    /// handler that neither answered nor failed.
    Stalled,
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
            } => {
                write!(f, "the request failed in transport {attempts} time(s)")
            }
            Self::Solver { identifier, source } => {
                write!(
                    f,
                    "the challenge for {identifier:?} could not be put in place: {source}"
                )
            }
            Self::NoChallengeChosen {
                identifier,
                offered,
            } => write!(
                f,
                "no challenge chosen for {identifier:?} (offered: {})",
                offered.join(", ")
            ),
            Self::Csr(e) => write!(f, "the CSR could not be made: {e}"),
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
            _ => None,
        }
    }
}

impl From<acme_proto::Error> for DriverError {
    fn from(e: acme_proto::Error) -> Self {
        Self::Acme(e)
    }
}

impl From<acme_proto::Misuse> for DriverError {
    fn from(e: acme_proto::Misuse) -> Self {
        Self::Acme(e.into())
    }
}

impl From<rcgen::Error> for DriverError {
    fn from(e: rcgen::Error) -> Self {
        Self::Csr(e)
    }
}
