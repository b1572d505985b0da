//! Four hung servers at once, one task each: each ends account creation within 45 s
//! (the checks, and the body-over-the-cap scenario, are the driver suite's:
//! `driver-tests/hangs.rs`).

use acme_proto_fake_ca::hostile::HostileServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_ends_the_operation_within_45_s() {
    let runs = crate::suite::hangs::HANGS.map(|hostility| {
        tokio::spawn(async move {
            let server = HostileServer::start(hostility);
            let (error, elapsed) = crate::suite::hangs::create_account(&server).await;
            let connections = server.connections();
            // The server's threads stop (and are joined) here, off the runtime's workers.
            tokio::task::spawn_blocking(move || drop(server))
                .await
                .unwrap();
            crate::suite::hangs::judge(hostility, &error, elapsed, connections)
        })
    });
    let mut failures = Vec::new();
    for run in runs {
        failures.extend(run.await.unwrap());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
