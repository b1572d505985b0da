//! Four hung servers at once, one task each: each ends account creation within 45 s
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

use acme_proto_fake_ca::hostile::HostileServer;
use acme_proto_tokio as driver;

#[macro_use]
mod prelude;

#[path = "../../driver-tests/hangs.rs"]
mod hangs;
#[path = "../../driver-tests/support.rs"]
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_ends_the_operation_within_45_s() {
    let runs = hangs::HANGS.map(|hostility| {
        tokio::spawn(async move {
            let server = HostileServer::start(hostility);
            let (error, elapsed) = hangs::create_account(&server).await;
            let connections = server.connections();
            // The server's threads stop (and are joined) here, off the runtime's workers.
            tokio::task::spawn_blocking(move || drop(server))
                .await
                .unwrap();
            hangs::judge(hostility, &error, elapsed, connections)
        })
    });
    let mut failures = Vec::new();
    for run in runs {
        failures.extend(run.await.unwrap());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
