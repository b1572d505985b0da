//! Four hung servers at once, one thread each: each ends account creation within 45 s
//! (the checks, and the body-over-the-cap scenario, are the driver suite's:
//! `driver-tests/hangs.rs`).

use acme_proto_fake_ca::hostile::HostileServer;

#[test]
fn a_server_that_stops_answering_ends_the_operation_within_45_s() {
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs = crate::suite::hangs::HANGS.map(|hostility| {
            scope.spawn(move || {
                let server = HostileServer::start(hostility);
                let (error, elapsed) =
                    crate::prelude::complete_with(crate::suite::hangs::create_account(&server));
                // The server's threads stop (and are joined) when it is dropped.
                crate::suite::hangs::judge(hostility, &error, elapsed, server.connections())
            })
        });
        runs.into_iter()
            .filter_map(|run| run.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{failures:#?}");
}
