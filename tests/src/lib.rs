//! Integration tests of acme-proto against Pebble, Let's Encrypt's test CA.
//!
//! [`Pebble::start`] runs a Pebble of the test's own, and the `pebble-challtestsrv` it
//! resolves names through, on free loopback ports with a TLS root generated for the
//! run; dropping the [`Pebble`] stops both. Tests usually go through
//! [`start_or_skip`], which turns a missing Pebble into a skip on a developer's
//! machine and into a failure in CI:
//!
//! [`Acme2Certifier::start`] does the same for acme2certifier, the second real server
//! (through [`acme2certifier_or_skip`]), on a loopback address 127.0.0.N of its own.
//!
//! ```no_run
//! use acme_proto_tests::{PebbleOptions, start_or_skip};
//!
//! let Some(pebble) = start_or_skip(PebbleOptions::default().always_valid(true)) else {
//!     return; // pebble is not installed, and this is not CI
//! };
//! let directory = pebble.directory_url(); // trust pebble.root_pem() only
//! # let _ = directory;
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod acme2certifier;
mod acme2certifier_files;
mod acme2certifier_version;
mod challtestsrv;
mod dns;
mod error;
mod example;
mod hook;
mod http;
mod loopback_address;
mod options;
mod pebble;
mod pebble_version;
mod ports;
mod process;
mod record;
mod tls;
mod verify;
mod wire;

pub use acme2certifier::Acme2Certifier;
pub use acme2certifier_files::Acme2CertifierOptions;
pub use acme2certifier_version::{
    ACME2CERTIFIER_VERSION, acme2certifier_requirements, acme2certifier_venv_dir,
};
pub use challtestsrv::ChallTestSrv;
pub use error::HarnessError;
pub use example::{example_binary, program_binary};
pub use hook::challtestsrv_hook;
pub use options::{IssuerKeyAlgorithm, PebbleOptions, PebbleVersion};
pub use pebble::Pebble;
pub use pebble_version::{PEBBLE_VERSION, pebble_bin_dir};
pub use record::{RECORD_DIR, exchange, recorder_from_env, recorder_into};
pub use verify::verify_chain;
pub use wire::jws_payload;

/// Starts Pebble, or skips the test when Pebble is not installed and this is not CI.
///
/// Returns `None` after printing why to stderr when `pebble` or `pebble-challtestsrv`
/// (of the version asked for: [`PebbleVersion`]) is missing and `CI` is not `true` (or `1`). Panics, failing the test, when Pebble is
/// missing in CI or fails to start for any other reason.
// Test infrastructure: a panic here is the test failing, with the harness's message.
#[allow(clippy::panic, clippy::print_stderr)]
pub fn start_or_skip(options: PebbleOptions) -> Option<Pebble> {
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    match Pebble::start(options) {
        Ok(pebble) => Some(pebble),
        Err(error) if skips(&error, ci) => {
            eprintln!("skipping: {error}");
            None
        }
        Err(error @ HarnessError::NotInstalled { .. }) => {
            panic!("{error} (CI is set: a missing Pebble fails the test)")
        }
        Err(error) => panic!("{error}"),
    }
}

/// Starts acme2certifier, or skips the test when it (or pebble-challtestsrv, its DNS
/// server) is not installed and this is not CI: as [`start_or_skip`] for Pebble.
// Test infrastructure: a panic here is the test failing, with the harness's message.
#[allow(clippy::panic, clippy::print_stderr)]
pub fn acme2certifier_or_skip(options: Acme2CertifierOptions) -> Option<Acme2Certifier> {
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    match Acme2Certifier::start(options) {
        Ok(server) => Some(server),
        Err(error) if skips(&error, ci) => {
            eprintln!("skipping: {error}");
            None
        }
        Err(error @ HarnessError::NotInstalled { .. }) => {
            panic!("{error} (CI is set: a missing acme2certifier fails the test)")
        }
        Err(error) => panic!("{error}"),
    }
}

/// Only a missing Pebble skips, and only outside CI.
fn skips(error: &HarnessError, ci: bool) -> bool {
    matches!(error, HarnessError::NotInstalled { .. }) && !ci
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_pebble_skips_outside_ci() {
        let missing = HarnessError::NotInstalled { program: "pebble" };
        assert!(skips(&missing, false));
        assert!(!skips(&missing, true));
        let hung = HarnessError::Hung {
            what: "pebble".into(),
            waited: std::time::Duration::from_secs(10),
            log_tail: String::new(),
        };
        assert!(!skips(&hung, false));
    }

    #[test]
    fn a_missing_acme2certifier_is_reported_as_not_installed() {
        let empty = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(empty) = empty else {
            return;
        };
        let error = Acme2Certifier::start(Acme2CertifierOptions::default().venv(empty.path()));
        assert!(
            matches!(
                error,
                Err(HarnessError::NotInstalled {
                    program: "acme2certifier"
                })
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_missing_program_is_reported_as_not_installed() {
        let empty = tempfile::tempdir().map_err(|e| e.to_string());
        let Ok(empty) = empty else {
            return;
        };
        let error = Pebble::start(PebbleOptions::default().programs_dir(empty.path()));
        assert!(
            matches!(error, Err(HarnessError::NotInstalled { program: "pebble" })),
            "{error:?}"
        );
        assert!(
            error
                .err()
                .is_some_and(|e| e.to_string().contains("run `cargo xtask test`"))
        );
    }
}

/// The root README's examples (the core's, and each driver's ten lines), compiled as
/// doctests of this crate, which depends on every crate.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;
