//! Four hung servers at once, one thread each: each ends account creation within 45 s
//! (the checks, and the body-over-the-cap scenario, are the driver suite's:
//! `driver-tests/hangs.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    dead_code
)]

use acme_proto_blocking as driver;
use acme_proto_fake_ca::hostile::HostileServer;

#[macro_use]
mod prelude;

#[path = "../../driver-tests/hangs.rs"]
mod hangs;
#[path = "../../driver-tests/support.rs"]
mod support;

#[test]
fn a_server_that_stops_answering_ends_the_operation_within_45_s() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs = hangs::HANGS.map(|hostility| {
            scope.spawn(move || {
                let server = HostileServer::start(hostility);
                let (error, elapsed) = prelude::complete_with(hangs::create_account(&server));
                // The server's threads stop (and are joined) when it is dropped.
                hangs::judge(hostility, &error, elapsed, server.connections())
            })
        });
        runs.into_iter()
            .filter_map(|run| run.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
}
