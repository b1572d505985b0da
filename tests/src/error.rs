//! What can go wrong while starting or talking to Pebble and challtestsrv.

use std::fmt;
use std::time::Duration;

/// Why the harness could not start or reach Pebble or challtestsrv.
#[derive(Debug)]
#[non_exhaustive]
pub enum HarnessError {
    /// `pebble` or `pebble-challtestsrv` is not where its version is installed (the
    /// workspace's `.tools/` for 2.10.3, `PATH` for Debian's 2.4.0) or in the chosen
    /// directory; or acme2certifier's venv has no `bin/python3`.
    NotInstalled {
        /// The program that was looked for.
        program: &'static str,
    },
    /// A process exited before it answered.
    Exited {
        /// Which program.
        program: &'static str,
        /// How it exited.
        status: String,
        /// The end of what it wrote to stdout and stderr.
        log_tail: String,
    },
    /// A listening port was taken by someone else, on every attempt.
    AddressInUse {
        /// Which program could not bind.
        program: &'static str,
        /// How many times the harness tried with fresh ports.
        attempts: u32,
        /// The end of what it wrote.
        log_tail: String,
    },
    /// A server did not answer in time.
    Hung {
        /// What was waited for.
        what: String,
        /// How long.
        waited: Duration,
        /// The end of what the server wrote.
        log_tail: String,
    },
    /// A request to a server failed, or its answer was not what was expected.
    Request {
        /// What was asked.
        what: String,
        /// What went wrong.
        detail: String,
    },
    /// The harness's TLS certificate could not be generated.
    Certificate(String),
    /// A local file or socket operation failed.
    Io {
        /// What the harness was doing.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

impl HarnessError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }

    pub(crate) fn request(what: impl Into<String>, detail: impl fmt::Display) -> Self {
        Self::Request {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled { program } => write!(
                f,
                "{program} is not installed: run `cargo xtask test` (or `cargo xtask setup`), \
                 which installs Pebble {} into .tools/ with `go install`, Debian's \
                 pebble package (2.4.0) and acme2certifier {} into a venv in .tools/",
                crate::PEBBLE_VERSION,
                crate::ACME2CERTIFIER_VERSION
            ),
            Self::Exited {
                program,
                status,
                log_tail,
            } => write!(f, "{program} exited during start-up ({status}): {log_tail}"),
            Self::AddressInUse {
                program,
                attempts,
                log_tail,
            } => write!(
                f,
                "{program} found its port taken on each of {attempts} attempts: {log_tail}"
            ),
            Self::Hung {
                what,
                waited,
                log_tail,
            } => write!(
                f,
                "the server hung: no answer from {what} within {} s; its log ends: {log_tail}",
                waited.as_secs_f32()
            ),
            Self::Request { what, detail } => write!(f, "{what}: {detail}"),
            Self::Certificate(detail) => {
                write!(f, "cannot generate the harness's TLS certificate: {detail}")
            }
            Self::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
