//! Accounts whose key is the caller's (any `Signer`), and key rollovers that cannot lose
//! the new key.

use std::sync::Arc;

use acme_proto::client::{AccountRef, NewAccount, RolloverState};
use acme_proto::crypto::Signer;
use acme_proto_fake_ca::{Fault, RequestKind};

use super::support::{CaServer, account, key, keys, transport};
use crate::driver::AcmeClient;

driver_tests!(
    a_signer_account_is_saved_by_reference_and_rolls_over_to_another_signer,
    a_key_change_whose_answer_is_lost_is_resolved_by_the_new_key,
    a_refused_key_change_gives_the_new_key_back,
);

pub async fn a_signer_account_is_saved_by_reference_and_rolls_over_to_another_signer() {
    let server = CaServer::start();
    // "An HSM": a signer the library does not hold a key for.
    let hsm: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::P256));
    let client = AcmeClient::with_signer(
        server.directory_url.clone(),
        Arc::clone(&hsm),
        transport(&server),
    )
    .unwrap();
    let created =
        aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"])))
            .unwrap();
    assert!(
        client.credentials().is_none(),
        "the key is not ours to save"
    );
    let saved = client
        .account_ref()
        .expect("the account is known")
        .to_json()
        .unwrap();
    assert!(!String::from_utf8_lossy(&saved).contains("PRIVATE"));

    // Another process: the reference and the same signer; no lookup needed.
    let account = AccountRef::from_json(&saved).unwrap();
    assert_eq!(account.account_url(), &created.url);
    let again = AcmeClient::from_account_ref(account, hsm, transport(&server)).unwrap();
    assert_eq!(aw!(again.fetch_account()).unwrap().url, created.url);

    // A rollover to another signer: the account goes on with it.
    let next: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::P384));
    aw!(again.change_signer(Arc::clone(&next))).unwrap();
    assert_eq!(
        server.ca.lock().unwrap().accounts()[0].thumbprint,
        next.public_jwk().thumbprint().as_str()
    );
    assert_eq!(aw!(again.fetch_account()).unwrap().url, created.url);
    assert!(again.credentials().is_none());
    assert_eq!(again.account_ref().unwrap().account_url(), &created.url);
    // Rolled over to a key the library holds: there are credentials to save again.
    aw!(again.change_key(key(keys::P521))).unwrap();
    let saved = again.credentials().expect("credentials for an AccountKey");
    assert_eq!(saved.account_url(), &created.url);
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn a_key_change_whose_answer_is_lost_is_resolved_by_the_new_key() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    // The CA applies the change, then answers with a body past the client's limit: the
    // transport drops it (nothing the client can read).
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::HugeBody(1 << 20), 1);
    let lookups = server.ca.lock().unwrap().count(RequestKind::NewAccount);
    aw!(client.change_key(key(keys::P384))).unwrap();
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::NewAccount),
        lookups + 1,
        "one lookup by the new key"
    );
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P384).public_jwk());
    aw!(client.fetch_account()).unwrap();
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn a_refused_key_change_gives_the_new_key_back() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::ServerError, 1);
    let error = aw!(client.change_key(key(keys::P384))).unwrap_err();
    assert_eq!(error.state, RolloverState::NotApplied);
    assert!(error.error.problem().is_some(), "{error}");
    assert_eq!(error.new_key.public_jwk(), key(keys::P384).public_jwk());
    assert!(!format!("{error:?}").contains("PRIVATE"), "{error:?}");
    // The old key still works, and is still the one saved.
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P256).public_jwk());
    aw!(client.fetch_account()).unwrap();

    // A signer's rollover gives the caller's handle back just the same.
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::KeyChange, Fault::ServerError, 1);
    let next: Arc<dyn Signer + Send + Sync> = Arc::new(key(keys::ED25519));
    let error = aw!(client.change_signer(Arc::clone(&next))).unwrap_err();
    assert_eq!(error.state, RolloverState::NotApplied);
    assert!(Arc::ptr_eq(&error.new_key, &next));
    assert!(client.credentials().is_some(), "still the old, saved key");
}
