//! End to end over real TLS: accounts and orders against the fake CA, with the http-01
//! responder as solver.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use acme_proto::client::{AccountCredentials, ChallengeOffer, NewOrder, Solution};
use acme_proto::{Identifier, UnixTime};
use acme_proto_fake_ca::{Fault, RequestKind};
use acme_proto_tokio::{AcmeClient, DriverError, Http01Responder, Solver, SolverError};
use common::{CaServer, account, key, keys};

async fn responder() -> Http01Responder {
    Http01Responder::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn issues_a_certificate_over_tls() {
    let server = CaServer::start().await;
    let responder = responder().await;
    let client = account(&server, keys::P256).await;
    let names = [
        Identifier::dns("www.example.org").unwrap(),
        Identifier::ip("192.0.2.7".parse().unwrap()),
    ];
    let certificate = client.issue(names, &responder).await.unwrap();
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
    assert!(responder.is_empty(), "every challenge cleaned up");
    assert_eq!(server.violations(), Vec::<String>::new());

    // The credentials bring the account back in another client, which orders again.
    let saved = client.credentials().unwrap().to_json().unwrap();
    let again = AcmeClient::from_credentials(
        AccountCredentials::from_json(&saved).unwrap(),
        server.transport(),
    )
    .unwrap();
    assert_eq!(
        again.find_account().await.unwrap().url,
        client.credentials().unwrap().account_url().clone()
    );
    again
        .issue([Identifier::dns("mail.example.org").unwrap()], &responder)
        .await
        .unwrap();
    assert_eq!(server.ca.lock().unwrap().accounts().len(), 1);
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn ed25519_and_p384_accounts_sign_with_ring() {
    let server = CaServer::start().await;
    let responder = responder().await;
    for pem in [keys::ED25519, keys::P384, keys::P521] {
        let client = account(&server, pem).await;
        client
            .issue([Identifier::dns("a.example.org").unwrap()], &responder)
            .await
            .unwrap();
    }
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(server.ca.lock().unwrap().certificates().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_orders_share_one_client() {
    const ORDERS: usize = 120;
    let server = CaServer::start().await;
    let responder = Arc::new(responder().await);
    let client = Arc::new(account(&server, keys::P256).await);
    let started = Instant::now();
    let tasks: Vec<_> = (0..ORDERS)
        .map(|i| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            tokio::spawn(async move {
                let name = Identifier::dns(&format!("host{i}.example.org")).unwrap();
                client.issue([name], &*responder).await
            })
        })
        .collect();
    let mut issued = 0;
    for task in tasks {
        task.await.unwrap().unwrap();
        issued += 1;
    }
    let elapsed = started.elapsed();
    let ca = server.ca.lock().unwrap();
    assert_eq!(issued, ORDERS);
    assert_eq!(ca.certificates().len(), ORDERS);
    assert_eq!(ca.violations(), &[] as &[String]);
    assert!(responder.is_empty());
    // One nonce pool: HEAD newNonce only when the pool is empty, never once per request.
    let requests = ca.transcript().len();
    println!(
        "{ORDERS} orders in {elapsed:?}: {requests} requests, {} HEAD newNonce",
        ca.head_nonce_requests()
    );
    assert!(
        ca.head_nonce_requests() <= ORDERS,
        "{}",
        ca.head_nonce_requests()
    );
}

#[tokio::test]
async fn a_failed_order_still_cleans_up() {
    let server = CaServer::start().await;
    let responder = responder().await;
    let client = account(&server, keys::P256).await;
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
        .await
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
    async fn present(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
        let n = self.presented.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_present || (self.fail_second && n == 2) {
            return Err("the web server is down".into());
        }
        Ok(())
    }
    async fn cleanup(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
        self.cleaned.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn solver_failures_end_the_order_and_clean_up() {
    let server = CaServer::start().await;
    let client = account(&server, keys::P256).await;

    let refusing = Counting {
        refuse: true,
        ..Counting::default()
    };
    let error = client
        .issue([Identifier::dns("x.example.org").unwrap()], &refusing)
        .await
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
    let error = client.issue(names, &failing).await.unwrap_err();
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
    let error = client.issue(names, &second).await.unwrap_err();
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
        .await
        .unwrap();
    assert_eq!(good.presented.load(Ordering::SeqCst), 2);
    assert_eq!(
        good.cleaned.load(Ordering::SeqCst),
        2,
        "exactly one cleanup per present"
    );
    assert_eq!(server.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn refusals_and_waits_are_the_cores_business() {
    let server = CaServer::start().await;
    let responder = responder().await;
    let client = account(&server, keys::P256).await;
    {
        let mut ca = server.ca.lock().unwrap();
        ca.script(RequestKind::NewOrder, Fault::BadNonce, 2);
        ca.script(
            RequestKind::Finalize,
            Fault::RateLimited(acme_proto_fake_ca::RetryAfter::Seconds(1)),
            1,
        );
    }
    let started = Instant::now();
    client
        .issue([Identifier::dns("retry.example.org").unwrap()], &responder)
        .await
        .unwrap();
    // The 429's Retry-After of one second was slept through, with the real clock.
    assert!(
        started.elapsed().as_millis() >= 900,
        "{:?}",
        started.elapsed()
    );
    let _ = UnixTime::EPOCH;
    assert_eq!(server.ca.lock().unwrap().pending_faults(), 0);
}

#[tokio::test]
async fn the_last_transport_failure_comes_back_when_the_core_gives_up() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut policy = acme_proto::Policy::default();
    policy.max_transport_retries = 2;
    policy.transport_backoff = std::time::Duration::from_millis(20);
    policy.max_transport_backoff = std::time::Duration::from_millis(40);
    let core = acme_proto::Client::new(
        format!("https://127.0.0.1:{port}/directory")
            .parse()
            .unwrap(),
        key(keys::P256),
    )
    .unwrap()
    .with_policy(policy);
    let transport = acme_proto_tokio::Transport::builder()
        .roots(acme_proto_tokio::Roots::None)
        .add_root_pem(common::test_pki().root_pem)
        .build()
        .unwrap();
    let client = AcmeClient::from_client(core, transport);
    assert!(client.credentials().is_none());
    match client.find_account().await.unwrap_err() {
        DriverError::Transport {
            attempts,
            last: Some(last),
        } => {
            assert_eq!(attempts, 3);
            assert_eq!(last.kind(), acme_proto_tokio::TransportErrorKind::Connect);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_for_one_name_all_succeed() {
    const ORDERS: usize = 10;
    let server = CaServer::start().await;
    let responder = Arc::new(responder().await);
    let client = Arc::new(account(&server, keys::P256).await);
    let tasks: Vec<_> = (0..ORDERS)
        .map(|_| {
            let client = Arc::clone(&client);
            let responder = Arc::clone(&responder);
            tokio::spawn(async move {
                let name = Identifier::dns("shared.example.org").unwrap();
                client.issue([name], &*responder).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(
        responder.is_empty(),
        "served until the last order cleaned up"
    );
    let ca = server.ca.lock().unwrap();
    assert_eq!(ca.certificates().len(), ORDERS);
    let mut authorizations: Vec<String> = ca
        .orders()
        .into_iter()
        .flat_map(|o| o.authorizations)
        .collect();
    authorizations.sort();
    authorizations.dedup();
    println!(
        "{ORDERS} orders for one name: {} authorization(s)",
        authorizations.len()
    );
    // How many are shared depends on timing (the fake CA reuses an account's existing
    // authorizations); the responder's reference count is tested in `http01.rs`.
    assert!(authorizations.len() <= ORDERS);
    assert_eq!(ca.violations(), &[] as &[String]);
}

#[tokio::test]
async fn a_lying_server_gets_nothing_presented_and_nothing_issued() {
    let server = CaServer::start().await;
    let client = account(&server, keys::P256).await;
    let name = || [Identifier::dns("www.example.org").unwrap()];

    // An authorization for a name never ordered: nothing presented.
    let solver = Counting::default();
    server.ca.lock().unwrap().script(
        RequestKind::NewOrder,
        Fault::AuthorizationFor("victim.example".into()),
        1,
    );
    let error = client.issue(name(), &solver).await.unwrap_err();
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
    let error = client.issue(name(), &responder).await.unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
    assert!(responder.is_empty(), "cleaned up");
}

#[tokio::test]
async fn issue_with_csr_checks_the_certificate_against_the_callers_csr() {
    let server = CaServer::start().await;
    let client = account(&server, keys::P256).await;
    let responder = responder().await;
    let name = Identifier::dns("csr.example.org").unwrap();
    let (csr, _key) = acme_proto_support::certificate_request(std::slice::from_ref(&name)).unwrap();

    let issued = client
        .issue_with_csr(NewOrder::new([name.clone()]), csr.clone(), &responder)
        .await
        .unwrap();
    assert_eq!(issued.chain.end_entity().dns_names(), ["csr.example.org"]);

    server
        .ca
        .lock()
        .unwrap()
        .script(RequestKind::Finalize, Fault::CertificateForOtherKey, 1);
    let error = client
        .issue_with_csr(NewOrder::new([name]), csr, &responder)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DriverError::Acme(acme_proto::Error::Malformed(m))
            if matches!(&m.kind, acme_proto::MalformedKind::Mismatch { field: "public key", .. })),
        "{error:?}"
    );
}
