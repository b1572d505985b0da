#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The order flow against the in-process fake CA: every path of the state diagram, the
//! round-trip bound, invalid outcomes, scripted faults, and resuming from snapshots.

mod common;

use std::time::Duration;

use acme_proto::client::{
    NewOrder, Operation, OrderEvent, OrderFlow, OrderSnapshot, Solution, Step,
};
use acme_proto::{Error, Identifier, MalformedKind, Misuse, ProblemType};
use acme_proto_fake_ca::{Config, Fault, RequestKind};
use common::ca::{Harness, Solver, T0, assert_clean, dns};

fn order(names: &[&str]) -> OrderFlow {
    OrderFlow::new(NewOrder::new(names.iter().map(|n| dns(n)))).unwrap()
}

#[test]
fn one_name_http01_order_issues_and_cleans_up() {
    let mut h = Harness::with_account();
    let mut flow = order(&["www.example.org"]);
    let mut solver = Solver::preferring(&["http-01"]);
    let issued = h.order(&mut flow, &mut solver).unwrap();

    assert!(
        issued
            .chain
            .pem()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(issued.chain.len(), 2, "leaf and intermediate");
    let leaf = issued.chain.end_entity();
    assert_eq!(leaf.dns_names(), ["www.example.org"]);
    assert!(issued.alternates.is_empty());
    let certs = h.ca.certificates();
    assert_eq!(certs.len(), 1);
    assert_eq!(certs[0].chains[0], issued.chain.pem());

    // The events, in order: created, authorize (http-01 offered with its solution),
    // cleanup of exactly what was provisioned, CSR.
    assert!(matches!(solver.events[0], OrderEvent::Created { .. }));
    let OrderEvent::Authorize {
        offers,
        identifier,
        wildcard,
        ..
    } = &solver.events[1]
    else {
        panic!()
    };
    assert_eq!(identifier, &dns("www.example.org"));
    assert!(!wildcard);
    let http = offers.iter().find(|o| o.type_name() == "http-01").unwrap();
    let Solution::Http01 {
        path,
        key_authorization,
        token,
    } = &http.solution
    else {
        panic!()
    };
    assert_eq!(
        path,
        &format!("/.well-known/acme-challenge/{}", token.as_str())
    );
    assert_eq!(
        key_authorization.as_str(),
        format!("{}.{}", token.as_str(), h.client.thumbprint().as_str())
    );
    assert_eq!(solver.cleaned, solver.provisioned);
    assert!(
        solver
            .events
            .iter()
            .any(|e| matches!(e, OrderEvent::NeedCsr { .. }))
    );

    let kinds: Vec<_> = h.ca.transcript().iter().map(|e| e.kind).collect();
    use RequestKind as K;
    assert_eq!(
        kinds,
        [
            K::Directory,
            K::NewAccount, // account creation
            K::NewOrder,
            K::Authorization,
            K::Challenge,
            K::Order,
            K::Finalize,
            K::Certificate,
        ]
    );
    assert_clean(&h);
}

/// A K-name order from newOrder to certificate with immediate answers: at most 2K + 5
/// requests, and no newNonce after the client's first request.
fn round_trips(k: usize) {
    let mut h = Harness::with_account();
    let names: Vec<String> = (0..k).map(|i| format!("n{i}.example.org")).collect();
    let mut flow = OrderFlow::new(NewOrder::new(names.iter().map(|n| dns(n)))).unwrap();
    let before = h.ca.transcript().len();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let requests = h.ca.transcript().len() - before;
    assert!(
        requests <= 2 * k + 5,
        "K = {k}: {requests} requests, bound {}",
        2 * k + 5
    );
    assert_eq!(
        h.ca.count(RequestKind::Authorization),
        k,
        "each authorization fetched once"
    );
    assert_eq!(
        h.ca.count(RequestKind::Challenge),
        k,
        "each challenge answered once"
    );
    assert!(
        h.ca.head_nonce_requests() <= 1,
        "newNonce only for the client's first request"
    );
    assert_eq!(
        h.client.nonce_requests() as usize,
        h.ca.head_nonce_requests()
    );
    assert_clean(&h);
}

#[test]
fn round_trips_k1() {
    round_trips(1);
}

#[test]
fn round_trips_k5() {
    round_trips(5);
}

#[test]
fn round_trips_k100() {
    round_trips(100);
}

#[test]
fn three_name_mixed_order() {
    let mut h = Harness::with_account();
    let identifiers = vec![
        dns("example.org"),
        dns("*.example.org"),
        Identifier::ip("192.0.2.7".parse().unwrap()),
    ];
    let mut flow = OrderFlow::new(NewOrder::new(identifiers)).unwrap();
    let mut solver = Solver::preferring(&["tls-alpn-01", "dns-01"]);
    h.order(&mut flow, &mut solver).unwrap();

    let authorizes: Vec<_> = solver
        .events
        .iter()
        .filter_map(|e| match e {
            OrderEvent::Authorize {
                identifier,
                wildcard,
                offers,
                ..
            } => Some((identifier, wildcard, offers)),
            _ => None,
        })
        .collect();
    assert_eq!(authorizes.len(), 3);
    for (identifier, wildcard, offers) in authorizes {
        let types: Vec<_> = offers.iter().map(|o| o.type_name()).collect();
        match identifier {
            Identifier::Ip(_) => {
                assert!(!types.contains(&"dns-01"), "no DNS for an IP: {types:?}");
                let tls = offers
                    .iter()
                    .find(|o| o.type_name() == "tls-alpn-01")
                    .unwrap();
                let Solution::TlsAlpn01 { server_name, .. } = &tls.solution else {
                    panic!()
                };
                assert_eq!(server_name, "7.2.0.192.in-addr.arpa");
            }
            Identifier::Dns(name) if *wildcard => {
                assert_eq!(
                    name.as_str(),
                    "example.org",
                    "the authorization names the base domain"
                );
                assert!(
                    types.iter().all(|t| t.starts_with("dns")),
                    "only DNS for a wildcard: {types:?}"
                );
                let Solution::Dns01 { name, value } = &offers[0].solution else {
                    panic!()
                };
                assert_eq!(name, "_acme-challenge.example.org");
                assert_eq!(value.len(), 43);
            }
            Identifier::Dns(_) => assert!(types.contains(&"http-01")),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(solver.cleaned.len(), 3);
    assert_clean(&h);
}

#[test]
fn reused_authorizations_are_skipped() {
    let mut h = Harness::with_account();
    h.order(&mut order(&["a.example.org"]), &mut Solver::default())
        .unwrap();
    let mut solver = Solver::default();
    h.order(&mut order(&["a.example.org"]), &mut solver)
        .unwrap();
    assert!(
        !solver
            .events
            .iter()
            .any(|e| matches!(e, OrderEvent::Authorize { .. }))
    );
    assert_eq!(
        h.ca.count(RequestKind::Challenge),
        1,
        "the second order answers no challenge"
    );
    assert_clean(&h);
}

#[test]
fn alternate_chains_are_downloaded() {
    let mut config = Config::new("https://ca.test");
    config.alternate_chains = 2;
    let mut h = Harness::new(config, 1);
    h.create_account();
    let issued = h
        .order(&mut order(&["alt.example.org"]), &mut Solver::default())
        .unwrap();
    assert_eq!(issued.alternates.len(), 2);
    let chains = &h.ca.certificates()[0].chains;
    assert_eq!(issued.chain.pem(), chains[0]);
    assert_eq!(issued.alternates[0].1.pem(), chains[1]);
    assert_eq!(issued.alternates[1].1.pem(), chains[2]);
    // Each chain leads to its own root; the preferred one is picked by that name.
    for (_, alternate) in &issued.alternates {
        let root = alternate.root_name().unwrap();
        assert_ne!(Some(root), issued.chain.root_name());
        assert_eq!(issued.preferred_chain(root), alternate);
    }
    assert_eq!(issued.preferred_chain("No Such Root"), &issued.chain);
    assert_clean(&h);
}

#[test]
fn invalid_challenge_ends_with_its_problem_after_cleanup() {
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "incorrectResponse".into(),
            detail: "wrong body".into(),
        },
        1,
    );
    let mut solver = Solver::default();
    let outcome = h.order(&mut order(&["bad.example.org"]), &mut solver);
    let Err(Error::Problem(problem)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(problem.kind, ProblemType::IncorrectResponse);
    assert_eq!(problem.detail.as_deref(), Some("wrong body"));
    assert_eq!(problem.subproblems.len(), 1);
    assert_eq!(
        problem.subproblems[0].identifier,
        Some(dns("bad.example.org"))
    );
    assert_eq!(
        solver.cleaned, solver.provisioned,
        "cleanup before the failure"
    );
    assert!(!solver.cleaned.is_empty());
    assert_clean(&h);
}

#[test]
fn invalid_after_polling_is_diagnosed_from_the_authorization() {
    let mut h = Harness::with_account();
    // The challenge answer is accepted (pending), the validation fails later.
    h.ca.script(
        RequestKind::Challenge,
        Fault::AuthorizationPendingPolls(1),
        1,
    );
    h.ca.script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "dns".into(),
            detail: "NXDOMAIN".into(),
        },
        1,
    );
    let mut solver = Solver::default();
    let outcome = h.order(&mut order(&["nx.example.org"]), &mut solver);
    match outcome {
        Err(Error::Problem(problem)) => {
            assert_eq!(problem.kind, ProblemType::Dns);
            assert_eq!(
                problem
                    .identifier
                    .as_ref()
                    .or(problem.subproblems[0].identifier.as_ref()),
                Some(&dns("nx.example.org"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(solver.cleaned, solver.provisioned);
    assert_clean(&h);
}

#[test]
fn order_not_ready_polls_then_finalizes_again() {
    let mut h = Harness::with_account();
    h.ca.script(RequestKind::Finalize, Fault::OrderNotReady, 1);
    h.order(&mut order(&["slow.example.org"]), &mut Solver::default())
        .unwrap();
    assert_eq!(h.ca.count(RequestKind::Finalize), 2);
    assert_clean(&h);
}

#[test]
fn processing_is_polled_honouring_retry_after() {
    let mut config = Config::new("https://ca.test");
    config.issuance_polls = 3;
    config.poll_retry_after = Some(7);
    let mut h = Harness::new(config, 1);
    h.create_account();
    let start = h.now;
    h.order(&mut order(&["p.example.org"]), &mut Solver::default())
        .unwrap();
    let polls = h.ca.count(RequestKind::Order);
    assert!(polls >= 4, "{polls} order polls");
    assert!(
        h.now.saturating_duration_since(start) >= Duration::from_secs(7 * 3),
        "Retry-After honoured"
    );
    assert_clean(&h);
}

#[test]
fn polling_without_retry_after_grows_and_is_capped() {
    let mut config = Config::new("https://ca.test");
    config.issuance_polls = 14;
    config.poll_retry_after = None;
    let mut h = Harness::new(config, 1);
    h.create_account();
    // Fourteen polls take about 74 s: past the default patience, and to poll_max.
    let mut policy = acme_proto::Policy::default();
    policy.poll_patience = Duration::from_secs(300);
    h.client = h.client.with_policy(policy);
    let mut flow = order(&["g.example.org"]);
    let mut solver = Solver::default();
    let mut waits = Vec::new();
    loop {
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let response = h.ca.handle(&request, h.now);
                flow.handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Wait(wait) => {
                waits.push(wait.until.saturating_duration_since(h.now));
                h.now = wait.until;
            }
            Step::Event(e) => solver.on_event(&mut flow, e),
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    flow.take_outcome().unwrap().unwrap();
    assert!(
        waits.windows(2).all(|w| w[0] <= w[1]),
        "intervals grow: {waits:?}"
    );
    assert_eq!(waits.last(), Some(&h.client.policy().poll_max));
    assert!(waits.iter().all(|w| *w <= h.client.policy().poll_max));
}

#[test]
fn already_replaced_is_retried_without_replaces() {
    let mut h = Harness::with_account();
    h.ca.script(RequestKind::NewOrder, Fault::AlreadyReplaced, 1);
    let mut flow = OrderFlow::new(
        NewOrder::new([dns("r.example.org")]).replacing("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"),
    )
    .unwrap();
    let mut solver = Solver::default();
    h.order(&mut flow, &mut solver).unwrap();
    let dropped = solver.events.iter().find_map(|e| match e {
        OrderEvent::ReplacesDropped { cert_id, problem } => Some((cert_id, problem)),
        _ => None,
    });
    let (cert_id, problem) = dropped.expect("the caller is told");
    assert_eq!(cert_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    assert_eq!(problem.kind, ProblemType::AlreadyReplaced);
    assert_eq!(h.ca.count(RequestKind::NewOrder), 2);
    assert_eq!(h.ca.orders()[0].replaces, None);
    assert_clean(&h);
}

#[test]
fn profiles_are_checked_against_the_directory() {
    let mut config = Config::new("https://ca.test");
    config.profiles = vec![
        ("classic".into(), "90 days".into()),
        ("shortlived".into(), "6 days".into()),
    ];
    let mut h = Harness::new(config, 1);
    h.create_account();
    let mut flow =
        OrderFlow::new(NewOrder::new([dns("p.example.org")]).with_profile("shortlived")).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    assert_eq!(h.ca.orders()[0].profile.as_deref(), Some("shortlived"));

    let mut flow =
        OrderFlow::new(NewOrder::new([dns("p.example.org")]).with_profile("nope")).unwrap();
    let before = h.ca.count(RequestKind::NewOrder);
    let outcome = h.order(&mut flow, &mut Solver::default());
    assert!(
        matches!(outcome, Err(Error::Misuse(Misuse::Unsupported(_)))),
        "{outcome:?}"
    );
    assert_eq!(h.ca.count(RequestKind::NewOrder), before, "nothing sent");
}

#[test]
fn malformed_responses_give_typed_errors() {
    type Expect = fn(&MalformedKind) -> bool;
    let cases: [(RequestKind, Fault, Expect); 5] = [
        (RequestKind::Order, Fault::TruncatedBody, |k| {
            matches!(k, MalformedKind::Json { .. })
        }),
        (RequestKind::Authorization, Fault::WrongContentType, |k| {
            matches!(k, MalformedKind::ContentType { .. })
        }),
        (RequestKind::Authorization, Fault::HugeBody(2 << 20), |k| {
            matches!(k, MalformedKind::TooLarge { .. })
        }),
        (RequestKind::Order, Fault::NonUtf8Body, |k| {
            matches!(k, MalformedKind::Json { .. })
        }),
        (RequestKind::NewOrder, Fault::NoLocation, |k| {
            *k == MalformedKind::MissingHeader("Location")
        }),
    ];
    for (kind, fault, expected) in cases {
        let mut h = Harness::with_account();
        h.ca.script(kind, fault.clone(), 1);
        let mut solver = Solver::default();
        let outcome = h.order(&mut order(&["m.example.org"]), &mut solver);
        match outcome {
            Err(Error::Malformed(m)) => assert!(expected(&m.kind), "{fault:?}: {m:?}"),
            other => panic!("{fault:?}: {other:?}"),
        }
        assert_eq!(
            solver.cleaned, solver.provisioned,
            "{fault:?}: cleanup on failure"
        );
    }
}

#[test]
fn bad_nonce_storm_does_not_lose_the_order() {
    let mut h = Harness::with_account();
    h.ca.script(RequestKind::Any, Fault::BadNonce, 10);
    h.order(&mut order(&["storm.example.org"]), &mut Solver::default())
        .unwrap();
    assert_eq!(h.ca.pending_faults(), 0);
    assert_eq!(h.ca.orders().len(), 1, "no order lost or duplicated");
    assert_clean(&h);
}

#[test]
fn rate_limits_and_outages_are_waited_out() {
    use acme_proto_fake_ca::RetryAfter;
    let mut h = Harness::with_account();
    h.ca.script(
        RequestKind::NewOrder,
        Fault::RateLimited(RetryAfter::Seconds(20)),
        1,
    );
    h.ca.script(
        RequestKind::Finalize,
        Fault::Unavailable(Some(RetryAfter::HttpDate(
            T0.saturating_add(Duration::from_secs(60)),
        ))),
        1,
    );
    h.order(&mut order(&["wait.example.org"]), &mut Solver::default())
        .unwrap();
    assert!(h.now >= T0.saturating_add(Duration::from_secs(60)));
    assert_clean(&h);
}

/// Runs an order step by step; after `stop` quiescent points, returns its snapshot.
fn snapshot_after(h: &mut Harness, stop: usize, solver: &mut Solver) -> Option<Vec<u8>> {
    let mut flow = order(&["resume.example.org", "two.example.org"]);
    let mut points = 0;
    loop {
        if let Some(snapshot) = flow.snapshot() {
            if points == stop {
                return Some(snapshot.to_json());
            }
            points += 1;
        }
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let response = h.ca.handle(&request, h.now);
                flow.handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Wait(wait) => h.now = wait.until,
            Step::Event(event) => solver.on_event(&mut flow, event),
            Step::Done => return None,
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn resumes_at_every_quiescent_point_without_a_second_order() {
    let mut resumed = 0;
    for stop in 0.. {
        let mut h = Harness::with_account();
        let mut first = Solver::default();
        let Some(saved) = snapshot_after(&mut h, stop, &mut first) else {
            break;
        };
        assert!(
            saved.len() < 600,
            "snapshot of {} bytes: {}",
            saved.len(),
            String::from_utf8_lossy(&saved)
        );

        // "Another process": a new client from the same key and account URL.
        h.restart_client();

        let snapshot = OrderSnapshot::from_json(&saved).unwrap();
        let mut flow = OrderFlow::resume(snapshot);
        let mut second = Solver::default();
        let before = h.ca.transcript().len();
        h.order(&mut flow, &mut second).unwrap();
        assert_eq!(
            h.ca.orders().len(),
            1,
            "stop {stop}: resuming created another order"
        );
        assert_eq!(h.ca.certificates().len(), 1, "stop {stop}");
        // The resumed flow starts by fetching the order, then its authorizations.
        // (A new process first needs the directory for a nonce: not an order request.)
        let kinds: Vec<_> = h.ca.transcript()[before..]
            .iter()
            .map(|e| e.kind)
            .filter(|k| !matches!(k, RequestKind::Directory | RequestKind::NewNonce))
            .take(3)
            .collect();
        assert_eq!(
            kinds,
            [
                RequestKind::Order,
                RequestKind::Authorization,
                RequestKind::Authorization
            ],
            "stop {stop}"
        );
        // Everything provisioned in either process was cleaned up.
        let mut provisioned = first.provisioned.clone();
        provisioned.extend(second.provisioned.iter().cloned());
        let mut cleaned = first.cleaned.clone();
        cleaned.extend(second.cleaned.iter().cloned());
        provisioned.sort();
        provisioned.dedup();
        cleaned.sort();
        cleaned.dedup();
        assert_eq!(cleaned, provisioned, "stop {stop}");
        assert_clean(&h);
        resumed += 1;
    }
    assert!(resumed >= 5, "only {resumed} quiescent points");
}

#[test]
fn snapshot_decoder_refuses_junk() {
    for bad in [
        &b""[..],
        b"{}",
        b"{\"v\":2,\"url\":\"https://ca.test/o/1\"}",
        b"{\"v\":1,\"url\":\"nope\"}",
        b"\xff",
        b"{\"v\":1,\"url\":\"https://a/\",\"x\":1}",
    ] {
        assert!(OrderSnapshot::from_json(bad).is_err(), "{bad:?}");
    }
    let big = vec![b' '; OrderSnapshot::MAX_LEN + 1];
    assert!(matches!(
        OrderSnapshot::from_json(&big).unwrap_err().kind,
        MalformedKind::TooLarge { .. }
    ));
    let good =
        br#"{"v":1,"url":"https://ca.test/order/1","provisioned":["https://ca.test/chall/1"]}"#;
    let snapshot = OrderSnapshot::from_json(good).unwrap();
    assert_eq!(
        snapshot.to_json(),
        good.to_vec(),
        "decode then encode gives the same bytes"
    );
}

#[test]
fn misuse_is_refused_without_sending() {
    assert!(OrderFlow::new(NewOrder::new([])).is_err());
    let mut flow = order(&["x.example.org"]);
    assert!(
        flow.challenge_ready(&"https://ca.test/not-offered".parse().unwrap())
            .is_err()
    );
    assert!(flow.provide_csr(Vec::new()).is_err());
    let mut h = Harness::with_account();
    let mut other = order(&["y.example.org"]);
    let Step::Send(request) = other.poll(&mut h.client, h.now) else {
        panic!()
    };
    // A response for a request this flow never sent.
    let response = h.ca.handle(&request, h.now);
    assert!(
        flow.handle_response(&mut h.client, request.id, response, h.now)
            .is_err()
    );
}

#[test]
fn transport_failure_on_finalize_polls_instead_of_resending() {
    let mut h = Harness::with_account();
    let mut flow = order(&["tf.example.org"]);
    let mut solver = Solver::default();
    let mut dropped = false;
    let outcome = loop {
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let is_finalize = request.url.path().contains("finalize");
                // The server receives the CSR, but the response is lost on the way back.
                let response = h.ca.handle(&request, h.now);
                if is_finalize && !dropped {
                    dropped = true;
                    flow.handle_transport_failure(
                        &mut h.client,
                        request.id,
                        acme_proto::TransportFailure::Reset,
                        h.now,
                    )
                    .unwrap();
                } else {
                    flow.handle_response(&mut h.client, request.id, response, h.now)
                        .unwrap();
                }
            }
            Step::Wait(wait) => h.now = wait.until,
            Step::Event(e) => solver.on_event(&mut flow, e),
            Step::Done => break flow.take_outcome().unwrap(),
            other => panic!("{other:?}"),
        }
    };
    outcome.unwrap();
    assert!(dropped);
    assert_eq!(
        h.ca.count(RequestKind::Finalize),
        1,
        "the CSR is not sent twice"
    );
    assert_eq!(h.ca.certificates().len(), 1);
    assert_clean(&h);
}

#[test]
fn an_order_stuck_in_processing_times_out() {
    for retry_after in [Some(1), None] {
        let mut config = Config::new("https://ca.test");
        config.poll_retry_after = retry_after;
        let mut h = Harness::new(config, 1);
        h.create_account();
        h.ca.script(
            RequestKind::Finalize,
            Fault::OrderProcessingPolls(100_000),
            1,
        );
        let start = h.now;
        let outcome = h.order(&mut order(&["stuck.example.org"]), &mut Solver::default());
        // With Retry-After the server is honoured to the operation's deadline; without,
        // the wait ends after the patience.
        let expected = match retry_after {
            Some(_) => "order",
            None => "issuance of the order's certificate",
        };
        assert!(
            matches!(outcome, Err(Error::Timeout { operation }) if operation == expected),
            "{outcome:?}"
        );
        let elapsed = h.now.saturating_duration_since(start);
        let policy = h.client.policy();
        assert!(elapsed <= policy.operation_timeout, "{elapsed:?}");
        if retry_after.is_none() {
            assert!(
                elapsed <= policy.poll_patience + Duration::from_secs(5),
                "{elapsed:?}"
            );
        }
        // Never more often than once a second, even when the server asks for less.
        let bound = policy.operation_timeout.as_secs() as usize;
        let polls = h.ca.count(RequestKind::Order);
        assert!(polls <= bound, "{retry_after:?}: {polls} polls");
        if retry_after.is_none() {
            // Without Retry-After the wait ends after the patience: 11 polls.
            assert!(polls < 20, "{polls} polls without Retry-After");
        }
    }
}

#[test]
fn fifty_interleaved_orders_share_one_client() {
    let mut h = Harness::with_account();
    let mut flows: Vec<(OrderFlow, Solver)> = (0..50)
        .map(|i| (order(&[&format!("c{i}.example.org")]), Solver::default()))
        .collect();
    let mut done = vec![false; flows.len()];
    let mut outstanding: Vec<(usize, acme_proto::Request)> = Vec::new();
    let mut rounds = 0;
    while done.iter().any(|d| !d) {
        rounds += 1;
        assert!(rounds < 10_000);
        let mut earliest_wait = None;
        for (i, (flow, solver)) in flows.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            // Drain each flow until it has a request out, a wait, or is done.
            loop {
                match flow.poll(&mut h.client, h.now) {
                    Step::Send(request) => {
                        outstanding.push((i, request));
                        break;
                    }
                    Step::Event(e) => solver.on_event(flow, e),
                    Step::Wait(w) => {
                        earliest_wait = Some(
                            earliest_wait.map_or(w.until, |e: acme_proto::UnixTime| e.min(w.until)),
                        );
                        break;
                    }
                    Step::InFlight | Step::AwaitingCaller => break,
                    Step::Done => {
                        flow.take_outcome().unwrap().unwrap();
                        done[i] = true;
                        break;
                    }
                    _ => unreachable!(),
                }
            }
        }
        if outstanding.is_empty() {
            if let Some(until) = earliest_wait {
                h.now = until;
            }
            continue;
        }
        // Answer in a scrambled order: responses do not come back as sent.
        outstanding.reverse();
        let n = outstanding.len();
        outstanding.rotate_left(rounds % n);
        for (i, request) in outstanding.drain(..) {
            let response = h.ca.handle(&request, h.now);
            flows[i]
                .0
                .handle_response(&mut h.client, request.id, response, h.now)
                .unwrap();
        }
    }
    assert_eq!(h.ca.certificates().len(), 50);
    assert_eq!(h.ca.orders().len(), 50);
    assert!(
        h.ca.head_nonce_requests() <= 50,
        "nonces come from the shared pool"
    );
    assert_clean(&h);
}

#[test]
fn resuming_an_order_that_failed_meanwhile_reports_why() {
    let mut h = Harness::with_account();
    // Save the order right after it was created...
    let mut solver = Solver {
        skip_authorize: true,
        ..Solver::default()
    };
    let saved = snapshot_after(&mut h, 0, &mut solver).unwrap();
    // ...then, elsewhere, its challenge fails.
    h.ca.script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "unauthorized".into(),
            detail: "the token was not found".into(),
        },
        1,
    );
    let mut other = Solver::default();
    let mut flow = OrderFlow::resume(OrderSnapshot::from_json(&saved).unwrap());
    let outcome = h.order(&mut flow, &mut other);
    let Err(Error::Problem(problem)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(problem.kind, ProblemType::Unauthorized);
    // Resume once more: the order is invalid now, and says why from its authorization.
    let mut again = OrderFlow::resume(OrderSnapshot::from_json(&saved).unwrap());
    let outcome = h.order(&mut again, &mut Solver::default());
    let Err(Error::Problem(problem)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(problem.kind, ProblemType::Unauthorized);
    assert_eq!(problem.detail.as_deref(), Some("the token was not found"));
    assert_eq!(h.ca.orders().len(), 1);
    assert_clean(&h);
}

#[test]
fn retry_after_on_the_challenge_response_sets_the_first_poll() {
    let mut config = Config::new("https://ca.test");
    config.challenge_retry_after = Some(5);
    config.poll_retry_after = None;
    config.validation_polls = 1;
    let mut h = Harness::new(config, 1);
    h.create_account();
    let start = h.now;
    h.order(&mut order(&["hinted.example.org"]), &mut Solver::default())
        .unwrap();
    // The challenge asked for 5 s; the order is still pending at that first poll and
    // ready at the next, 500 ms later.
    let elapsed = h.now.saturating_duration_since(start);
    assert!(elapsed >= Duration::from_secs(5), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");
    assert_eq!(h.ca.count(RequestKind::Order), 2, "polls of the order");
    assert_clean(&h);
}

/// A caller that gives up half-way (its solver failed on the second name) ends the
/// order with `abandon`: the challenge it had said ready comes back as a `Cleanup`,
/// nothing more is sent, and the outcome is `Abandoned`, after `Done`.
#[test]
fn an_abandoned_order_cleans_up_what_was_presented_and_sends_nothing_more() {
    let mut h = Harness::with_account();
    let mut flow = order(&["one.example.org", "two.example.org"]);
    let mut ready = Vec::new();
    let mut cleaned = Vec::new();
    let mut abandoned = false;
    for _ in 0..1000 {
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                assert!(!abandoned, "sent after abandon: {request:?}");
                let response = h.ca.handle(&request, h.now);
                flow.handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Wait(wait) => h.now = wait.until,
            Step::Event(OrderEvent::Authorize { offers, .. }) if ready.is_empty() => {
                let offer = offers.iter().find(|o| o.type_name() == "http-01").unwrap();
                flow.challenge_ready(&offer.url).unwrap();
                ready.push(offer.url.clone());
            }
            Step::Event(OrderEvent::Authorize { .. }) => {
                // The second name's challenge could not be put in place.
                flow.abandon();
                abandoned = true;
            }
            Step::Event(OrderEvent::Cleanup(offer)) => {
                assert!(flow.take_outcome().is_none(), "an outcome before Done");
                cleaned.push(offer.url);
            }
            Step::Event(_) => {}
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(abandoned);
    assert_eq!(cleaned, ready);
    assert!(matches!(flow.take_outcome(), Some(Err(Error::Abandoned))));
    assert!(matches!(flow.poll(&mut h.client, h.now), Step::Done));
}
