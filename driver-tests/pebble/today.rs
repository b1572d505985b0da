//! What only Pebble 2.10 (and our fake CA) has, on Pebble 2.10.3: `replaces` and
//! `alreadyReplaced`, a renewal window set through `/set-renewal-info/`, each profile the
//! directory lists, dns-account-01 and dns-persist-01 through the DNS hook, an IPv6
//! identifier, and an ECDSA issuing hierarchy. Each certificate is verified to Pebble's
//! root.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acme_proto::client::{NewAccount, PersistIssuers};
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto::{Error, Misuse};
use acme_proto_tests::{IssuerKeyAlgorithm, PebbleOptions, jws_payload};

use super::{Challenge, Fixture, check_window, order};
use crate::driver::{
    AcmeClient, DnsHook, DriverError, Http01Responder, Transport, generate_account_key,
};
use crate::suite::support::Recording;

/// For messages: which driver ran the scenario.
const DRIVER: &str = crate::DRIVER_NAME;

/// What Pebble logs once a finalized order that sent `replaces` has marked the
/// certificate it replaces (after the order turned valid: it is waited for).
const MARKED_REPLACED: &str = "has been marked as replaced in the DB";

driver_tests!(
    renewal_replaces_then_already_replaced,
    renewal_window_set_by_the_ca,
    each_profile_and_an_unknown_one,
    dns_account01,
    dns_persist01,
    ipv6_address,
    ecdsa_issuer,
);

/// One newOrder as sent and answered: its `replaces`, the status, the problem type.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NewOrderSeen {
    replaces: Option<String>,
    status: u16,
    problem: Option<String>,
}

/// A client for the fixture's Pebble whose transport notes every newOrder.
async fn observed_account(f: &Fixture) -> (AcmeClient, Arc<Mutex<Vec<NewOrderSeen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&seen);
    let transport = Transport::builder()
        .add_root_pem(f.pebble.root_pem())
        .observe(move |request, response| {
            if !request.url.path().ends_with("/order-plz") {
                return;
            }
            let payload = jws_payload(&request.body);
            let body = String::from_utf8_lossy(&response.body);
            let problem = body
                .split('"')
                .find(|part| part.starts_with("urn:ietf:params:acme:error:"))
                .map(str::to_owned);
            noted.lock().unwrap().push(NewOrderSeen {
                replaces: payload
                    .as_ref()
                    .and_then(|p| p.get("replaces")?.as_str().map(str::to_owned)),
                status: response.status,
                problem,
            });
        })
        .build()
        .expect("transport");
    let url = f.pebble.directory_url().parse().expect("directory URL");
    let key = generate_account_key(SignatureAlgorithm::Es256).expect("key");
    let client = AcmeClient::new(url, key, transport).expect("client");
    aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:ops@example.org"])))
        .unwrap_or_else(|e| panic!("{DRIVER}: creating the account: {e}"));
    (client, seen)
}

/// Issues `names` through `hook`, checks the chain, and returns the challenge types
/// presented.
async fn issue_through(
    f: &Fixture,
    client: &AcmeClient,
    hook: DnsHook,
    names: &[&str],
) -> Vec<&'static str> {
    let recording = Recording {
        responder: hook,
        seen: Mutex::new(Vec::new()),
    };
    let certificate = aw!(client.issue_order(order(names), &recording))
        .unwrap_or_else(|e| panic!("{DRIVER}: {names:?}: {e}\n{}", f.pebble.log_tail()));
    f.check(&certificate, names);
    let seen = recording.seen.lock().unwrap();
    seen.iter()
        .map(acme_proto::client::ChallengeOffer::type_name)
        .collect()
}

/// The last path segment of an order URL: Pebble's order ID, as its log names it.
fn order_id(url: &url::Url) -> String {
    url.path_segments()
        .and_then(|mut segments| segments.next_back().map(str::to_owned))
        .expect("an order ID")
}

pub async fn renewal_replaces_then_already_replaced() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let (client, seen) = observed_account(&f).await;
    let names = ["renewed.example.org"];
    let first = f.issue(&client, &names, Challenge::Http01).await;
    let cert_id = first
        .issued
        .chain
        .cert_id()
        .expect("the certificate's ARI certID")
        .as_str()
        .to_owned();

    // The renewal names the certificate it replaces; Pebble marks it replaced once the
    // renewal is finalized.
    let renewal = f
        .issue_order(
            &client,
            order(&names).replacing(cert_id.clone()),
            Challenge::Http01,
        )
        .await;
    let marked = f
        .pebble
        .wait_for_log(MARKED_REPLACED, 1, Duration::from_secs(10));
    assert_eq!(marked, 1, "{DRIVER}: {}", f.pebble.log_tail());
    let id = order_id(&renewal.issued.order_url);
    assert!(
        f.pebble
            .log()
            .lines()
            .any(|l| l.contains(MARKED_REPLACED) && l.contains(&id)),
        "{DRIVER}: order {id} not marked as the replacement:\n{}",
        f.pebble.log_tail()
    );

    // A second renewal of the same certificate: Pebble answers alreadyReplaced (409),
    // and the core's policy is to send the order again without `replaces`.
    let again = f
        .issue_order(
            &client,
            order(&names).replacing(cert_id.clone()),
            Challenge::Http01,
        )
        .await;
    assert_ne!(again.issued.order_url, renewal.issued.order_url);
    let seen = seen.lock().unwrap().clone();
    let expected = [
        (None, 201, None),
        (Some(cert_id.clone()), 201, None),
        (
            Some(cert_id),
            409,
            Some("urn:ietf:params:acme:error:alreadyReplaced".to_owned()),
        ),
        (None, 201, None),
    ]
    .map(|(replaces, status, problem)| NewOrderSeen {
        replaces,
        status,
        problem,
    });
    assert_eq!(seen, expected, "{DRIVER}: the newOrders sent");
    // Nothing more was marked replaced by the order without `replaces`.
    assert_eq!(
        f.pebble
            .wait_for_log(MARKED_REPLACED, 2, Duration::from_millis(500)),
        1,
        "{DRIVER}"
    );
}

pub async fn renewal_window_set_by_the_ca() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let certificate = f
        .issue(&client, &["window.example.org"], Challenge::Http01)
        .await;
    let chain = &certificate.issued.chain;
    let leaf = chain.end_entity();
    // Pebble's own answer first: two thirds into the validity.
    let suggestion =
        aw!(client.renewal_info(chain)).unwrap_or_else(|e| panic!("{DRIVER}: renewal_info: {e}"));
    check_window(&suggestion, leaf, DRIVER);

    // The CA moves the window to the certificate's first day, with an explanation.
    let start = leaf.not_before().saturating_add(Duration::from_secs(3600));
    let end = start.saturating_add(Duration::from_secs(6 * 3600));
    let explanation = "https://pebble.example/incident-42";
    // RFC 3339, as `UnixTime` displays itself.
    let answer = format!(
        r#"{{"suggestedWindow":{{"start":"{start}","end":"{end}"}},"explanationURL":"{explanation}"}}"#
    );
    let end_entity_pem = chain
        .pem()
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next();
    f.pebble
        .set_renewal_info(end_entity_pem.expect("a PEM chain"), &answer)
        .expect("/set-renewal-info/");
    let moved = aw!(client.renewal_info(chain))
        .unwrap_or_else(|e| panic!("{DRIVER}: renewal_info after set-renewal-info: {e}"));
    let window = moved.info.suggested_window;
    assert_eq!((window.start, window.end), (start, end), "{DRIVER}");
    assert_eq!(
        moved.info.explanation_url.as_ref().map(url::Url::as_str),
        Some(explanation),
        "{DRIVER}"
    );
    // The time to renew, drawn inside the window for any random value; `now` before it.
    let before = start.saturating_sub(Duration::from_secs(60));
    for random in [0, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX] {
        let at = moved.renewal_time(random, before);
        assert!(
            start <= at && at < end,
            "{DRIVER}: renewal time {at:?} outside {start:?} .. {end:?}"
        );
    }
    // A window already begun: renew now.
    let during = start.saturating_add(Duration::from_secs(10));
    assert!(moved.renewal_time(u64::MAX, during) <= end);
}

pub async fn each_profile_and_an_unknown_one() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let profiles = aw!(client.directory())
        .unwrap_or_else(|e| panic!("{DRIVER}: directory: {e}"))
        .meta
        .profiles;
    let names: Vec<&str> = profiles.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["default", "shortlived"],
        "{DRIVER}: the harness's config"
    );
    // Each profile's validity (from the harness's Pebble config), on the certificate.
    for (profile, days) in [("default", 90), ("shortlived", 6)] {
        let name = format!("{profile}.profiles.example.org");
        let certificate = f
            .issue_order(
                &client,
                order(&[&name]).with_profile(profile),
                Challenge::Http01,
            )
            .await;
        let leaf = certificate.issued.chain.end_entity();
        let validity = leaf
            .not_after()
            .saturating_duration_since(leaf.not_before());
        let expected = Duration::from_secs(days * 86_400);
        assert!(
            validity.abs_diff(expected) <= Duration::from_secs(2),
            "{DRIVER}: {profile}: validity {validity:?}, expected {expected:?}"
        );
    }
    // A profile the directory does not list is refused before any newOrder is sent
    // (Pebble would answer invalidProfile: the typed problem is parsed, but a client
    // that read the directory never needs it).
    let before = f.pebble.log().matches("/order-plz").count();
    let error = f
        .try_issue_order(
            &client,
            order(&["unknown.profiles.example.org"]).with_profile("classic"),
            Challenge::Http01,
        )
        .await
        .expect_err("a profile the directory does not list");
    assert!(
        matches!(
            &error,
            DriverError::Acme(Error::Misuse(Misuse::Unsupported(_)))
        ),
        "{DRIVER}: {error:?}"
    );
    assert_eq!(f.pebble.log().matches("/order-plz").count(), before);
}

pub async fn dns_account01() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let hook = f.dns.clone().prefer(&["dns-account-01"]);
    let names = ["account01.example.org", "*.account01.example.org"];
    let presented = issue_through(&f, &client, hook, &names).await;
    // One authorization for the name and its wildcard: both answered by dns-account-01.
    assert!(
        !presented.is_empty() && presented.iter().all(|t| *t == "dns-account-01"),
        "{DRIVER}: {presented:?}"
    );
}

pub async fn dns_persist01() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account().await;
    // Pebble's issuer domain name is its `caaIdentities`' first (its default here).
    let issuers = PersistIssuers::only(["pebble.letsencrypt.org"]).expect("issuer names");
    let hook = f
        .dns
        .clone()
        .prefer(&["dns-persist-01"])
        .dns_persist01(issuers);
    let presented = issue_through(&f, &client, hook, &["persist01.example.org"]).await;
    assert_eq!(presented, ["dns-persist-01"], "{DRIVER}");

    // An issuer this client does not allow is not chosen: nothing is published.
    let other = PersistIssuers::only(["ca.example.net"]).expect("issuer names");
    let refusing = f
        .dns
        .clone()
        .prefer(&["dns-persist-01"])
        .dns_persist01(other);
    let error = aw!(client.issue_order(order(&["persist02.example.org"]), &refusing))
        .expect_err("no allowed issuer");
    assert!(
        matches!(error, DriverError::NoChallengeChosen { .. }),
        "{DRIVER}: {error:?}"
    );
}

pub async fn ipv6_address() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    // Pebble validates ::1 on [::1]:httpPort: a responder of its own there.
    let Ok(listener) = std::net::TcpListener::bind(("::1", f.pebble.http01_port())) else {
        panic!("{DRIVER}: [::1]:{} is not free", f.pebble.http01_port());
    };
    let v6 = Http01Responder::from_listener(listener).expect("responder on ::1");
    let client = f.account().await;
    let names = ["::1"];
    let certificate = aw!(client.issue_order(order(&names), &v6))
        .unwrap_or_else(|e| panic!("{DRIVER}: ::1: {e}\n{}", f.pebble.log_tail()));
    f.check(&certificate, &names);
    assert!(v6.is_empty());
    assert_eq!(
        certificate.issued.chain.end_entity().ip_addresses(),
        &[std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]
    );
}

pub async fn ecdsa_issuer() {
    let Some(f) = Fixture::start(PebbleOptions::default().issuer_key(IssuerKeyAlgorithm::Ecdsa))
    else {
        return;
    };
    let client = f.account().await;
    let certificate = f
        .issue(&client, &["ecdsa.example.org"], Challenge::TlsAlpn01)
        .await;
    // The id-ecPublicKey OID (1.2.840.10045.2.1) in each issuer's key.
    const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let issuers = certificate.issued.chain.issuers();
    assert!(!issuers.is_empty(), "{DRIVER}: no intermediate");
    for issuer in issuers {
        assert!(
            issuer
                .public_key()
                .windows(EC_PUBLIC_KEY.len())
                .any(|w| w == EC_PUBLIC_KEY),
            "{DRIVER}: {:?} has no ECDSA key",
            issuer.subject_common_name()
        );
    }
}
