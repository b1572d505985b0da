#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Waits the server asks for on a resource still in progress (`Retry-After` on a poll, or
//! on a challenge's response): one that ends past the operation's deadline ends the
//! operation at once with [`Error::RetryAfter`] naming the server's time, for every
//! poll; one that fits is honoured, capped to `Policy::max_retry_after`.

mod common;

use std::time::Duration;

use acme_proto::client::{AuthorizationEvent, NewOrder, OrderFlow, PreAuthorization};
use acme_proto::{Error, UnixTime};
use acme_proto_fake_ca::{Config, RequestKind};
use common::ca::{Harness, Solver, dns};

/// The `Retry-After` of the hostile-server check: far past any deadline.
const HUGE: u64 = 99_999_999;

fn harness(poll_retry_after: Option<u64>, challenge_retry_after: Option<u64>) -> Harness {
    let mut config = Config::new("https://ca.test");
    config.poll_retry_after = poll_retry_after;
    config.challenge_retry_after = challenge_retry_after;
    // Pending for two polls after the challenge, processing for two after finalize: the
    // fake CA's `Retry-After` comes on a pending authorization and a processing order.
    config.validation_polls = 2;
    config.issuance_polls = 2;
    let mut h = Harness::new(config, 1);
    h.create_account();
    h
}

/// No wait of the server's was taken: only the client's own quick looks while the
/// server named no time (well under ten seconds).
fn no_server_wait(h: &Harness, start: UnixTime) {
    let waited = h.now.saturating_duration_since(start);
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
}

fn ended_at_once(outcome: Result<impl std::fmt::Debug, Error>, start: UnixTime, seconds: u64) {
    let until = start.saturating_add(Duration::from_secs(seconds));
    match outcome {
        Err(Error::RetryAfter { until: asked, .. }) => {
            // The fake CA's clock is the harness's: the server named `seconds` from a
            // moment at or after the start, and nothing was waited.
            assert!(asked >= until, "{asked:?} before {until:?}");
        }
        other => panic!("not a RetryAfter: {other:?}"),
    }
}

#[test]
fn an_order_poll_asking_past_the_deadline_ends_the_order_at_once() {
    let mut h = harness(Some(HUGE), None);
    let start = h.now;
    let mut solver = Solver::default();
    let mut flow = OrderFlow::new(NewOrder::new([dns("late.example.org")])).unwrap();
    let outcome = h.order(&mut flow, &mut solver);
    ended_at_once(outcome, start, HUGE);
    no_server_wait(&h, start);
    // The finalize answer said `processing` with the huge wait: no poll after it.
    assert_eq!(h.ca.count(RequestKind::Finalize), 1);
    assert_eq!(
        solver.cleaned, solver.provisioned,
        "the challenge is cleaned up"
    );
}

#[test]
fn a_challenge_response_asking_past_the_deadline_ends_the_order_at_once() {
    let mut h = harness(None, Some(HUGE));
    let start = h.now;
    let mut solver = Solver::default();
    let mut flow = OrderFlow::new(NewOrder::new([dns("hinted-late.example.org")])).unwrap();
    let outcome = h.order(&mut flow, &mut solver);
    ended_at_once(outcome, start, HUGE);
    no_server_wait(&h, start);
    assert_eq!(h.ca.count(RequestKind::Order), 0, "no poll at all");
    assert_eq!(solver.cleaned, solver.provisioned);
}

#[test]
fn an_authorization_poll_and_a_pre_authorization_asking_past_the_deadline_end_at_once() {
    let mut h = harness(Some(HUGE), None);
    let start = h.now;
    let mut cleaned = 0;
    let mut pre = PreAuthorization::new(dns("pre-late.example.org"));
    let outcome = h.run(&mut pre, |op, _, event| match event {
        AuthorizationEvent::Authorize { offers, .. } => op.challenge_ready(&offers[0].url).unwrap(),
        AuthorizationEvent::Cleanup(_) => cleaned += 1,
        other => panic!("{other:?}"),
    });
    ended_at_once(outcome, start, HUGE);
    assert_eq!(cleaned, 1);
    let authorization = pre.url().unwrap().clone();
    let mut poll = h.client.poll_authorization(authorization).unwrap();
    let outcome = h.run(&mut poll, |_, _, e| match e {});
    ended_at_once(outcome, start, HUGE);
    no_server_wait(&h, start);
}

#[test]
fn a_wait_that_fits_the_deadline_is_capped_and_honoured() {
    // 300 s: past the 120 s cap, well within the 600 s deadline.
    let mut h = harness(Some(300), None);
    let start = h.now;
    let mut flow = OrderFlow::new(NewOrder::new([dns("patient.example.org")])).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let waited = h.now.saturating_duration_since(start);
    // Three answers said `processing` (finalize's and two polls'), each waited the cap,
    // 120 s, not 300 s; plus the client's own quick looks during validation.
    assert!(waited >= Duration::from_secs(360), "{waited:?}");
    assert!(waited < Duration::from_secs(370), "{waited:?}");
}
