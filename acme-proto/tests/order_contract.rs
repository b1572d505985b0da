#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The order is the contract: against a fake CA that lies about what was ordered, the
//! flow refuses before any challenge is presented, and never reports a certificate that
//! is not for the CSR's key and the order's names. A server that never finishes
//! validating is given up on within the policy's patience.

mod common;

use acme_proto::client::Operation;
use acme_proto::client::{
    AuthorizationEvent, NewOrder, OrderEvent, OrderFlow, OrderSnapshot, PreAuthorization, Step,
};
use acme_proto::{Error, MalformedKind, Misuse, Policy};
use acme_proto_fake_ca::{Config, Fault, RequestKind};
use common::ca::{Harness, Solver, csr, dns};
use url::Url;

fn order(names: &[&str]) -> OrderFlow {
    OrderFlow::new(NewOrder::new(names.iter().map(|n| dns(n)))).unwrap()
}

/// The field of a `Mismatch`, or a panic naming what came instead.
fn mismatch(
    result: Result<acme_proto::client::Issued, Error>,
) -> (&'static str, &'static str, String) {
    match result {
        Err(Error::Malformed(m)) => match m.kind {
            MalformedKind::Mismatch { field, found } => (m.context, field, found),
            other => panic!("not a mismatch: {other:?}"),
        },
        other => panic!("not refused as malformed: {other:?}"),
    }
}

fn authorize_events(solver: &Solver) -> usize {
    solver
        .events
        .iter()
        .filter(|e| matches!(e, OrderEvent::Authorize { .. }))
        .count()
}

#[test]
fn an_order_for_other_identifiers_is_refused_before_any_challenge() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::OrderIdentifiers(vec![("dns".into(), "evil.example".into())]),
        1,
    );
    let mut solver = Solver::default();
    let (context, field, found) = mismatch(h.order(&mut order(&["www.example.org"]), &mut solver));
    assert_eq!((context, field), ("order", "identifiers"));
    assert_eq!(found, "evil.example");
    assert_eq!(authorize_events(&solver), 0);
    assert!(solver.provisioned.is_empty());
    assert_eq!(
        h.ca.count(RequestKind::Authorization),
        0,
        "no authorization fetched"
    );
}

#[test]
fn identifiers_compare_as_a_set_and_dns_names_case_insensitively() {
    // The server lists the two names in the other order, in upper case: the same order.
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::OrderIdentifiers(vec![
            ("dns".into(), "B.EXAMPLE.ORG".into()),
            ("dns".into(), "a.example.org".into()),
        ]),
        1,
    );
    let issued = h
        .order(
            &mut order(&["a.example.org", "b.example.org"]),
            &mut Solver::default(),
        )
        .unwrap();
    assert!(issued.unrequested_names.is_empty());

    // One name dropped, or one added: refused.
    for served in [
        vec![("dns", "a.example.org")],
        vec![
            ("dns", "a.example.org"),
            ("dns", "b.example.org"),
            ("dns", "c.example.org"),
        ],
        vec![("dns", "a.example.org"), ("ip", "192.0.2.1")],
    ] {
        let mut h = Harness::with_account();
        let served = served
            .iter()
            .map(|(t, v)| ((*t).into(), (*v).into()))
            .collect();
        h.ca.script(RequestKind::NewOrder, Fault::OrderIdentifiers(served), 1);
        let mut solver = Solver::default();
        let (_, field, _) =
            mismatch(h.order(&mut order(&["a.example.org", "b.example.org"]), &mut solver));
        assert_eq!(field, "identifiers");
        assert_eq!(authorize_events(&solver), 0);
    }
}

#[test]
fn ten_thousand_authorizations_for_one_name_are_refused_at_once() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::ForeignAuthorizations(9_999),
        1,
    );
    let before = h.sent.len();
    let mut solver = Solver::default();
    let (context, field, found) = mismatch(h.order(&mut order(&["www.example.org"]), &mut solver));
    assert_eq!((context, field), ("order", "authorizations"));
    assert_eq!(found, "10000 authorizations for 1 identifiers");
    assert_eq!(
        h.sent.len() - before,
        1,
        "newOrder only: nothing fetched, nothing answered"
    );
    assert_eq!(authorize_events(&solver), 0);
}

#[test]
fn an_authorization_for_a_name_not_ordered_is_never_presented() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::AuthorizationFor("victim.example".into()),
        1,
    );
    let mut solver = Solver::default();
    let (context, field, found) = mismatch(h.order(&mut order(&["www.example.org"]), &mut solver));
    assert_eq!(
        (context, field, found.as_str()),
        ("authorization", "identifier", "victim.example")
    );
    assert_eq!(authorize_events(&solver), 0);
    assert!(solver.provisioned.is_empty());
}

#[test]
fn two_authorizations_for_one_identifier_are_refused() {
    // Ordered: a and b. Served: both authorizations for a.
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::AuthorizationFor("b.example.org".into()),
        1,
    );
    let mut solver = Solver::default();
    let (_, field, found) =
        mismatch(h.order(&mut order(&["a.example.org", "b.example.org"]), &mut solver));
    // The fake CA swaps the first authorization (a's) for b: b twice.
    assert_eq!((field, found.as_str()), ("identifier", "b.example.org"));
    assert_eq!(
        authorize_events(&solver),
        0,
        "nothing offered before every authorization passed"
    );
}

#[test]
fn a_wildcard_authorization_matches_the_wildcard_identifier_only() {
    let mut h = Harness::with_account();
    let issued = h
        .order(
            &mut order(&["*.example.org", "example.org"]),
            &mut Solver::preferring(&["dns-01"]),
        )
        .unwrap();
    let leaf = issued.chain.end_entity();
    assert!(leaf.dns_names().iter().any(|n| n == "*.example.org"));
}

#[test]
fn a_certificate_for_another_key_is_not_issued() {
    let mut h = Harness::with_account();
    h.ca.script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let (context, field, _) =
        mismatch(h.order(&mut order(&["www.example.org"]), &mut Solver::default()));
    assert_eq!((context, field), ("certificate", "public key"));
    assert_eq!(h.ca.certificates().len(), 1, "the CA did issue it");
}

#[test]
fn a_certificate_missing_an_ordered_name_is_not_issued() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::Finalize,
        Fault::CertificateNames(vec!["a.example.org".into()]),
        1,
    );
    let (context, field, found) = mismatch(h.order(
        &mut order(&["a.example.org", "b.example.org"]),
        &mut Solver::default(),
    ));
    assert_eq!((context, field), ("certificate", "subjectAltName"));
    assert!(found.contains("b.example.org"), "{found}");
}

#[test]
fn names_the_ca_added_are_reported_not_refused() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::Finalize,
        Fault::CertificateNames(vec!["WWW.example.org".into(), "extra.example.net".into()]),
        1,
    );
    let issued = h
        .order(&mut order(&["www.example.org"]), &mut Solver::default())
        .unwrap();
    assert_eq!(issued.unrequested_names, ["extra.example.net"]);
}

#[test]
fn a_csr_that_is_not_one_is_refused() {
    let mut flow = order(&["www.example.org"]);
    assert!(matches!(
        flow.provide_csr(b"not a CSR".to_vec()),
        Err(Misuse::InvalidArgument(_))
    ));
    assert!(flow.provide_csr(csr(&[dns("www.example.org")])).is_ok());
}

#[test]
fn a_challenge_that_stays_processing_ends_within_the_patience() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::Challenge,
        Fault::AuthorizationPendingPolls(u32::MAX),
        1,
    );
    let start = h.now;
    let result = h.order(&mut order(&["www.example.org"]), &mut Solver::default());
    let waited = h.now.as_secs() - start.as_secs();
    match result {
        Err(Error::Timeout { operation }) => {
            assert!(operation.contains("validation"), "{operation}");
        }
        other => panic!("{other:?}"),
    }
    let patience = Policy::default().poll_patience.as_secs();
    assert!(waited <= patience + 1, "gave up after {waited} s");
    assert!(waited >= patience, "gave up early, after {waited} s");
    assert!(waited <= 45);
}

#[test]
fn a_server_asking_for_more_time_is_honoured_past_the_patience() {
    // Retry-After: 20 on every poll of an issuance that takes 8 polls (160 s).
    let mut config = Config::new("https://ca.test");
    config.poll_retry_after = Some(20);
    let mut h = Harness::new(config, 1);
    h.create_account();
    h.ca.script(RequestKind::Finalize, Fault::OrderProcessingPolls(8), 1);
    let start = h.now;
    h.order(&mut order(&["www.example.org"]), &mut Solver::default())
        .unwrap();
    assert!(h.now.as_secs() - start.as_secs() >= 160);
}

#[test]
fn an_order_that_stays_processing_ends_within_the_patience() {
    // No Retry-After on the processing order: the patience applies.
    let mut config = Config::new("https://ca.test");
    config.poll_retry_after = None;
    let mut h = Harness::new(config, 1);
    h.create_account();
    h.ca.script(
        RequestKind::Finalize,
        Fault::OrderProcessingPolls(u32::MAX),
        1,
    );
    let result = h.order(&mut order(&["www.example.org"]), &mut Solver::default());
    assert!(
        matches!(result, Err(Error::Timeout { operation }) if operation.contains("issuance")),
        "{result:?}"
    );
}

/// Runs `flow` until its first snapshot (with `after_finalize`, the first one that holds
/// the CSR's key once finalize was sent); the CA keeps its state.
fn stop_at_snapshot(h: &mut Harness, flow: &mut OrderFlow, after_finalize: bool) -> OrderSnapshot {
    let mut solver = Solver::default();
    for _ in 0..10_000 {
        if let Some(snapshot) = flow.snapshot()
            && (!after_finalize || snapshot.key.is_some() && h.ca.count(RequestKind::Finalize) > 0)
        {
            return snapshot;
        }
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let response = h.ca.handle(&request, h.now);
                flow.handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Wait(wait) => h.now = wait.until,
            Step::Event(event) => solver.on_event(flow, event),
            other => panic!("{other:?}"),
        }
    }
    panic!("no snapshot");
}

#[test]
fn a_resumed_order_is_checked_against_the_identifiers_it_was_created_for() {
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    let mut snapshot = stop_at_snapshot(&mut h, &mut flow, false);
    assert_eq!(snapshot.identifiers, [dns("www.example.org")]);
    // Resumed as created: fine.
    let resumed = h.order(
        &mut OrderFlow::resume(snapshot.clone()),
        &mut Solver::default(),
    );
    assert!(resumed.is_ok(), "{resumed:?}");

    // The same order URL saved for other names (as a server that changed the order
    // would look): refused before anything is presented.
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    snapshot = stop_at_snapshot(&mut h, &mut flow, false);
    snapshot.identifiers = vec![dns("other.example.org")];
    let mut solver = Solver::default();
    let (_, field, found) = mismatch(h.order(&mut OrderFlow::resume(snapshot), &mut solver));
    assert_eq!((field, found.as_str()), ("identifiers", "www.example.org"));
    assert_eq!(authorize_events(&solver), 0);
}

#[test]
fn a_resumed_order_checks_the_certificate_against_the_saved_key() {
    let mut h = Harness::with_account();
    // One poll while processing: a quiescent point after finalize.
    h.ca.script(RequestKind::Finalize, Fault::OrderProcessingPolls(1), 1);
    let mut flow = order(&["www.example.org"]);
    let snapshot = stop_at_snapshot(&mut h, &mut flow, true);
    let json = snapshot.to_json();
    assert!(json.len() < 600, "{} bytes", json.len());
    let snapshot = OrderSnapshot::from_json(&json).unwrap();
    assert!(snapshot.key.is_some());

    // A new process: the key is in the snapshot, no CSR needed.
    h.restart_client();
    let issued = h
        .order(
            &mut OrderFlow::resume(snapshot.clone()),
            &mut Solver::default(),
        )
        .unwrap();
    assert_eq!(issued.chain.end_entity().dns_names(), ["www.example.org"]);

    // Without the key (a snapshot from before the CSR), the flow cannot check the
    // certificate and says so, until the CSR is given again.
    let mut keyless = snapshot;
    keyless.key = None;
    let result = h.order(&mut OrderFlow::resume(keyless), &mut Solver::default());
    assert!(matches!(result, Err(Error::Misuse(_))), "{result:?}");
}

/// The resumed order `snapshot` against the harness's client: the error it ends with,
/// and how many requests it sent.
fn refused(h: &mut Harness, snapshot: OrderSnapshot) -> (Error, usize) {
    let before = h.sent.len();
    let error = h
        .order(&mut OrderFlow::resume(snapshot), &mut Solver::default())
        .unwrap_err();
    (error, h.sent.len() - before)
}

fn misuse_says(error: &Error, what: &str) {
    match error {
        Error::Misuse(m) => assert!(m.to_string().contains(what), "{m}"),
        other => panic!("not a misuse: {other:?}"),
    }
}

#[test]
fn a_snapshot_names_its_directory_and_account_and_resumes_only_there() {
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    let snapshot = stop_at_snapshot(&mut h, &mut flow, false);
    assert_eq!(snapshot.version, 3);
    assert_eq!(snapshot.directory.as_ref(), Some(h.client.directory_url()));
    assert_eq!(snapshot.account.as_ref(), h.client.account_url());
    let read = OrderSnapshot::from_json(&snapshot.to_json()).unwrap();
    assert_eq!(read, snapshot);

    // Planted for another CA, or another account: refused before any request.
    let mut other_ca = snapshot.clone();
    other_ca.directory = Some(Url::parse("https://evil.test/directory").unwrap());
    let (error, sent) = refused(&mut h, other_ca);
    misuse_says(&error, "another CA");
    assert_eq!(sent, 0);
    let mut other_account = snapshot.clone();
    other_account.account = Some(Url::parse("https://ca.test/acct/999").unwrap());
    let (error, sent) = refused(&mut h, other_account);
    misuse_says(&error, "another account");
    assert_eq!(sent, 0);

    // Its own directory and account, but an order URL elsewhere: refused too.
    let mut elsewhere = snapshot.clone();
    elsewhere.url = Url::parse("https://evil.test/order/1").unwrap();
    let (error, sent) = refused(&mut h, elsewhere);
    misuse_says(&error, "origin");
    assert_eq!(sent, 0);
    let mut challenge_elsewhere = snapshot.clone();
    challenge_elsewhere.provisioned = vec![Url::parse("http://ca.test/chall/1").unwrap()];
    let (error, sent) = refused(&mut h, challenge_elsewhere);
    misuse_says(&error, "origin");
    assert_eq!(sent, 0);

    // As saved: resumes.
    let resumed = h.order(&mut OrderFlow::resume(snapshot), &mut Solver::default());
    assert!(resumed.is_ok(), "{resumed:?}");
}

#[test]
fn older_snapshots_are_checked_against_the_directory_origin_and_then_bound() {
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    let snapshot = stop_at_snapshot(&mut h, &mut flow, false);
    let mut v2 = snapshot.clone();
    (v2.version, v2.directory, v2.account) = (2, None, None);
    let v2 = OrderSnapshot::from_json(&v2.to_json()).unwrap();
    // Half-bound or a version 3 without its binding: not a snapshot this wrote.
    let mut half = snapshot.clone();
    half.account = None;
    assert!(OrderSnapshot::from_json(&half.to_json()).is_err());
    let mut unbound = snapshot.clone();
    (unbound.directory, unbound.account) = (None, None);
    assert!(OrderSnapshot::from_json(&unbound.to_json()).is_err());

    let mut elsewhere = v2.clone();
    elsewhere.url = Url::parse("https://evil.test/order/1").unwrap();
    let (error, sent) = refused(&mut h, elsewhere);
    misuse_says(&error, "origin");
    assert_eq!(sent, 0);

    // A version 2 order resumed here saves itself as version 3, bound to this client.
    let mut resumed = OrderFlow::resume(v2);
    let mut solver = Solver::default();
    let mut again = None;
    for _ in 0..100 {
        again = resumed.snapshot().filter(|s| s.version == 3);
        if again.is_some() {
            break;
        }
        match resumed.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let response = h.ca.handle(&request, h.now);
                resumed
                    .handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Event(event) => solver.on_event(&mut resumed, event),
            other => panic!("{other:?}"),
        }
    }
    let again = again.expect("a version 3 snapshot");
    assert_eq!(again.version, 3);
    assert_eq!(again.directory.as_ref(), Some(h.client.directory_url()));
    assert_eq!(again.account.as_ref(), h.client.account_url());
    assert!(h.order(&mut resumed, &mut solver).is_ok());
}

#[test]
fn a_certificate_expiring_sooner_than_the_policy_allows_is_refused() {
    let mut h = Harness::with_account();
    // The fake CA's certificates end in 2099; ask for more.
    let mut policy = Policy::default();
    policy.min_certificate_validity = std::time::Duration::from_secs(100 * 365 * 86_400);
    h.restart_client_with(policy);
    let mut flow = order(&["www.example.org"]);
    let result = h.order(&mut flow, &mut Solver::default());
    match result {
        Err(Error::Malformed(m)) => {
            assert_eq!(m.context, "certificate");
            assert!(m.to_string().contains("min_certificate_validity"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // The default (an hour) takes it.
    let mut h = Harness::with_account();
    assert!(
        h.order(&mut order(&["www.example.org"]), &mut Solver::default())
            .is_ok()
    );
}

#[test]
fn version_1_snapshots_still_resume() {
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    let snapshot = stop_at_snapshot(&mut h, &mut flow, false);
    let v1 = format!(r#"{{"v":1,"url":"{}"}}"#, snapshot.url);
    let old = OrderSnapshot::from_json(v1.as_bytes()).unwrap();
    let issued = h
        .order(&mut OrderFlow::resume(old), &mut Solver::default())
        .unwrap();
    assert!(issued.unrequested_names.is_empty());
}

#[test]
fn a_pre_authorization_for_another_name_is_never_presented() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewAuthz,
        Fault::AuthorizationFor("victim.example".into()),
        1,
    );
    let mut pre = PreAuthorization::new(dns("pre.example.org"));
    let mut presented = 0;
    let result = h.run(&mut pre, |_, _, event| {
        if matches!(event, AuthorizationEvent::Authorize { .. }) {
            presented += 1;
        }
    });
    match result {
        Err(Error::Malformed(m)) => assert!(
            matches!(&m.kind, MalformedKind::Mismatch { field: "identifier", found } if found == "victim.example"),
            "{m:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(presented, 0);
}
