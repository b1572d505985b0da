//! An order's independent requests go out together for a driver that sends them so:
//! its authorizations fetched together, its challenges answered together, each with a
//! nonce of its own, answered in any order; as many at once as the policy allows; and
//! one at a time for a driver that hands back each response before polling again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::Policy;
use acme_proto::client::{NewOrder, OrderFlow};
use common::ca::{Harness, Solver, assert_clean, dns};

fn order(names: &[String]) -> OrderFlow {
    OrderFlow::new(NewOrder::new(names.iter().map(|n| dns(n)))).unwrap()
}

fn names(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("n{i}.example.org")).collect()
}

/// What each request of a round was for, by its URL path.
fn kinds(round: &[acme_proto::Request]) -> Vec<&'static str> {
    round
        .iter()
        .map(|r| {
            let path = r.url.path();
            if r.method == acme_proto::Method::Head {
                "newNonce"
            } else if path.contains("/authz/") {
                "authz"
            } else if path.contains("/chall/") {
                "challenge"
            } else {
                "other"
            }
        })
        .collect()
}

#[test]
fn ten_names_take_as_many_round_trips_as_one() {
    let mut rounds_of = Vec::new();
    for k in [1, 10] {
        let mut h = Harness::with_account();
        let mut solver = Solver::preferring(&["http-01"]);
        let mut flow = order(&names(k));
        let (issued, rounds) = h.run_together(&mut flow, |op, _, e| solver.on_event(op, e));
        issued.unwrap();
        assert_clean(&h);
        let shapes: Vec<Vec<&str>> = rounds.iter().map(|r| kinds(r)).collect();
        // The K − 1 nonces the authorizations' fetches need come beside the newOrder,
        // and the authorizations are fetched together, in one round.
        let with_authz = |s: &&Vec<&str>| s.contains(&"authz");
        assert_eq!(
            shapes.iter().filter(with_authz).count(),
            1,
            "K = {k}: {shapes:?}"
        );
        if k > 1 {
            assert_eq!(
                shapes[0].len(),
                k,
                "K = {k}: newOrder and its nonces: {shapes:?}"
            );
        }
        let nonces = shapes
            .iter()
            .flatten()
            .filter(|t| **t == "newNonce")
            .count();
        assert_eq!(nonces, k - 1, "K = {k}: {shapes:?}");
        // The challenges are answered in one round (the authorizations' answers
        // brought a nonce each).
        assert!(
            shapes
                .iter()
                .any(|s| s.len() == k && s.iter().all(|t| *t == "challenge")),
            "K = {k}: {shapes:?}"
        );
        // Every request carried a nonce of its own: the fake CA refuses a reused one.
        assert!(h.ca.violations().is_empty(), "{:?}", h.ca.violations());
        rounds_of.push(rounds.len());
    }
    // K − 1 nonces fetched together for the authorizations: one round more than K = 1.
    assert!(
        rounds_of[1] <= rounds_of[0] + 1,
        "rounds for K = 1, 10: {rounds_of:?}"
    );
    assert!(rounds_of[1] <= 9, "rounds for K = 10: {rounds_of:?}");
}

#[test]
fn no_more_out_at_once_than_the_policy_allows() {
    let mut h = Harness::with_account();
    let mut policy = Policy::default();
    policy.max_requests_in_flight = 3;
    h.restart_client_with(policy);
    let mut solver = Solver::preferring(&["http-01"]);
    let mut flow = order(&names(8));
    let (issued, rounds) = h.run_together(&mut flow, |op, _, e| solver.on_event(op, e));
    issued.unwrap();
    let largest = rounds.iter().map(Vec::len).max().unwrap();
    assert_eq!(
        largest,
        3,
        "{:?}",
        rounds.iter().map(|r| kinds(r)).collect::<Vec<_>>()
    );
    assert_clean(&h);
}

#[test]
fn one_at_a_time_for_a_driver_that_answers_each_before_polling() {
    let mut h = Harness::with_account();
    let mut solver = Solver::preferring(&["http-01"]);
    let mut flow = order(&names(5));
    // `run` hands back each response before the next poll, and panics on `InFlight`.
    h.order(&mut flow, &mut solver).unwrap();
    assert_clean(&h);
    assert!(h.ca.violations().is_empty(), "{:?}", h.ca.violations());
}

#[test]
fn a_failed_fetch_among_others_ends_the_order_once_they_land() {
    use acme_proto_fake_ca::{Fault, RequestKind};
    let mut h = Harness::with_account();
    h.ca.script(RequestKind::Authorization, Fault::ServerError, 1);
    let mut solver = Solver::preferring(&["http-01"]);
    let mut flow = order(&names(4));
    let (issued, _) = h.run_together(&mut flow, |op, _, e| solver.on_event(op, e));
    issued.expect_err("a fetch failed");
    // Nothing was presented: the offers are held until every authorization passed.
    assert!(solver.provisioned.is_empty());
}

/// Answers out of order, with others out, under faults on the requests that go
/// together: every order ends (issued, or with the server's error), never in a bug, a
/// refused hand-back or a reused nonce, and everything presented is cleaned up.
#[test]
fn answers_in_any_order_under_faults_end_cleanly() {
    use acme_proto::Error;
    use acme_proto_fake_ca::{Fault, RequestKind, RetryAfter};
    let faults = [
        None,
        Some((RequestKind::Authorization, Fault::BadNonce, 3)),
        Some((RequestKind::Challenge, Fault::BadNonce, 2)),
        Some((
            RequestKind::Challenge,
            Fault::Unavailable(Some(RetryAfter::Seconds(1))),
            2,
        )),
        Some((RequestKind::Authorization, Fault::ServerError, 1)),
        Some((
            RequestKind::Challenge,
            Fault::InvalidChallenge {
                problem_type: "incorrectResponse".into(),
                detail: "no".into(),
            },
            1,
        )),
        Some((RequestKind::Any, Fault::BadNonce, 6)),
    ];
    let mut issued = 0;
    for (case, fault) in faults.iter().enumerate() {
        for seed in 0..8 {
            let mut h = Harness::with_account();
            if let Some((kind, fault, times)) = fault {
                h.ca.script(*kind, fault.clone(), *times);
            }
            let mut solver = Solver::preferring(&["http-01"]);
            let mut flow = order(&names(5));
            let outcome =
                h.run_interleaved(&mut flow, |op, _, e| solver.on_event(op, e), seed * 31 + 7);
            match &outcome {
                Ok(_) => issued += 1,
                Err(Error::Bug(what)) => panic!("case {case}, seed {seed}: a bug: {what}"),
                Err(_) => {}
            }
            assert!(
                h.ca.violations().is_empty(),
                "case {case}: {:?}",
                h.ca.violations()
            );
            let mut provisioned = solver.provisioned.clone();
            let mut cleaned = solver.cleaned.clone();
            provisioned.sort();
            cleaned.sort();
            assert_eq!(
                provisioned, cleaned,
                "case {case}, seed {seed}: left presented"
            );
        }
    }
    // The faults that the policy rides out still issue.
    assert!(issued >= 8 * 4, "issued {issued} of {}", 8 * faults.len());
}
