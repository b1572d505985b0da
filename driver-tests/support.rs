//! The fake CA over TLS, keys and accounts, for the driver suite.

use std::time::Duration;

use acme_proto::client::NewAccount;
use acme_proto::crypto::AccountKey;
use acme_proto::{Client, Policy};
pub use acme_proto_fake_ca::server::CaServer;
pub use acme_proto_fake_ca::test_keys as keys;

use crate::driver::{AcmeClient, RingSigner, Roots, Transport};

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
pub async fn account(server: &CaServer, pem: &str) -> AcmeClient {
    let client =
        AcmeClient::new(server.directory_url.clone(), key(pem), transport(server)).unwrap();
    create(client).await
}

/// A client with a new account for the key `pem` at `server` that polls every 20 ms
/// (the fake CA validates and issues at once, but may answer `processing` a few times).
/// Its key is the caller's: no credentials.
pub async fn quick_account(server: &CaServer, pem: &str) -> AcmeClient {
    let mut policy = Policy::default();
    policy.poll_initial = Duration::from_millis(20);
    policy.poll_interval = Duration::from_millis(20);
    let core = Client::new(
        server.directory_url.clone(),
        RingSigner::new(key(pem)).unwrap(),
    )
    .unwrap()
    .with_policy(policy);
    create(AcmeClient::from_client(core, transport(server))).await
}

async fn create(client: AcmeClient) -> AcmeClient {
    let info =
        aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"])))
            .unwrap();
    assert!(info.created);
    client
}

/// Records the offers of a real order, presenting them to the responder too.
pub struct Recording<R> {
    pub responder: R,
    pub seen: std::sync::Mutex<Vec<acme_proto::client::ChallengeOffer>>,
}

impl<R: crate::driver::Solver> crate::driver::Solver for Recording<R> {
    fn choose<'a>(
        &self,
        offers: &'a [acme_proto::client::ChallengeOffer],
    ) -> Option<&'a acme_proto::client::ChallengeOffer> {
        self.responder.choose(offers)
    }
    solver_method!(
        fn present(
            &self,
            offer: &acme_proto::client::ChallengeOffer,
        ) -> Result<(), crate::driver::SolverError> {
            self.seen.lock().unwrap().push(offer.clone());
            aw!(self.responder.present(offer))
        }
    );
    solver_method!(
        fn cleanup(
            &self,
            offer: &acme_proto::client::ChallengeOffer,
        ) -> Result<(), crate::driver::SolverError> {
            aw!(self.responder.cleanup(offer))
        }
    );
}

/// An http-01 offer's path and key authorization; a panic naming what was chosen else.
pub fn http01_parts(offer: &acme_proto::client::ChallengeOffer) -> (&str, &str) {
    match &offer.solution {
        acme_proto::client::Solution::Http01 {
            path,
            key_authorization,
            ..
        } => (path.as_str(), key_authorization.as_str()),
        _ => panic!("chose {}", offer.type_name()),
    }
}
