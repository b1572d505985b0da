#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Golden transcripts: the main flows produce byte-identical request sequences on every
//! run (RFC 6979 ECDSA, Ed25519 CSRs, a deterministic fake CA), checked into
//! `tests/golden/`. A change to any request byte fails here; when the change is meant,
//! regenerate with `ACME_PROTO_UPDATE_GOLDEN=1 cargo test -p acme-proto --test golden`
//! and review the diff.

mod common;

use std::fmt::Write as _;
use std::path::PathBuf;

use acme_proto::client::{NewOrder, OrderEvent, OrderFlow, RevocationReason};
use acme_proto::{AccountKey, Identifier, Request, SignatureAlgorithm};
use acme_proto_fake_ca::Config;
use common::TestRng;
use common::ca::{Harness, Solver, csr_with_key, dns};

/// An Ed25519 key from a seed, as rcgen takes it: Ed25519 signatures are deterministic,
/// so the CSR is the same on every run.
fn csr_key(seed: u64) -> rcgen::KeyPair {
    let key = AccountKey::generate(SignatureAlgorithm::EdDsa, &mut TestRng::new(seed)).unwrap();
    rcgen::KeyPair::try_from(key.to_pkcs8_der().unwrap().as_slice()).unwrap()
}

fn names(identifiers: &[Identifier]) -> Vec<String> {
    identifiers
        .iter()
        .map(|i| match i {
            Identifier::Dns(n) => n.as_str().to_owned(),
            Identifier::Ip(ip) => ip.to_string(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Solves orders like [`Solver`], but with a deterministic CSR.
fn solve(seed: u64) -> impl FnMut(&mut OrderFlow, OrderEvent) {
    let mut solver = Solver::preferring(&["http-01", "dns-01"]);
    move |flow, event| match event {
        OrderEvent::NeedCsr { identifiers } => {
            flow.provide_csr(csr_with_key(names(&identifiers), &csr_key(seed)))
                .unwrap();
        }
        other => solver.on_event(flow, other),
    }
}

fn render(requests: &[Request]) -> String {
    let mut out = String::new();
    for r in requests {
        writeln!(out, "{} {} {}", r.id, r.method, r.url).unwrap();
        for (name, value) in r.headers.iter() {
            writeln!(out, "  {name}: {}", String::from_utf8_lossy(value)).unwrap();
        }
        if !r.body.is_empty() {
            writeln!(out, "  {}", String::from_utf8_lossy(&r.body)).unwrap();
        }
    }
    out
}

fn check(name: &str, requests: &[Request]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    let actual = render(requests);
    if std::env::var_os("ACME_PROTO_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; generate it with ACME_PROTO_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e);
        panic!(
            "{name}: the requests differ from {} (first at line {line:?})",
            path.display()
        );
    }
}

fn harness() -> Harness {
    let mut h = Harness::new(Config::new("https://ca.test"), 2024);
    h.create_account();
    h
}

fn run_order(h: &mut Harness, identifiers: Vec<Identifier>, seed: u64) {
    let mut flow = OrderFlow::new(NewOrder::new(identifiers)).unwrap();
    let mut solve = solve(seed);
    h.run(&mut flow, |op, _, event| solve(op, event)).unwrap();
}

#[test]
fn one_name_http01_order() {
    let mut h = harness();
    run_order(&mut h, vec![dns("www.example.org")], 1);
    check("one_name_http01_order", &h.sent);
}

#[test]
fn three_name_mixed_order() {
    let mut h = harness();
    run_order(
        &mut h,
        vec![
            dns("example.org"),
            dns("*.example.org"),
            Identifier::ip("192.0.2.7".parse().unwrap()),
        ],
        2,
    );
    check("three_name_mixed_order", &h.sent);
}

#[test]
fn key_rollover() {
    let mut h = harness();
    let new_key = AccountKey::generate(SignatureAlgorithm::Es384, &mut TestRng::new(77)).unwrap();
    let mut op = h.client.change_key(Box::new(new_key));
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    let mut op = h.client.fetch_account().unwrap();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    check("key_rollover", &h.sent);
}

#[test]
fn revocation() {
    let mut h = harness();
    run_order(&mut h, vec![dns("revoke.example.org")], 3);
    let der = h.ca.certificates()[0].der.clone();
    let start = h.sent.len();
    let mut op = h
        .client
        .revoke(&der, Some(RevocationReason::CessationOfOperation))
        .unwrap();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    check("revocation", &h.sent[start..]);
}

#[test]
fn runs_are_identical() {
    // The property the golden files rest on, checked without them too.
    let transcript = || {
        let mut h = harness();
        run_order(&mut h, vec![dns("a.example.org"), dns("b.example.org")], 9);
        render(&h.sent)
    };
    assert_eq!(transcript(), transcript());
}
