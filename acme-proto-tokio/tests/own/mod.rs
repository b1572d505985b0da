//! What only this driver does; the rest is the driver suite (`driver-tests/`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod cancellation;
mod hangs;
mod issue;
mod pebble;
