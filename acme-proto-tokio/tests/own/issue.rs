//! What only the tokio driver does: many orders at once over one client, as futures on
//! one runtime. The orders both drivers make are in the driver suite
//! (`driver-tests/issue.rs`).

use std::sync::Arc;
use std::time::Instant;

use crate::suite::support::{CaServer, account, keys};
use acme_proto::Identifier;
use acme_proto_tokio::Http01Responder;

async fn responder() -> Http01Responder {
    Http01Responder::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_orders_share_one_client() {
    const ORDERS: usize = 120;
    let server = CaServer::start();
    let responder = Arc::new(responder().await);
    let client = Arc::new(account(&server, keys::P256).await);
    let started = Instant::now();
    let tasks: Vec<_> = (0..ORDERS)
        .map(|i| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            tokio::spawn(async move {
                let name = Identifier::dns(&format!("host{i}.example.org")).unwrap();
                client.issue([name], &*responder).await
            })
        })
        .collect();
    let mut issued = 0;
    for task in tasks {
        task.await.unwrap().unwrap();
        issued += 1;
    }
    let elapsed = started.elapsed();
    let ca = server.ca.lock().unwrap();
    assert_eq!(issued, ORDERS);
    assert_eq!(ca.certificates().len(), ORDERS);
    assert_eq!(ca.violations(), &[] as &[String]);
    assert!(responder.is_empty());
    // One nonce pool: HEAD newNonce only when the pool is empty, never once per request.
    let requests = ca.transcript().len();
    println!(
        "{ORDERS} orders in {elapsed:?}: {requests} requests, {} HEAD newNonce",
        ca.head_nonce_requests()
    );
    assert!(
        ca.head_nonce_requests() <= ORDERS,
        "{}",
        ca.head_nonce_requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_for_one_name_all_succeed() {
    const ORDERS: usize = 10;
    let server = CaServer::start();
    let responder = Arc::new(responder().await);
    let client = Arc::new(account(&server, keys::P256).await);
    let tasks: Vec<_> = (0..ORDERS)
        .map(|_| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            tokio::spawn(async move {
                let name = Identifier::dns("shared.example.org").unwrap();
                client.issue([name], &*responder).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(
        responder.is_empty(),
        "served until the last order cleaned up"
    );
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), ORDERS);
    let mut authorizations: Vec<String> = ca
        .orders()
        .into_iter()
        .flat_map(|o| o.authorizations)
        .collect();
    authorizations.sort();
    authorizations.dedup();
    println!(
        "{ORDERS} orders for one name: {} authorization(s)",
        authorizations.len()
    );
    // How many are shared depends on timing (the fake CA reuses an account's existing
    // authorizations); the responder's reference count is tested in `http01.rs`.
    assert!(authorizations.len() <= ORDERS);
    assert_eq!(ca.violations(), &[] as &[String]);
}
