//! The driver suite's log scenario (`driver-tests/logs.rs`), in a test binary of its
//! own: a subscriber set for one thread misses events when other tests on other threads
//! register the same callsites at the same time (tracing's interest cache).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    dead_code
)]

use acme_proto_blocking as driver;

#[macro_use]
mod prelude;

#[path = "../../driver-tests/logs.rs"]
mod logs;
#[path = "../../driver-tests/support.rs"]
mod support;
