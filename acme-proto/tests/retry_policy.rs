#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The retry policy of the core, one rule at a time, against a scripted server and a
//! virtual clock: badNonce, 429/503 with Retry-After, transport failures, deadlines,
//! and the nonce pool.

mod common;

use std::time::Duration;

use acme_proto::client::AccountInfo;
use acme_proto::{
    AccountKey, Client, Error, MalformedKind, Method, Policy, ProblemType, Request,
    SignatureAlgorithm, TransportFailure, UnixTime,
};
use common::{Reply, TestRng, drive, fail, hang, json, problem};
use url::Url;

const DIRECTORY: &str = r#"{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",
    "newOrder":"https://ca.test/order","revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/kc"}"#;
const ACCOUNT: &str = r#"{"status":"valid","contact":["mailto:a@example.org"]}"#;
const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

fn client() -> Client {
    let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(1)).unwrap();
    Client::new(Url::parse("https://ca.test/dir").unwrap(), key)
        .unwrap()
        .with_account(Url::parse("https://ca.test/acct/1").unwrap())
}

/// The nonce of a signed request, decoded from its protected header.
fn nonce_of(request: &Request) -> String {
    let jws: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let protected = common::b64d(jws["protected"].as_str().unwrap());
    let header: serde_json::Value = serde_json::from_slice(&protected).unwrap();
    header["nonce"].as_str().unwrap().to_owned()
}

/// A server that serves the directory and nonces, and answers account fetches with
/// `script` in turn (then success).
fn server(mut script: Vec<Reply>) -> impl FnMut(&Request, UnixTime) -> Reply {
    // One counter for every server of the process: a server never repeats a nonce.
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    script.reverse();
    move |request, _| {
        let counter = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nonce = format!("nonce{counter:05}");
        match (request.method, request.url.path()) {
            (Method::Get, "/dir") => json(200, &nonce, DIRECTORY),
            (Method::Head, "/nonce") => json(200, &nonce, ""),
            _ => script.pop().unwrap_or_else(|| json(200, &nonce, ACCOUNT)),
        }
    }
}

fn fetch(
    client: &mut Client,
    script: Vec<Reply>,
) -> (Vec<Request>, UnixTime, Result<AccountInfo, Error>) {
    let mut op = client.fetch_account().unwrap();
    drive(&mut op, client, T0, server(script), |_, e| match e {})
}

#[test]
fn nonce_pool_asks_newnonce_only_when_empty() {
    // The directory's response carries a nonce: it is harvested, so no HEAD at all.
    let mut client = client();
    let (sent, _, outcome) = fetch(&mut client, vec![]);
    outcome.unwrap();
    let methods: Vec<_> = sent
        .iter()
        .map(|r| (r.method, r.url.path().to_owned()))
        .collect();
    assert_eq!(
        methods,
        [
            (Method::Get, "/dir".into()),
            (Method::Post, "/acct/1".into())
        ]
    );
    assert_eq!(client.nonce_requests(), 0);

    // Without a nonce on the directory, one HEAD newNonce; then the pool carries on.
    let mut client = self::client();
    let mut op = client.fetch_account().unwrap();
    let mut inner = server(vec![]);
    let no_nonce_directory = |request: &Request, now| match request.method {
        Method::Get => Reply::Respond(acme_proto::Response::new(
            200,
            acme_proto::Headers::new().with("Content-Type", "application/json"),
            DIRECTORY.as_bytes().to_vec(),
        )),
        _ => inner(request, now),
    };
    let (sent, _, outcome) = drive(
        &mut op,
        &mut client,
        T0,
        no_nonce_directory,
        |_, e| match e {},
    );
    outcome.unwrap();
    let methods: Vec<_> = sent.iter().map(|r| r.method).collect();
    assert_eq!(methods, [Method::Get, Method::Head, Method::Post]);
    for _ in 0..3 {
        let (sent, _, outcome) = fetch(&mut client, vec![]);
        outcome.unwrap();
        assert_eq!(sent.len(), 1, "one POST, no HEAD, no directory");
    }
    assert_eq!(client.nonce_requests(), 1);
}

#[test]
fn bad_nonce_is_retried_with_the_fresh_nonce_and_bounded() {
    let mut client = client();
    let storm = (0..3)
        .map(|i| problem(400, &format!("storm{i}"), "badNonce"))
        .collect();
    let (sent, now, outcome) = fetch(&mut client, storm);
    outcome.unwrap();
    assert_eq!(now, T0, "badNonce retries never wait");
    let posts: Vec<_> = sent.iter().filter(|r| r.method == Method::Post).collect();
    assert_eq!(posts.len(), 4);
    // Each resend uses the nonce of the rejection before it, and no nonce twice.
    assert_eq!(nonce_of(posts[1]), "storm0");
    assert_eq!(nonce_of(posts[3]), "storm2");
    let mut nonces: Vec<_> = posts.iter().map(|r| nonce_of(r)).collect();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4);

    // An endless storm ends after the policy's bound, with the server's problem.
    let mut client = self::client().with_policy({
        let mut p = Policy::default();
        p.max_bad_nonce_retries = 5;
        p
    });
    let storm = (0..100)
        .map(|i| problem(400, &format!("s{i}"), "badNonce"))
        .collect();
    let (sent, _, outcome) = fetch(&mut client, storm);
    let Err(Error::Problem(p)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(p.kind, ProblemType::BadNonce);
    assert_eq!(sent.iter().filter(|r| r.method == Method::Post).count(), 6);
}

#[test]
fn rate_limited_waits_as_told_in_seconds_and_dates() {
    let mut client = client();
    let mut limited = problem(429, "n1", "rateLimited");
    if let Reply::Respond(r) = &mut limited {
        r.headers.append("Retry-After", "30");
    }
    let mut unavailable = problem(503, "n2", "serverInternal");
    if let Reply::Respond(r) = &mut unavailable {
        // An HTTP-date 45 s after the first wait ends.
        let at = T0.saturating_add(Duration::from_secs(75));
        r.headers.append("Retry-After", at.http_date().to_string());
    }
    let (sent, now, outcome) = fetch(&mut client, vec![limited, unavailable]);
    outcome.unwrap();
    assert_eq!(now, T0.saturating_add(Duration::from_secs(75)));
    assert_eq!(sent.iter().filter(|r| r.method == Method::Post).count(), 3);
}

#[test]
fn unavailable_without_retry_after_uses_the_default_and_is_bounded() {
    let mut client = client();
    let (_, now, outcome) = fetch(&mut client, vec![problem(503, "n1", "serverInternal")]);
    outcome.unwrap();
    assert_eq!(
        now,
        T0.saturating_add(Policy::default().default_retry_after)
    );

    let mut client = self::client();
    let script = (0..10)
        .map(|i| problem(503, &format!("n{i}"), "serverInternal"))
        .collect();
    let (sent, _, outcome) = fetch(&mut client, script);
    assert!(matches!(outcome, Err(Error::Problem(_))), "{outcome:?}");
    assert_eq!(
        sent.iter().filter(|r| r.method == Method::Post).count() as u32,
        1 + Policy::default().max_unavailable_retries
    );
}

#[test]
fn retry_after_beyond_the_cap_ends_with_the_problem() {
    let mut client = client();
    let mut limited = problem(429, "n1", "rateLimited");
    if let Reply::Respond(r) = &mut limited {
        r.headers.append("Retry-After", "86400");
    }
    let (sent, now, outcome) = fetch(&mut client, vec![limited]);
    let Err(Error::Problem(p)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(p.kind, ProblemType::RateLimited);
    assert_eq!(
        p.retry_after,
        Some(T0.saturating_add(Duration::from_secs(86400)))
    );
    assert_eq!(now, T0, "no wait when the caller must decide");
    assert_eq!(sent.iter().filter(|r| r.method == Method::Post).count(), 1);
}

#[test]
fn transport_failures_back_off_exponentially_for_safe_requests() {
    let mut client = client();
    let (sent, now, outcome) = fetch(&mut client, vec![Reply::Drop, Reply::Drop, Reply::Drop]);
    outcome.unwrap();
    // 1 s, 2 s, 4 s.
    assert_eq!(now, T0.saturating_add(Duration::from_secs(7)));
    assert_eq!(sent.iter().filter(|r| r.method == Method::Post).count(), 4);

    let mut client = self::client();
    let script = (0..20).map(|_| Reply::Drop).collect();
    let (_, _, outcome) = fetch(&mut client, script);
    let max = Policy::default().max_transport_retries;
    assert!(
        matches!(outcome, Err(Error::Transport { attempts }) if attempts == max + 1),
        "{outcome:?}"
    );
}

#[test]
fn transport_failure_of_an_unsafe_request_is_not_resent() {
    let mut client = client();
    let mut op = client.revoke(b"\x30\x03\x02\x01\x01", None).unwrap();
    let (sent, _, outcome) = drive(
        &mut op,
        &mut client,
        T0,
        server(vec![Reply::Drop]),
        |_, e| match e {},
    );
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 1 })),
        "{outcome:?}"
    );
    assert_eq!(sent.iter().filter(|r| r.method == Method::Post).count(), 1);
}

fn posts(sent: &[Request]) -> Vec<&Request> {
    sent.iter().filter(|r| r.method == Method::Post).collect()
}

#[test]
fn a_refused_connection_is_resent_even_for_an_unsafe_request() {
    // Nothing reached the server, so a revocation (not safe to repeat) goes again.
    let mut client = client();
    let mut op = client.revoke(b"\x30\x03\x02\x01\x01", None).unwrap();
    let script = vec![
        fail(TransportFailure::Connect),
        fail(TransportFailure::Connect),
    ];
    let (sent, now, outcome) = drive(&mut op, &mut client, T0, server(script), |_, e| match e {});
    outcome.unwrap();
    assert_eq!(posts(&sent).len(), 3);
    assert_eq!(
        now,
        T0.saturating_add(Duration::from_secs(3)),
        "1 s, then 2 s"
    );
}

#[test]
fn a_timeout_is_resent_at_most_once() {
    let mut client = client();
    let script = (0..5).map(|_| fail(TransportFailure::TimedOut)).collect();
    let (sent, _, outcome) = fetch(&mut client, script);
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 2 })),
        "{outcome:?}"
    );
    assert_eq!(posts(&sent).len(), 2);

    // Once is counted per request, whatever came between: a reset is resent, the
    // second timeout ends it.
    let mut client = self::client();
    let script = vec![
        fail(TransportFailure::TimedOut),
        Reply::Drop,
        fail(TransportFailure::TimedOut),
    ];
    let (sent, _, outcome) = fetch(&mut client, script);
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 3 })),
        "{outcome:?}"
    );
    assert_eq!(posts(&sent).len(), 3);

    // And a single timeout, then an answer, is a success.
    let mut client = self::client();
    let (sent, _, outcome) = fetch(&mut client, vec![fail(TransportFailure::TimedOut)]);
    outcome.unwrap();
    assert_eq!(posts(&sent).len(), 2);
}

#[test]
fn a_body_too_large_a_tls_failure_or_another_failure_is_never_resent() {
    for failure in [
        TransportFailure::TooLarge,
        TransportFailure::Tls,
        TransportFailure::Other,
    ] {
        let mut client = client();
        let (sent, now, outcome) = fetch(&mut client, vec![fail(failure)]);
        assert!(
            matches!(outcome, Err(Error::Transport { attempts: 1 })),
            "{failure:?}: {outcome:?}"
        );
        assert_eq!(posts(&sent).len(), 1, "{failure:?}");
        assert_eq!(now, T0, "{failure:?}: no backoff");
    }
    // Nor is the directory fetch, although it is a plain GET.
    let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(1)).unwrap();
    let mut client = Client::new(Url::parse("https://ca.test/dir").unwrap(), key).unwrap();
    let mut op = client.fetch_directory();
    let mut script = vec![fail(TransportFailure::TooLarge)];
    let (sent, _, outcome) = drive(
        &mut op,
        &mut client,
        T0,
        move |_, _| script.pop().unwrap_or_else(|| json(200, "n", DIRECTORY)),
        |_, e| match e {},
    );
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 1 })),
        "{outcome:?}"
    );
    assert_eq!(sent.len(), 1);
}

#[test]
fn every_attempt_carries_the_time_left_of_the_request_timeout() {
    // A silent server, a driver with a 15 s read timeout: the first try gives up at
    // 15 s, the resend at the request timeout (30 s), told so by its time limit.
    let mut client = client();
    let script = (0..5).map(|_| hang(Duration::from_secs(15))).collect();
    let (sent, now, outcome) = fetch(&mut client, script);
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 2 })),
        "{outcome:?}"
    );
    let limits: Vec<_> = posts(&sent).iter().map(|r| r.time_limit).collect();
    assert_eq!(
        limits,
        [Some(Duration::from_secs(30)), Some(Duration::from_secs(14))]
    );
    assert_eq!(now, T0.saturating_add(Policy::default().request_timeout));
}

#[test]
fn no_resend_starts_past_the_request_timeout() {
    // Resets after 8 s each, resends allowed without count: 0-8, 9-17, 19-27; the
    // next backoff (4 s) would end past 30 s, so the request ends there.
    let mut policy = Policy::default();
    policy.max_transport_retries = 100;
    let mut client = client().with_policy(policy);
    let script = (0..20)
        .map(|_| Reply::Fail {
            failure: TransportFailure::Reset,
            after: Duration::from_secs(8),
        })
        .collect();
    let (sent, now, outcome) = fetch(&mut client, script);
    assert!(
        matches!(outcome, Err(Error::Transport { attempts: 3 })),
        "{outcome:?}"
    );
    let limits: Vec<_> = posts(&sent)
        .iter()
        .map(|r| r.time_limit.map(|d| d.as_secs()))
        .collect();
    assert_eq!(limits, [Some(30), Some(21), Some(11)]);
    assert_eq!(now, T0.saturating_add(Duration::from_secs(27)));
}

#[test]
fn a_response_starts_a_new_request_timeout() {
    // 20 s lost, then a badNonce answer: the resend with a fresh nonce is a new request
    // with the whole 30 s again.
    let mut client = client();
    let script = vec![
        Reply::Fail {
            failure: TransportFailure::Reset,
            after: Duration::from_secs(20),
        },
        problem(400, "fresh", "badNonce"),
    ];
    let (sent, _, outcome) = fetch(&mut client, script);
    outcome.unwrap();
    let limits: Vec<_> = posts(&sent)
        .iter()
        .map(|r| r.time_limit.map(|d| d.as_secs()))
        .collect();
    assert_eq!(limits, [Some(30), Some(9), Some(30)]);
}

#[test]
fn the_deadline_bounds_every_wait() {
    let mut policy = Policy::default();
    policy.operation_timeout = Duration::from_secs(10);
    let mut client = client().with_policy(policy);
    let mut limited = problem(503, "n1", "serverInternal");
    if let Reply::Respond(r) = &mut limited {
        r.headers.append("Retry-After", "60");
    }
    let (_, now, outcome) = fetch(&mut client, vec![limited]);
    assert!(matches!(outcome, Err(Error::Problem(_))), "{outcome:?}");
    assert_eq!(now, T0);
}

#[test]
fn missing_nonce_on_newnonce_is_a_typed_error() {
    let mut client = client();
    let mut op = client.fetch_account().unwrap();
    // Neither the directory nor newNonce carries a nonce.
    let server = |request: &Request, _| {
        let body = if request.method == Method::Get {
            DIRECTORY
        } else {
            ""
        };
        Reply::Respond(acme_proto::Response::new(
            200,
            acme_proto::Headers::new().with("Content-Type", "application/json"),
            body.as_bytes().to_vec(),
        ))
    };
    let (sent, _, outcome) = drive(&mut op, &mut client, T0, server, |_, e| match e {});
    let Err(Error::Malformed(m)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(m.kind, MalformedKind::MissingHeader("Replay-Nonce"));
    assert_eq!(sent.last().unwrap().method, Method::Head);
}

#[test]
fn http_urls_from_the_server_are_refused() {
    let mut client = client();
    let directory = DIRECTORY.replace("https://ca.test/nonce", "http://ca.test/nonce");
    let mut op = client.fetch_account().unwrap();
    let server = move |request: &Request, _| match request.method {
        Method::Get => Reply::Respond(acme_proto::Response::new(
            200,
            acme_proto::Headers::new().with("Content-Type", "application/json"),
            directory.clone().into_bytes(),
        )),
        _ => json(200, "n", ""),
    };
    let (sent, _, outcome) = drive(&mut op, &mut client, T0, server, |_, e| match e {});
    assert!(matches!(outcome, Err(Error::Malformed(_))), "{outcome:?}");
    assert_eq!(sent.len(), 1, "nothing sent to the http URL");
}
