//! The scenarios against Pebble: every challenge type, wildcards, IP addresses, EAB,
//! key rollover, contacts, deactivation, both revocations, alternate chains,
//! authorization reuse, strict mode, rejected nonces, order listing and renewal
//! information, on Pebble 2.10.3 (`pebble_2_4.rs` has what still runs on Debian's 2.4.0).

use acme_proto::client::{NewAccount, RevocationReason};
use acme_proto::crypto::{EabAlgorithm, ExternalAccountBinding, SignatureAlgorithm, Signer as _};
use acme_proto::{AccountStatus, CertificateChain, ProblemType};
use acme_proto_tests::{PebbleOptions, verify_chain};

use super::{Challenge, Fixture, problem, transport};
use acme_proto_support::copy_key;

use crate::driver::{AcmeClient, generate_account_key};

/// For messages: which driver ran the scenario.
const DRIVER: &str = crate::DRIVER_NAME;

driver_tests!(
    http01,
    dns01,
    tls_alpn01,
    wildcard,
    ip_address,
    ten_names,
    eab_required,
    key_rollover_then_issue,
    contact_update,
    find_existing_account,
    deactivation_then_typed_error,
    revocation_both_ways,
    alternate_roots_preferred_chain,
    authz_reuse_skips_the_challenge,
    strict_mode,
    nonce_rejection,
    orders_listed_and_renewal_info,
);

pub async fn http01() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    f.issue(&client, &["http01.example.org"], Challenge::Http01)
        .await;
}

pub async fn dns01() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    f.issue(&client, &["dns01.example.org"], Challenge::Dns01)
        .await;
    // The hook's cleanup removed the record.
    let left = f
        .pebble
        .challtestsrv()
        .lookup_txt("_acme-challenge.dns01.example.org")
        .expect("lookup");
    assert!(left.is_empty(), "{}: TXT records left: {left:?}", DRIVER);
}

pub async fn tls_alpn01() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    f.issue(&client, &["tlsalpn.example.org"], Challenge::TlsAlpn01)
        .await;
}

pub async fn wildcard() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let certificate = f
        .issue(
            &client,
            &["*.wild.example.org", "wild.example.org"],
            Challenge::Dns01,
        )
        .await;
    let names = certificate.issued.chain.end_entity().dns_names().to_vec();
    assert!(
        names.contains(&"*.wild.example.org".to_owned()),
        "{names:?}"
    );
}

pub async fn ip_address() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let certificate = f.issue(&client, &["127.0.0.1"], Challenge::Http01).await;
    assert_eq!(
        certificate.issued.chain.end_entity().ip_addresses(),
        &["127.0.0.1".parse::<std::net::IpAddr>().expect("ip")]
    );
}

pub async fn ten_names() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let names: Vec<String> = (0..10)
        .map(|i| format!("name{i}.ten.example.org"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let certificate = f.issue(&client, &names, Challenge::Http01).await;
    assert_eq!(certificate.issued.chain.end_entity().dns_names().len(), 10);
}

pub async fn eab_required() {
    // Pebble's EAB keys are standard base64 of the raw key; this one is base64url-safe.
    const KID: &str = "kid-1";
    const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let Some(f) = Fixture::start(PebbleOptions::default().eab_key(KID, KEY)) else {
        return;
    };
    let client = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let refused = aw!(client.create_account(NewAccount::agreeing_to_terms(Vec::<String>::new())))
        .expect_err("an account without EAB");
    assert_eq!(
        problem(&refused),
        ProblemType::ExternalAccountRequired,
        "{refused}"
    );

    let eab = ExternalAccountBinding::new(KID, KEY, EabAlgorithm::Hs256).expect("EAB");
    let info = aw!(client.create_account(
        NewAccount::agreeing_to_terms(Vec::<String>::new()).with_external_account_binding(eab)
    ))
    .unwrap_or_else(|e| panic!("{}: with EAB: {e}", DRIVER));
    assert!(info.created);
    f.issue(&client, &["eab.example.org"], Challenge::Http01)
        .await;
}

pub async fn key_rollover_then_issue() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let old = client.credentials().expect("credentials");
    let account_url = old.account_url().clone();
    let new_key = generate_account_key(SignatureAlgorithm::Es384).expect("key");
    let new_jwk = new_key.public_jwk();
    aw!(client.change_key(new_key))
        .map_err(|e| e.error)
        .unwrap_or_else(|e| panic!("{}: key change: {e}", DRIVER));
    f.issue(&client, &["rollover.example.org"], Challenge::Http01)
        .await;

    // The saved credentials now hold the new key, and find the same account.
    let saved = client.credentials().expect("credentials");
    assert_eq!(saved.key().public_jwk(), new_jwk);
    let again = AcmeClient::from_credentials(saved, transport(&f.pebble)).expect("client");
    assert_eq!(aw!(again.find_account()).expect("found").url, account_url);
    // The old key has no account any more.
    let stale = f.client(copy_key(old.key()).expect("key"));
    let error = aw!(stale.find_account()).expect_err("the old key");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");
}

pub async fn contact_update() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let updated = aw!(client.update_contacts(["mailto:new@example.org"]))
        .unwrap_or_else(|e| panic!("{}: contact update: {e}", DRIVER));
    assert_eq!(updated.account.contact, ["mailto:new@example.org"]);
    let fetched = aw!(client.fetch_account()).expect("fetch");
    assert_eq!(fetched.account.contact, ["mailto:new@example.org"]);
}

pub async fn find_existing_account() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let credentials = client.credentials().expect("credentials");
    let same_key = f.client(copy_key(credentials.key()).expect("key"));
    let found = aw!(same_key.find_account()).unwrap_or_else(|e| panic!("{}: find: {e}", DRIVER));
    assert_eq!(&found.url, credentials.account_url());
    assert!(!found.created);
    // Creating again with the same key finds it too.
    let again = aw!(same_key.create_account(NewAccount::agreeing_to_terms(Vec::<String>::new())))
        .expect("create");
    assert_eq!(
        (&again.url, again.created),
        (credentials.account_url(), false)
    );

    let stranger = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let error = aw!(stranger.find_account()).expect_err("no account");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");
}

pub async fn deactivation_then_typed_error() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let info =
        aw!(client.deactivate_account()).unwrap_or_else(|e| panic!("{}: deactivate: {e}", DRIVER));
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let error = f
        .try_issue(&client, &["after.example.org"], Challenge::Http01)
        .await
        .expect_err("a deactivated account");
    assert_eq!(problem(&error), ProblemType::Unauthorized, "{error}");
}

pub async fn revocation_both_ways() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let first = f
        .issue(&client, &["revoke1.example.org"], Challenge::Http01)
        .await;
    aw!(client.revoke(&first.issued.chain, Some(RevocationReason::Superseded)))
        .unwrap_or_else(|e| panic!("{}: revoking with the account key: {e}", DRIVER));
    let again = aw!(client.revoke(&first.issued.chain, None)).expect_err("revoked twice");
    assert_eq!(problem(&again), ProblemType::AlreadyRevoked, "{again}");

    let second = f
        .issue(&client, &["revoke2.example.org"], Challenge::Http01)
        .await;
    // Signed by the certificate's key, through a client of another account.
    let other = f.account().await;
    aw!(other.revoke_with_certificate_key(&second.issued.chain, &second.private_key_pem, None))
        .unwrap_or_else(|e| panic!("{}: revoking with the certificate key: {e}", DRIVER));
    let again =
        aw!(other.revoke_with_certificate_key(&second.issued.chain, &second.private_key_pem, None))
            .expect_err("revoked twice");
    assert_eq!(problem(&again), ProblemType::AlreadyRevoked, "{again}");
}

pub async fn alternate_roots_preferred_chain() {
    let Some(f) = Fixture::start(PebbleOptions::default().alternate_roots(2)) else {
        return;
    };
    let client = f.account().await;
    let certificate = f
        .issue(&client, &["alternates.example.org"], Challenge::Http01)
        .await;
    let issued = &certificate.issued;
    assert_eq!(issued.alternates.len(), 2, "{}: alternates", DRIVER);
    let roots = f.pebble.issuer_roots().expect("roots");
    assert_eq!(roots.len(), 3);
    for root in &roots {
        let name = CertificateChain::from_pem(root)
            .expect("root")
            .end_entity()
            .subject_common_name()
            .expect("root CN")
            .to_owned();
        let chosen = issued.preferred_chain(&name);
        assert_eq!(
            chosen.root_name(),
            Some(name.as_str()),
            "{}: preferred {name}",
            DRIVER
        );
        verify_chain(chosen.pem(), root, &["alternates.example.org"])
            .unwrap_or_else(|e| panic!("{}: the chain to {name}: {e}", DRIVER));
    }
}

pub async fn authz_reuse_skips_the_challenge() {
    let Some(f) = Fixture::start(PebbleOptions::default().authz_reuse_percent(100)) else {
        return;
    };
    let client = f.account().await;
    f.issue(&client, &["reuse.example.org"], Challenge::Http01)
        .await;
    // The authorization is valid already: a solver that answers nothing is enough.
    f.issue(&client, &["reuse.example.org"], Challenge::Refuse)
        .await;
}

pub async fn strict_mode() {
    let Some(f) = Fixture::start(PebbleOptions::default().strict(true)) else {
        return;
    };
    let client = f.account_with(SignatureAlgorithm::Es384).await;
    f.issue(&client, &["strict.example.org"], Challenge::Http01)
        .await;
    f.issue(&client, &["strict-dns.example.org"], Challenge::Dns01)
        .await;
}

pub async fn nonce_rejection() {
    let Some(f) = Fixture::start(PebbleOptions::default().nonce_reject_percent(50)) else {
        return;
    };
    let client = f.account().await;
    for i in 0..4 {
        f.issue(
            &client,
            &[&format!("nonce{i}.example.org")],
            Challenge::Http01,
        )
        .await;
    }
}

pub async fn orders_listed_and_renewal_info() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let (first, second) = orders_listed(&f, &client).await;
    // Pebble 2.10 serves ARI: a window two thirds into the validity, inside it.
    for issued in [&first.issued, &second.issued] {
        let suggestion = aw!(client.renewal_info(&issued.chain))
            .unwrap_or_else(|e| panic!("{}: renewal_info: {e}\n{}", DRIVER, f.pebble.log_tail()));
        super::check_window(&suggestion, issued.chain.end_entity(), DRIVER);
    }
}

/// Issues two certificates and checks that the account's order list has both orders.
pub async fn orders_listed(
    f: &Fixture,
    client: &AcmeClient,
) -> (crate::driver::Certificate, crate::driver::Certificate) {
    let first = f
        .issue(client, &["list1.example.org"], Challenge::Http01)
        .await;
    let second = f
        .issue(client, &["list2.example.org"], Challenge::Http01)
        .await;
    let listed =
        aw!(client.list_orders(10)).unwrap_or_else(|e| panic!("{}: list orders: {e}", DRIVER));
    for issued in [&first.issued, &second.issued] {
        assert!(
            listed.contains(&issued.order_url),
            "{}: {} not in {listed:?}",
            DRIVER,
            issued.order_url
        );
    }
    (first, second)
}
