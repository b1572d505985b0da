#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Hostile server bodies: every resource refuses them with a typed [`Malformed`] naming
//! the resource, never a panic; unknown challenge and problem types are accepted.

use acme_proto::resource::{
    Account, Authorization, Challenge, Directory, Order, OrderList, RenewalInfo, Resource,
};
use acme_proto::{Identifier, Malformed, MalformedKind, Problem, ProblemType};

const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

const DIRECTORY: &str = r#"{"newNonce":"https://ca.example/nonce","newAccount":"https://ca.example/acct","newOrder":"https://ca.example/order"}"#;
const ACCOUNT: &str = r#"{"status":"valid","contact":["mailto:a@example.org"],"orders":"https://ca.example/orders/1"}"#;
const ORDER_LIST: &str = r#"{"orders":["https://ca.example/order/1"]}"#;
const ORDER: &str = r#"{"status":"pending","expires":"2030-01-01T00:00:00Z","identifiers":[{"type":"dns","value":"example.org"}],"authorizations":["https://ca.example/authz/1"],"finalize":"https://ca.example/order/1/finalize"}"#;
const AUTHORIZATION: &str = r#"{"status":"pending","identifier":{"type":"dns","value":"example.org"},"challenges":[{"type":"http-01","url":"https://ca.example/chall/1","status":"pending","token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}]}"#;
const CHALLENGE: &str = r#"{"type":"http-01","url":"https://ca.example/chall/1","status":"pending","token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}"#;
const RENEWAL_INFO: &str =
    r#"{"suggestedWindow":{"start":"2030-01-01T00:00:00Z","end":"2030-01-02T00:00:00Z"}}"#;

/// The parser's message for a refused body, after checking the error's context.
fn refused<T: Resource + core::fmt::Debug>(body: &[u8]) -> String {
    let err: Malformed = match T::from_json(body) {
        Ok(value) => panic!(
            "{} accepted {:?}: {value:?}",
            T::NAME,
            String::from_utf8_lossy(body)
        ),
        Err(err) => err,
    };
    assert_eq!(err.context, T::NAME);
    match err.kind {
        MalformedKind::Json { message, .. } => {
            assert!(message.len() <= 200, "unbounded message: {}", message.len());
            message
        }
        other => panic!("{}: unexpected kind {other:?}", T::NAME),
    }
}

fn refused_with<T: Resource + core::fmt::Debug>(body: &str, needle: &str) {
    let message = refused::<T>(body.as_bytes());
    assert!(
        message.contains(needle),
        "{}: {message:?} lacks {needle:?} for {body}",
        T::NAME
    );
}

/// Replaces the first `from` in `json` with `to`, which must be there.
fn with(json: &str, from: &str, to: &str) -> String {
    assert!(json.contains(from), "{from} not in {json}");
    json.replacen(from, to, 1)
}

/// Each valid body parses, and is refused when cut short anywhere, when it is not UTF-8,
/// when it is another JSON type, and when nested past the recursion limit.
fn generic_hostility<T: Resource + core::fmt::Debug>(valid: &str) {
    T::from_json(valid.as_bytes()).unwrap();
    for cut in [0, 1, valid.len() / 2, valid.len() - 1] {
        refused::<T>(&valid.as_bytes()[..cut]);
    }
    refused_with::<T>("", "EOF while parsing");
    refused_with::<T>("null", "invalid type: null");
    // serde reads a struct from an array too; an empty one lacks every member.
    refused::<T>(b"[]");
    refused_with::<T>("\"x\"", "invalid type: string");
    refused_with::<T>("17", "invalid type: integer");
    refused_with::<T>("{}", "missing field");
    refused_with::<T>(&format!("{valid} trailing"), "trailing characters");
    let mut non_utf8 = valid.as_bytes().to_vec();
    let quote = non_utf8.iter().rposition(|&b| b == b'"').unwrap();
    non_utf8.insert(quote, 0xff);
    let message = refused::<T>(&non_utf8);
    assert!(
        message.contains("invalid unicode") || message.contains("UTF-8"),
        "{message}"
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    refused::<T>(deep.as_bytes());
}

/// A deeply nested member the resource does not read is skipped without recursion
/// (serde_json ignores values iteratively), so it is harmless and the rest is read.
fn deep_unknown_member_is_skipped<T: Resource + PartialEq + core::fmt::Debug>(valid: &str) {
    let deep = with(
        valid,
        "{",
        &format!("{{\"x\":{}1{},", "[".repeat(100_000), "]".repeat(100_000)),
    );
    assert_eq!(
        T::from_json(deep.as_bytes()).unwrap(),
        T::from_json(valid.as_bytes()).unwrap()
    );
}

#[test]
fn every_resource_refuses_generic_hostility() {
    generic_hostility::<Directory>(DIRECTORY);
    generic_hostility::<Account>(ACCOUNT);
    generic_hostility::<OrderList>(ORDER_LIST);
    generic_hostility::<Order>(ORDER);
    generic_hostility::<Authorization>(AUTHORIZATION);
    generic_hostility::<Challenge>(CHALLENGE);
    generic_hostility::<RenewalInfo>(RENEWAL_INFO);
}

#[test]
fn deep_nesting_is_skipped_where_ignored_and_refused_where_kept() {
    deep_unknown_member_is_skipped::<Directory>(DIRECTORY);
    deep_unknown_member_is_skipped::<Account>(ACCOUNT);
    deep_unknown_member_is_skipped::<OrderList>(ORDER_LIST);
    deep_unknown_member_is_skipped::<Order>(ORDER);
    deep_unknown_member_is_skipped::<Authorization>(AUTHORIZATION);
    deep_unknown_member_is_skipped::<RenewalInfo>(RENEWAL_INFO);
    deep_unknown_member_is_skipped::<Problem>(r#"{"type":"urn:ietf:params:acme:error:dns"}"#);
    // Members kept as JSON values are bounded by serde_json's recursion limit.
    let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
    refused_with::<Challenge>(
        &with(CHALLENGE, "{", &format!("{{\"x\":{},", nested(200))),
        "recursion limit exceeded",
    );
    refused_with::<Challenge>(
        &format!(r#"{{"type":"new-01","x":{}}}"#, nested(200)),
        "recursion limit exceeded",
    );
    refused_with::<Account>(
        &with(
            ACCOUNT,
            "{",
            &format!("{{\"externalAccountBinding\":{},", nested(200)),
        ),
        "recursion limit exceeded",
    );
    // Within the limit, kept as sent.
    let c = Challenge::from_json(format!(r#"{{"type":"new-01","x":{}}}"#, nested(100)).as_bytes())
        .unwrap();
    assert_eq!(c.type_name(), "new-01");
}

#[test]
fn directory_bad_urls_and_types() {
    refused_with::<Directory>(
        &with(DIRECTORY, "https://ca.example/nonce", "/nonce"),
        "relative URL without a base",
    );
    refused_with::<Directory>(
        &with(DIRECTORY, "\"https://ca.example/nonce\"", "null"),
        "invalid type: null",
    );
    refused_with::<Directory>(
        &with(DIRECTORY, "\"https://ca.example/order\"", "[]"),
        "invalid type: sequence",
    );
    refused_with::<Directory>(
        &with(DIRECTORY, "https://ca.example/nonce", "https://[::1"),
        "invalid",
    );
    let huge_url = format!("https://{}", "\u{1}".repeat(1_000_000));
    refused::<Directory>(with(DIRECTORY, "https://ca.example/nonce", &huge_url).as_bytes());
    let meta = with(
        DIRECTORY,
        "{",
        r#"{"meta":{"externalAccountRequired":"yes"},"#,
    );
    refused_with::<Directory>(&meta, "expected a boolean");
    let meta = with(DIRECTORY, "{", r#"{"meta":{"termsOfService":"not a url"},"#);
    refused_with::<Directory>(&meta, "relative URL without a base");
    let meta = with(DIRECTORY, "{", r#"{"meta":{"profiles":{"a":1}},"#);
    refused_with::<Directory>(&meta, "invalid type: integer");
    // Nulls for optional members mean "absent".
    let d = Directory::from_json(
        with(
            DIRECTORY,
            "{",
            r#"{"newAuthz":null,"meta":{"caaIdentities":null,"profiles":null},"#,
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(d.new_authz, None);
    assert!(d.meta.is_empty());
}

#[test]
fn account_unknown_status_and_wrong_types() {
    refused_with::<Account>(
        &with(ACCOUNT, "\"valid\"", "\"active\""),
        "unknown variant `active`",
    );
    refused_with::<Account>(&with(ACCOUNT, "\"valid\"", "\"VALID\""), "unknown variant");
    refused_with::<Account>(&with(ACCOUNT, "\"valid\"", "null"), "expected value");
    refused_with::<Account>(
        &with(
            ACCOUNT,
            "[\"mailto:a@example.org\"]",
            "\"mailto:a@example.org\"",
        ),
        "invalid type: string",
    );
    refused_with::<Account>(
        &with(ACCOUNT, "[\"mailto:a@example.org\"]", "[1]"),
        "invalid type: integer",
    );
    refused_with::<Account>(
        &with(ACCOUNT, "https://ca.example/orders/1", "orders/1"),
        "relative URL without a base",
    );
    // A huge contact list still parses (the response layer bounds the body size).
    let many = format!("[{}]", vec!["\"mailto:a@example.org\""; 50_000].join(","));
    let a =
        Account::from_json(with(ACCOUNT, "[\"mailto:a@example.org\"]", &many).as_bytes()).unwrap();
    assert_eq!(a.contact.len(), 50_000);
}

#[test]
fn order_list_bad_urls() {
    refused_with::<OrderList>(
        &with(ORDER_LIST, "https://ca.example/order/1", "order/1"),
        "relative URL without a base",
    );
    refused_with::<OrderList>(r#"{"orders":null}"#, "invalid type: null");
    let many = format!(
        "{{\"orders\":[{}\"x\"]}}",
        "\"https://ca.example/o\",".repeat(100_000)
    );
    refused_with::<OrderList>(&many, "relative URL without a base");
}

#[test]
fn order_hostile_members() {
    refused_with::<Order>(
        &with(ORDER, "\"pending\"", "\"done\""),
        "unknown variant `done`",
    );
    refused_with::<Order>(
        &with(ORDER, "2030-01-01T00:00:00Z", "2030-02-30T00:00:00Z"),
        "invalid RFC 3339 timestamp",
    );
    refused_with::<Order>(
        &with(ORDER, "2030-01-01T00:00:00Z", "1969-01-01T00:00:00Z"),
        "before 1970",
    );
    refused_with::<Order>(
        &with(ORDER, "\"2030-01-01T00:00:00Z\"", "1893456000"),
        "invalid type: integer",
    );
    refused_with::<Order>(
        &with(ORDER, "example.org", "exa mple.org"),
        "letters, digits and hyphens",
    );
    refused_with::<Order>(
        &with(ORDER, "example.org", "../../etc/passwd"),
        "empty label",
    );
    refused_with::<Order>(
        &with(
            ORDER,
            r#"{"type":"dns","value":"example.org"}"#,
            r#"{"type":"ip","value":"1.2.3.999"}"#,
        ),
        "not an IP address",
    );
    refused_with::<Order>(
        &with(ORDER, "https://ca.example/order/1/finalize", "javascript"),
        "relative URL without a base",
    );
    refused_with::<Order>(
        &with(ORDER, "\"https://ca.example/order/1/finalize\"", "null"),
        "invalid type: null",
    );
    refused_with::<Order>(
        &with(ORDER, "{", r#"{"error":"boom","#),
        "invalid type: string",
    );
    refused_with::<Order>(
        &with(ORDER, "{", r#"{"profile":7,"#),
        "invalid type: integer",
    );
    // A huge detail in the error parses, and its one-line summary stays short.
    let detail = "x".repeat(1_000_000);
    let o = Order::from_json(
        with(
            ORDER,
            "{",
            &format!(
                r#"{{"error":{{"type":"urn:ietf:params:acme:error:caa","detail":"{detail}"}},"#
            ),
        )
        .as_bytes(),
    )
    .unwrap();
    assert!(o.error.unwrap().to_string().len() < 300);
    // Unknown identifier types are kept.
    let o = Order::from_json(with(ORDER, "\"dns\"", "\"email\"").as_bytes()).unwrap();
    assert_eq!(
        o.identifiers[0],
        Identifier::Other {
            kind: "email".into(),
            value: "example.org".into()
        }
    );
}

#[test]
fn authorization_invalid_tokens_and_challenges() {
    for bad in [
        "../../../../etc/passwd/aaaaaaaaaa",
        "short",
        "aaaaaaaaaaaaaaaaaaaaaaa=",
        "aaaaaaaaaaaaaaaaaaaaa/../x",
    ] {
        let body = with(AUTHORIZATION, TOKEN, bad);
        let message = refused::<Authorization>(body.as_bytes());
        assert!(
            message.contains("base64url") || message.contains("128 bits"),
            "{bad}: {message}"
        );
    }
    refused_with::<Authorization>(
        &with(AUTHORIZATION, &format!("\"{TOKEN}\""), "null"),
        "challenge without a token",
    );
    refused_with::<Authorization>(
        &with(AUTHORIZATION, &format!(",\"token\":\"{TOKEN}\""), ""),
        "challenge without a token",
    );
    refused_with::<Authorization>(
        &with(AUTHORIZATION, "https://ca.example/chall/1", "chall/1"),
        "relative URL without a base",
    );
    refused_with::<Authorization>(
        &with(
            AUTHORIZATION,
            "\"status\":\"pending\",\"token\"",
            "\"status\":\"ready\",\"token\"",
        ),
        "unknown variant `ready`",
    );
    refused_with::<Authorization>(
        &with(
            AUTHORIZATION,
            "\"status\":\"pending\",\"identifier\"",
            "\"status\":\"gone\",\"identifier\"",
        ),
        "unknown variant `gone`",
    );
    refused_with::<Authorization>(
        &with(AUTHORIZATION, "\"type\":\"http-01\"", "\"type\":5"),
        "challenge type is not a string",
    );
    refused_with::<Authorization>(
        &with(AUTHORIZATION, "\"type\":\"http-01\",", ""),
        "missing field `type`",
    );
    refused_with::<Authorization>(
        &with(
            AUTHORIZATION,
            "{\"type\":\"http-01\"",
            "[{\"type\":\"http-01\"",
        ),
        "",
    );
    refused_with::<Authorization>(
        &with(AUTHORIZATION, "{", r#"{"wildcard":"no","#),
        "expected a boolean",
    );
}

#[test]
fn unknown_challenge_types_are_kept_whole() {
    // Without url or status, with odd members: still accepted, and kept as sent.
    let unknown = r#"{"type":"onion-csr-01","nonce":[1,{"a":null}],"authKey":{"kty":"OKP"}}"#;
    let body = with(AUTHORIZATION, "[{", &format!("[{unknown},{{"));
    let a = Authorization::from_json(body.as_bytes()).unwrap();
    assert_eq!(a.challenges.len(), 2);
    let Challenge::Unknown(u) = &a.challenges[0] else {
        panic!("{:?}", a.challenges[0])
    };
    assert_eq!(u.type_name, "onion-csr-01");
    assert_eq!(u.raw.get("nonce").unwrap()[1]["a"], serde_json::Value::Null);
    assert_eq!(a.known_challenges().count(), 1);
    assert_eq!(a.challenge("http-01").unwrap().kind.type_name(), "http-01");
    assert!(a.challenge("onion-csr-01").is_none());
    // Round trip keeps every member of the unknown challenge.
    let again = Authorization::from_json(&a.to_json()).unwrap();
    assert_eq!(again, a);
    let written: serde_json::Value = serde_json::from_slice(&a.to_json()).unwrap();
    assert_eq!(
        written["challenges"][0],
        serde_json::from_str::<serde_json::Value>(unknown).unwrap()
    );
    assert_eq!(a.challenges[0].status(), None);
    assert_eq!(
        a.challenges[1].status(),
        Some(acme_proto::ChallengeStatus::Pending)
    );
    let c = Challenge::from_json(br#"{"type":"x-02","status":"valid"}"#).unwrap();
    assert_eq!(c.status(), Some(acme_proto::ChallengeStatus::Valid));
    // Read directly, a KnownChallenge refuses unknown types.
    let err = serde_json::from_str::<acme_proto::resource::KnownChallenge>(
        r#"{"type":"x-02","url":"https://ca.example/c","status":"valid"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown challenge type"), "{err}");
    // Even an unknown type with a path in its "token" is only kept, never interpreted.
    let c = Challenge::from_json(br#"{"type":"x-01","token":"../../etc/passwd"}"#).unwrap();
    assert_eq!(c.type_name(), "x-01");
    assert!(c.known().is_none());
}

#[test]
fn dns_persist01_is_strict() {
    let base = r#"{"type":"dns-persist-01","url":"https://ca.example/chall/p","status":"pending","issuer-domain-names":["ca.example"]}"#;
    Challenge::from_json(base.as_bytes()).unwrap();
    refused_with::<Challenge>(
        &with(base, r#"["ca.example"]"#, "[]"),
        "no issuer domain name",
    );
    refused_with::<Challenge>(
        &with(base, r#","issuer-domain-names":["ca.example"]"#, ""),
        "without issuer-domain-names",
    );
    refused_with::<Challenge>(&with(base, "ca.example\"]", "*.ca.example\"]"), "wildcard");
    refused_with::<Challenge>(
        &with(base, "ca.example\"]", "ca..example\"]"),
        "empty label",
    );
    let eleven = format!("[{}]", ["\"ca.example\""; 11].join(","));
    refused_with::<Challenge>(&with(base, r#"["ca.example"]"#, &eleven), "more than ten");
    refused_with::<Challenge>(
        &with(base, "\"status\"", "\"accounturi\":\"acct/1\",\"status\""),
        "relative URL without a base",
    );
}

#[test]
fn renewal_info_window_and_urls() {
    let backwards =
        r#"{"suggestedWindow":{"start":"2030-01-02T00:00:00Z","end":"2030-01-01T00:00:00Z"}}"#;
    refused_with::<RenewalInfo>(backwards, "suggestedWindow ends before it starts");
    refused_with::<RenewalInfo>(
        &with(RENEWAL_INFO, "\"start\":\"2030-01-01T00:00:00Z\",", ""),
        "missing field `start`",
    );
    refused_with::<RenewalInfo>(
        &with(RENEWAL_INFO, "2030-01-02T00:00:00Z", "tomorrow"),
        "invalid RFC 3339 timestamp",
    );
    refused_with::<RenewalInfo>(
        &with(RENEWAL_INFO, "}}", r#"},"explanationURL":"docs/ari"}"#),
        "relative URL without a base",
    );
    refused_with::<RenewalInfo>(r#"{"suggestedWindow":null}"#, "invalid type: null");
}

#[test]
fn problems_accept_anything_well_typed() {
    let p = Problem::from_json(
        br#"{"type":"urn:example:brand-new","status":499,"extra":{"deep":[1,2]}}"#,
    )
    .unwrap();
    assert_eq!(p.kind, ProblemType::Other("urn:example:brand-new".into()));
    assert_eq!(p.status, Some(499));
    let p = Problem::from_json(br#"{"subproblems":null,"algorithms":null,"type":null}"#).unwrap();
    assert_eq!(p.kind, ProblemType::AboutBlank);
    refused_with::<Problem>(r#"{"status":"400"}"#, "invalid type: string");
    refused_with::<Problem>(r#"{"status":70000}"#, "invalid value");
    refused_with::<Problem>(r#"{"subproblems":[{"type":1}]}"#, "invalid type: integer");
    refused_with::<Problem>(r#"{"type":{"nested":true}}"#, "invalid type: map");
    let err = Problem::from_json(b"{\"detail\":\"\xff\"}").unwrap_err();
    assert_eq!(err.context, "problem document");
}
