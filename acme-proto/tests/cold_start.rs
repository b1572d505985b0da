#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every operation started on a fresh client: credentials only, no directory fetched, an
//! empty nonce pool. A job that renews from saved credentials starts this way. Each
//! operation must fetch the directory itself, store it, and still read its own answer:
//! a GET operation once took the directory's body for its answer (`renewal_info` read it
//! as renewal information and failed as `Malformed`).

mod common;

use acme_proto::client::{
    AuthorizationEvent, NewAccount, NewOrder, Operation as _, OrderEvent, OrderFlow,
    PreAuthorization, Step,
};
use acme_proto::{
    AccountKey, AuthorizationStatus, CertificateInfo, ChallengeStatus, SignatureAlgorithm,
};
use acme_proto_fake_ca::{Config, RequestKind};
use common::TestRng;
use common::ca::{Harness, Solver, csr_with_key, dns};

/// A CA with an account (seed 1) and one certificate, for `name`; the client restarted
/// cold.
fn cold(name: &str) -> (Harness, OrderFlow) {
    let mut h = Harness::with_account();
    let mut flow = OrderFlow::new(NewOrder::new([dns(name)])).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    h.restart_client();
    assert!(h.client.directory().is_none(), "the client starts cold");
    (h, flow)
}

/// After an operation: the directory was fetched once, by this client, and kept.
fn fetched_the_directory_once(h: &Harness, directories_before: usize) {
    assert!(h.client.directory().is_some(), "the directory is stored");
    assert_eq!(
        h.ca.count(RequestKind::Directory) - directories_before,
        1,
        "fetched once"
    );
}

#[test]
fn renewal_info_on_a_fresh_client() {
    let (mut h, _) = cold("ari-cold.example.org");
    let before = h.ca.count(RequestKind::Directory);
    let cert = h.ca.certificates()[0].clone();
    let cert_id = CertificateInfo::from_der(&cert.der)
        .unwrap()
        .cert_id()
        .unwrap();
    let mut op = h.client.renewal_info(&cert_id);
    let suggestion = h.run(&mut op, |_, _, e| match e {}).unwrap();
    let window = suggestion.info.suggested_window;
    assert!(cert.not_before < window.start && window.end < cert.not_after);
    fetched_the_directory_once(&h, before);
}

#[test]
fn directory_and_account_operations_on_a_fresh_client() {
    // Directory.
    let (mut h, _) = cold("dir.example.org");
    let before = h.ca.count(RequestKind::Directory);
    let mut op = h.client.fetch_directory();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    fetched_the_directory_once(&h, before);

    // A new account, a key the CA has not seen.
    let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(77)).unwrap();
    let mut fresh = Harness::with_key(Config::new("https://ca.test"), key);
    std::mem::swap(&mut fresh.ca, &mut h.ca);
    let before = fresh.ca.count(RequestKind::Directory);
    let mut op = fresh
        .client
        .new_account(NewAccount::agreeing_to_terms(["mailto:cold@example.org"]));
    let created = fresh.run(&mut op, |_, _, e| match e {}).unwrap();
    assert!(created.created);
    fetched_the_directory_once(&fresh, before);
    std::mem::swap(&mut fresh.ca, &mut h.ca);

    // Found by its key alone.
    let mut fresh = Harness::new(Config::new("https://ca.test"), 1);
    std::mem::swap(&mut fresh.ca, &mut h.ca);
    let before = fresh.ca.count(RequestKind::Directory);
    let mut op = fresh.client.find_account();
    fresh.run(&mut op, |_, _, e| match e {}).unwrap();
    fetched_the_directory_once(&fresh, before);
    std::mem::swap(&mut fresh.ca, &mut h.ca);

    type Start = fn(
        &acme_proto::Client,
    ) -> acme_proto::client::SingleRequest<acme_proto::client::AccountInfo>;
    let account_operations: [(&str, Start); 3] = [
        ("fetch_account", |c| c.fetch_account().unwrap()),
        ("update_contacts", |c| {
            c.update_contacts(["mailto:other@example.org"]).unwrap()
        }),
        ("deactivate_account", |c| c.deactivate_account().unwrap()),
    ];
    for (name, start) in account_operations {
        h.restart_client();
        let before = h.ca.count(RequestKind::Directory);
        let mut op = start(&h.client);
        let outcome = h.run(&mut op, |_, _, e| match e {});
        assert!(outcome.is_ok(), "{name}: {outcome:?}");
        fetched_the_directory_once(&h, before);
    }
}

#[test]
fn key_rollover_and_order_listing_on_a_fresh_client() {
    let (mut h, _) = cold("list.example.org");
    let before = h.ca.count(RequestKind::Directory);
    let mut op = h.client.list_orders(10).unwrap();
    let orders = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(orders.len(), 1, "{orders:?}");
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let new_key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(78)).unwrap();
    let new_thumbprint = new_key.thumbprint().clone();
    let mut op = h.client.change_key(Box::new(new_key));
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(h.client.thumbprint(), &new_thumbprint);
    fetched_the_directory_once(&h, before);
}

#[test]
fn revocation_on_a_fresh_client() {
    let mut h = Harness::with_account();
    let rcgen_key = rcgen::KeyPair::generate().unwrap();
    let cert_key = AccountKey::from_pkcs8_der(rcgen_key.serialized_der()).unwrap();
    let mut flow = OrderFlow::new(NewOrder::new([dns("rev-cold.example.org")])).unwrap();
    flow.provide_csr(csr_with_key(
        vec!["rev-cold.example.org".to_owned()],
        &rcgen_key,
    ))
    .unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let mut other = OrderFlow::new(NewOrder::new([dns("rev-cold2.example.org")])).unwrap();
    h.order(&mut other, &mut Solver::default()).unwrap();

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let der = h.ca.certificates()[1].der.clone();
    let mut op = h.client.revoke(&der, None).unwrap();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert!(h.ca.certificates()[1].revocation.is_some());
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let der = h.ca.certificates()[0].der.clone();
    let mut op = h
        .client
        .revoke_with_certificate_key(&der, None, Box::new(cert_key));
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert!(h.ca.certificates()[0].revocation.is_some());
    fetched_the_directory_once(&h, before);
}

#[test]
fn authorization_operations_on_a_fresh_client() {
    let (mut h, flow) = cold("authz-cold.example.org");
    let authz = flow.order().unwrap().authorizations[0].clone();

    let before = h.ca.count(RequestKind::Directory);
    let mut op = h.client.fetch_authorization(authz.clone()).unwrap();
    let authorization = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let challenge = authorization.known_challenges().next().unwrap().url.clone();
    let mut op = h.client.answer_challenge(challenge).unwrap();
    let answered = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(answered.status(), Some(ChallengeStatus::Valid));
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let mut op = h.client.poll_authorization(authz.clone()).unwrap();
    let polled = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(polled.status, AuthorizationStatus::Valid);
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let mut op = h.client.deactivate_authorization(authz).unwrap();
    let deactivated = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);
    fetched_the_directory_once(&h, before);

    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let mut pre = PreAuthorization::new(dns("pre-cold.example.org"));
    let authorization = h
        .run(&mut pre, |op, _, event| match event {
            AuthorizationEvent::Authorize { offers, .. } => {
                op.challenge_ready(&offers[0].url).unwrap()
            }
            AuthorizationEvent::Cleanup(_) => {}
            other => panic!("{other:?}"),
        })
        .unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    fetched_the_directory_once(&h, before);
}

#[test]
fn an_order_and_a_resumed_order_on_a_fresh_client() {
    let (mut h, _) = cold("order-cold.example.org");
    let before = h.ca.count(RequestKind::Directory);
    let mut flow = OrderFlow::new(NewOrder::new([dns("order-cold2.example.org")])).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    fetched_the_directory_once(&h, before);

    // Saved once created, and resumed by a fresh client.
    let mut flow = OrderFlow::new(NewOrder::new([dns("order-cold3.example.org")])).unwrap();
    let snapshot = loop {
        if let Some(snapshot) = flow.snapshot() {
            break snapshot;
        }
        match flow.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let response = h.ca.handle(&request, h.now);
                flow.handle_response(&mut h.client, request.id, response, h.now)
                    .unwrap();
            }
            Step::Event(OrderEvent::Created { .. }) => {}
            other => panic!("{other:?}"),
        }
    };
    h.restart_client();
    let before = h.ca.count(RequestKind::Directory);
    let mut resumed = OrderFlow::resume(snapshot);
    h.order(&mut resumed, &mut Solver::default()).unwrap();
    fetched_the_directory_once(&h, before);
    assert_eq!(h.ca.count(RequestKind::NewOrder), 3);
}
