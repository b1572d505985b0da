//! What the driver logs: one event per request with method, URL and status (and the
//! problem type of a refusal, at info), and never a key, a JWS body or a key
//! authorization, whatever the level.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use acme_proto_blocking::{Http01Responder, Solver, SolverError};
use acme_proto_fake_ca::{Fault, RequestKind};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Every event, as `LEVEL message field=value …`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String)>>>);

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(String::new());
        event.record(&mut line);
        let level = *event.metadata().level();
        self.0.lock().unwrap().push((level, line.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The responder, keeping the key authorizations it was given.
struct Keeping {
    responder: Http01Responder,
    secrets: Mutex<Vec<String>>,
}

impl Solver for Keeping {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.responder.choose(offers)
    }
    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        if let Solution::Http01 {
            key_authorization, ..
        } = &offer.solution
        {
            let secret = key_authorization.as_str().to_owned();
            self.secrets.lock().unwrap().push(secret);
        }
        self.responder.present(offer)
    }
    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.cleanup(offer)
    }
}

#[test]
fn requests_are_logged_and_secrets_never_are() {
    let server = common::CaServer::start();
    let solver = Keeping {
        responder: Http01Responder::bind("127.0.0.1:0".parse().unwrap()).unwrap(),
        secrets: Mutex::default(),
    };
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::NewOrder, Fault::BadNonce, 1);
    let capture = Capture::default();
    let certificate = tracing::subscriber::with_default(capture.clone(), || {
        let client = common::quick_account(&server, common::keys::P256);
        client
            .issue([Identifier::dns("logged.example.org").unwrap()], &solver)
            .unwrap()
    });
    let events = capture.0.lock().unwrap().clone();
    let requests = server.ca.lock().unwrap().transcript().len();

    // One response event per request, each with its method, URL and status.
    let responses: Vec<_> = events
        .iter()
        .filter(|(_, line)| line.contains("message=response") || line.contains("message=refused"))
        .collect();
    assert_eq!(responses.len(), requests, "{events:#?}");
    for (_, line) in &responses {
        assert!(
            line.contains(" method=") && line.contains(" url=") && line.contains(" status="),
            "{line}"
        );
    }
    // The refusal at info, with its problem type.
    assert!(
        events.iter().any(|(level, line)| *level == Level::INFO
            && line.contains("message=refused")
            && line.contains("badNonce")),
        "{events:#?}"
    );

    // No key authorization, JWS, private key or account key, at any level.
    let all: String = events.iter().map(|(_, line)| line.as_str()).collect();
    let secrets = solver.secrets.lock().unwrap();
    assert_eq!(secrets.len(), 1);
    for secret in secrets.iter() {
        assert!(
            !all.contains(secret.as_str()),
            "a key authorization was logged"
        );
        // Nor its token-less half, the account key's thumbprint.
        let thumbprint = secret.split('.').nth(1).unwrap();
        assert!(!all.contains(thumbprint), "the thumbprint was logged");
    }
    for forbidden in ["\"protected\"", "\"signature\"", "PRIVATE KEY", "\"d\":"] {
        assert!(!all.contains(forbidden), "{forbidden} was logged");
    }
    assert!(!all.contains(certificate.private_key_pem.as_str()));
}
