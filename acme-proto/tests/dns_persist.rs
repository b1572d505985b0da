#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! dns-persist-01 against the in-process fake CA, honest and hostile: the record names
//! this client's account and an issuer domain name the caller allows, whatever the
//! server's challenge says.

mod common;

use acme_proto::client::{
    AuthorizationEvent, ChallengeOffer, DnsPersistRecord, NewOrder, OrderEvent, OrderFlow,
    PersistIssuers, PreAuthorization, Solution,
};
use acme_proto::{Error, MalformedKind};
use acme_proto_fake_ca::{Config, Fault, RequestKind};
use common::ca::{Harness, Solver, assert_clean, dns};

/// A fake CA at `https://ca.test` offering dns-persist-01 with these issuer names, and
/// an account on it.
fn harness(issuers: &[&str]) -> Harness {
    let mut config = Config::new("https://ca.test");
    config.dns_persist_issuers = issuers.iter().map(|s| (*s).to_owned()).collect();
    let mut h = Harness::new(config, 7);
    h.create_account();
    h
}

/// Every dns-persist-01 challenge the CA sends (authorizations, challenges, newAuthz)
/// says this instead of what the CA would.
fn hostile(h: &mut Harness, issuer_domain_names: Option<&[&str]>, accounturi: Option<&str>) {
    let fault = Fault::DnsPersistMembers {
        issuer_domain_names: issuer_domain_names
            .map(|names| names.iter().map(|s| (*s).to_owned()).collect()),
        accounturi: accounturi.map(str::to_owned),
    };
    h.ca.script(RequestKind::Any, fault, 1_000);
}

fn order(name: &str) -> OrderFlow {
    OrderFlow::new(NewOrder::new([dns(name)])).unwrap()
}

/// The dns-persist-01 record of the first Authorize event.
fn persist_offer(solver: &Solver) -> (ChallengeOffer, DnsPersistRecord) {
    solver
        .events
        .iter()
        .find_map(|e| match e {
            OrderEvent::Authorize { offers, .. } => offers.iter().find_map(|o| match &o.solution {
                Solution::DnsPersist01(record) => Some((o.clone(), record.clone())),
                _ => None,
            }),
            _ => None,
        })
        .expect("a dns-persist-01 offer")
}

#[test]
fn the_record_names_this_clients_account_and_the_directorys_host() {
    let mut h = harness(&["other-ca.example", "ca.test"]);
    let mut flow = order("www.example.org");
    let mut solver = Solver::preferring(&["dns-persist-01"]);
    h.order(&mut flow, &mut solver).unwrap();
    let (offer, record) = persist_offer(&solver);
    assert_eq!(solver.provisioned, std::slice::from_ref(&offer.url));
    assert_eq!(record.name(), "_validation-persist.www.example.org");
    assert_eq!(Some(record.account_uri()), h.client.account_url());
    assert_eq!(record.issuer_domain_names().len(), 2);
    assert_eq!(
        record.value(&PersistIssuers::default()).unwrap(),
        format!(
            "ca.test; accounturi={}",
            h.client.account_url().unwrap().as_str()
        )
    );
    let only = PersistIssuers::only(["other-ca.example"]).unwrap();
    assert!(
        record
            .value(&only)
            .unwrap()
            .starts_with("other-ca.example; accounturi=")
    );
    assert_clean(&h);
}

#[test]
fn a_wildcard_record_carries_the_wildcard_policy() {
    let mut h = harness(&["ca.test"]);
    let mut flow = order("*.example.org");
    let mut solver = Solver::preferring(&["dns-persist-01"]);
    h.order(&mut flow, &mut solver).unwrap();
    let (_, record) = persist_offer(&solver);
    assert_eq!(record.name(), "_validation-persist.example.org");
    assert!(
        record
            .value(&PersistIssuers::DirectoryHost)
            .unwrap()
            .ends_with("; policy=wildcard")
    );
}

#[test]
fn a_server_naming_another_account_is_refused() {
    for other in [
        "https://ca.test/acct/999",
        "https://evil.example/acme/acct/1",
    ] {
        let mut h = harness(&["ca.test"]);
        hostile(&mut h, None, Some(other));
        let mut flow = order("www.example.org");
        let mut solver = Solver::preferring(&["dns-persist-01"]);
        let error = h.order(&mut flow, &mut solver).unwrap_err();
        let Error::Malformed(malformed) = &error else {
            panic!("{error:?}")
        };
        assert_eq!(malformed.context, "dns-persist-01 challenge accounturi");
        assert!(matches!(malformed.kind, MalformedKind::Invalid(_)));
        // Nothing was offered, so nothing was provisioned.
        assert!(solver.provisioned.is_empty());
        assert!(
            !solver
                .events
                .iter()
                .any(|e| matches!(e, OrderEvent::Authorize { .. }))
        );

        // The same through pre-authorization.
        let mut pre = PreAuthorization::new(dns("pre.example.org"));
        let mut authorized = 0;
        let error = h
            .run(&mut pre, |_, _, event| {
                if matches!(event, AuthorizationEvent::Authorize { .. }) {
                    authorized += 1;
                }
            })
            .unwrap_err();
        assert!(
            matches!(&error, Error::Malformed(m) if m.context == "dns-persist-01 challenge accounturi"),
            "{error:?}"
        );
        assert_eq!(authorized, 0);
    }
}

#[test]
fn a_server_naming_this_clients_account_is_accepted() {
    let mut h = harness(&["ca.test"]);
    let ours = h.client.account_url().unwrap().as_str().to_owned();
    hostile(&mut h, None, Some(&ours));
    let mut flow = order("www.example.org");
    let mut solver = Solver::preferring(&["dns-persist-01"]);
    h.order(&mut flow, &mut solver).unwrap();
    let (_, record) = persist_offer(&solver);
    assert_eq!(record.account_uri().as_str(), ours);
}

#[test]
fn a_server_naming_only_other_issuers_leaves_nothing_to_publish() {
    let mut h = harness(&["ca.test"]);
    hostile(
        &mut h,
        Some(&["evil.example", "ca.test.evil.example"]),
        None,
    );
    let mut flow = order("www.example.org");
    let mut solver = Solver::preferring(&["http-01"]);
    h.order(&mut flow, &mut solver).unwrap();
    let (_, record) = persist_offer(&solver);
    assert_eq!(record.value(&PersistIssuers::default()), None);
    let only = PersistIssuers::only(["ca.test"]).unwrap();
    assert_eq!(record.value(&only), None);
    let evil = PersistIssuers::only(["evil.example"]).unwrap();
    assert!(
        record.value(&evil).is_some(),
        "only when the caller says so"
    );
}

#[test]
fn issuer_names_that_are_not_dns_names_are_refused() {
    for bad in ["not a name", "*.ca.test", "192.0.2.1", "ca.test\n", ""] {
        let mut h = harness(&["ca.test"]);
        hostile(&mut h, Some(&[bad]), None);
        let mut flow = order("www.example.org");
        let error = h
            .order(&mut flow, &mut Solver::preferring(&["http-01"]))
            .unwrap_err();
        assert!(matches!(error, Error::Malformed(_)), "{bad:?}: {error:?}");
    }
}
