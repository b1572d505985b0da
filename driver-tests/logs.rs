//! What a driver logs: one event per request with method, URL and status (and the
//! problem type of a refusal, at info), and never a key, a JWS body or a key
//! authorization, whatever the level.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use acme_proto::Identifier;
use acme_proto::crypto::Signer as _;
use acme_proto_fake_ca::{Fault, RequestKind};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use super::support::{CaServer, key, keys, quick_account};
use crate::driver::Http01Responder;

driver_tests!(requests_are_logged_and_secrets_never_are);

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

pub async fn requests_are_logged_and_secrets_never_are() {
    let server = CaServer::start();
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::NewOrder, Fault::BadNonce, 1);
    let capture = Capture::default();
    // This thread's subscriber: the scenario runs on it, on either driver.
    let certificate = {
        let _default = tracing::subscriber::set_default(capture.clone());
        let client = quick_account(&server, keys::P256).await;
        aw!(client.issue([Identifier::dns("logged.example.org").unwrap()], &responder)).unwrap()
    };
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

    // No key authorization (a token, a dot, the account key's thumbprint), JWS, private
    // key or account key, at any level.
    let all: String = events.iter().map(|(_, line)| line.as_str()).collect();
    let thumbprint = key(keys::P256)
        .public_jwk()
        .thumbprint()
        .as_str()
        .to_owned();
    assert!(!all.contains(&thumbprint), "a key authorization was logged");
    for forbidden in ["\"protected\"", "\"signature\"", "PRIVATE KEY", "\"d\":"] {
        assert!(!all.contains(forbidden), "{forbidden} was logged");
    }
    assert!(!all.contains(certificate.private_key_pem.as_str()));
}
