//! The rest of the few-lines API against the fake CA over real TLS: renewal
//! information, key change, contacts, listing orders, both revocations, deactivation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::client::RevocationReason;
use acme_proto::crypto::Signer as _;
use acme_proto::{
    AccountStatus, AuthorizationStatus, ChallengeStatus, Identifier, ProblemType, UnixTime,
};
use acme_proto_tokio::{AcmeClient, DriverError, Http01Responder};
use common::{CaServer, account, key, keys};

async fn setup() -> (CaServer, AcmeClient, Http01Responder) {
    setup_with(|config| config).await
}

/// [`setup`] with a CA whose configuration `configure` adjusts.
async fn setup_with(
    configure: impl FnOnce(acme_proto_fake_ca::Config) -> acme_proto_fake_ca::Config,
) -> (CaServer, AcmeClient, Http01Responder) {
    let server = CaServer::start_with(configure).await;
    let client = account(&server, keys::P256).await;
    let responder = Http01Responder::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (server, client, responder)
}

fn problem(error: &DriverError) -> ProblemType {
    error.problem().expect("a problem document").kind.clone()
}

#[tokio::test]
async fn renewal_information_gives_a_time_inside_the_window() {
    let (server, client, responder) = setup().await;
    let certificate = client
        .issue([Identifier::dns("ari.example.org").unwrap()], &responder)
        .await
        .unwrap();
    let suggestion = client
        .renewal_info(&certificate.issued.chain)
        .await
        .unwrap();
    let window = &suggestion.info.suggested_window;
    assert!(window.start < window.end);
    let when = suggestion.renewal_time(u64::MAX / 3, UnixTime::from_secs(0));
    assert!(
        window.start <= when && when <= window.end,
        "{when} outside the window"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_key_change_is_saved_in_the_credentials_and_orders_go_on() {
    let (server, client, responder) = setup().await;
    let account_url = client.credentials().unwrap().account_url().clone();
    client.change_key(key(keys::P384)).await.unwrap();
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P384).public_jwk());
    client
        .issue([Identifier::dns("rolled.example.org").unwrap()], &responder)
        .await
        .unwrap();
    let again = AcmeClient::from_credentials(saved, server.transport()).unwrap();
    assert_eq!(again.find_account().await.unwrap().url, account_url);
    // The old key no longer finds the account.
    let old = AcmeClient::new(
        server.directory_url.clone(),
        key(keys::P256),
        server.transport(),
    )
    .unwrap();
    let error = old.find_account().await.unwrap_err();
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist);
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn contacts_orders_revocations_and_deactivation() {
    let (server, client, responder) = setup().await;
    let info = client
        .update_contacts(["mailto:b@example.org"])
        .await
        .unwrap();
    assert_eq!(info.account.contact, ["mailto:b@example.org"]);
    assert_eq!(
        client.fetch_account().await.unwrap().account.contact,
        ["mailto:b@example.org"]
    );

    let first = client
        .issue([Identifier::dns("one.example.org").unwrap()], &responder)
        .await
        .unwrap();
    let second = client
        .issue([Identifier::dns("two.example.org").unwrap()], &responder)
        .await
        .unwrap();
    let orders = client.list_orders(5).await.unwrap();
    assert!(orders.contains(&first.issued.order_url) && orders.contains(&second.issued.order_url));

    client
        .revoke(&first.issued.chain, Some(RevocationReason::Superseded))
        .await
        .unwrap();
    let twice = client.revoke(&first.issued.chain, None).await.unwrap_err();
    assert_eq!(problem(&twice), ProblemType::AlreadyRevoked);
    client
        .revoke_with_certificate_key(&second.issued.chain, &second.private_key_pem, None)
        .await
        .unwrap();

    let info = client.deactivate_account().await.unwrap();
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let refused = client
        .issue([Identifier::dns("three.example.org").unwrap()], &responder)
        .await
        .unwrap_err();
    assert_eq!(problem(&refused), ProblemType::Unauthorized, "{refused}");
    assert!(responder.is_empty());
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// The directory and every authorization operation through the client: a
/// pre-authorization (its challenge cleaned up), a fetch, a challenge answered outside
/// an order, a deactivation.
#[tokio::test]
async fn the_directory_and_the_authorization_operations() {
    let (server, client, responder) = setup().await;
    let directory = client.directory().await.unwrap();
    assert!(directory.new_authz.is_some());
    assert!(!directory.meta.external_account_required);
    let (url, authorization) = client
        .pre_authorize(Identifier::dns("pre.example.org").unwrap(), &responder)
        .await
        .unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert!(responder.is_empty(), "the challenge was not cleaned up");
    let fetched = client.fetch_authorization(url.clone()).await.unwrap();
    assert_eq!(
        fetched.identifier,
        Identifier::dns("pre.example.org").unwrap()
    );
    let challenge = fetched.known_challenges().next().unwrap().url.clone();
    let answered = client.answer_challenge(challenge).await.unwrap();
    assert_eq!(answered.status(), Some(ChallengeStatus::Valid));
    let deactivated = client.deactivate_authorization(url.clone()).await.unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);
    let again = client.fetch_authorization(url).await.unwrap();
    assert_eq!(again.status, AuthorizationStatus::Deactivated);
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// A challenge answered outside any order, then its authorization polled through the
/// client while the CA keeps it `pending` for two polls.
#[tokio::test]
async fn an_authorization_answered_by_hand_is_polled_until_valid() {
    use acme_proto::client::{OrderEvent, PreAuthorization};
    use acme_proto_fake_ca::RequestKind;
    use acme_proto_tokio::Solver as _;

    let (server, client, responder) = setup_with(|mut config| {
        config.validation_polls = 2;
        config.poll_retry_after = Some(1);
        config
    })
    .await;
    // The authorization, left at its challenge.
    let mut pre = PreAuthorization::new(Identifier::dns("polled.example.org").unwrap());
    let mut offer = None;
    let left = acme_proto_tokio::drive(
        &mut pre,
        client.core(),
        client.transport(),
        |op: &mut PreAuthorization, event| {
            if let OrderEvent::Authorize { offers, .. } = event {
                offer = offers.into_iter().find(|o| o.type_name() == "http-01");
                op.abandon();
            }
            Ok(())
        },
    )
    .await;
    assert!(left.is_err(), "abandoned");
    let offer = offer.expect("an http-01 offer");
    let url = pre.url().unwrap().clone();
    // Presented and answered by hand, then polled.
    responder.present(&offer).await.unwrap();
    client.answer_challenge(offer.url.clone()).await.unwrap();
    let polls = server.ca.lock().unwrap().count(RequestKind::Authorization);
    let authorization = client.poll_authorization(url).await.unwrap();
    responder.cleanup(&offer).await.unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::Authorization) - polls,
        3,
        "pending twice, then valid"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}
