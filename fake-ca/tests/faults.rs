//! Each scripted fault happens exactly as scripted, as often as scripted, and then stops.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::UnixTime;
use acme_proto_fake_ca::{Config, Fault, RequestKind, RetryAfter};
use common::{Client, body, header, key, keys, problem_type, url};
use serde_json::json;

fn setup() -> (Client, acme_proto::AccountKey, String) {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    (c, k, kid)
}

#[test]
fn bad_nonce_storm_rejects_valid_nonces_then_stops() {
    let (mut c, k, kid) = setup();
    c.ca.script(RequestKind::Any, Fault::BadNonce, 3);
    // A GET cannot carry a bad nonce: the storm waits for POSTs.
    assert_eq!(c.get(&url("/directory")).status, 200);
    for _ in 0..3 {
        let r = c.post_as_get(&k, &kid, &kid);
        assert_eq!((r.status, problem_type(&r).as_str()), (400, "badNonce"));
        assert!(header(&r, "replay-nonce").is_some());
    }
    assert_eq!(c.post_as_get(&k, &kid, &kid).status, 200);
    assert_eq!(c.ca.pending_faults(), 0);
    assert!(
        c.ca.violations().is_empty(),
        "scripted refusals are not the client's fault"
    );
    let fired: Vec<_> =
        c.ca.transcript()
            .iter()
            .filter(|e| !e.faults.is_empty())
            .collect();
    assert_eq!(fired.len(), 3);
    assert!(fired.iter().all(|e| e.faults == [Fault::BadNonce]));
}

#[test]
fn rate_limits_and_unavailability_carry_retry_after() {
    let (mut c, k, kid) = setup();
    let at = UnixTime::from_secs(common::NOW + 120);
    c.ca.script(
        RequestKind::NewOrder,
        Fault::RateLimited(RetryAfter::Seconds(30)),
        1,
    )
    .script(
        RequestKind::NewOrder,
        Fault::Unavailable(Some(RetryAfter::HttpDate(at))),
        1,
    )
    .script(RequestKind::NewOrder, Fault::Unavailable(None), 1)
    .script(RequestKind::NewOrder, Fault::ServerError, 1);
    let ids = json!({"identifiers": [{"type": "dns", "value": "www.example.org"}]});
    let new_order = url("/acme/new-order");
    let r = c.post_json(&k, &kid, &new_order, &ids);
    assert_eq!((r.status, problem_type(&r).as_str()), (429, "rateLimited"));
    assert_eq!(header(&r, "retry-after").as_deref(), Some("30"));
    let r = c.post_json(&k, &kid, &new_order, &ids);
    assert_eq!(r.status, 503);
    let date = header(&r, "retry-after").unwrap();
    assert_eq!(UnixTime::parse_http_date(&date).unwrap(), at);
    let r = c.post_json(&k, &kid, &new_order, &ids);
    assert_eq!((r.status, header(&r, "retry-after")), (503, None));
    let r = c.post_json(&k, &kid, &new_order, &ids);
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (500, "serverInternal")
    );
    assert!(c.ca.orders().is_empty(), "refusals change nothing");
    assert_eq!(c.post_json(&k, &kid, &new_order, &ids).status, 201);
    assert_eq!(c.ca.count(RequestKind::NewOrder), 5);
}

#[test]
fn order_not_ready_and_already_replaced() {
    let (mut c, k, kid) = setup();
    // Installed for any request, it still waits for a finalize.
    c.ca.script(RequestKind::Any, Fault::OrderNotReady, 1);
    let (_, order) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &order, "http-01");
    assert_eq!(c.ca.pending_faults(), 1);
    let r = c.finalize(&k, &kid, &order, &["www.example.org"]);
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (403, "orderNotReady")
    );
    assert_eq!(
        body(&c.finalize(&k, &kid, &order, &["www.example.org"]))["status"],
        "valid"
    );

    c.ca.script(RequestKind::NewOrder, Fault::AlreadyReplaced, 1);
    let cert_id = c.ca.certificates()[0].cert_id.clone();
    let ids = json!([{"type": "dns", "value": "www.example.org"}]);
    let payload = json!({"identifiers": ids, "replaces": cert_id});
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &payload);
    assert_eq!(
        (r.status, problem_type(&r).as_str()),
        (409, "alreadyReplaced")
    );
    assert_eq!(
        c.post_json(&k, &kid, &url("/acme/new-order"), &payload)
            .status,
        201
    );
}

#[test]
fn invalid_challenge_carries_subproblems_with_identifiers() {
    let (mut c, k, kid) = setup();
    c.ca.script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "incorrectResponse".into(),
            detail: "wrong key authorization".into(),
        },
        1,
    );
    let (order_url, order) = c.order(&k, &kid, &["www.example.org"]);
    let authz_url = order["authorizations"][0].as_str().unwrap().to_owned();
    let authz = body(&c.post_as_get(&k, &kid, &authz_url));
    let chall_url = authz["challenges"][0]["url"].as_str().unwrap().to_owned();
    // Fetching the challenge is not answering it: the fault waits.
    c.post_as_get(&k, &kid, &chall_url);
    assert_eq!(c.ca.pending_faults(), 1);
    let r = c.post_json(&k, &kid, &chall_url, &json!({}));
    let chall = body(&r);
    assert_eq!(chall["status"], "invalid");
    let error = &chall["error"];
    assert_eq!(
        error["type"],
        "urn:ietf:params:acme:error:incorrectResponse"
    );
    assert_eq!(
        error["subproblems"][0]["identifier"],
        json!({"type": "dns", "value": "www.example.org"})
    );
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &authz_url))["status"],
        "invalid"
    );
    let order = body(&c.post_as_get(&k, &kid, &order_url));
    assert_eq!(order["status"], "invalid");
    assert_eq!(order["error"], *error);

    let custom =
        json!({"type": "urn:ietf:params:acme:error:compound", "detail": "x", "subproblems": []});
    c.ca.script(
        RequestKind::Challenge,
        Fault::InvalidChallengeWith(custom.clone()),
        1,
    );
    let (_, order) = c.order(&k, &kid, &["other.example.org"]);
    let authz = body(&c.post_as_get(&k, &kid, order["authorizations"][0].as_str().unwrap()));
    let r = c.post_json(
        &k,
        &kid,
        authz["challenges"][1]["url"].as_str().unwrap(),
        &json!({}),
    );
    assert_eq!(body(&r)["error"], custom);
}

#[test]
fn authorization_stays_pending_for_the_scripted_polls() {
    let (mut c, k, kid) = setup();
    c.ca.script(
        RequestKind::Challenge,
        Fault::AuthorizationPendingPolls(2),
        1,
    );
    let (_, order) = c.order(&k, &kid, &["www.example.org"]);
    let authz_url = order["authorizations"][0].as_str().unwrap().to_owned();
    let authz = body(&c.post_as_get(&k, &kid, &authz_url));
    let r = c.post_json(
        &k,
        &kid,
        authz["challenges"][0]["url"].as_str().unwrap(),
        &json!({}),
    );
    assert_eq!(body(&r)["status"], "processing");
    for _ in 0..2 {
        let r = c.post_as_get(&k, &kid, &authz_url);
        assert_eq!(body(&r)["status"], "pending");
        assert_eq!(header(&r, "retry-after").as_deref(), Some("1"));
    }
    let r = c.post_as_get(&k, &kid, &authz_url);
    assert_eq!(body(&r)["status"], "valid");
    assert_eq!(body(&r)["challenges"][0]["status"], "valid");
}

#[test]
fn order_stays_processing_for_the_scripted_polls() {
    let (mut c, k, kid) = setup();
    c.ca.script(RequestKind::Finalize, Fault::OrderProcessingPolls(3), 1);
    let (order_url, order) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &order, "http-01");
    let r = c.finalize(&k, &kid, &order, &["www.example.org"]);
    assert_eq!(body(&r)["status"], "processing");
    assert!(body(&r).get("certificate").is_none());
    for _ in 0..3 {
        let r = c.post_as_get(&k, &kid, &order_url);
        assert_eq!(body(&r)["status"], "processing");
        assert_eq!(header(&r, "retry-after").as_deref(), Some("1"));
    }
    let r = c.post_as_get(&k, &kid, &order_url);
    assert_eq!(body(&r)["status"], "valid");
    assert!(body(&r)["certificate"].is_string());
}

#[test]
fn configured_polls_apply_without_a_script() {
    let mut config = Config::new(common::BASE);
    config.validation_polls = 1;
    config.issuance_polls = 1;
    config.poll_retry_after = None;
    let mut c = Client::new(config);
    let k = key(keys::P256);
    let kid = c.account(&k);
    let (order_url, order) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &order, "dns-01");
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &order_url))["status"],
        "pending"
    );
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &order_url))["status"],
        "ready"
    );
    let r = c.finalize(&k, &kid, &order, &["www.example.org"]);
    assert_eq!(
        (body(&r)["status"].clone(), header(&r, "retry-after")),
        (json!("processing"), None)
    );
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &order_url))["status"],
        "processing"
    );
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &order_url))["status"],
        "valid"
    );
}

#[test]
fn damaged_bodies() {
    let (mut c, k, kid) = setup();
    let whole = c.post_as_get(&k, &kid, &kid).body;
    c.ca.script(RequestKind::Account, Fault::TruncatedBody, 1);
    let r = c.post_as_get(&k, &kid, &kid);
    assert_eq!(r.body, whole[..whole.len() / 2]);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    c.ca.script(RequestKind::Account, Fault::WrongContentType, 1);
    let r = c.post_as_get(&k, &kid, &kid);
    assert_eq!(header(&r, "content-type").as_deref(), Some("text/html"));
    assert_eq!(r.body, whole);

    c.ca.script(RequestKind::Directory, Fault::HugeBody(100_000), 1);
    let r = c.get(&url("/directory"));
    assert_eq!(r.body.len(), 100_000);

    c.ca.script(RequestKind::Account, Fault::NonUtf8Body, 1);
    let r = c.post_as_get(&k, &kid, &kid);
    assert!(std::str::from_utf8(&r.body).is_err());

    assert_eq!(
        c.post_as_get(&k, &kid, &kid).body,
        whole,
        "each fault fired once"
    );
    assert_eq!(c.ca.pending_faults(), 0);
}

#[test]
fn missing_replay_nonce_and_location() {
    let (mut c, k, kid) = setup();
    c.ca.script(RequestKind::NewOrder, Fault::NoLocation, 1)
        .script(RequestKind::NewOrder, Fault::NoReplayNonce, 1);
    let ids = json!({"identifiers": [{"type": "dns", "value": "www.example.org"}]});
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &ids);
    assert_eq!(r.status, 201);
    assert_eq!(header(&r, "location"), None);
    assert_eq!(header(&r, "replay-nonce"), None);
    assert_eq!(c.ca.orders().len(), 1, "the order was still created");
    let exchange = c.ca.transcript().last().unwrap();
    assert_eq!(exchange.faults, [Fault::NoLocation, Fault::NoReplayNonce]);

    c.ca.script(RequestKind::Any, Fault::NoReplayNonce, 2);
    assert_eq!(header(&c.get(&url("/directory")), "replay-nonce"), None);
    assert_eq!(header(&c.get(&url("/directory")), "replay-nonce"), None);
    assert!(header(&c.get(&url("/directory")), "replay-nonce").is_some());
}

#[test]
fn faults_fire_in_order_and_only_on_their_kind() {
    let (mut c, k, kid) = setup();
    c.ca.script(RequestKind::Order, Fault::ServerError, 2)
        .script(
            RequestKind::Any,
            Fault::RateLimited(RetryAfter::Seconds(5)),
            1,
        );
    let ids = json!({"identifiers": [{"type": "dns", "value": "www.example.org"}]});
    // newOrder is not an order fetch: the first fault that matches it is the Any one.
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &ids);
    assert_eq!(r.status, 429);
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &ids);
    assert_eq!(r.status, 201);
    let order_url = header(&r, "location").unwrap();
    assert_eq!(c.post_as_get(&k, &kid, &order_url).status, 500);
    assert_eq!(c.post_as_get(&k, &kid, &order_url).status, 500);
    assert_eq!(c.post_as_get(&k, &kid, &order_url).status, 200);
    assert_eq!(c.ca.pending_faults(), 0);

    c.ca.script(RequestKind::Order, Fault::ServerError, 5);
    assert_eq!(c.ca.pending_faults(), 5);
    c.ca.clear_script();
    assert_eq!(c.post_as_get(&k, &kid, &order_url).status, 200);
}
