#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every non-order operation against the in-process fake CA: accounts (create, find,
//! fetch, contacts, key rollover, deactivation, order listing, EAB), revocation by
//! account key and by certificate key, ARI, pre-authorization and authorization
//! deactivation.

mod common;

use acme_proto::TransportFailure;
use acme_proto::client::{
    AuthorizationEvent, KeyRollover, NewAccount, NewOrder, Operation as _, OrderEvent, OrderFlow,
    PreAuthorization, RevocationReason, RolloverState, Step,
};
use acme_proto::{
    AccountKey, AccountStatus, AuthorizationStatus, EabAlgorithm, Error, ExternalAccountBinding,
    ProblemType, SignatureAlgorithm,
};
use acme_proto_fake_ca::{Config, EabConfig, RequestKind};
use common::TestRng;
use common::ca::{Harness, Solver, assert_clean, csr_with_key, dns};

fn key(seed: u64, alg: SignatureAlgorithm) -> AccountKey {
    AccountKey::generate(alg, &mut TestRng::new(seed)).unwrap()
}

#[test]
fn create_then_find_the_same_account() {
    let mut h = Harness::new(Config::new("https://ca.test"), 7);
    let created = h.create_account();
    assert!(created.created);
    assert_eq!(created.account.status, AccountStatus::Valid);
    assert_eq!(created.account.contact, ["mailto:admin@example.org"]);
    assert_eq!(h.client.account_url(), Some(&created.url));

    // Creating again with the same key finds the existing account (200, not 201).
    let again = h.create_account();
    assert!(!again.created);
    assert_eq!(again.url, created.url);

    // onlyReturnExisting from a fresh client with the same key.
    let mut fresh = Harness::new(Config::new("https://ca.test"), 7);
    std::mem::swap(&mut fresh.ca, &mut h.ca);
    let mut op = fresh.client.find_account();
    let found = fresh.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(found.url, created.url);
    assert_eq!(fresh.client.account_url(), Some(&created.url));
    assert_clean(&fresh);
}

#[test]
fn find_without_an_account_is_account_does_not_exist() {
    let mut h = Harness::new(Config::new("https://ca.test"), 8);
    let mut op = h.client.find_account();
    let outcome = h.run(&mut op, |_, _, e| match e {});
    let Err(Error::Problem(p)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(p.kind, ProblemType::AccountDoesNotExist);
    assert!(h.client.account_url().is_none());
    assert_eq!(h.ca.accounts().len(), 0);
}

#[test]
fn terms_of_service_must_be_agreed_when_required() {
    let mut config = Config::new("https://ca.test");
    config.terms_of_service = Some("https://ca.test/terms".into());
    config.require_terms_agreement = true;
    let mut h = Harness::new(config, 9);
    let mut fetch = h.client.fetch_directory();
    h.run(&mut fetch, |_, _, e| match e {}).unwrap();
    let terms = h.client.directory().unwrap().meta.terms_of_service.clone();
    assert_eq!(terms.unwrap().as_str(), "https://ca.test/terms");

    let mut op = h.client.new_account(NewAccount::default());
    assert!(matches!(
        h.run(&mut op, |_, _, e| match e {}),
        Err(Error::Problem(_))
    ));
    assert!(h.create_account().created);
    assert!(h.ca.accounts()[0].terms_agreed);
}

#[test]
fn external_account_binding_with_each_mac_algorithm() {
    for (alg, seed) in [
        (EabAlgorithm::Hs256, 10),
        (EabAlgorithm::Hs384, 11),
        (EabAlgorithm::Hs512, 12),
    ] {
        let mac_key = [0x5au8; 32];
        let mut config = Config::new("https://ca.test");
        config.eab = Some(EabConfig::new("kid-1", &mac_key, alg));
        let mut h = Harness::new(config, seed);
        // Without the binding: refused.
        let mut op = h
            .client
            .new_account(NewAccount::agreeing_to_terms(Vec::<String>::new()));
        let Err(Error::Problem(p)) = h.run(&mut op, |_, _, e| match e {}) else {
            panic!()
        };
        assert_eq!(p.kind, ProblemType::ExternalAccountRequired, "{alg:?}");
        // With it, as the CA hands the MAC key out: base64url.
        let eab = ExternalAccountBinding::new(
            "kid-1",
            "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo",
            alg,
        )
        .unwrap();
        let mut op = h.client.new_account(
            NewAccount::agreeing_to_terms(["mailto:a@example.org"])
                .with_external_account_binding(eab),
        );
        assert!(
            h.run(&mut op, |_, _, e| match e {}).unwrap().created,
            "{alg:?}"
        );
        assert_clean(&h);
    }
}

#[test]
fn contacts_update_and_fetch() {
    let mut h = Harness::with_account();
    let mut op = h
        .client
        .update_contacts(["mailto:new@example.org", "mailto:second@example.org"])
        .unwrap();
    let updated = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(
        updated.account.contact,
        ["mailto:new@example.org", "mailto:second@example.org"]
    );
    let mut op = h.client.fetch_account().unwrap();
    let fetched = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(fetched.account.contact, updated.account.contact);
    assert_eq!(h.ca.accounts()[0].contact, updated.account.contact);
    assert_clean(&h);
}

#[test]
fn key_rollover_then_issue_with_the_new_key() {
    for alg in [
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::EdDsa,
        SignatureAlgorithm::Es512,
    ] {
        let mut h = Harness::with_account();
        let new_key = key(99, alg);
        let new_thumbprint = new_key.thumbprint().clone();
        let mut op = h.client.change_key(Box::new(new_key));
        h.run(&mut op, |_, _, e| match e {}).unwrap();
        assert_eq!(op.state(), RolloverState::Applied);
        assert_eq!(
            h.client.thumbprint(),
            &new_thumbprint,
            "{alg:?}: the new key is in use"
        );
        assert_eq!(h.ca.accounts()[0].thumbprint, new_thumbprint.as_str());
        let mut flow = OrderFlow::new(NewOrder::new([dns("rolled.example.org")])).unwrap();
        h.order(&mut flow, &mut Solver::default()).unwrap();
        assert_clean(&h);
    }
}

#[test]
fn refused_key_rollover_keeps_the_old_key() {
    let mut h = Harness::with_account();
    // The "new" key already belongs to another account: 409.
    let mut other = Harness::new(Config::new("https://ca.test"), 55);
    std::mem::swap(&mut other.ca, &mut h.ca);
    other.create_account();
    std::mem::swap(&mut other.ca, &mut h.ca);
    let old = h.client.thumbprint().clone();
    let mut op = h
        .client
        .change_key(Box::new(key(55, SignatureAlgorithm::Es256)));
    let outcome = h.run(&mut op, |_, _, e| match e {});
    assert!(matches!(outcome, Err(Error::Problem(_))), "{outcome:?}");
    assert_eq!(op.state(), RolloverState::NotApplied);
    assert!(op.take_new_key().is_some(), "the refused key comes back");
    assert_eq!(h.client.thumbprint(), &old);
    // And the account still works with the old key.
    let mut op = h.client.fetch_account().unwrap();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
}

/// Drives a rollover against the harness's CA, where the key change's answer is lost:
/// the CA processes it first when `applied`, then the driver reports `failure` instead
/// of the response. Every other request is answered, except that `check_fails` loses
/// the lookup by the new key too (a failure that is never resent).
fn rollover_losing_the_answer(
    h: &mut Harness,
    op: &mut KeyRollover,
    applied: bool,
    check_fails: bool,
) -> Result<(), Error> {
    for _ in 0..1_000 {
        match op.poll(&mut h.client, h.now) {
            Step::Send(request) => {
                let path = request.url.path().to_owned();
                if path.ends_with("/key-change") {
                    if applied {
                        let _ = h.ca.handle(&request, h.now);
                    }
                    op.handle_transport_failure(
                        &mut h.client,
                        request.id,
                        TransportFailure::Reset,
                        h.now,
                    )
                    .unwrap();
                } else if check_fails && path.ends_with("/new-account") {
                    op.handle_transport_failure(
                        &mut h.client,
                        request.id,
                        TransportFailure::Tls,
                        h.now,
                    )
                    .unwrap();
                } else {
                    let response = h.ca.handle(&request, h.now);
                    op.handle_response(&mut h.client, request.id, response, h.now)
                        .unwrap();
                }
                h.sent.push(request);
            }
            Step::Wait(wait) => h.now = wait.until,
            Step::Done => return op.take_outcome().expect("an outcome once done"),
            other => panic!("{other:?}"),
        }
    }
    panic!("the rollover did not finish")
}

#[test]
fn a_rollover_whose_answer_was_lost_is_resolved_by_the_new_key() {
    // Applied by the server, answer lost: the lookup by the new key finds this account,
    // and the client signs with the new key.
    let mut h = Harness::with_account();
    let new_thumbprint = key(77, SignatureAlgorithm::Es256).thumbprint().clone();
    let lookups = h.ca.count(RequestKind::NewAccount);
    let mut op = h
        .client
        .change_key(Box::new(key(77, SignatureAlgorithm::Es256)));
    rollover_losing_the_answer(&mut h, &mut op, true, false).unwrap();
    assert_eq!(op.state(), RolloverState::Applied);
    assert!(op.take_new_key().is_none(), "the client has it");
    assert_eq!(h.client.thumbprint(), &new_thumbprint);
    assert_eq!(h.ca.accounts()[0].thumbprint, new_thumbprint.as_str());
    assert_eq!(
        h.ca.count(RequestKind::NewAccount),
        lookups + 1,
        "one lookup"
    );
    let mut fetch = h.client.fetch_account().unwrap();
    h.run(&mut fetch, |_, _, e| match e {}).unwrap();

    // Not applied (lost before the server saw it): the lookup finds no account for the
    // new key; the old key stays, and the new one comes back.
    let mut h = Harness::with_account();
    let old = h.client.thumbprint().clone();
    let mut op = h
        .client
        .change_key(Box::new(key(78, SignatureAlgorithm::Es256)));
    let outcome = rollover_losing_the_answer(&mut h, &mut op, false, false);
    assert!(
        matches!(outcome, Err(Error::Transport { .. })),
        "{outcome:?}"
    );
    assert_eq!(op.state(), RolloverState::NotApplied);
    let back = op.take_new_key().expect("the new key comes back");
    assert_eq!(
        back.public_jwk().thumbprint(),
        *key(78, SignatureAlgorithm::Es256).thumbprint()
    );
    assert_eq!(h.client.thumbprint(), &old);
    let mut fetch = h.client.fetch_account().unwrap();
    h.run(&mut fetch, |_, _, e| match e {}).unwrap();

    // Applied, and the lookup fails too: unknown, the new key comes back to be kept.
    let mut h = Harness::with_account();
    let old = h.client.thumbprint().clone();
    let mut op = h
        .client
        .change_key(Box::new(key(79, SignatureAlgorithm::Es256)));
    let outcome = rollover_losing_the_answer(&mut h, &mut op, true, true);
    assert!(
        matches!(outcome, Err(Error::Transport { .. })),
        "{outcome:?}"
    );
    assert_eq!(op.state(), RolloverState::Unknown);
    assert!(op.take_new_key().is_some(), "the new key comes back");
    assert_eq!(h.client.thumbprint(), &old);
}

#[test]
fn a_rollover_asked_wrongly_ends_at_once_and_gives_the_key_back() {
    // No account yet: nothing is sent.
    let mut h = Harness::new(Config::new("https://ca.test"), 12);
    let mut op = h
        .client
        .change_key(Box::new(key(13, SignatureAlgorithm::Es256)));
    let outcome = h.run(&mut op, |_, _, e| match e {});
    assert!(matches!(outcome, Err(Error::Misuse(_))), "{outcome:?}");
    assert_eq!(op.state(), RolloverState::NotApplied);
    assert!(op.take_new_key().is_some());
    assert!(h.sent.is_empty(), "{:?}", h.sent);
    // The same key again.
    let mut h = Harness::with_account();
    let sent = h.sent.len();
    let mut op = h
        .client
        .change_key(Box::new(key(1, SignatureAlgorithm::Es256)));
    let outcome = h.run(&mut op, |_, _, e| match e {});
    assert!(matches!(outcome, Err(Error::Misuse(_))), "{outcome:?}");
    assert!(op.take_new_key().is_some());
    assert_eq!(h.sent.len(), sent);
}

#[test]
fn deactivation_then_a_typed_error() {
    let mut h = Harness::with_account();
    let mut op = h.client.deactivate_account().unwrap();
    let info = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let mut flow = OrderFlow::new(NewOrder::new([dns("late.example.org")])).unwrap();
    let outcome = h.order(&mut flow, &mut Solver::default());
    let Err(Error::Problem(p)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(p.kind, ProblemType::Unauthorized);
}

#[test]
fn order_listing_follows_every_page() {
    let mut config = Config::new("https://ca.test");
    config.orders_page_size = 2;
    let mut h = Harness::new(config, 3);
    h.create_account();
    let mut urls = Vec::new();
    for i in 0..5 {
        let mut flow = OrderFlow::new(NewOrder::new([dns(&format!("l{i}.example.org"))])).unwrap();
        h.order(&mut flow, &mut Solver::default()).unwrap();
        urls.push(flow.url().unwrap().clone());
    }
    let mut op = h.client.list_orders(100).unwrap();
    let mut listed = h.run(&mut op, |_, _, e| match e {}).unwrap();
    listed.sort();
    urls.sort();
    assert_eq!(listed, urls);
    assert_eq!(
        h.ca.count(RequestKind::AccountOrders),
        3,
        "three pages of two"
    );

    // The page bound holds.
    let mut op = h.client.list_orders(1).unwrap();
    assert_eq!(
        h.run(&mut op, |_, _, e| match e {}).unwrap().len(),
        2,
        "one page of two"
    );
    assert_clean(&h);
}

#[test]
fn revocation_by_account_key_and_by_certificate_key() {
    let mut h = Harness::with_account();
    h.order(
        &mut OrderFlow::new(NewOrder::new([dns("rev1.example.org")])).unwrap(),
        &mut Solver::default(),
    )
    .unwrap();
    let der = h.ca.certificates()[0].der.clone();
    let mut op = h
        .client
        .revoke(&der, Some(RevocationReason::Superseded))
        .unwrap();
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    let revocation = h.ca.certificates()[0].revocation.unwrap();
    assert_eq!(revocation.reason, Some(4));
    assert!(!revocation.by_certificate_key);
    // Again: alreadyRevoked.
    let mut op = h.client.revoke(&der, None).unwrap();
    let Err(Error::Problem(p)) = h.run(&mut op, |_, _, e| match e {}) else {
        panic!()
    };
    assert_eq!(p.kind, ProblemType::AlreadyRevoked);

    // A certificate whose key we hold, revoked with that key, no account involved.
    let cert_key = key(42, SignatureAlgorithm::Es256);
    let pkcs8 = cert_key.to_pkcs8_der().unwrap();
    let rcgen_key = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
    let request = csr_with_key(vec!["rev2.example.org".to_owned()], &rcgen_key);
    let mut flow = OrderFlow::new(NewOrder::new([dns("rev2.example.org")])).unwrap();
    flow.provide_csr(request).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let der = h.ca.certificates()[1].der.clone();
    let mut op = h.client.revoke_with_certificate_key(
        &der,
        Some(RevocationReason::KeyCompromise),
        Box::new(cert_key),
    );
    h.run(&mut op, |_, _, e| match e {}).unwrap();
    let revocation = h.ca.certificates()[1].revocation.unwrap();
    assert_eq!(revocation.reason, Some(1));
    assert!(revocation.by_certificate_key);
    assert_clean(&h);
}

#[test]
fn renewal_information_and_the_time_to_renew() {
    let mut h = Harness::with_account();
    h.order(
        &mut OrderFlow::new(NewOrder::new([dns("ari.example.org")])).unwrap(),
        &mut Solver::default(),
    )
    .unwrap();
    let cert = h.ca.certificates()[0].clone();
    let cert_id = acme_proto::CertificateInfo::from_der(&cert.der)
        .unwrap()
        .cert_id()
        .unwrap();
    assert_eq!(cert_id.as_str(), cert.cert_id, "our certID is the CA's");
    let mut op = h.client.renewal_info(&cert_id);
    let suggestion = h.run(&mut op, |_, _, e| match e {}).unwrap();
    let window = suggestion.info.suggested_window;
    assert!(
        cert.not_before < window.start && window.end < cert.not_after,
        "{window:?}"
    );
    assert!(suggestion.retry_after.is_some());
    for random in [0, u64::MAX / 3, u64::MAX] {
        let at = suggestion.renewal_time(random, h.now);
        assert!(
            window.start <= at && at <= window.end,
            "{at:?} outside {window:?}"
        );
    }
    // A window in the past means: renew now.
    let late = window.end.saturating_add(std::time::Duration::from_secs(1));
    assert_eq!(suggestion.renewal_time(7, late), late);
    assert_eq!(h.ca.count(RequestKind::RenewalInfo), 1);
}

#[test]
fn pre_authorization_then_an_order_without_challenges() {
    let mut h = Harness::with_account();
    let mut pre = PreAuthorization::new(dns("pre.example.org"));
    let mut cleaned = Vec::new();
    let authorization = h
        .run(&mut pre, |op, _, event| match event {
            AuthorizationEvent::Authorize { offers, .. } => {
                op.challenge_ready(&offers[0].url).unwrap()
            }
            AuthorizationEvent::Cleanup(offer) => cleaned.push(offer.url),
            other => panic!("{other:?}"),
        })
        .unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert_eq!(cleaned.len(), 1);
    let mut solver = Solver::default();
    h.order(
        &mut OrderFlow::new(NewOrder::new([dns("pre.example.org")])).unwrap(),
        &mut solver,
    )
    .unwrap();
    assert!(
        !solver
            .events
            .iter()
            .any(|e| matches!(e, OrderEvent::Authorize { .. }))
    );
    assert_clean(&h);
}

#[test]
fn a_pre_authorization_gives_its_outcome_only_with_done_after_its_cleanup() {
    // The order flow's rule (found by fuzzing), which pre-authorization broke: its
    // outcome could be taken while its `Cleanup` was still queued.
    let mut h = Harness::with_account();
    let mut pre = PreAuthorization::new(dns("held.example.org"));
    let mut outcome_at_cleanup = None;
    let authorization = h
        .run(&mut pre, |op, _, event| match event {
            AuthorizationEvent::Authorize { offers, .. } => {
                op.challenge_ready(&offers[0].url).unwrap()
            }
            AuthorizationEvent::Cleanup(_) => {
                outcome_at_cleanup = Some(op.take_outcome().is_some())
            }
            other => panic!("{other:?}"),
        })
        .unwrap();
    assert_eq!(
        outcome_at_cleanup,
        Some(false),
        "the outcome came before Done"
    );
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
}

#[test]
fn pre_authorization_waits_as_the_challenge_response_asks() {
    let mut config = Config::new("https://ca.test");
    config.challenge_retry_after = Some(5);
    config.poll_retry_after = None;
    config.validation_polls = 1;
    let mut h = Harness::new(config, 7);
    h.create_account();
    let start = h.now;
    let mut pre = PreAuthorization::new(dns("hinted.example.org"));
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
    let elapsed = h.now.saturating_duration_since(start);
    assert!(elapsed >= std::time::Duration::from_secs(5), "{elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(6), "{elapsed:?}");
}

#[test]
fn an_authorization_is_fetched_and_its_challenge_answered_outside_an_order() {
    let mut h = Harness::with_account();
    let mut flow = OrderFlow::new(NewOrder::new([dns("fetched.example.org")])).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let url = flow.order().unwrap().authorizations[0].clone();
    let mut op = h.client.fetch_authorization(url.clone()).unwrap();
    let authorization = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    assert_eq!(authorization.identifier, dns("fetched.example.org"));
    let challenge = authorization.known_challenges().next().unwrap().url.clone();
    let mut op = h.client.answer_challenge(challenge).unwrap();
    let answered = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(answered.status(), Some(acme_proto::ChallengeStatus::Valid));
    // Both need an account.
    let fresh = Harness::new(Config::new("https://ca.test"), 9);
    assert!(fresh.client.fetch_authorization(url.clone()).is_err());
    assert!(fresh.client.answer_challenge(url).is_err());
    assert_clean(&h);
}

/// An authorization whose challenge the caller answered itself: the pre-authorization
/// is left at its challenge, then answered and polled outside it.
fn answered_outside(h: &mut Harness, name: &str) -> url::Url {
    let mut pre = PreAuthorization::new(dns(name));
    let mut challenge = None;
    let outcome = h.run(&mut pre, |op, _, event| match event {
        AuthorizationEvent::Authorize { offers, .. } => {
            challenge = Some(offers[0].url.clone());
            op.abandon();
        }
        other => panic!("{other:?}"),
    });
    assert!(matches!(outcome, Err(Error::Abandoned)), "{outcome:?}");
    let mut answer = h.client.answer_challenge(challenge.unwrap()).unwrap();
    h.run(&mut answer, |_, _, e| match e {}).unwrap();
    pre.url().unwrap().clone()
}

#[test]
fn an_authorization_is_polled_until_it_settles_at_the_servers_pace() {
    let mut config = Config::new("https://ca.test");
    config.validation_polls = 3;
    config.poll_retry_after = Some(2);
    let mut h = Harness::new(config, 7);
    h.create_account();
    let url = answered_outside(&mut h, "polled.example.org");
    let fetches = h.ca.count(RequestKind::Authorization);
    let start = h.now;
    let mut op = h.client.poll_authorization(url).unwrap();
    let authorization = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Valid);
    // Pending three times, each with `Retry-After: 2`, then valid.
    assert_eq!(h.ca.count(RequestKind::Authorization) - fetches, 4);
    assert_eq!(
        h.now.saturating_duration_since(start),
        std::time::Duration::from_secs(6)
    );
    assert!(
        Harness::new(Config::new("https://ca.test"), 9)
            .client
            .poll_authorization("https://ca.test/authz/1".parse().unwrap())
            .is_err(),
        "needs an account"
    );
}

#[test]
fn an_authorization_that_stays_pending_times_out_within_the_patience() {
    let mut config = Config::new("https://ca.test");
    config.poll_retry_after = None;
    let mut h = Harness::new(config, 7);
    h.create_account();
    h.ca.script(
        RequestKind::Challenge,
        acme_proto_fake_ca::Fault::AuthorizationPendingPolls(u32::MAX),
        1,
    );
    let url = answered_outside(&mut h, "stuck.example.org");
    let start = h.now;
    let mut op = h.client.poll_authorization(url).unwrap();
    let outcome = h.run(&mut op, |_, _, e| match e {});
    assert!(matches!(outcome, Err(Error::Timeout { .. })), "{outcome:?}");
    let waited = h.now.saturating_duration_since(start);
    assert!(
        waited <= acme_proto::Policy::default().poll_patience,
        "{waited:?}"
    );
}

/// A pre-authorization abandoned after its challenge was said ready: the challenge
/// comes back to clean up, then `Done` with `Abandoned`, and nothing more is sent.
#[test]
fn an_abandoned_pre_authorization_gives_back_its_challenge() {
    let mut h = Harness::with_account();
    let mut pre = PreAuthorization::new(dns("abandoned.example.org"));
    let mut cleaned = Vec::new();
    let mut ready = None;
    let outcome = h.run(&mut pre, |op, _, event| match event {
        AuthorizationEvent::Authorize { offers, .. } => {
            op.challenge_ready(&offers[0].url).unwrap();
            ready = Some(offers[0].url.clone());
            op.abandon();
        }
        AuthorizationEvent::Cleanup(offer) => cleaned.push(offer.url),
        other => panic!("{other:?}"),
    });
    assert!(matches!(outcome, Err(Error::Abandoned)), "{outcome:?}");
    assert_eq!(cleaned, ready.into_iter().collect::<Vec<_>>());
    assert_eq!(
        h.ca.count(RequestKind::Challenge),
        0,
        "nothing sent after abandon"
    );
}

#[test]
fn authorization_deactivation() {
    let mut h = Harness::with_account();
    let mut flow = OrderFlow::new(NewOrder::new([dns("d.example.org")])).unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let authz = flow.order().unwrap().authorizations[0].clone();
    let mut op = h.client.deactivate_authorization(authz).unwrap();
    let deactivated = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(deactivated.status, AuthorizationStatus::Deactivated);
    // The next order for that name needs a challenge again.
    let mut solver = Solver::default();
    h.order(
        &mut OrderFlow::new(NewOrder::new([dns("d.example.org")])).unwrap(),
        &mut solver,
    )
    .unwrap();
    assert!(
        solver
            .events
            .iter()
            .any(|e| matches!(e, OrderEvent::Authorize { .. }))
    );
    assert_clean(&h);
}

#[test]
fn validity_period_is_requested() {
    let mut h = Harness::with_account();
    let not_before = common::ca::T0.saturating_add(std::time::Duration::from_secs(3600));
    let not_after = not_before.saturating_add(std::time::Duration::from_secs(7 * 86_400));
    let mut flow = OrderFlow::new(
        NewOrder::new([dns("period.example.org")]).valid_between(Some(not_before), Some(not_after)),
    )
    .unwrap();
    h.order(&mut flow, &mut Solver::default()).unwrap();
    let cert = &h.ca.certificates()[0];
    assert_eq!((cert.not_before, cert.not_after), (not_before, not_after));
    assert_eq!(flow.order().unwrap().not_after, Some(not_after));
}

#[test]
fn explanation_url_is_read() {
    let mut config = Config::new("https://ca.test");
    let mut ari = acme_proto_fake_ca::AriConfig::default();
    ari.explanation_url = Some("https://ca.test/why".into());
    config.ari = Some(ari);
    let mut h = Harness::new(config, 4);
    h.create_account();
    h.order(
        &mut OrderFlow::new(NewOrder::new([dns("why.example.org")])).unwrap(),
        &mut Solver::default(),
    )
    .unwrap();
    let der = h.ca.certificates()[0].der.clone();
    let cert_id = acme_proto::CertificateInfo::from_der(&der)
        .unwrap()
        .cert_id()
        .unwrap();
    let mut op = h.client.renewal_info(&cert_id);
    let suggestion = h.run(&mut op, |_, _, e| match e {}).unwrap();
    assert_eq!(
        suggestion.info.explanation_url.unwrap().as_str(),
        "https://ca.test/why"
    );
}

#[test]
fn saved_credentials_work_in_another_process() {
    use acme_proto::client::AccountCredentials;
    let mut algorithms = vec![
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::EdDsa,
    ];
    if cfg!(feature = "rsa") {
        algorithms.push(SignatureAlgorithm::Rs256);
    }
    for (i, alg) in algorithms.into_iter().enumerate() {
        let seed = 300 + i as u64;
        let mut h = Harness::with_key(Config::new("https://ca.test"), key(seed, alg));
        let info = h.create_account();
        let saved = AccountCredentials::new(
            h.client.directory_url().clone(),
            info.url.clone(),
            key(seed, alg),
        )
        .to_json()
        .unwrap();
        let loaded = AccountCredentials::from_json(&saved).unwrap();
        assert_eq!(loaded.key().algorithm(), alg);
        h.client = loaded.into_client().unwrap();
        let mut op = h.client.fetch_account().unwrap();
        let fetched = h.run(&mut op, |_, _, e| match e {}).unwrap();
        assert_eq!(fetched.url, info.url, "{alg:?}");
        assert_clean(&h);
    }
    assert!(AccountCredentials::from_json(b"{\"directory\":1}").is_err());
    assert!(AccountCredentials::from_json(&vec![b' '; 20_000]).is_err());
}
