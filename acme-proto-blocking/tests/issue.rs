//! End to end over real TLS: orders against the fake CA, with the http-01 responder
//! checked over real HTTP as the CA would, solver failures, the core's retries, and
//! concurrent orders from several threads over one client.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read as _, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto::client::{AccountCredentials, ChallengeOffer, NewAccount, NewOrder, Solution};
use acme_proto_blocking::{
    AcmeClient, DriverError, Http01Responder, Roots, Solver, SolverError, Transport,
    TransportErrorKind,
};
use acme_proto_fake_ca::{Fault, RequestKind, RetryAfter};
use common::{CaServer, key, keys, quick_account, transport};

fn responder() -> Http01Responder {
    Http01Responder::bind("127.0.0.1:0".parse().unwrap()).unwrap()
}

/// A raw HTTP/1.1 request, as a validation server sends it: status and body.
pub fn fetch(responder: &Http01Responder, method: &str, path: &str) -> (u16, String) {
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
    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.present(offer)?;
        let Solution::Http01 {
            path,
            key_authorization,
            ..
        } = &offer.solution
        else {
            panic!("chose {}", offer.type_name());
        };
        assert_eq!(
            fetch(&self.responder, "GET", path),
            (200, key_authorization.as_str().to_owned())
        );
        self.seen.lock().unwrap().push(offer.clone());
        Ok(())
    }
    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.cleanup(offer)
    }
}

#[test]
fn issues_a_certificate_over_tls_the_few_lines_way() {
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
    client
        .create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"]))
        .unwrap();
    let saved = client.credentials().unwrap().to_json().unwrap();
    let solver = Checked {
        responder: responder(),
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("www.example.org").unwrap(),
        Identifier::ip("192.0.2.7".parse().unwrap()),
    ];
    let certificate = client.issue(names, &solver).unwrap();
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
        again.find_account().unwrap().url,
        client.credentials().unwrap().account_url().clone()
    );
    let as_dyn: &dyn Solver = &solver.responder;
    again
        .issue([Identifier::dns("mail.example.org").unwrap()], as_dyn)
        .unwrap();
    assert_eq!(server.ca.lock().unwrap().accounts().len(), 1);
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn ed25519_p384_and_p521_accounts() {
    let server = CaServer::start();
    let responder = responder();
    for pem in [keys::ED25519, keys::P384, keys::P521] {
        let client = quick_account(&server, pem);
        client
            .issue([Identifier::dns("a.example.org").unwrap()], &responder)
            .unwrap();
    }
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(server.ca.lock().unwrap().certificates().len(), 3);
}

#[test]
fn the_client_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AcmeClient>();
    send_sync::<Transport>();
    send_sync::<Http01Responder>();
    send_sync::<acme_proto_blocking::TlsAlpn01Responder>();
    send_sync::<DriverError>();
}

#[test]
fn twenty_orders_from_four_threads_share_one_client() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 5;
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (client, responder) = (&client, &responder);
                scope.spawn(move || {
                    for i in 0..PER_THREAD {
                        let name = Identifier::dns(&format!("host{t}-{i}.example.org")).unwrap();
                        client.issue([name], responder).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    });
    let elapsed = started.elapsed();
    let orders = THREADS * PER_THREAD;
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), orders);
    assert_eq!(ca.violations(), &[] as &[String]);
    assert!(responder.is_empty());
    let requests = ca.transcript().len();
    println!(
        "{orders} orders from {THREADS} threads in {elapsed:?}: {requests} requests, {} HEAD newNonce",
        ca.head_nonce_requests()
    );
    // One nonce pool: HEAD newNonce only when the pool is empty, never once per request.
    assert!(
        ca.head_nonce_requests() <= orders,
        "{}",
        ca.head_nonce_requests()
    );
}

#[test]
fn concurrent_orders_for_one_name_all_succeed() {
    const THREADS: usize = 4;
    let server = CaServer::start();
    let responder = Arc::new(responder());
    let client = Arc::new(quick_account(&server, keys::P256));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            std::thread::spawn(move || {
                let name = Identifier::dns("shared.example.org").unwrap();
                client.issue([name], &*responder)
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    assert!(
        responder.is_empty(),
        "served until the last order cleaned up"
    );
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), THREADS);
    assert_eq!(ca.violations(), &[] as &[String]);
}

#[test]
fn a_failed_order_still_cleans_up() {
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
    server.ca.lock().unwrap().script(
        RequestKind::Challenge,
        Fault::InvalidChallenge {
            problem_type: "incorrectResponse".into(),
            detail: "wrong key authorization".into(),
        },
        1,
    );
    let error = client
        .issue([Identifier::dns("bad.example.org").unwrap()], &responder)
        .unwrap_err();
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
    fn present(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
        let n = self.presented.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_present || (self.fail_second && n == 2) {
            return Err("the web server is down".into());
        }
        Ok(())
    }
    fn cleanup(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
        self.cleaned.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn solver_failures_end_the_order_and_clean_up() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256);

    let refusing = Counting {
        refuse: true,
        ..Counting::default()
    };
    let error = client
        .issue([Identifier::dns("x.example.org").unwrap()], &refusing)
        .unwrap_err();
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
    let error = client.issue(names, &failing).unwrap_err();
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
    let error = client.issue(names, &second).unwrap_err();
    assert!(matches!(error, DriverError::Solver { .. }), "{error:?}");
    assert_eq!(second.presented.load(Ordering::SeqCst), 2);
    assert_eq!(
        second.cleaned.load(Ordering::SeqCst),
        2,
        "both cleaned up: the one in place and the half-done one"
    );

    let good = Counting::default();
    client
        .issue(
            [
                Identifier::dns("w.example.org").unwrap(),
                Identifier::dns("v.example.org").unwrap(),
            ],
            &good,
        )
        .unwrap();
    assert_eq!(good.presented.load(Ordering::SeqCst), 2);
    assert_eq!(
        good.cleaned.load(Ordering::SeqCst),
        2,
        "exactly one cleanup per present"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[test]
fn refusals_and_waits_are_the_cores_business() {
    let server = CaServer::start();
    let responder = responder();
    let client = quick_account(&server, keys::P256);
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
    client
        .issue([Identifier::dns("retry.example.org").unwrap()], &responder)
        .unwrap();
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

#[test]
fn the_last_transport_failure_comes_back_when_the_core_gives_up() {
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
        .add_root_pem(common::test_pki().root_pem)
        .build()
        .unwrap();
    let client = AcmeClient::from_client(core, transport);
    assert!(client.credentials().is_none());
    match client.find_account().unwrap_err() {
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

#[test]
fn a_lying_server_gets_nothing_presented_and_nothing_issued() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256);
    let name = || [Identifier::dns("www.example.org").unwrap()];

    // An authorization for a name never ordered: nothing presented.
    let solver = Counting::default();
    server.ca.lock().unwrap().script(
        RequestKind::NewOrder,
        Fault::AuthorizationFor("victim.example".into()),
        1,
    );
    let error = client.issue(name(), &solver).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "identifier", .. })),
        "{error:?}"
    );
    assert_eq!(solver.presented.load(Ordering::SeqCst), 0);

    // A certificate for another key than the CSR's: an error, no certificate.
    let responder = responder();
    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let error = client.issue(name(), &responder).unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
    assert!(responder.is_empty(), "cleaned up");
}

#[test]
fn issue_with_csr_checks_the_certificate_against_the_callers_csr() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256);
    let responder = responder();
    let name = Identifier::dns("csr.example.org").unwrap();
    let (csr, _key) = acme_proto_support::certificate_request(std::slice::from_ref(&name)).unwrap();

    let issued = client
        .issue_with_csr(NewOrder::new([name.clone()]), csr.clone(), &responder)
        .unwrap();
    assert_eq!(issued.chain.end_entity().dns_names(), ["csr.example.org"]);

    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let error = client
        .issue_with_csr(NewOrder::new([name]), csr, &responder)
        .unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
}
