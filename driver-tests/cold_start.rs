//! Every operation started on a client made from saved credentials alone (no directory
//! fetched, no nonce): the path of a renewal job that starts from disk. A GET operation
//! once took the directory, fetched first, for its own answer (`renewal_info` failed as
//! `Malformed`). And a server's wait past the deadline ends an order at once.

use std::time::{Duration, Instant};

use acme_proto::client::AccountCredentials;
use acme_proto::{AuthorizationStatus, ChallengeStatus, Identifier};

use super::support::{CaServer, account, keys, transport};
use crate::driver::{AcmeClient, DriverError, Http01Responder};

driver_tests!(
    every_operation_on_a_fresh_client,
    a_retry_after_past_the_deadline_ends_the_order_at_once,
);

fn dns(name: &str) -> Identifier {
    Identifier::dns(name).unwrap()
}

/// A client that has done nothing yet, from `credentials` as saved to disk.
fn cold(server: &CaServer, credentials: &AccountCredentials) -> AcmeClient {
    let saved = credentials.to_json().unwrap();
    let credentials = AccountCredentials::from_json(&saved).unwrap();
    AcmeClient::from_credentials(credentials, transport(server)).unwrap()
}

pub async fn every_operation_on_a_fresh_client() {
    let server = CaServer::start();
    let credentials = account(&server, keys::P256).await.credentials().unwrap();
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();

    let certificate =
        aw!(cold(&server, &credentials).issue([dns("cold.example.org")], &responder)).unwrap();
    let suggestion =
        aw!(cold(&server, &credentials).renewal_info(&certificate.issued.chain)).unwrap();
    assert!(suggestion.info.suggested_window.start < suggestion.info.suggested_window.end);
    let directory = aw!(cold(&server, &credentials).directory()).unwrap();
    assert!(directory.renewal_info.is_some());
    aw!(cold(&server, &credentials).fetch_account()).unwrap();
    aw!(cold(&server, &credentials).update_contacts(["mailto:cold@example.org"])).unwrap();
    let orders = aw!(cold(&server, &credentials).list_orders(5)).unwrap();
    assert!(orders.contains(&certificate.issued.order_url));

    let (url, _) =
        aw!(cold(&server, &credentials).pre_authorize(dns("pre-cold.example.org"), &responder))
            .unwrap();
    let fetched = aw!(cold(&server, &credentials).fetch_authorization(url.clone())).unwrap();
    let challenge = fetched.known_challenges().next().unwrap().url.clone();
    let answered = aw!(cold(&server, &credentials).answer_challenge(challenge)).unwrap();
    assert_eq!(answered.status(), Some(ChallengeStatus::Valid));
    let polled = aw!(cold(&server, &credentials).poll_authorization(url.clone())).unwrap();
    assert_eq!(polled.status, AuthorizationStatus::Valid);
    let deactivated = aw!(cold(&server, &credentials).deactivate_authorization(url)).unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);

    aw!(cold(&server, &credentials).revoke(&certificate.issued.chain, None)).unwrap();
    let second =
        aw!(cold(&server, &credentials).issue([dns("cold2.example.org")], &responder)).unwrap();
    aw!(cold(&server, &credentials).revoke_with_certificate_key(
        &second.issued.chain,
        &second.private_key_pem,
        None
    ))
    .unwrap();
    aw!(cold(&server, &credentials).find_account()).unwrap();
    let rolled = cold(&server, &credentials);
    aw!(rolled.change_key(super::support::key(keys::P384))).unwrap();
    let after = rolled.credentials().unwrap();
    aw!(cold(&server, &after).deactivate_account()).unwrap();
    assert!(responder.is_empty());
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// The server answers finalize `processing` with `Retry-After: 99999999`: the order ends
/// at once with the server's time, its challenge cleaned up, rather than polling at the
/// capped interval until the deadline.
pub async fn a_retry_after_past_the_deadline_ends_the_order_at_once() {
    let server = CaServer::start_with(|mut config| {
        config.issuance_polls = 2;
        config.poll_retry_after = Some(99_999_999);
        config
    });
    let client = account(&server, keys::P256).await;
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let started = Instant::now();
    let error = aw!(client.issue([dns("late.example.org")], &responder)).unwrap_err();
    assert!(
        matches!(
            error,
            DriverError::Acme(acme_proto::Error::RetryAfter { .. })
        ),
        "{error:?}"
    );
    // The policy's cap is 120 s: one capped wait would take that long. A loaded machine
    // still ends well inside 60 s.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert!(responder.is_empty(), "the challenge is cleaned up");
}
