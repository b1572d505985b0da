//! What the tokio driver does when the caller stops waiting: a key rollover whose future
//! is dropped while the key change is in flight still ends, in a task of its own, and
//! the key the server installed is the client's.

use std::time::{Duration, Instant};

use crate::suite::support::{CaServer, account, key, keys};
use acme_proto_fake_ca::RequestKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollover_cancelled_while_the_key_change_is_in_flight_keeps_the_new_key() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    // The server applies the key change at once and answers two seconds later.
    server.answer_late(RequestKind::KeyChange, Duration::from_secs(2));
    let new_key = key(keys::P384);
    let new_thumbprint = new_key.thumbprint().clone();

    let cancelled =
        tokio::time::timeout(Duration::from_millis(500), client.change_key(new_key)).await;
    assert!(cancelled.is_err(), "the caller stopped waiting first");
    assert_eq!(
        server.ca.lock().unwrap().accounts()[0].thumbprint,
        new_thumbprint.as_str(),
        "the server applied the change"
    );

    // The rollover ends without its caller, and the client signs with the new key.
    let started = Instant::now();
    loop {
        let credentials = client.credentials().expect("credentials");
        if credentials.key().thumbprint() == &new_thumbprint {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the new key never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fetched = client.fetch_account().await.unwrap();
    assert_eq!(fetched.account.status, acme_proto::AccountStatus::Valid);
}
