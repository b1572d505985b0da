#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The example objects of RFC 8555, RFC 8737, RFC 8738 and RFC 9773, and directories
//! as Pebble and Boulder serve them: each parses to the expected values and survives a
//! round trip (parse, write, parse again gives the same value).

use core::net::{IpAddr, Ipv6Addr};

use acme_proto::resource::{
    Account, Authorization, Challenge, ChallengeKind, Directory, KnownChallenge, Order, OrderList,
    RenewalInfo, Resource,
};
use acme_proto::{
    AccountStatus, AuthorizationStatus, ChallengeStatus, Identifier, OrderStatus, Problem,
    ProblemType, UnixTime,
};

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

fn time(s: &str) -> UnixTime {
    UnixTime::parse_rfc3339(s).unwrap()
}

fn dns(s: &str) -> Identifier {
    Identifier::dns(s).unwrap()
}

/// Parses `json`, then checks that writing and re-reading gives the same value.
fn parse<T: Resource + PartialEq + core::fmt::Debug>(json: &str) -> T {
    let value = T::from_json(json.as_bytes()).unwrap();
    let again = T::from_json(&value.to_json()).unwrap();
    assert_eq!(again, value, "round trip of {}", T::NAME);
    value
}

#[test]
fn directory_rfc8555_7_1_1() {
    let d: Directory = parse(
        r#"{
          "newNonce": "https://example.com/acme/new-nonce",
          "newAccount": "https://example.com/acme/new-account",
          "newOrder": "https://example.com/acme/new-order",
          "newAuthz": "https://example.com/acme/new-authz",
          "revokeCert": "https://example.com/acme/revoke-cert",
          "keyChange": "https://example.com/acme/key-change",
          "meta": {
            "termsOfService": "https://example.com/acme/terms/2017-5-30",
            "website": "https://www.example.com/",
            "caaIdentities": ["example.com"],
            "externalAccountRequired": false
          }
        }"#,
    );
    assert_eq!(d.new_nonce, url("https://example.com/acme/new-nonce"));
    assert_eq!(d.new_account, url("https://example.com/acme/new-account"));
    assert_eq!(d.new_order, url("https://example.com/acme/new-order"));
    assert_eq!(d.new_authz, Some(url("https://example.com/acme/new-authz")));
    assert_eq!(
        d.revoke_cert,
        Some(url("https://example.com/acme/revoke-cert"))
    );
    assert_eq!(
        d.key_change,
        Some(url("https://example.com/acme/key-change"))
    );
    assert_eq!(d.renewal_info, None);
    assert_eq!(
        d.meta.terms_of_service,
        Some(url("https://example.com/acme/terms/2017-5-30"))
    );
    assert_eq!(d.meta.website, Some(url("https://www.example.com/")));
    assert_eq!(d.meta.caa_identities, ["example.com"]);
    assert!(!d.meta.external_account_required);
    assert!(d.meta.profiles.is_empty());
}

#[test]
fn directory_pebble() {
    let d: Directory = parse(
        r#"{
           "keyChange": "https://localhost:14000/rollover-account-key",
           "meta": {
              "externalAccountRequired": false,
              "termsOfService": "data:text/plain,Do%20what%20thou%20wilt"
           },
           "newAccount": "https://localhost:14000/sign-me-up",
           "newNonce": "https://localhost:14000/nonce-plz",
           "newOrder": "https://localhost:14000/order-plz",
           "renewalInfo": "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo",
           "revokeCert": "https://localhost:14000/revoke-cert"
        }"#,
    );
    assert_eq!(d.new_nonce, url("https://localhost:14000/nonce-plz"));
    assert_eq!(d.new_authz, None);
    assert_eq!(
        d.renewal_info,
        Some(url(
            "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo"
        ))
    );
    assert_eq!(
        d.meta.terms_of_service.as_ref().map(url::Url::scheme),
        Some("data")
    );
    assert!(d.meta.caa_identities.is_empty());
}

#[test]
fn directory_boulder_with_random_key_and_profiles() {
    let d: Directory = parse(
        r#"{
          "Yc5vpvb2J1o": "https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417",
          "keyChange": "https://acme-v02.api.letsencrypt.org/acme/key-change",
          "meta": {
            "caaIdentities": ["letsencrypt.org"],
            "profiles": {
              "classic": "https://letsencrypt.org/docs/profiles#classic",
              "shortlived": "https://letsencrypt.org/docs/profiles#shortlived",
              "tlsserver": "https://letsencrypt.org/docs/profiles#tlsserver"
            },
            "termsOfService": "https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf",
            "website": "https://letsencrypt.org"
          },
          "newAccount": "https://acme-v02.api.letsencrypt.org/acme/new-acct",
          "newNonce": "https://acme-v02.api.letsencrypt.org/acme/new-nonce",
          "newOrder": "https://acme-v02.api.letsencrypt.org/acme/new-order",
          "renewalInfo": "https://acme-v02.api.letsencrypt.org/acme/renewal-info",
          "revokeCert": "https://acme-v02.api.letsencrypt.org/acme/revoke-cert"
        }"#,
    );
    assert_eq!(d.meta.profiles.len(), 3);
    assert_eq!(
        d.meta.profiles.get("shortlived").map(String::as_str),
        Some("https://letsencrypt.org/docs/profiles#shortlived")
    );
    assert_eq!(d.meta.caa_identities, ["letsencrypt.org"]);
    assert_eq!(d.meta.website, Some(url("https://letsencrypt.org")));
    assert_eq!(
        d.renewal_info,
        Some(url(
            "https://acme-v02.api.letsencrypt.org/acme/renewal-info"
        ))
    );
    // The random key is not kept.
    assert!(
        !String::from_utf8(d.to_json())
            .unwrap()
            .contains("Yc5vpvb2J1o")
    );
}

#[test]
fn account_rfc8555_7_1_2() {
    let a: Account = parse(
        r#"{
          "status": "valid",
          "contact": [
            "mailto:cert-admin@example.org",
            "mailto:admin@example.org"
          ],
          "termsOfServiceAgreed": true,
          "orders": "https://example.com/acme/orders/rzGoeA"
        }"#,
    );
    assert_eq!(a.status, AccountStatus::Valid);
    assert_eq!(
        a.contact,
        ["mailto:cert-admin@example.org", "mailto:admin@example.org"]
    );
    assert_eq!(a.terms_of_service_agreed, Some(true));
    assert_eq!(
        a.orders,
        Some(url("https://example.com/acme/orders/rzGoeA"))
    );
    assert_eq!(a.external_account_binding, None);
}

#[test]
fn account_with_eab_and_boulder_shape() {
    // Boulder: no `orders`, extra members (`key`, `createdAt`, `initialIp`).
    let a: Account = parse(
        r#"{
          "key": {"kty": "EC", "crv": "P-256", "x": "x", "y": "y"},
          "contact": null,
          "initialIp": "192.0.2.1",
          "createdAt": "2025-01-01T00:00:00Z",
          "status": "deactivated",
          "externalAccountBinding": {"protected": "e30", "payload": "e30", "signature": "AA"}
        }"#,
    );
    assert_eq!(a.status, AccountStatus::Deactivated);
    assert!(a.contact.is_empty());
    assert_eq!(a.orders, None);
    assert_eq!(a.external_account_binding.unwrap()["protected"], "e30");
}

#[test]
fn order_list_rfc8555_7_1_2_1() {
    let l: OrderList = parse(
        r#"{
          "orders": [
            "https://example.com/acme/order/TOlocE8rfgo",
            "https://example.com/acme/order/4E16bbL5iSw",
            "https://example.com/acme/order/neBHYLfw0mg"
          ]
        }"#,
    );
    assert_eq!(l.orders.len(), 3);
    assert_eq!(
        l.orders[2],
        url("https://example.com/acme/order/neBHYLfw0mg")
    );
}

#[test]
fn order_rfc8555_7_1_3() {
    let o: Order = parse(
        r#"{
          "status": "valid",
          "expires": "2016-01-20T14:09:07.99Z",
          "identifiers": [
            { "type": "dns", "value": "www.example.org" },
            { "type": "dns", "value": "example.org" }
          ],
          "notBefore": "2016-01-01T00:00:00Z",
          "notAfter": "2016-01-08T00:00:00Z",
          "authorizations": [
            "https://example.com/acme/authz/PAniVnsZcis",
            "https://example.com/acme/authz/r4HqLzrSrpI"
          ],
          "finalize": "https://example.com/acme/order/TOlocE8rfgo/finalize",
          "certificate": "https://example.com/acme/cert/mAt3xBGaobw"
        }"#,
    );
    assert_eq!(o.status, OrderStatus::Valid);
    assert_eq!(o.expires, Some(time("2016-01-20T14:09:07.99Z")));
    assert_eq!(o.expires.unwrap().since_epoch().subsec_millis(), 990);
    assert_eq!(o.identifiers, [dns("www.example.org"), dns("example.org")]);
    assert_eq!(o.not_before, Some(UnixTime::from_secs(1_451_606_400)));
    assert_eq!(o.not_after, Some(UnixTime::from_secs(1_452_211_200)));
    assert_eq!(o.authorizations.len(), 2);
    assert_eq!(
        o.finalize,
        url("https://example.com/acme/order/TOlocE8rfgo/finalize")
    );
    assert_eq!(
        o.certificate,
        Some(url("https://example.com/acme/cert/mAt3xBGaobw"))
    );
    assert_eq!(o.error, None);
    assert_eq!(o.profile, None);
    assert_eq!(o.replaces, None);
}

#[test]
fn invalid_order_with_error_profile_and_replaces() {
    let o: Order = parse(
        r#"{
          "status": "invalid",
          "identifiers": [{ "type": "dns", "value": "*.example.org" }],
          "authorizations": ["https://example.com/acme/authz/1"],
          "finalize": "https://example.com/acme/order/1/finalize",
          "profile": "shortlived",
          "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
          "error": {
            "type": "urn:ietf:params:acme:error:caa",
            "detail": "CAA record for example.org prevents issuance",
            "status": 403
          }
        }"#,
    );
    assert_eq!(o.status, OrderStatus::Invalid);
    assert!(o.identifiers[0].is_wildcard());
    assert_eq!(o.profile.as_deref(), Some("shortlived"));
    assert_eq!(
        o.replaces.as_deref(),
        Some("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    );
    let e = o.error.unwrap();
    assert_eq!(e.kind, ProblemType::Caa);
    assert_eq!(e.status, Some(403));
}

#[test]
fn order_with_ip_identifiers_rfc8738() {
    let o: Order = parse(
        r#"{
          "status": "pending",
          "expires": "2025-05-01T00:00:00Z",
          "identifiers": [
            { "type": "ip", "value": "192.0.2.7" },
            { "type": "ip", "value": "2001:db8::7" }
          ],
          "authorizations": ["https://example.com/acme/authz/ip1", "https://example.com/acme/authz/ip2"],
          "finalize": "https://example.com/acme/order/ip/finalize"
        }"#,
    );
    assert_eq!(o.identifiers[0].kind(), "ip");
    assert_eq!(
        o.identifiers[0].reverse_dns_name().unwrap(),
        "7.2.0.192.in-addr.arpa"
    );
    assert_eq!(
        o.identifiers[1],
        Identifier::ip(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)))
    );
    assert!(
        o.identifiers[1]
            .reverse_dns_name()
            .unwrap()
            .ends_with("8.b.d.0.1.0.0.2.ip6.arpa")
    );
}

#[test]
fn authorization_rfc8555_7_1_4() {
    let a: Authorization = parse(
        r#"{
          "status": "valid",
          "expires": "2015-03-01T14:09:07.99Z",
          "identifier": { "type": "dns", "value": "www.example.org" },
          "challenges": [
            {
              "url": "https://example.com/acme/chall/prV_B7yEyA4",
              "type": "http-01",
              "status": "valid",
              "token": "DGyRejmCefe7v4NfDGDKfA",
              "validated": "2014-12-01T12:05:58.16Z"
            }
          ],
          "wildcard": false
        }"#,
    );
    assert_eq!(a.status, AuthorizationStatus::Valid);
    assert_eq!(a.identifier, dns("www.example.org"));
    assert_eq!(a.expires, Some(time("2015-03-01T14:09:07.99Z")));
    assert!(!a.wildcard);
    let c = a.challenge("http-01").unwrap();
    assert_eq!(c.url, url("https://example.com/acme/chall/prV_B7yEyA4"));
    assert_eq!(c.status, ChallengeStatus::Valid);
    assert_eq!(c.validated, Some(time("2014-12-01T12:05:58.16Z")));
    assert_eq!(c.kind.token().unwrap().as_str(), "DGyRejmCefe7v4NfDGDKfA");
}

#[test]
fn authorization_rfc8555_7_5() {
    // The RFC's example leaves out the challenges' `status`; it is read as pending.
    let a: Authorization = parse(
        r#"{
          "status": "pending",
          "expires": "2016-01-02T14:09:30Z",
          "identifier": { "type": "dns", "value": "www.example.org" },
          "challenges": [
            {
              "type": "http-01",
              "url": "https://example.com/acme/chall/prV_B7yEyA4",
              "token": "DGyRejmCefe7v4NfDGDKfA"
            },
            {
              "type": "dns-01",
              "url": "https://example.com/acme/chall/Rg5dV14Gh1Q",
              "token": "DGyRejmCefe7v4NfDGDKfA"
            }
          ],
          "wildcard": false
        }"#,
    );
    assert_eq!(a.status, AuthorizationStatus::Pending);
    let types: Vec<_> = a.challenges.iter().map(Challenge::type_name).collect();
    assert_eq!(types, ["http-01", "dns-01"]);
    let dns01 = a.challenge("dns-01").unwrap();
    assert_eq!(dns01.status, ChallengeStatus::Pending);
    assert!(
        matches!(&dns01.kind, ChallengeKind::Dns01 { token } if token.as_str() == "DGyRejmCefe7v4NfDGDKfA")
    );
}

fn token_challenge(json: &str) -> (KnownChallenge, String) {
    let c: Challenge = parse(json);
    let Challenge::Known(known) = c else {
        panic!("{json} not known")
    };
    let token = known.kind.token().unwrap().as_str().to_owned();
    (known, token)
}

#[test]
fn http01_challenge_rfc8555_8_3() {
    let (c, token) = token_challenge(
        r#"{
          "type": "http-01",
          "url": "https://example.com/acme/chall/prV_B7yEyA4",
          "status": "pending",
          "token": "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
        }"#,
    );
    assert!(matches!(c.kind, ChallengeKind::Http01 { .. }));
    assert_eq!(c.status, ChallengeStatus::Pending);
    assert_eq!(token, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
}

#[test]
fn dns01_challenge_rfc8555_8_4() {
    let (c, token) = token_challenge(
        r#"{
          "type": "dns-01",
          "url": "https://example.com/acme/chall/Rg5dV14Gh1Q",
          "status": "pending",
          "token": "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
        }"#,
    );
    assert!(matches!(c.kind, ChallengeKind::Dns01 { .. }));
    assert_eq!(c.url, url("https://example.com/acme/chall/Rg5dV14Gh1Q"));
    assert_eq!(token, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
}

#[test]
fn tls_alpn01_challenge_rfc8737_3() {
    let (c, token) = token_challenge(
        r#"{
          "type": "tls-alpn-01",
          "url": "https://example.com/acme/chall/prV_B7yEyA4",
          "status": "pending",
          "token": "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
        }"#,
    );
    assert_eq!(c.kind.type_name(), "tls-alpn-01");
    assert!(matches!(c.kind, ChallengeKind::TlsAlpn01 { .. }));
    assert_eq!(token, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
}

#[test]
fn dns_account01_and_dns_persist01_challenges() {
    let (c, _) = token_challenge(
        r#"{"type": "dns-account-01", "url": "https://example.com/acme/chall/a1",
            "status": "pending", "token": "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}"#,
    );
    assert!(matches!(c.kind, ChallengeKind::DnsAccount01 { .. }));

    let c: Challenge = parse(
        r#"{"type": "dns-persist-01", "url": "https://example.com/acme/chall/p1",
            "status": "pending", "issuer-domain-names": ["CA.example", "ca2.example"],
            "accounturi": "https://example.com/acme/acct/123"}"#,
    );
    let Challenge::Known(KnownChallenge {
        kind:
            ChallengeKind::DnsPersist01 {
                issuer_domain_names,
                account_uri,
            },
        ..
    }) = &c
    else {
        panic!("{c:?}")
    };
    let names: Vec<_> = issuer_domain_names.iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["ca.example", "ca2.example"]);
    assert_eq!(
        account_uri.as_ref(),
        Some(&url("https://example.com/acme/acct/123"))
    );
    assert_eq!(c.known().unwrap().kind.token(), None);
}

#[test]
fn challenge_with_error_and_boulder_validation_record() {
    let (c, _) = token_challenge(
        r#"{
          "type": "http-01",
          "url": "https://example.com/acme/chall/x",
          "status": "invalid",
          "token": "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
          "validationRecord": [{"url": "http://example.org/.well-known/acme-challenge/x", "hostname": "example.org", "port": "80"}],
          "error": {
            "type": "urn:ietf:params:acme:error:unauthorized",
            "detail": "Invalid response from http://example.org/: 404",
            "status": 403
          }
        }"#,
    );
    assert_eq!(c.status, ChallengeStatus::Invalid);
    assert_eq!(c.error.as_ref().unwrap().kind, ProblemType::Unauthorized);
}

#[test]
fn problem_with_subproblems_rfc8555_6_7_1() {
    let p: Problem = parse(
        r#"{
          "type": "urn:ietf:params:acme:error:malformed",
          "detail": "Some of the identifiers requested were rejected",
          "subproblems": [
            {
              "type": "urn:ietf:params:acme:error:malformed",
              "detail": "Invalid underscore in DNS name \"_example.org\"",
              "identifier": { "type": "dns", "value": "_example.org" }
            },
            {
              "type": "urn:ietf:params:acme:error:rejectedIdentifier",
              "detail": "This CA will not issue for \"example.net\"",
              "identifier": { "type": "dns", "value": "example.net" }
            }
          ]
        }"#,
    );
    assert_eq!(p.kind, ProblemType::Malformed);
    assert_eq!(
        p.detail.as_deref(),
        Some("Some of the identifiers requested were rejected")
    );
    assert_eq!(p.subproblems.len(), 2);
    assert_eq!(p.subproblems[0].kind, ProblemType::Malformed);
    // The invalid name the server refuses is kept as sent.
    assert_eq!(
        p.subproblems[0].identifier,
        Some(Identifier::Other {
            kind: "dns".into(),
            value: "_example.org".into()
        })
    );
    assert_eq!(p.subproblems[1].kind, ProblemType::RejectedIdentifier);
    assert_eq!(p.subproblems[1].identifier, Some(dns("example.net")));
    assert_eq!(
        p.to_string(),
        "malformed: Some of the identifiers requested were rejected \
         (malformed: dns:_example.org, rejectedIdentifier: example.net)"
    );
}

#[test]
fn problem_bad_signature_algorithm_and_unknown_type() {
    let p: Problem = parse(
        r#"{"type": "urn:ietf:params:acme:error:badSignatureAlgorithm",
            "detail": "no", "algorithms": ["ES256", "RS256"], "status": 400}"#,
    );
    assert_eq!(p.kind, ProblemType::BadSignatureAlgorithm);
    assert_eq!(p.algorithms, ["ES256", "RS256"]);
    let p: Problem = parse(r#"{"type": "https://ca.example/problems/quota", "title": "Quota"}"#);
    assert_eq!(
        p.kind,
        ProblemType::Other("https://ca.example/problems/quota".into())
    );
    assert_eq!(p.title.as_deref(), Some("Quota"));
    let p: Problem = parse(r#"{"type": "urn:ietf:params:acme:error:alreadyReplaced"}"#);
    assert_eq!(p.kind, ProblemType::AlreadyReplaced);
    let p: Problem = parse(r#"{"type": "urn:ietf:params:acme:error:invalidProfile"}"#);
    assert_eq!(p.kind, ProblemType::InvalidProfile);
    assert_eq!(p.retry_after, None);
}

#[test]
fn renewal_info_rfc9773_4_2() {
    let r: RenewalInfo = parse(
        r#"{
          "suggestedWindow": {
            "start": "2025-01-02T04:00:00Z",
            "end": "2025-01-03T04:00:00Z"
          },
          "explanationURL": "https://acme.example.com/docs/ari"
        }"#,
    );
    let w = r.suggested_window;
    assert_eq!(w.start, time("2025-01-02T04:00:00Z"));
    assert_eq!(w.end, time("2025-01-03T04:00:00Z"));
    assert_eq!(w.duration().as_secs(), 86_400);
    assert!(w.contains(time("2025-01-02T16:00:00Z")));
    assert!(!w.contains(time("2025-01-03T04:00:01Z")));
    assert_eq!(w.pick(0), w.start);
    assert_eq!(w.pick(u64::MAX / 2 + 1), time("2025-01-02T16:00:00Z"));
    assert!(w.pick(u64::MAX) <= w.end);
    assert_eq!(
        r.explanation_url,
        Some(url("https://acme.example.com/docs/ari"))
    );
    let r: RenewalInfo = parse(
        r#"{"suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-02T04:00:00Z"}}"#,
    );
    assert_eq!(r.explanation_url, None);
    assert_eq!(r.suggested_window.duration().as_secs(), 0);
}
