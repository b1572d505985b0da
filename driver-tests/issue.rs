//! Orders end to end against the fake CA over real TLS: the http-01 responder checked
//! over real HTTP as the CA would, other account key types, solver failures, the core's
//! retries, a lying server, the caller's CSR. Concurrency is each driver's own test.

use std::io::{Read as _, Write as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto::client::{AccountCredentials, ChallengeOffer, NewAccount, NewOrder, Solution};
use acme_proto_fake_ca::{Fault, RequestKind, RetryAfter};

use super::support::{CaServer, http01_parts, key, keys, quick_account, transport};
use crate::driver::{
    AcmeClient, DriverError, Http01Responder, Roots, Solver, SolverError, Transport,
    TransportErrorKind,
};

driver_tests!(
    issues_a_certificate_over_tls_the_few_lines_way,
    ed25519_p384_and_p521_accounts,
    a_failed_order_still_cleans_up,
    solver_failures_end_the_order_and_clean_up,
    refusals_and_waits_are_the_cores_business,
    the_last_transport_failure_comes_back_when_the_core_gives_up,
    a_lying_server_gets_nothing_presented_and_nothing_issued,
    issue_with_csr_checks_the_certificate_against_the_callers_csr,
);

async fn responder() -> Http01Responder {
    aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap()
}

/// A raw HTTP/1.1 request, as a validation server sends it: status and body.
fn fetch(responder: &Http01Responder, method: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(responder.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let reply = String::from_utf8(reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

/// The responder, checked over HTTP right after each present, as the CA would.
struct Checked {
    responder: Http01Responder,
    seen: Mutex<Vec<ChallengeOffer>>,
}

impl Solver for Checked {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.responder.choose(offers)
    }
    solver_method!(
        fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            aw!(self.responder.present(offer))?;
            let (path, key_authorization) = http01_parts(offer);
            assert_eq!(
                fetch(&self.responder, "GET", path),
                (200, key_authorization.to_owned())
            );
            self.seen.lock().unwrap().push(offer.clone());
            Ok(())
        }
    );
    solver_method!(
        fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            aw!(self.responder.cleanup(offer))
        }
    );
}

pub async fn issues_a_certificate_over_tls_the_few_lines_way() {
    let server = CaServer::start();
    // As the README has it, with the test CA's root added.
    let client = AcmeClient::new(
        server.directory_url.clone(),
        key(keys::P256),
        Transport::builder()
            .roots(Roots::None)
            .add_root_pem(&server.root_pem)
            .build()
            .unwrap(),
    )
    .unwrap();
    aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"])))
        .unwrap();
    let saved = client.credentials().unwrap().to_json().unwrap();
    let solver = Checked {
        responder: responder().await,
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("www.example.org").unwrap(),
        Identifier::ip("192.0.2.7".parse().unwrap()),
    ];
    let certificate = aw!(client.issue(names, &solver)).unwrap();
    let leaf = certificate.issued.chain.end_entity();
    assert_eq!(leaf.dns_names(), ["www.example.org"]);
    assert_eq!(
        leaf.ip_addresses(),
        ["192.0.2.7".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(
        certificate
            .private_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(solver.seen.lock().unwrap().len(), 2, "both tokens fetched");
    assert!(solver.responder.is_empty(), "every challenge cleaned up");
    assert_eq!(server.violations(), Vec::<String>::new());

    // The credentials bring the account back in another client, which orders again.
    let again = AcmeClient::from_credentials(
        AccountCredentials::from_json(&saved).unwrap(),
        transport(&server),
    )
    .unwrap();
    assert_eq!(
        aw!(again.find_account()).unwrap().url,
        client.credentials().unwrap().account_url().clone()
    );
    aw!(again.issue(
        [Identifier::dns("mail.example.org").unwrap()],
        &solver.responder
    ))
    .unwrap();
    assert_eq!(server.ca.lock().unwrap().accounts().len(), 1);
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn ed25519_p384_and_p521_accounts() {
    let server = CaServer::start();
    let responder = responder().await;
    for pem in [keys::ED25519, keys::P384, keys::P521] {
        let client = quick_account(&server, pem).await;
        aw!(client.issue([Identifier::dns("a.example.org").unwrap()], &responder)).unwrap();
    }
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(server.ca.lock().unwrap().certificates().len(), 3);
}

pub async fn a_failed_order_still_cleans_up() {
    let server = CaServer::start();
    let responder = responder().await;
    let client = quick_account(&server, keys::P256).await;
    server.ca.lock().unwrap().script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "incorrectResponse".into(),
            detail: "wrong key authorization".into(),
        },
        1,
    );
    let error =
        aw!(client.issue([Identifier::dns("bad.example.org").unwrap()], &responder)).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Problem(_))),
        "{error:?}"
    );
    assert!(responder.is_empty(), "the failed challenge was cleaned up");
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// Counts presents and cleanups; fails or refuses on demand.
#[derive(Default)]
struct Counting {
    refuse: bool,
    fail_present: bool,
    /// Fails the second present only (the first stays in place).
    fail_second: bool,
    presented: AtomicUsize,
    cleaned: AtomicUsize,
}

impl Solver for Counting {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        if self.refuse {
            return None;
        }
        offers
            .iter()
            .find(|o| matches!(o.solution, Solution::Http01 { .. }))
    }
    solver_method!(
        fn present(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
            let n = self.presented.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail_present || (self.fail_second && n == 2) {
                return Err("the web server is down".into());
            }
            Ok(())
        }
    );
    solver_method!(
        fn cleanup(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
            self.cleaned.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    );
}

pub async fn solver_failures_end_the_order_and_clean_up() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;

    let refusing = Counting {
        refuse: true,
        ..Counting::default()
    };
    let error =
        aw!(client.issue([Identifier::dns("x.example.org").unwrap()], &refusing)).unwrap_err();
    assert!(
        matches!(error, DriverError::NoChallengeChosen { .. }),
        "{error:?}"
    );

    let failing = Counting {
        fail_present: true,
        ..Counting::default()
    };
    let names = [
        Identifier::dns("y.example.org").unwrap(),
        Identifier::dns("z.example.org").unwrap(),
    ];
    let error = aw!(client.issue(names, &failing)).unwrap_err();
    assert!(matches!(error, DriverError::Solver { .. }), "{error:?}");
    assert_eq!(failing.presented.load(Ordering::SeqCst), 1);
    assert_eq!(
        failing.cleaned.load(Ordering::SeqCst),
        1,
        "cleanup after a failed present"
    );

    // The second name's present fails: the first, said ready, is cleaned up through
    // the order's own list (abandoned), the second at once.
    let second = Counting {
        fail_second: true,
        ..Counting::default()
    };
    let names = [
        Identifier::dns("s1.example.org").unwrap(),
        Identifier::dns("s2.example.org").unwrap(),
    ];
    let error = aw!(client.issue(names, &second)).unwrap_err();
    assert!(matches!(error, DriverError::Solver { .. }), "{error:?}");
    assert_eq!(second.presented.load(Ordering::SeqCst), 2);
    assert_eq!(
        second.cleaned.load(Ordering::SeqCst),
        2,
        "both cleaned up: the one in place and the half-done one"
    );

    let good = Counting::default();
    aw!(client.issue(
        [
            Identifier::dns("w.example.org").unwrap(),
            Identifier::dns("v.example.org").unwrap(),
        ],
        &good,
    ))
    .unwrap();
    assert_eq!(good.presented.load(Ordering::SeqCst), 2);
    assert_eq!(
        good.cleaned.load(Ordering::SeqCst),
        2,
        "exactly one cleanup per present"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

pub async fn refusals_and_waits_are_the_cores_business() {
    let server = CaServer::start();
    let responder = responder().await;
    let client = quick_account(&server, keys::P256).await;
    {
        let mut ca = server.ca.lock().unwrap();
        ca.script(RequestKind::NewOrder, Fault::BadNonce, 2);
        ca.script(
            RequestKind::Finalize,
            Fault::RateLimited(RetryAfter::Seconds(1)),
            1,
        );
    }
    let started = Instant::now();
    aw!(client.issue([Identifier::dns("retry.example.org").unwrap()], &responder)).unwrap();
    // The 429's Retry-After of one second was slept through, with the real clock.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.pending_faults(), 0);
    // The refusals reached the core as responses, problem documents and all (ureq's
    // status-as-error trap is off): else the badNonce would not have been retried, nor
    // the Retry-After slept through.
    assert!(
        ca.transcript().iter().any(|e| e.status == 429
            && e.problem
                .as_deref()
                .is_some_and(|p| p.ends_with(":rateLimited"))),
        "{:?}",
        ca.transcript()
    );
}

pub async fn the_last_transport_failure_comes_back_when_the_core_gives_up() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut policy = acme_proto::Policy::default();
    policy.max_transport_retries = 2;
    policy.transport_backoff = Duration::from_millis(20);
    policy.max_transport_backoff = Duration::from_millis(40);
    let core = acme_proto::Client::new(
        format!("https://127.0.0.1:{port}/directory")
            .parse()
            .unwrap(),
        key(keys::P256),
    )
    .unwrap()
    .with_policy(policy);
    let transport = Transport::builder()
        .roots(Roots::None)
        .add_root_pem(acme_proto_fake_ca::server::test_pki().root_pem)
        .build()
        .unwrap();
    let client = AcmeClient::from_client(core, transport);
    assert!(client.credentials().is_none());
    match aw!(client.find_account()).unwrap_err() {
        DriverError::Transport {
            attempts,
            last: Some(last),
        } => {
            assert_eq!(attempts, 3);
            assert_eq!(last.kind(), TransportErrorKind::Connect, "{last}");
        }
        other => panic!("{other:?}"),
    }
}

pub async fn a_lying_server_gets_nothing_presented_and_nothing_issued() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let name = || [Identifier::dns("www.example.org").unwrap()];

    // An authorization for a name never ordered: nothing presented.
    let solver = Counting::default();
    server.ca.lock().unwrap().script(
        RequestKind::NewOrder,
        Fault::AuthorizationFor("victim.example".into()),
        1,
    );
    let error = aw!(client.issue(name(), &solver)).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "identifier", .. })),
        "{error:?}"
    );
    assert_eq!(solver.presented.load(Ordering::SeqCst), 0);

    // A certificate for another key than the CSR's: an error, no certificate.
    let responder = responder().await;
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let error = aw!(client.issue(name(), &responder)).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
    assert!(responder.is_empty(), "cleaned up");
}

pub async fn issue_with_csr_checks_the_certificate_against_the_callers_csr() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let responder = responder().await;
    let name = Identifier::dns("csr.example.org").unwrap();
    let (csr, _key) = acme_proto_support::certificate_request(std::slice::from_ref(&name)).unwrap();

    let issued =
        aw!(client.issue_with_csr(NewOrder::new([name.clone()]), csr.clone(), &responder)).unwrap();
    assert_eq!(issued.chain.end_entity().dns_names(), ["csr.example.org"]);

    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let error = aw!(client.issue_with_csr(NewOrder::new([name]), csr, &responder)).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
}
