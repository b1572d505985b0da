//! The driver suite: scenarios against the fake CA over real TLS, written once and run
//! for both drivers.
//!
//! Each driver's `tests/suite.rs` includes this directory (`#[path]`) after defining:
//!
//! * `driver`: the driver crate under test (`use acme_proto_tokio as driver;`);
//! * `aw!(expr)`: `expr.await` on tokio, `expr` when blocking;
//! * `pause(duration)`: lets time pass (`aw!(crate::pause(d))`);
//! * `solver_method!(fn …)`: a `Solver` method, `async` on tokio;
//! * `driver_tests!(name, …)`: one `#[test]` per scenario, which runs the scenario's
//!   `async fn` (on a tokio runtime, or polled once: a blocking driver's scenario never
//!   waits on a future).
//!
//! `logs.rs` is not in this module tree: each driver runs it in a test binary of its
//! own (`tests/logs.rs`), where no other test registers tracing callsites meanwhile.
//!
//! A scenario is an `async fn` in a file here, written with `aw!` where a driver call
//! may be async, and named in that file's `driver_tests!`. What only one driver has
//! (how it runs hangs at once, tokio's cancellation, blocking's threads) stays in that
//! driver's own tests (`tests/own/`, modules of the same `suite` binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    dead_code
)]

mod account;
mod acme2certifier;
mod cold_start;
mod dns_hook;
mod flood;
pub(crate) mod hangs;
mod http01;
mod issue;
pub(crate) mod pebble;
pub(crate) mod responders;
mod saved_orders;
mod signer_accounts;
pub(crate) mod support;
mod tls_alpn01;
mod together;
mod transport;
