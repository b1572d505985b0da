//! A hand-driven client for the CA's own tests: signs with the core's `jws` module,
//! keeps the last nonce, and knows nothing of the state machines.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(
    unused_imports,
    reason = "shared by several test binaries; not all use the keys"
)]
pub use acme_proto_fake_ca::test_keys as keys;

use acme_proto::crypto::{AccountKey, KeyId, jws};
use acme_proto::{Method, Request, Response, UnixTime};
use acme_proto_fake_ca::{Config, FakeCa};
use base64::Engine as _;
use serde_json::{Value, json};

pub const BASE: &str = "https://ca.test";
pub const NOW: u64 = 1_800_000_000;

pub fn url(path: &str) -> String {
    format!("{BASE}{path}")
}

pub fn key(pem: &str) -> AccountKey {
    AccountKey::from_pem(pem).unwrap()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// A DER CSR for `names` (DNS names, or IP addresses), signed by the fixed certificate key.
pub fn csr(names: &[&str]) -> Vec<u8> {
    let key = rcgen::KeyPair::from_pem(keys::CERT_P256).unwrap();
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serialize_request(&key).unwrap().der().to_vec()
}

pub fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .get(name)
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
}

pub fn headers(response: &Response, name: &str) -> Vec<String> {
    response
        .headers
        .get_all(name)
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
        .collect()
}

pub fn body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

pub fn problem_type(response: &Response) -> String {
    body(response)["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:ietf:params:acme:error:")
        .to_owned()
}

pub struct Client {
    pub ca: FakeCa,
    pub now: UnixTime,
    pub nonce: Option<String>,
}

impl Client {
    pub fn new(config: Config) -> Self {
        Self {
            ca: FakeCa::new(config),
            now: UnixTime::from_secs(NOW),
            nonce: None,
        }
    }

    pub fn with_defaults() -> Self {
        Self::new(Config::new(BASE))
    }

    pub fn send(&mut self, request: Request) -> Response {
        let response = self.ca.handle(&request, self.now);
        if let Some(nonce) = header(&response, "replay-nonce") {
            self.nonce = Some(nonce);
        }
        response
    }

    pub fn request(method: Method, url: &str) -> Request {
        Request::new(
            acme_proto::RequestId::new(1),
            method,
            url.parse().unwrap(),
            1 << 20,
        )
    }

    pub fn get(&mut self, url: &str) -> Response {
        self.send(Self::request(Method::Get, url))
    }

    pub fn nonce(&mut self) -> String {
        match self.nonce.take() {
            Some(nonce) => nonce,
            None => {
                let r = self.send(Self::request(Method::Head, &url("/acme/new-nonce")));
                self.nonce
                    .take()
                    .unwrap_or_else(|| panic!("no nonce in {r:?}"))
            }
        }
    }

    pub fn post_body(&mut self, url: &str, body: Vec<u8>) -> Response {
        let request = Self::request(Method::Post, url)
            .with_header("Content-Type", "application/jose+json")
            .with_body(body);
        self.send(request)
    }

    pub fn post(
        &mut self,
        key: &AccountKey,
        key_id: KeyId<'_>,
        url: &str,
        payload: &[u8],
    ) -> Response {
        let nonce = self.nonce();
        let body = jws::sign(key, key_id, &nonce, url, payload).unwrap();
        self.post_body(url, body)
    }

    pub fn post_json(
        &mut self,
        key: &AccountKey,
        kid: &str,
        url: &str,
        payload: &Value,
    ) -> Response {
        self.post(key, KeyId::Kid(kid), url, payload.to_string().as_bytes())
    }

    pub fn post_as_get(&mut self, key: &AccountKey, kid: &str, url: &str) -> Response {
        self.post(key, KeyId::Kid(kid), url, b"")
    }

    /// A new account for `key`, agreeing to the terms; returns its URL.
    pub fn account(&mut self, key: &AccountKey) -> String {
        let payload =
            json!({"termsOfServiceAgreed": true, "contact": ["mailto:admin@example.org"]});
        let r = self.post(
            key,
            KeyId::Jwk,
            &url("/acme/new-account"),
            payload.to_string().as_bytes(),
        );
        assert!(r.status == 201 || r.status == 200, "{r:?} {}", body(&r));
        header(&r, "location").unwrap()
    }

    /// A new order for DNS `names`; returns (order URL, order body).
    pub fn order(&mut self, key: &AccountKey, kid: &str, names: &[&str]) -> (String, Value) {
        let ids: Vec<Value> = names
            .iter()
            .map(|n| json!({"type": "dns", "value": n}))
            .collect();
        let r = self.post_json(
            key,
            kid,
            &url("/acme/new-order"),
            &json!({"identifiers": ids}),
        );
        assert_eq!(r.status, 201, "{}", body(&r));
        (header(&r, "location").unwrap(), body(&r))
    }

    /// Answers the first challenge of `typ` of every authorization of `order`.
    pub fn validate(&mut self, key: &AccountKey, kid: &str, order: &Value, typ: &str) {
        for authz in order["authorizations"].as_array().unwrap() {
            let a = body(&self.post_as_get(key, kid, authz.as_str().unwrap()));
            if a["status"] == "valid" {
                continue;
            }
            let chall = a["challenges"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["type"] == typ)
                .unwrap();
            let r = self.post_json(key, kid, chall["url"].as_str().unwrap(), &json!({}));
            assert_eq!(r.status, 200, "{}", body(&r));
        }
    }

    /// Finalizes with a CSR for `names`; returns the response.
    pub fn finalize(
        &mut self,
        key: &AccountKey,
        kid: &str,
        order: &Value,
        names: &[&str],
    ) -> Response {
        let payload = json!({"csr": b64(csr(names))});
        self.post_json(key, kid, order["finalize"].as_str().unwrap(), &payload)
    }

    /// A whole one-certificate flow for `names`; returns (order URL, certificate URL).
    pub fn issue(&mut self, key: &AccountKey, kid: &str, names: &[&str]) -> (String, String) {
        let (order_url, order) = self.order(key, kid, names);
        self.validate(key, kid, &order, "http-01");
        let r = self.finalize(key, kid, &order, names);
        assert_eq!(r.status, 200, "{}", body(&r));
        let cert = body(&r)["certificate"].as_str().unwrap().to_owned();
        (order_url, cert)
    }
}
