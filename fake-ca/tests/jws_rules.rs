//! Each JWS rule of RFC 8555 §6 rejects a request that breaks it, and the break is
//! recorded as a violation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::Response;
use acme_proto::crypto::{KeyId, jws};
use common::{Client, b64, b64d, body, header, key, keys, problem_type, url};
use serde_json::{Value, json};

/// A client with an account; returns it, the key and the account URL.
fn setup() -> (Client, acme_proto::AccountKey, String) {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    (c, k, kid)
}

fn rejected(c: &Client, r: &Response, status: u16, kind: &str) {
    assert_eq!(
        (r.status, problem_type(r).as_str()),
        (status, kind),
        "{}",
        body(r)
    );
    assert_eq!(
        header(r, "content-type").as_deref(),
        Some("application/problem+json")
    );
    assert!(
        header(r, "replay-nonce").is_some(),
        "errors carry a fresh nonce too"
    );
    assert_eq!(c.ca.violations().len(), 1, "{:?}", c.ca.violations());
}

/// Re-signs a JWS after `edit` changed its protected header.
fn with_header(
    k: &acme_proto::AccountKey,
    signed: &[u8],
    edit: impl FnOnce(&mut Value),
) -> Vec<u8> {
    use acme_proto::Signer as _;
    let v: Value = serde_json::from_slice(signed).unwrap();
    let mut header: Value =
        serde_json::from_slice(&b64d(v["protected"].as_str().unwrap())).unwrap();
    edit(&mut header);
    let protected = b64(header.to_string());
    let payload = v["payload"].as_str().unwrap();
    let sig = k.sign(format!("{protected}.{payload}").as_bytes()).unwrap();
    json!({"protected": protected, "payload": payload, "signature": b64(sig)})
        .to_string()
        .into_bytes()
}

#[test]
fn a_reused_nonce_is_bad() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let first = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    assert_eq!(c.post_body(&kid, first).status, 200);
    let again = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let r = c.post_body(&kid, again);
    rejected(&c, &r, 400, "badNonce");
    assert!(c.ca.violations()[0].contains("already used"));
}

#[test]
fn a_nonce_not_issued_here_is_bad() {
    let (mut c, k, kid) = setup();
    let body_bytes = jws::post_as_get(&k, &kid, "bm90LWlzc3VlZC1oZXJl", &kid).unwrap();
    let r = c.post_body(&kid, body_bytes);
    rejected(&c, &r, 400, "badNonce");
}

#[test]
fn the_url_must_be_the_request_url() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let body_bytes = jws::post_as_get(&k, &kid, &nonce, &url("/acme/order/1")).unwrap();
    let r = c.post_body(&kid, body_bytes);
    rejected(&c, &r, 403, "unauthorized");
}

#[test]
fn jwk_and_kid_together_are_malformed() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let jwk: Value = serde_json::from_str(&k.jwk().to_canonical_json()).unwrap();
    let both = with_header(&k, &signed, |h| {
        h["jwk"] = jwk;
    });
    let r = c.post_body(&kid, both);
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn jwk_where_kid_is_required_is_malformed() {
    let (mut c, k, kid) = setup();
    let r = c.post(&k, KeyId::Jwk, &kid, b"");
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn kid_on_new_account_is_malformed() {
    let (mut c, k, kid) = setup();
    let r = c.post(&k, KeyId::Kid(&kid), &url("/acme/new-account"), b"{}");
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn an_unknown_kid_does_not_exist() {
    let (mut c, k, _) = setup();
    let r = c.post_as_get(&k, &url("/acme/acct/99"), &url("/acme/acct/1"));
    rejected(&c, &r, 400, "accountDoesNotExist");
}

#[test]
fn a_bad_signature_is_refused() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let mut v: Value = serde_json::from_slice(&signed).unwrap();
    let mut sig = b64d(v["signature"].as_str().unwrap());
    sig[10] ^= 1;
    v["signature"] = json!(b64(sig));
    let r = c.post_body(&kid, v.to_string().into_bytes());
    rejected(&c, &r, 400, "malformed");
    // The nonce of a refused signature was not spent.
    let retry = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    assert_eq!(c.post_body(&kid, retry).status, 200);
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let (mut c, _, kid) = setup();
    let other = key(keys::P256_B);
    let r = c.post_as_get(&other, &kid, &kid);
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn alg_must_match_the_key() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let r = c.post_body(
        &kid,
        with_header(&k, &signed, |h| h["alg"] = json!("ES384")),
    );
    rejected(&c, &r, 400, "badSignatureAlgorithm");
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let r = c.post_body(&kid, with_header(&k, &signed, |h| h["alg"] = json!("none")));
    assert_eq!(problem_type(&r), "badSignatureAlgorithm");
}

#[test]
fn only_the_flattened_form_is_accepted() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let v: Value = serde_json::from_slice(&signed).unwrap();
    let general = json!({"payload": v["payload"], "signatures": [{"protected": v["protected"], "signature": v["signature"]}]});
    let r = c.post_body(&kid, general.to_string().into_bytes());
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn post_as_get_must_have_an_empty_payload() {
    let (mut c, k, kid) = setup();
    let (order_url, _) = c.order(&k, &kid, &["www.example.org"]);
    let r = c.post_json(&k, &kid, &order_url, &json!({}));
    rejected(&c, &r, 400, "malformed");
}

#[test]
fn a_post_needs_the_jose_content_type() {
    let (mut c, k, kid) = setup();
    let nonce = c.nonce();
    let signed = jws::post_as_get(&k, &kid, &nonce, &kid).unwrap();
    let request = Client::request(acme_proto::Method::Post, &kid)
        .with_header("Content-Type", "application/json")
        .with_body(signed);
    let r = c.send(request);
    rejected(&c, &r, 415, "malformed");
}

#[test]
fn resources_of_other_accounts_are_unauthorized() {
    let (mut c, k, kid) = setup();
    let (order_url, _) = c.order(&k, &kid, &["www.example.org"]);
    let other = key(keys::P384);
    let other_kid = c.account(&other);
    let r = c.post_as_get(&other, &other_kid, &order_url);
    assert_eq!((r.status, problem_type(&r).as_str()), (403, "unauthorized"));
    let r = c.post_as_get(&other, &other_kid, &kid);
    assert_eq!(r.status, 403);
    assert!(c.ca.violations().is_empty());
}

#[test]
fn a_clean_flow_has_no_violations_and_unknown_urls_are_404() {
    let (mut c, k, kid) = setup();
    c.issue(&k, &kid, &["www.example.org"]);
    assert!(c.ca.violations().is_empty(), "{:?}", c.ca.violations());
    assert_eq!(c.get(&url("/nope")).status, 404);
    assert_eq!(c.get(&url("/acme/new-order")).status, 405);
    assert_eq!(c.post_as_get(&k, &kid, &url("/acme/order/42")).status, 404);
}
