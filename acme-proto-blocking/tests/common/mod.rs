//! The fake CA served over real TLS on 127.0.0.1 (shared with the tokio driver's
//! tests, in `acme-proto-fake-ca`'s `server` feature), and keys, for the driver's tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(
    unused_imports,
    reason = "shared by several test binaries; not all use the keys"
)]
pub use acme_proto_fake_ca::test_keys as keys;

#[allow(
    unused_imports,
    reason = "shared by several test binaries; not all use these"
)]
pub use acme_proto_fake_ca::server::{CaServer, test_pki};

use std::time::Duration;

use acme_proto::client::NewAccount;
use acme_proto::crypto::AccountKey;
use acme_proto::{Client, Policy};
use acme_proto_blocking::{AcmeClient, RingSigner, Roots, Transport};

/// A transport trusting only `server`'s root.
pub fn transport(server: &CaServer) -> Transport {
    Transport::builder()
        .roots(Roots::None)
        .add_root_pem(&server.root_pem)
        .build()
        .unwrap()
}

pub fn key(pem: &str) -> AccountKey {
    AccountKey::from_pem(pem).unwrap()
}

/// A client with a new account for the key `pem` at `server`.
pub fn account(server: &CaServer, pem: &str) -> AcmeClient {
    let client =
        AcmeClient::new(server.directory_url.clone(), key(pem), transport(server)).unwrap();
    create(client)
}

/// A client with a new account for the key `pem` at `server` that polls every 20 ms
/// (the fake CA validates and issues at once, but may answer `processing` a few times).
/// Its key is the caller's: no credentials.
pub fn quick_account(server: &CaServer, pem: &str) -> AcmeClient {
    let mut policy = Policy::default();
    policy.poll_initial = Duration::from_millis(20);
    policy.poll_interval = Duration::from_millis(20);
    let core = Client::new(
        server.directory_url.clone(),
        RingSigner::new(key(pem)).unwrap(),
    )
    .unwrap()
    .with_policy(policy);
    create(AcmeClient::from_client(core, transport(server)))
}

fn create(client: AcmeClient) -> AcmeClient {
    let info = client
        .create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"]))
        .unwrap();
    assert!(info.created);
    client
}
