//! The bodies of acme-proto's fuzz targets, one public function per target.
//!
//! Each `fuzz_targets/NAME.rs` is one line that calls [`NAME`](crate) here, and
//! `tests/replay.rs` runs every committed corpus file through the same functions with
//! plain `cargo test` (no sanitizer, no nightly), so every input ever kept stays a
//! regression test. [`TARGETS`] lists them all, by name.
//!
//! A target returns normally on any input; a failed assertion (a panic) is a finding.
//! Everything reaches acme-proto through its public API: nothing here copies its code.
#![forbid(unsafe_code)]

mod certificates;
mod headers;
mod keys;
mod order_flow;
mod resources;
pub mod seeds;
mod snapshot;

use acme_proto::UnixTime;

pub use certificates::{cert_id, pem_chain};
pub use headers::{link, location, replay_nonce, retry_after};
pub use keys::{key_der, key_jwk, key_pem};
pub use order_flow::{order_flow, order_flow_outcome};
pub use resources::{account, authorization, challenge, directory, order, problem, renewal_info};
pub use seeds::targets_of_json;
pub use snapshot::order_snapshot;

/// "Now" for the targets that need one: 2027-01-15T07:46:40Z.
pub const NOW: UnixTime = UnixTime::from_secs(1_799_999_200);

/// A fuzz target: takes any bytes, panics only on a finding.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/` binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("directory", directory),
    ("account", account),
    ("order", order),
    ("authorization", authorization),
    ("challenge", challenge),
    ("problem", problem),
    ("replay_nonce", replay_nonce),
    ("location", location),
    ("link", link),
    ("retry_after", retry_after),
    ("pem_chain", pem_chain),
    ("renewal_info", renewal_info),
    ("cert_id", cert_id),
    ("key_pem", key_pem),
    ("key_der", key_der),
    ("key_jwk", key_jwk),
    ("order_snapshot", order_snapshot),
    ("order_flow", order_flow),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
