//! Unit tests of the order flow.

use super::checks::check_identifiers;
use super::state::{Live, LiveState, OrderState};
use super::*;
use crate::b64;
use crate::client::Client;
use crate::client::authorization_table::AuthorizationTable;
use crate::client::polling::Polling;
use crate::client::run::Effects;
use crate::client::{Operation as _, Step};
use crate::crypto::AccountKey;
use crate::error::Error;
use crate::identifier::Identifier;
use crate::limits::Limits;
use crate::time::UnixTime;
use crate::wire::Headers;
use crate::wire::Method;
use crate::wire::Response;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use url::Url;

fn client() -> Client {
    // An Ed25519 PKCS#8 v1 key: a fixed prefix and a 32-byte seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[7; 32]);
    let key = AccountKey::from_pkcs8_der(&der).unwrap();
    Client::new(Url::parse("https://ca.test/dir").unwrap(), key)
        .unwrap()
        .with_account(Url::parse("https://ca.test/acct/1").unwrap())
}

fn json(status: u16, nonce: &str, body: &str) -> Response {
    let content_type = if status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    Response::new(
        status,
        Headers::new()
            .with("Content-Type", content_type)
            .with("Replay-Nonce", nonce)
            .with("Location", "https://ca.test/order/1"),
        body.as_bytes().to_vec(),
    )
}

/// The server's answer to each request of an order whose challenge response fails.
fn answer(request: &crate::Request) -> Response {
    match request.url.path() {
        "/dir" => json(
            200,
            "n0",
            r#"{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",
            "newOrder":"https://ca.test/new-order"}"#,
        ),
        "/nonce" => json(200, "n1", ""),
        "/new-order" => json(
            201,
            "n2",
            r#"{"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],
            "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/fin/1"}"#,
        ),
        "/authz/1" => json(
            200,
            "n3",
            r#"{"status":"pending","identifier":{"type":"dns","value":"a.example"},
            "challenges":[{"type":"http-01","url":"https://ca.test/chall/1",
            "token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}]}"#,
        ),
        _ => json(
            500,
            "n4",
            r#"{"type":"urn:ietf:params:acme:error:serverInternal"}"#,
        ),
    }
}

/// A server that answers every newNonce with a nonce already used, and sends no
/// nonce with its other responses: the client asks for a nonce a bounded number of
/// times, then fails, instead of asking for ever.
#[test]
fn a_repeated_used_nonce_is_not_asked_for_without_bound() {
    let mut client = client();
    let now = UnixTime::from_secs(1_800_000_000);
    let mut flow = OrderFlow::new(NewOrder::new([Identifier::dns("a.example").unwrap()])).unwrap();
    let mut heads = 0;
    for _ in 0..1000 {
        match flow.poll(&mut client, now) {
            Step::Send(request) => {
                let mut response = answer(&request);
                if request.method == Method::Head {
                    heads += 1;
                    response.headers = Headers::new().with("Replay-Nonce", "n1");
                } else {
                    response.headers = Headers::new()
                        .with("Content-Type", "application/json")
                        .with("Location", "https://ca.test/order/1");
                }
                flow.handle_response(&mut client, request.id, response, now)
                    .unwrap();
            }
            Step::Event(_) => {}
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        flow.take_outcome(),
        Some(Err(Error::Malformed(_)))
    ));
    let bound = 2 + client.policy().max_bad_nonce_retries;
    assert!(heads <= bound, "{heads} newNonce requests, bound {bound}");
}

/// Drives `flow` until `Done` against `server`, handing each event to `on_event`.
fn drive(
    flow: &mut OrderFlow,
    server: impl Fn(&crate::Request) -> Response,
    mut on_event: impl FnMut(&mut OrderFlow, OrderEvent),
) {
    let mut client = client();
    let now = UnixTime::from_secs(1_800_000_000);
    for _ in 0..64 {
        match flow.poll(&mut client, now) {
            Step::Send(request) => {
                let response = server(&request);
                flow.handle_response(&mut client, request.id, response, now)
                    .unwrap();
            }
            Step::Event(event) => on_event(flow, event),
            Step::Done => return,
            other => panic!("{other:?}"),
        }
    }
    panic!("not done after 64 steps");
}

fn one_name() -> OrderFlow {
    OrderFlow::new(NewOrder::new([Identifier::dns("a.example").unwrap()])).unwrap()
}

#[test]
fn the_outcome_comes_with_done_after_the_cleanups() {
    let mut flow = one_name();
    let mut events = Vec::new();
    drive(&mut flow, answer, |flow, event| match event {
        OrderEvent::Authorize { offers, .. } => flow.challenge_ready(&offers[0].url).unwrap(),
        event => {
            // The order has failed once the cleanup is out, but is not done.
            assert!(flow.take_outcome().is_none(), "an outcome before Done");
            events.push(event);
        }
    });
    assert!(
        events.iter().any(|e| matches!(e, OrderEvent::Cleanup(_))),
        "{events:?}"
    );
    assert!(matches!(flow.take_outcome(), Some(Err(Error::Problem(_)))));
    assert!(flow.take_outcome().is_none());
}

/// Runs a one-name order against `answer`, with `rewrite` changing each response
/// first; gives the outcome and the snapshot after each event.
fn run(
    rewrite: impl Fn(&crate::Request, &mut Response),
) -> (Option<Result<Issued, Error>>, Vec<OrderSnapshot>) {
    let mut flow = one_name();
    let mut snapshots = Vec::new();
    let server = |request: &crate::Request| {
        let mut response = answer(request);
        rewrite(request, &mut response);
        response
    };
    drive(&mut flow, server, |flow, event| {
        snapshots.extend(flow.snapshot());
        if let OrderEvent::Authorize { offers, .. } = event {
            flow.challenge_ready(&offers[0].url).unwrap();
        }
    });
    (flow.take_outcome(), snapshots)
}

fn long_url(len: usize) -> String {
    let base = "https://ca.test/";
    format!("{base}{}", "a".repeat(len - base.len()))
}

/// A `Location` longer than `Limits::MAX_URL_LEN` is refused before it is kept, so
/// every snapshot reads back (a 70 KB one once made a snapshot `from_json` refused).
#[test]
fn a_server_url_over_the_cap_is_malformed() {
    for (len, accepted) in [
        (Limits::MAX_URL_LEN, true),
        (Limits::MAX_URL_LEN + 1, false),
    ] {
        let location = long_url(len);
        let (outcome, snapshots) = run(|request, response| {
            if request.url.path() == "/new-order" {
                response.headers = Headers::new()
                    .with("Content-Type", "application/json")
                    .with("Replay-Nonce", "n2")
                    .with("Location", location.as_str());
            }
        });
        let outcome = outcome.expect("an outcome");
        if accepted {
            assert!(matches!(outcome, Err(Error::Problem(_))), "{outcome:?}");
            assert!(!snapshots.is_empty());
        } else {
            let Err(Error::Malformed(m)) = outcome else {
                panic!("{outcome:?}")
            };
            assert!(m.to_string().contains("MAX_URL_LEN"), "{m}");
            assert!(snapshots.is_empty());
        }
        for snapshot in snapshots {
            let json = snapshot.to_json();
            assert!(json.len() <= OrderSnapshot::MAX_LEN);
            assert_eq!(OrderSnapshot::from_json(&json).unwrap(), snapshot);
        }
    }
}

#[test]
fn a_challenge_url_over_the_cap_is_malformed_before_it_is_offered() {
    let challenge = long_url(Limits::MAX_URL_LEN + 1);
    let (outcome, _) = run(|request, response| {
        if request.url.path() == "/authz/1" {
            let body = String::from_utf8(core::mem::take(&mut response.body)).unwrap();
            response.body = body
                .replace("https://ca.test/chall/1", &challenge)
                .into_bytes();
        }
    });
    assert!(
        matches!(outcome, Some(Err(Error::Malformed(_)))),
        "{outcome:?}"
    );
}

#[test]
fn a_snapshot_with_a_url_over_the_cap_is_refused() {
    let ok = long_url(Limits::MAX_URL_LEN);
    let json = format!(r#"{{"v":1,"url":"{ok}","provisioned":["{ok}"]}}"#);
    assert!(OrderSnapshot::from_json(json.as_bytes()).is_ok());
    let long = long_url(Limits::MAX_URL_LEN + 1);
    for json in [
        format!(r#"{{"v":1,"url":"{long}"}}"#),
        format!(r#"{{"v":1,"url":"{ok}","provisioned":["{long}"]}}"#),
    ] {
        let err = OrderSnapshot::from_json(json.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("MAX_URL_LEN"), "{err}");
    }
}

/// The largest snapshot `from_json` accepts by count and URL length fits `MAX_LEN`,
/// even when every URL doubles under JSON escaping.
#[test]
fn the_largest_snapshot_fits_max_len() {
    let base = "https://ca.test/?";
    let url = Url::parse(&format!(
        "{base}{}",
        "\\".repeat(Limits::MAX_URL_LEN - base.len())
    ))
    .unwrap();
    assert!(
        url.as_str().len() <= Limits::MAX_URL_LEN,
        "{}",
        url.as_str().len()
    );
    // The longest identifier JSON allows: quotes, escaped, up to the length bound.
    let identifier = Identifier::Other {
        kind: "x".into(),
        value: "\"".repeat((OrderFlow::MAX_IDENTIFIER_LEN - 24) / 2),
    };
    let identifier_len = serde_json::to_vec(&identifier).unwrap().len();
    assert!(identifier_len <= OrderFlow::MAX_IDENTIFIER_LEN && identifier_len > 480);
    let identifiers = vec![identifier; OrderFlow::MAX_IDENTIFIERS];
    assert!(check_identifiers(&identifiers).is_ok());
    let snapshot = OrderSnapshot {
        version: OrderSnapshot::VERSION,
        url: url.clone(),
        identifiers,
        key: Some(b64::encode([0xff; OrderFlow::MAX_CSR_KEY_LEN])),
        provisioned: vec![url.clone(); OrderSnapshot::MAX_PROVISIONED],
        directory: Some(url.clone()),
        account: Some(url),
    };
    let json = snapshot.to_json();
    assert!(
        json.len() <= OrderSnapshot::MAX_LEN,
        "{} > {}",
        json.len(),
        OrderSnapshot::MAX_LEN
    );
    assert!(
        json.len() > Limits::MAX_URL_LEN * 2 * OrderSnapshot::MAX_PROVISIONED * 9 / 10,
        "{} bytes, {}",
        json.len(),
        &snapshot.url
    );
    assert_eq!(OrderSnapshot::from_json(&json).unwrap(), snapshot);
}

/// The order fails while a second authorization's offer is still open; a challenge
/// said ready between the failure's cleanups and `Done` is refused, so everything
/// provisioned is cleaned up (found by the `order_flow` fuzz target).
#[test]
fn a_challenge_said_ready_after_the_order_failed_is_refused() {
    let mut flow = OrderFlow::new(NewOrder::new([
        Identifier::dns("a.example").unwrap(),
        Identifier::dns("b.example").unwrap(),
    ]))
    .unwrap();
    let two = |request: &crate::Request| match request.url.path() {
        "/new-order" => json(
            201,
            "n2",
            r#"{"status":"pending","identifiers":[{"type":"dns","value":"a.example"},
            {"type":"dns","value":"b.example"}],"authorizations":["https://ca.test/authz/1",
            "https://ca.test/authz/2"],"finalize":"https://ca.test/fin/1"}"#,
        ),
        "/authz/2" => json(
            200,
            "n5",
            r#"{"status":"pending","identifier":{"type":"dns","value":"b.example"},
            "challenges":[{"type":"http-01","url":"https://ca.test/chall/2",
            "token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}]}"#,
        ),
        _ => answer(request),
    };
    let mut late = None;
    let mut ready = Vec::new();
    let mut cleaned = Vec::new();
    drive(&mut flow, two, |flow, event| match event {
        // The first offer is taken at once, the second kept for later.
        OrderEvent::Authorize { offers, .. } if ready.is_empty() => {
            flow.challenge_ready(&offers[0].url).unwrap();
            ready.push(offers[0].url.clone());
        }
        OrderEvent::Authorize { offers, .. } => late = Some(offers[0].url.clone()),
        OrderEvent::Cleanup(offer) => {
            cleaned.push(offer.url);
            let late = late.as_ref().expect("the second offer came first");
            let refused = flow.challenge_ready(late).unwrap_err();
            assert!(refused.to_string().contains("ended"), "{refused}");
        }
        _ => {}
    });
    assert!(matches!(flow.take_outcome(), Some(Err(Error::Problem(_)))));
    assert_eq!(cleaned, ready);
}

/// A flow started in any state of a live order, as if it had got there (ureq-proto's
/// `Scenario`): the order as last read, its phase, and the CSR when one was given. Each
/// transition is tested from where it starts, not by replaying the order from
/// `newOrder`.
struct Scenario {
    machine: OrderMachine,
}

impl Scenario {
    /// The order at `https://ca.test/order/1`, as `order` (JSON) says, in `phase`.
    fn live(order: &str, phase: LiveState) -> Self {
        let order: Order = serde_json::from_str(order).unwrap();
        let authorizations = AuthorizationTable::new(order.authorizations.clone(), Vec::new());
        let machine = OrderMachine {
            identifiers: order.identifiers.clone(),
            stage: OrderState::Live(alloc::boxed::Box::new(Live {
                url: Url::parse("https://ca.test/order/1").unwrap(),
                order,
                authorizations,
                phase,
                polling: Polling::default(),
                finalize_attempts: 0,
            })),
            csr: None,
            csr_key: None,
            bound: None,
            nonces_beside: None,
            nonces_out: 0,
            effects: Effects::default(),
        };
        Self { machine }
    }

    /// With a CSR (DER) already given.
    fn with_csr(mut self, der: &[u8]) -> Self {
        self.machine.csr = Some(der.into());
        self
    }

    fn flow(self) -> OrderFlow {
        OrderFlow(Runner::new(self.machine))
    }
}

/// A CSR for `a.example`.
fn csr() -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["a.example".to_string()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serialize_request(&key).unwrap().der().to_vec()
}

const READY: &str = r#"{"status":"ready","identifiers":[{"type":"dns","value":"a.example"}],
    "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/fin/1"}"#;

/// Polls until the flow sends a request other than the directory's and newNonce's
/// (answered by `answer`), and gives it.
fn next_acme_request(flow: &mut OrderFlow, client: &mut Client, now: UnixTime) -> crate::Request {
    for _ in 0..8 {
        match flow.poll(client, now) {
            Step::Send(request) if matches!(request.url.path(), "/dir" | "/nonce") => {
                flow.handle_response(client, request.id, answer(&request), now)
                    .unwrap();
            }
            Step::Send(request) => return request,
            other => panic!("{other:?}"),
        }
    }
    panic!("no request after 8 steps");
}

/// A ready order waits for the caller's CSR for as long as it takes, sending nothing;
/// the CSR given late is sent to the finalize URL, and a `processing` answer is polled.
#[test]
fn a_ready_order_waits_for_a_late_csr_then_finalizes_with_it() {
    let mut flow = Scenario::live(READY, LiveState::AwaitCsr).flow();
    let mut client = client();
    let now = UnixTime::from_secs(1_800_000_000);
    for _ in 0..3 {
        assert!(matches!(flow.poll(&mut client, now), Step::AwaitingCaller));
    }
    let der = csr();
    flow.provide_csr(der.clone()).unwrap();
    let request = next_acme_request(&mut flow, &mut client, now);
    assert_eq!(request.url.as_str(), "https://ca.test/fin/1");
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    let payload = b64::decode(body["payload"].as_str().unwrap()).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["csr"], b64::encode(&der));
    let processing = READY.replace("ready", "processing");
    flow.handle_response(&mut client, request.id, json(200, "n9", &processing), now)
        .unwrap();
    match flow.poll(&mut client, now) {
        Step::Wait(wait) => assert!(wait.until > now, "{wait:?}"),
        other => panic!("{other:?}"),
    }
    // The CSR cannot change once sent: the certificate is checked against its key.
    assert!(flow.provide_csr(der).is_err());
}

/// A finalize request lost to a transport failure is not resent: the order is asked
/// whether the server got it.
#[test]
fn a_finalize_lost_in_transport_is_followed_by_a_poll_of_the_order() {
    let mut flow = Scenario::live(READY, LiveState::Finalize)
        .with_csr(&csr())
        .flow();
    let mut client = client();
    let now = UnixTime::from_secs(1_800_000_000);
    let request = next_acme_request(&mut flow, &mut client, now);
    assert_eq!(request.url.path(), "/fin/1");
    flow.handle_transport_failure(&mut client, request.id, crate::TransportFailure::Reset, now)
        .unwrap();
    let request = next_acme_request(&mut flow, &mut client, now);
    assert_eq!(request.url.path(), "/order/1");
    assert_eq!(request.method, Method::Post);
}

/// An invalid order is explained by its first authorization that failed: valid ones
/// are passed over, and the problem names the identifier.
#[test]
fn an_invalid_order_is_explained_by_its_failed_authorization() {
    let order = r#"{"status":"invalid","identifiers":[{"type":"dns","value":"a.example"},
        {"type":"dns","value":"b.example"}],"authorizations":["https://ca.test/authz/1",
        "https://ca.test/authz/2"],"finalize":"https://ca.test/fin/1"}"#;
    let mut flow = Scenario::live(order, LiveState::Diagnose { next: 0 }).flow();
    let fetched = core::cell::RefCell::new(Vec::new());
    let server = |request: &crate::Request| match request.url.path() {
        "/authz/1" => json(
            200,
            "n5",
            r#"{"status":"valid","identifier":{"type":"dns","value":"a.example"},
            "challenges":[]}"#,
        ),
        "/authz/2" => json(
            200,
            "n6",
            r#"{"status":"invalid","identifier":{"type":"dns","value":"b.example"},
            "challenges":[{"type":"http-01","url":"https://ca.test/chall/2","status":"invalid",
            "token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
            "error":{"type":"urn:ietf:params:acme:error:connection"}}]}"#,
        ),
        _ => answer(request),
    };
    let recording = |request: &crate::Request| {
        fetched.borrow_mut().push(request.url.path().to_string());
        server(request)
    };
    drive(&mut flow, recording, |_, event| panic!("{event:?}"));
    let fetched = fetched.into_inner();
    let fetched: Vec<_> = fetched.iter().filter(|p| p.starts_with("/authz")).collect();
    assert_eq!(fetched, ["/authz/1", "/authz/2"]);
    match flow.take_outcome() {
        Some(Err(Error::Problem(problem))) => {
            assert_eq!(problem.kind, crate::problem::ProblemType::Connection);
            assert_eq!(
                problem.identifier,
                Some(Identifier::dns("b.example").unwrap())
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A valid order without a certificate URL ends the flow at once, with nothing sent.
#[test]
fn a_valid_order_without_a_certificate_url_is_malformed() {
    let order = READY.replace("ready", "valid");
    let mut flow = Scenario::live(&order, LiveState::Download(None)).flow();
    let mut client = client();
    let now = UnixTime::from_secs(1_800_000_000);
    assert!(matches!(flow.poll(&mut client, now), Step::Done));
    match flow.take_outcome() {
        Some(Err(Error::Malformed(malformed))) => {
            assert!(
                malformed.to_string().contains("certificate URL"),
                "{malformed}"
            );
        }
        other => panic!("{other:?}"),
    }
}
