//! What only the blocking driver does: a client shared by threads (`Send`, `Sync`,
//! concurrent orders from several threads), and a `Solver` used as `&dyn Solver`. The
//! orders both drivers make are in the driver suite (`driver-tests/issue.rs`).

use std::sync::Arc;
use std::time::Instant;

use crate::suite::support::{CaServer, keys, quick_account};
use acme_proto::Identifier;
use acme_proto_blocking::{AcmeClient, DriverError, Http01Responder, Transport};

fn responder() -> Http01Responder {
    Http01Responder::bind("127.0.0.1:0".parse().unwrap()).unwrap()
}

#[test]
fn the_client_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AcmeClient>();
    send_sync::<Transport>();
    send_sync::<Http01Responder>();
    send_sync::<acme_proto_blocking::TlsAlpn01Responder>();
    send_sync::<DriverError>();
    // Object safe: a solver chosen at run time.
    let _: Option<&dyn acme_proto_blocking::Solver> = None::<&Http01Responder>.map(|r| r as _);
}

#[test]
fn twenty_orders_from_four_threads_share_one_client() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 5;
    let server = CaServer::start();
    let responder = responder();
    let client = crate::prelude::complete_with(quick_account(&server, keys::P256));
    let started = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (client, responder) = (&client, &responder);
                scope.spawn(move || {
                    for i in 0..PER_THREAD {
                        let name = Identifier::dns(&format!("host{t}-{i}.example.org")).unwrap();
                        client.issue([name], responder).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    });
    let elapsed = started.elapsed();
    let orders = THREADS * PER_THREAD;
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), orders);
    assert_eq!(ca.violations(), &[] as &[String]);
    assert!(responder.is_empty());
    let requests = ca.transcript().len();
    println!(
        "{orders} orders from {THREADS} threads in {elapsed:?}: {requests} requests, {} HEAD newNonce",
        ca.head_nonce_requests()
    );
    // One nonce pool: HEAD newNonce only when the pool is empty, never once per request.
    assert!(
        ca.head_nonce_requests() <= orders,
        "{}",
        ca.head_nonce_requests()
    );
}

#[test]
fn concurrent_orders_for_one_name_all_succeed() {
    const THREADS: usize = 4;
    let server = CaServer::start();
    let responder = Arc::new(responder());
    let client = Arc::new(crate::prelude::complete_with(quick_account(
        &server,
        keys::P256,
    )));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            std::thread::spawn(move || {
                let name = Identifier::dns("shared.example.org").unwrap();
                client.issue([name], &*responder)
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert!(
        responder.is_empty(),
        "served until the last order cleaned up"
    );
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), THREADS);
    assert_eq!(ca.violations(), &[] as &[String]);
}
