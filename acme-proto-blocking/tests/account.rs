//! Account operations over real TLS against the fake CA: fetch, contacts, orders list,
//! key rollover then issue, deactivation, revocation both ways, renewal information.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::client::{AccountCredentials, RevocationReason};
use acme_proto::{
    AccountStatus, AuthorizationStatus, ChallengeStatus, Identifier, ProblemType, UnixTime,
};
use acme_proto_blocking::{AcmeClient, DriverError, Http01Responder};
use common::{CaServer, account, key, keys, quick_account, transport};

fn responder() -> Http01Responder {
    Http01Responder::bind("127.0.0.1:0".parse().unwrap()).unwrap()
}

#[test]
fn fetch_contacts_and_orders_list() {
    let server = CaServer::start_with(|mut config| {
        config.orders_page_size = 2;
        config
    });
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    let fetched = client.fetch_account().unwrap();
    assert_eq!(fetched.account.status, AccountStatus::Valid);
    assert_eq!(fetched.account.contact, ["mailto:admin@example.org"]);

    let updated = client
        .update_contacts(["mailto:ops@example.org", "mailto:sec@example.org"])
        .unwrap();
    assert_eq!(
        updated.account.contact,
        ["mailto:ops@example.org", "mailto:sec@example.org"]
    );
    assert_eq!(
        server.ca.lock().unwrap().accounts()[0].contact,
        ["mailto:ops@example.org", "mailto:sec@example.org"]
    );

    // Five orders: three pages of two.
    let mut order_urls = Vec::new();
    for i in 0..5 {
        let certificate = client
            .issue(
                [Identifier::dns(&format!("o{i}.example.org")).unwrap()],
                &responder,
            )
            .unwrap();
        order_urls.push(certificate.issued.order_url);
    }
    let mut listed = client.list_orders(10).unwrap();
    listed.sort();
    order_urls.sort();
    assert_eq!(listed, order_urls);
    assert_eq!(client.list_orders(1).unwrap().len(), 2, "one page only");
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn change_key_then_issue() {
    let server = CaServer::start();
    let responder = responder();
    let client = account(&server, keys::P256);
    let account_url = client.credentials().unwrap().account_url().clone();
    client.change_key(key(keys::ED25519)).unwrap();

    // The credentials now hold the new key, and bring the same account back.
    let saved = client.credentials().unwrap();
    assert_eq!(
        saved.key().jwk().thumbprint(),
        key(keys::ED25519).jwk().thumbprint()
    );
    assert_eq!(
        server.ca.lock().unwrap().accounts()[0].thumbprint,
        key(keys::ED25519).jwk().thumbprint().as_str()
    );
    client
        .issue([Identifier::dns("rolled.example.org").unwrap()], &responder)
        .unwrap();
    let again = AcmeClient::from_credentials(
        AccountCredentials::from_json(&saved.to_json().unwrap()).unwrap(),
        transport(&server),
    )
    .unwrap();
    assert_eq!(again.find_account().unwrap().url, account_url);

    // The old key has no account any more.
    let old = AcmeClient::new(
        server.directory_url.clone(),
        key(keys::P256),
        transport(&server),
    )
    .unwrap();
    let error = old.find_account().unwrap_err();
    assert_eq!(
        error.problem().map(|p| &p.kind),
        Some(&ProblemType::AccountDoesNotExist),
        "{error:?}"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn deactivation_then_a_typed_error() {
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    let info = client.deactivate_account().unwrap();
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let error = client
        .issue([Identifier::dns("late.example.org").unwrap()], &responder)
        .unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Problem(p)) if p.kind == ProblemType::Unauthorized),
        "{error:?}"
    );
    assert!(responder.is_empty());
}

#[test]
fn revocation_by_account_key_and_by_certificate_key() {
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    let first = client
        .issue([Identifier::dns("one.example.org").unwrap()], &responder)
        .unwrap();
    let second = client
        .issue([Identifier::dns("two.example.org").unwrap()], &responder)
        .unwrap();

    client
        .revoke(&first.issued.chain, Some(RevocationReason::Superseded))
        .unwrap();
    // By the certificate's own key, from a client of another account.
    let other = quick_account(&server, keys::P384);
    other
        .revoke_with_certificate_key(
            &second.issued.chain,
            &second.private_key_pem,
            Some(RevocationReason::KeyCompromise),
        )
        .unwrap();

    let ca = server.ca.lock().unwrap();
    let revocation = |name: &str| {
        ca.certificates()
            .into_iter()
            .find(|c| {
                acme_proto::CertificateInfo::from_der(&c.der)
                    .unwrap()
                    .dns_names()
                    .iter()
                    .any(|n| n == name)
            })
            .unwrap()
            .revocation
            .unwrap()
    };
    let by_account = revocation("one.example.org");
    assert_eq!(by_account.reason, Some(4));
    assert!(!by_account.by_certificate_key);
    let by_key = revocation("two.example.org");
    assert_eq!(by_key.reason, Some(1));
    assert!(by_key.by_certificate_key);
    drop(ca);

    // Twice is refused, with the server's own problem type.
    let error = client.revoke(&first.issued.chain, None).unwrap_err();
    assert_eq!(
        error.problem().map(|p| &p.kind),
        Some(&ProblemType::AlreadyRevoked),
        "{error:?}"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn renewal_information() {
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    let certificate = client
        .issue([Identifier::dns("ari.example.org").unwrap()], &responder)
        .unwrap();
    let leaf = certificate.issued.chain.end_entity();
    let suggestion = client.renewal_info(&certificate.issued.chain).unwrap();
    let window = &suggestion.info.suggested_window;
    assert!(leaf.not_before() < window.start && window.start < window.end);
    assert!(window.end <= leaf.not_after());
    assert!(suggestion.retry_after.is_some(), "Retry-After kept");
    let now = UnixTime::from(std::time::SystemTime::now());
    for random in [0, u64::MAX / 2, u64::MAX] {
        let at = suggestion.renewal_time(random, now);
        assert!(window.start <= at && at <= window.end, "{at:?}");
    }
    // Revoked: the window moves into the past, so renew now.
    client.revoke(&certificate.issued.chain, None).unwrap();
    let revoked = client.renewal_info(&certificate.issued.chain).unwrap();
    assert!(revoked.info.suggested_window.end <= now);
    assert_eq!(revoked.renewal_time(7, now), now);
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// The directory and every authorization operation through the client: a
/// pre-authorization (its challenge cleaned up), a fetch, a challenge answered outside
/// an order, a deactivation.
#[test]
fn the_directory_and_the_authorization_operations() {
    let server = CaServer::start();
    let client = account(&server, keys::P256);
    let responder = responder();
    let directory = client.directory().unwrap();
    assert!(directory.new_authz.is_some());
    assert!(!directory.meta.external_account_required);
    let (url, authorization) = client
        .pre_authorize(Identifier::dns("pre.example.org").unwrap(), &responder)
        .unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert!(responder.is_empty(), "the challenge was not cleaned up");
    let fetched = client.fetch_authorization(url.clone()).unwrap();
    assert_eq!(
        fetched.identifier,
        Identifier::dns("pre.example.org").unwrap()
    );
    let challenge = fetched.known_challenges().next().unwrap().url.clone();
    let answered = client.answer_challenge(challenge).unwrap();
    assert_eq!(answered.status(), Some(ChallengeStatus::Valid));
    let deactivated = client.deactivate_authorization(url.clone()).unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);
    let again = client.fetch_authorization(url).unwrap();
    assert_eq!(again.status, AuthorizationStatus::Deactivated);
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// A challenge answered outside any order, then its authorization polled through the
/// client while the CA keeps it `pending` for two polls.
#[test]
fn an_authorization_answered_by_hand_is_polled_until_valid() {
    use acme_proto::client::{OrderEvent, PreAuthorization};
    use acme_proto_blocking::Solver as _;
    use acme_proto_fake_ca::RequestKind;

    let server = CaServer::start_with(|mut config| {
        config.validation_polls = 2;
        config.poll_retry_after = Some(1);
        config
    });
    let client = account(&server, keys::P256);
    let responder = responder();
    // The authorization, left at its challenge.
    let mut pre = PreAuthorization::new(Identifier::dns("polled.example.org").unwrap());
    let mut offer = None;
    let left = acme_proto_blocking::drive(
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
    );
    assert!(left.is_err(), "abandoned");
    let offer = offer.expect("an http-01 offer");
    let url = pre.url().unwrap().clone();
    // Presented and answered by hand, then polled.
    responder.present(&offer).unwrap();
    client.answer_challenge(offer.url.clone()).unwrap();
    let polls = server.ca.lock().unwrap().count(RequestKind::Authorization);
    let authorization = client.poll_authorization(url).unwrap();
    responder.cleanup(&offer).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::Authorization) - polls,
        3,
        "pending twice, then valid"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}
