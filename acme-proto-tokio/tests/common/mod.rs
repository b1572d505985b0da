//! The fake CA served over real TLS on 127.0.0.1 (shared with the blocking driver's
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
    reason = "shared by several test binaries; not all use the test PKI"
)]
pub use acme_proto_fake_ca::server::test_pki;

use std::ops::Deref;

use acme_proto::client::NewAccount;
use acme_proto::crypto::AccountKey;
use acme_proto_fake_ca::Config;
use acme_proto_fake_ca::server;
use acme_proto_tokio::{AcmeClient, Roots, Transport};

/// The fake CA behind a TLS server (HTTP/1.1 and HTTP/2) on 127.0.0.1, on its own
/// thread and runtime; stopped when dropped.
pub struct CaServer(server::CaServer);

impl Deref for CaServer {
    type Target = server::CaServer;

    fn deref(&self) -> &server::CaServer {
        &self.0
    }
}

impl CaServer {
    pub async fn start() -> Self {
        Self(server::CaServer::start())
    }

    pub async fn start_with(configure: impl FnOnce(Config) -> Config) -> Self {
        Self(server::CaServer::start_with(configure))
    }

    /// A transport trusting only this server's root.
    pub fn transport(&self) -> Transport {
        Transport::builder()
            .roots(Roots::None)
            .add_root_pem(&self.root_pem)
            .build()
            .unwrap()
    }
}

pub fn key(pem: &str) -> AccountKey {
    AccountKey::from_pem(pem).unwrap()
}

/// A client with a new account for the key `pem` at `server`.
pub async fn account(server: &CaServer, pem: &str) -> AcmeClient {
    let client =
        AcmeClient::new(server.directory_url.clone(), key(pem), server.transport()).unwrap();
    let info = client
        .create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"]))
        .await
        .unwrap();
    assert!(info.created);
    client
}
