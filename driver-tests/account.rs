//! The account and authorization operations: renewal information, key change,
//! contacts, listing orders, both revocations, deactivation, the directory,
//! pre-authorization, and an authorization polled after a challenge answered by hand.

use acme_proto::client::RevocationReason;
use acme_proto::crypto::Signer as _;
use acme_proto::{
    AccountStatus, AuthorizationStatus, ChallengeStatus, Identifier, ProblemType, UnixTime,
};

use super::support::{CaServer, account, key, keys, transport};
use crate::driver::{AcmeClient, DriverError, Http01Responder};

driver_tests!(
    renewal_information_gives_a_time_inside_the_window,
    a_key_change_is_saved_in_the_credentials_and_orders_go_on,
    contacts_orders_revocations_and_deactivation,
    the_directory_and_the_authorization_operations,
    an_authorization_answered_by_hand_is_polled_until_valid,
);

async fn setup() -> (CaServer, AcmeClient, Http01Responder) {
    setup_with(|config| config).await
}

/// [`setup`] with a CA whose configuration `configure` adjusts.
async fn setup_with(
    configure: impl FnOnce(acme_proto_fake_ca::Config) -> acme_proto_fake_ca::Config,
) -> (CaServer, AcmeClient, Http01Responder) {
    let server = CaServer::start_with(configure);
    let client = account(&server, keys::P256).await;
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    (server, client, responder)
}

fn problem(error: &DriverError) -> ProblemType {
    error.problem().expect("a problem document").kind.clone()
}

fn dns(name: &str) -> Identifier {
    Identifier::dns(name).unwrap()
}

pub async fn renewal_information_gives_a_time_inside_the_window() {
    let (server, client, responder) = setup().await;
    let certificate = aw!(client.issue([dns("ari.example.org")], &responder)).unwrap();
    let leaf = certificate.issued.chain.end_entity();
    let suggestion = aw!(client.renewal_info(&certificate.issued.chain)).unwrap();
    let window = &suggestion.info.suggested_window;
    assert!(leaf.not_before() < window.start && window.start < window.end);
    assert!(window.end <= leaf.not_after());
    assert!(suggestion.retry_after.is_some(), "Retry-After kept");
    let now = UnixTime::from(std::time::SystemTime::now());
    for random in [0, u64::MAX / 3, u64::MAX] {
        let at = suggestion.renewal_time(random, now);
        assert!(
            window.start <= at && at <= window.end,
            "{at} outside the window"
        );
    }
    // Revoked: the window moves into the past, so renew now.
    aw!(client.revoke(&certificate.issued.chain, None)).unwrap();
    let revoked = aw!(client.renewal_info(&certificate.issued.chain)).unwrap();
    assert!(revoked.info.suggested_window.end <= now);
    assert_eq!(revoked.renewal_time(7, now), now);
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn a_key_change_is_saved_in_the_credentials_and_orders_go_on() {
    let (server, client, responder) = setup().await;
    let account_url = client.credentials().unwrap().account_url().clone();
    aw!(client.change_key(key(keys::P384))).unwrap();
    let saved = client.credentials().unwrap();
    assert_eq!(saved.key().public_jwk(), key(keys::P384).public_jwk());
    aw!(client.issue([dns("rolled.example.org")], &responder)).unwrap();
    let again = AcmeClient::from_credentials(saved, transport(&server)).unwrap();
    assert_eq!(aw!(again.find_account()).unwrap().url, account_url);
    // The old key no longer finds the account.
    let old = AcmeClient::new(
        server.directory_url.clone(),
        key(keys::P256),
        transport(&server),
    )
    .unwrap();
    let error = aw!(old.find_account()).unwrap_err();
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist);
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn contacts_orders_revocations_and_deactivation() {
    let (server, client, responder) = setup().await;
    let info = aw!(client.update_contacts(["mailto:b@example.org"])).unwrap();
    assert_eq!(info.account.contact, ["mailto:b@example.org"]);
    assert_eq!(
        aw!(client.fetch_account()).unwrap().account.contact,
        ["mailto:b@example.org"]
    );

    let first = aw!(client.issue([dns("one.example.org")], &responder)).unwrap();
    let second = aw!(client.issue([dns("two.example.org")], &responder)).unwrap();
    let orders = aw!(client.list_orders(5)).unwrap();
    assert!(orders.contains(&first.issued.order_url) && orders.contains(&second.issued.order_url));

    aw!(client.revoke(&first.issued.chain, Some(RevocationReason::Superseded))).unwrap();
    let twice = aw!(client.revoke(&first.issued.chain, None)).unwrap_err();
    assert_eq!(problem(&twice), ProblemType::AlreadyRevoked);
    aw!(client.revoke_with_certificate_key(&second.issued.chain, &second.private_key_pem, None))
        .unwrap();
    {
        let ca = server.ca.lock().unwrap();
        let revoked = ca.certificates();
        assert_eq!(revoked[0].revocation.unwrap().reason, Some(4), "superseded");
        assert!(revoked[1].revocation.unwrap().by_certificate_key);
    }

    let info = aw!(client.deactivate_account()).unwrap();
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let refused = aw!(client.issue([dns("three.example.org")], &responder)).unwrap_err();
    assert_eq!(problem(&refused), ProblemType::Unauthorized, "{refused}");
    assert!(responder.is_empty());
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// The directory and every authorization operation through the client: a
/// pre-authorization (its challenge cleaned up), a fetch, a challenge answered outside
/// an order, a deactivation.
pub async fn the_directory_and_the_authorization_operations() {
    let (server, client, responder) = setup().await;
    let directory = aw!(client.directory()).unwrap();
    assert!(directory.new_authz.is_some());
    assert!(!directory.meta.external_account_required);
    let (url, authorization) =
        aw!(client.pre_authorize(dns("pre.example.org"), &responder)).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert!(responder.is_empty(), "the challenge was not cleaned up");
    let fetched = aw!(client.fetch_authorization(url.clone())).unwrap();
    assert_eq!(fetched.identifier, dns("pre.example.org"));
    let challenge = fetched.known_challenges().next().unwrap().url.clone();
    let answered = aw!(client.answer_challenge(challenge)).unwrap();
    assert_eq!(answered.status(), Some(ChallengeStatus::Valid));
    let deactivated = aw!(client.deactivate_authorization(url.clone())).unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);
    let again = aw!(client.fetch_authorization(url)).unwrap();
    assert_eq!(again.status, AuthorizationStatus::Deactivated);
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// A challenge answered outside any order, then its authorization polled through the
/// client while the CA keeps it `pending` for two polls.
pub async fn an_authorization_answered_by_hand_is_polled_until_valid() {
    use acme_proto::client::{AuthorizationEvent, PreAuthorization};
    use acme_proto_fake_ca::RequestKind;

    use crate::driver::Solver as _;

    let (server, client, responder) = setup_with(|mut config| {
        config.validation_polls = 2;
        config.poll_retry_after = Some(1);
        config
    })
    .await;
    // The authorization, left at its challenge.
    let mut pre = PreAuthorization::new(dns("polled.example.org"));
    let mut offer = None;
    let left = aw!(crate::driver::drive(
        &mut pre,
        client.core(),
        client.transport(),
        |op: &mut PreAuthorization, event| {
            if let AuthorizationEvent::Authorize { offers, .. } = event {
                offer = offers.into_iter().find(|o| o.type_name() == "http-01");
                op.abandon();
            }
            Ok(())
        },
    ));
    assert!(left.is_err(), "abandoned");
    let offer = offer.expect("an http-01 offer");
    let url = pre.url().unwrap().clone();
    // Presented and answered by hand, then polled.
    aw!(responder.present(&offer)).unwrap();
    aw!(client.answer_challenge(offer.url.clone())).unwrap();
    let polls = server.ca.lock().unwrap().count(RequestKind::Authorization);
    let authorization = aw!(client.poll_authorization(url)).unwrap();
    aw!(responder.cleanup(&offer)).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::Authorization) - polls,
        3,
        "pending twice, then valid"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}
