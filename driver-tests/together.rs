//! The requests the core lets out together go out together, for both drivers: an
//! order's authorizations fetched at once and their challenges answered at once, seen
//! by the fake CA as requests it was answering at the same time (each held back a
//! little, so that they overlap whatever the machine's speed), each with a nonce of its
//! own; and one at a time when the policy says so.

use std::time::Duration;

use acme_proto::Identifier;
use acme_proto_fake_ca::RequestKind;

use acme_proto::client::NewAccount;

use super::support::{CaServer, key, keys, transport};
use crate::driver::{AcmeClient, Http01Responder, RingSigner};

driver_tests!(
    an_orders_authorizations_and_answers_go_together,
    one_at_a_time_when_the_policy_says_so,
);

const NAMES: usize = 6;

fn names() -> Vec<Identifier> {
    (0..NAMES)
        .map(|i| Identifier::dns(&format!("n{i}.example.org")).unwrap())
        .collect()
}

/// Issues for [`NAMES`] names with the authorizations and challenges answered late,
/// and returns the most requests the server was answering at once.
async fn most_at_once(policy: Option<acme_proto::Policy>) -> usize {
    let server = CaServer::start();
    let mut policy = policy.unwrap_or_default();
    policy.poll_initial = Duration::from_millis(20);
    policy.poll_interval = Duration::from_millis(20);
    let core = acme_proto::Client::new(
        server.directory_url.clone(),
        RingSigner::new(key(keys::P256)).unwrap(),
    )
    .unwrap()
    .with_policy(policy);
    let client = AcmeClient::from_client(core, transport(&server));
    aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:ops@example.org"]))).unwrap();
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    // Held back: requests sent together are then being answered together.
    server.answer_late(RequestKind::Authorization, Duration::from_millis(100));
    server.answer_late(RequestKind::Challenge, Duration::from_millis(100));
    let certificate = aw!(client.issue(names(), &responder)).unwrap();
    assert_eq!(
        certificate.issued.chain.end_entity().dns_names().len(),
        NAMES
    );
    assert!(responder.is_empty());
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    server.most_at_once()
}

pub async fn an_orders_authorizations_and_answers_go_together() {
    let most = most_at_once(None).await;
    assert!(
        most >= NAMES,
        "{}: at most {most} requests out at once for {NAMES} names",
        crate::DRIVER_NAME
    );
}

pub async fn one_at_a_time_when_the_policy_says_so() {
    let mut policy = acme_proto::Policy::default();
    policy.max_requests_in_flight = 1;
    let most = most_at_once(Some(policy)).await;
    assert_eq!(most, 1, "{}", crate::DRIVER_NAME);
}
