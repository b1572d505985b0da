//! Whole flows driven by hand: the CA behaves as RFC 8555 says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::crypto::KeyId;
use acme_proto::{Method, UnixTime};
use acme_proto_fake_ca::{Config, RequestKind};
use common::{Client, b64, body, header, headers, key, keys, url};
use serde_json::json;
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

fn pems(text: &str) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(text.as_bytes())
        .map(|p| p.unwrap().contents)
        .collect()
}

#[test]
fn one_name_order_from_directory_to_certificate() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);

    let dir = c.get(&url("/directory"));
    assert_eq!(dir.status, 200);
    let d = body(&dir);
    for member in [
        "newNonce",
        "newAccount",
        "newOrder",
        "revokeCert",
        "keyChange",
        "newAuthz",
        "renewalInfo",
    ] {
        assert!(d[member].is_string(), "{member} missing from {d}");
    }
    assert!(header(&dir, "replay-nonce").is_some());

    let nonce = c.send(Client::request(Method::Head, &url("/acme/new-nonce")));
    assert_eq!(nonce.status, 200);
    assert_eq!(header(&nonce, "cache-control").as_deref(), Some("no-store"));
    let get_nonce = c.get(&url("/acme/new-nonce"));
    assert_eq!(get_nonce.status, 204);

    let payload = json!({"termsOfServiceAgreed": true, "contact": ["mailto:a@example.org"]});
    let acct = c.post(
        &k,
        KeyId::Jwk,
        &url("/acme/new-account"),
        payload.to_string().as_bytes(),
    );
    assert_eq!(acct.status, 201, "{}", body(&acct));
    let kid = header(&acct, "location").unwrap();
    assert_eq!(kid, url("/acme/acct/1"));
    assert_eq!(body(&acct)["status"], "valid");

    let (order_url, order) = c.order(&k, &kid, &["www.example.org"]);
    assert_eq!(order["status"], "pending");
    let authz_url = order["authorizations"][0].as_str().unwrap().to_owned();
    let authz = body(&c.post_as_get(&k, &kid, &authz_url));
    assert_eq!(
        authz["identifier"],
        json!({"type": "dns", "value": "www.example.org"})
    );
    let types: Vec<&str> = authz["challenges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["http-01", "dns-01", "tls-alpn-01"]);
    let chall = &authz["challenges"][0];
    let token = chall["token"].as_str().unwrap();
    assert!(
        token.len() >= 22
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        c.ca.key_authorization(token).unwrap(),
        format!("{token}.{}", k.thumbprint())
    );

    let r = c.post_json(&k, &kid, chall["url"].as_str().unwrap(), &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["status"], "valid");
    assert!(headers(&r, "link").contains(&format!("<{authz_url}>;rel=\"up\"")));
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &authz_url))["status"],
        "valid"
    );
    assert_eq!(
        body(&c.post_as_get(&k, &kid, &order_url))["status"],
        "ready"
    );

    let fin = c.finalize(&k, &kid, &order, &["www.example.org"]);
    assert_eq!(fin.status, 200, "{}", body(&fin));
    let fin = body(&fin);
    assert_eq!(fin["status"], "valid");
    let cert_url = fin["certificate"].as_str().unwrap();

    let cert = c.post_as_get(&k, &kid, cert_url);
    assert_eq!(cert.status, 200);
    assert_eq!(
        header(&cert, "content-type").as_deref(),
        Some("application/pem-certificate-chain")
    );
    let chain = pems(std::str::from_utf8(&cert.body).unwrap());
    assert_eq!(chain.len(), 2);
    let (_, leaf) = X509Certificate::from_der(&chain[0]).unwrap();
    let (_, inter) = X509Certificate::from_der(&chain[1]).unwrap();
    let root_der = pems(c.ca.root_pem()).remove(0);
    let (_, root) = X509Certificate::from_der(&root_der).unwrap();
    leaf.verify_signature(Some(inter.public_key())).unwrap();
    inter.verify_signature(Some(root.public_key())).unwrap();
    root.verify_signature(None).unwrap();
    assert_eq!(leaf.issuer(), inter.subject());
    assert_eq!(inter.issuer(), root.subject());
    let mut sans = Vec::new();
    let mut aki = None;
    for ext in leaf.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for n in &san.general_names {
                    if let GeneralName::DNSName(d) = n {
                        sans.push(d.to_string());
                    }
                }
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => {}
        }
    }
    assert_eq!(sans, ["www.example.org"]);
    // The leaf's key is the CSR's key.
    let csr_key = rcgen::KeyPair::from_pem(keys::CERT_P256).unwrap();
    assert_eq!(
        leaf.public_key().subject_public_key.data.as_ref(),
        csr_key.public_key_raw()
    );
    // The ARI certID is the leaf's AKI and serial.
    let issued = c.ca.certificates();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].der, chain[0]);
    assert_eq!(
        issued[0].cert_id,
        format!("{}.{}", b64(aki.unwrap()), b64(leaf.raw_serial()))
    );
    assert_eq!(leaf.validity().not_before.timestamp(), common::NOW as i64);
    assert_eq!(
        leaf.validity().not_after.timestamp(),
        common::NOW as i64 + 90 * 86_400
    );

    assert!(c.ca.violations().is_empty(), "{:?}", c.ca.violations());
    assert_eq!(c.ca.count(RequestKind::NewOrder), 1);
    assert_eq!(
        c.ca.head_nonce_requests(),
        1,
        "the directory response already carried a nonce"
    );
    assert_eq!(c.ca.orders()[0].status, "valid");
    assert_eq!(c.ca.accounts()[0].orders, [order_url]);
    let t = c.ca.transcript();
    assert_eq!(t.len(), c.ca.count(RequestKind::Any));
    assert!(t.iter().all(|e| e.problem.is_none()));
}

#[test]
fn same_requests_give_the_same_bytes() {
    let run = || {
        let mut c = Client::with_defaults();
        let k = key(keys::P256);
        let kid = c.account(&k);
        let (_, cert) = c.issue(&k, &kid, &["a.example.org", "b.example.org"]);
        let chain = c.post_as_get(&k, &kid, &cert);
        (chain.body, c.nonce.clone(), c.ca.root_pem().to_owned())
    };
    assert_eq!(run(), run());
}

#[test]
fn every_account_key_algorithm_verifies() {
    for pem in [
        keys::P256,
        keys::P384,
        keys::P521,
        keys::ED25519,
        keys::RSA2048,
    ] {
        let mut c = Client::with_defaults();
        let k = key(pem);
        let kid = c.account(&k);
        c.issue(&k, &kid, &["www.example.org"]);
        assert!(
            c.ca.violations().is_empty(),
            "{}: {:?}",
            k.algorithm(),
            c.ca.violations()
        );
    }
}

#[test]
fn existing_accounts_contacts_deactivation() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    let again = c.post(&k, KeyId::Jwk, &url("/acme/new-account"), b"{}");
    assert_eq!(again.status, 200);
    assert_eq!(header(&again, "location").unwrap(), kid);
    let other = key(keys::P384);
    let r = c.post(
        &other,
        KeyId::Jwk,
        &url("/acme/new-account"),
        br#"{"onlyReturnExisting":true}"#,
    );
    assert_eq!(
        (r.status, common::problem_type(&r).as_str()),
        (400, "accountDoesNotExist")
    );
    let r = c.post(
        &k,
        KeyId::Jwk,
        &url("/acme/new-account"),
        br#"{"onlyReturnExisting":true}"#,
    );
    assert_eq!(r.status, 200);

    let r = c.post_as_get(&k, &kid, &kid);
    assert_eq!(body(&r)["contact"], json!(["mailto:admin@example.org"]));
    let r = c.post_json(
        &k,
        &kid,
        &kid,
        &json!({"contact": ["mailto:new@example.org"]}),
    );
    assert_eq!(body(&r)["contact"], json!(["mailto:new@example.org"]));
    let r = c.post_json(&k, &kid, &kid, &json!({"contact": ["tel:+1555"]}));
    assert_eq!(common::problem_type(&r), "unsupportedContact");
    let r = c.post_json(&k, &kid, &kid, &json!({"contact": ["mailto:nobody"]}));
    assert_eq!(common::problem_type(&r), "invalidContact");

    let r = c.post_json(&k, &kid, &kid, &json!({"status": "deactivated"}));
    assert_eq!(body(&r)["status"], "deactivated");
    let r = c.post_as_get(&k, &kid, &kid);
    assert_eq!(
        (r.status, common::problem_type(&r).as_str()),
        (403, "unauthorized")
    );
    assert_eq!(c.ca.accounts()[0].status, "deactivated");
    assert!(c.ca.violations().is_empty(), "{:?}", c.ca.violations());
}

#[test]
fn key_change_rolls_the_key_and_refuses_a_key_in_use() {
    let mut c = Client::with_defaults();
    let old = key(keys::P256);
    let new = key(keys::ED25519);
    let taken = key(keys::P384);
    let kid = c.account(&old);
    let other_kid = c.account(&taken);

    let nonce = c.nonce();
    let kc = url("/acme/key-change");
    let body_bytes = acme_proto::crypto::jws::key_change(&old, &kid, &taken, &nonce, &kc).unwrap();
    let r = c.post_body(&kc, body_bytes);
    assert_eq!(r.status, 409);
    assert_eq!(header(&r, "location").unwrap(), other_kid);

    let nonce = c.nonce();
    let body_bytes = acme_proto::crypto::jws::key_change(&old, &kid, &new, &nonce, &kc).unwrap();
    let r = c.post_body(&kc, body_bytes);
    assert_eq!(r.status, 200, "{}", body(&r));
    assert_eq!(c.ca.accounts()[0].thumbprint, new.thumbprint().to_string());
    // The old key no longer signs for the account; the new one does.
    let r = c.post_as_get(&old, &kid, &kid);
    assert_eq!(r.status, 400);
    assert_eq!(
        c.ca.violations().len(),
        1,
        "signature by the old key is a violation"
    );
    assert_eq!(c.post_as_get(&new, &kid, &kid).status, 200);
}

#[test]
fn wildcard_and_ip_authorizations() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    let ids = json!({"identifiers": [
        {"type": "dns", "value": "*.example.org"},
        {"type": "ip", "value": "192.0.2.1"},
        {"type": "ip", "value": "2001:db8::1"},
    ]});
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &ids);
    assert_eq!(r.status, 201, "{}", body(&r));
    let order = body(&r);
    let authzs: Vec<_> = order["authorizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| body(&c.post_as_get(&k, &kid, a.as_str().unwrap())))
        .collect();
    assert_eq!(authzs[0]["identifier"]["value"], "example.org");
    assert_eq!(authzs[0]["wildcard"], true);
    assert_eq!(authzs[0]["challenges"].as_array().unwrap().len(), 1);
    assert_eq!(authzs[0]["challenges"][0]["type"], "dns-01");
    for a in &authzs[1..] {
        let types: Vec<_> = a["challenges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].clone())
            .collect();
        assert_eq!(types, [json!("http-01"), json!("tls-alpn-01")]);
        assert!(a.get("wildcard").is_none());
    }
    for a in &authzs {
        let url = a["challenges"][0]["url"].as_str().unwrap();
        c.post_json(&k, &kid, url, &json!({}));
    }
    let names = ["*.example.org", "192.0.2.1", "2001:db8::1"];
    let fin = c.finalize(&k, &kid, &order, &names);
    assert_eq!(body(&fin)["status"], "valid", "{}", body(&fin));
    // A CSR whose names differ is refused.
    let (_, order2) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &order2, "dns-01");
    let bad = c.finalize(&k, &kid, &order2, &["other.example.org"]);
    assert_eq!(
        (bad.status, common::problem_type(&bad).as_str()),
        (400, "badCSR")
    );
    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-order"),
        &json!({"identifiers": [{"type": "email", "value": "a@b"}]}),
    );
    assert_eq!(common::problem_type(&r), "unsupportedIdentifier");
    assert!(c.ca.violations().is_empty(), "{:?}", c.ca.violations());
}

#[test]
fn authorization_reuse_pre_authorization_and_deactivation() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    let (_, first) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &first, "http-01");
    let (_, second) = c.order(&k, &kid, &["www.example.org"]);
    assert_eq!(second["authorizations"], first["authorizations"]);
    assert_eq!(second["status"], "ready");

    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-authz"),
        &json!({"identifier": {"type": "dns", "value": "pre.example.org"}}),
    );
    assert_eq!(r.status, 201);
    let pre = header(&r, "location").unwrap();
    let (_, third) = c.order(&k, &kid, &["pre.example.org"]);
    assert_eq!(third["authorizations"][0], json!(pre));

    let r = c.post_json(&k, &kid, &pre, &json!({"status": "deactivated"}));
    assert_eq!(body(&r)["status"], "deactivated");
    assert_eq!(c.ca.orders()[2].status, "invalid");

    let mut config = Config::new(common::BASE);
    config.authz_reuse = false;
    config.new_authz = false;
    let mut c = Client::new(config);
    let kid = c.account(&k);
    let (_, first) = c.order(&k, &kid, &["www.example.org"]);
    c.validate(&k, &kid, &first, "http-01");
    let (_, second) = c.order(&k, &kid, &["www.example.org"]);
    assert_ne!(second["authorizations"], first["authorizations"]);
    assert!(body(&c.get(&url("/directory")))["newAuthz"].is_null());
}

#[test]
fn orders_list_is_paged() {
    let mut config = Config::new(common::BASE);
    config.orders_page_size = 2;
    let mut c = Client::new(config);
    let k = key(keys::P256);
    let kid = c.account(&k);
    for i in 0..5 {
        c.order(&k, &kid, &[&format!("n{i}.example.org")]);
    }
    let mut next = Some(format!("{kid}/orders"));
    let mut seen = Vec::new();
    while let Some(page) = next.take() {
        let r = c.post_as_get(&k, &kid, &page);
        assert_eq!(r.status, 200, "{}", body(&r));
        seen.extend(
            body(&r)["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_owned()),
        );
        next = headers(&r, "link")
            .iter()
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_owned());
    }
    assert_eq!(
        seen,
        (1..=5)
            .map(|i| url(&format!("/acme/order/{i}")))
            .collect::<Vec<_>>()
    );
}

#[test]
fn alternate_chains_under_different_roots() {
    let mut config = Config::new(common::BASE);
    config.alternate_chains = 2;
    let mut c = Client::new(config);
    let k = key(keys::P256);
    let kid = c.account(&k);
    let (_, cert) = c.issue(&k, &kid, &["www.example.org"]);
    let r = c.post_as_get(&k, &kid, &cert);
    let alts: Vec<String> = headers(&r, "link")
        .into_iter()
        .filter(|l| l.contains("rel=\"alternate\""))
        .collect();
    assert_eq!(alts.len(), 2);
    let roots = c.ca.root_pems().to_vec();
    assert_eq!(roots.len(), 3);
    let leaf_of = |body: &[u8]| pems(std::str::from_utf8(body).unwrap());
    let primary = leaf_of(&r.body);
    for (i, alt) in alts.iter().enumerate() {
        let alt_url = &alt[1..alt.find('>').unwrap()];
        let r = c.post_as_get(&k, &kid, alt_url);
        assert_eq!(r.status, 200);
        let chain = leaf_of(&r.body);
        assert_eq!(chain[0], primary[0], "same leaf");
        let (_, inter) = X509Certificate::from_der(&chain[1]).unwrap();
        let root_der = pems(&roots[i + 1]).remove(0);
        let (_, root) = X509Certificate::from_der(&root_der).unwrap();
        inter.verify_signature(Some(root.public_key())).unwrap();
        assert_ne!(
            root.subject().to_string(),
            X509Certificate::from_der(&pems(&roots[0])[0])
                .unwrap()
                .1
                .subject()
                .to_string()
        );
    }
}

#[test]
fn revocation_by_account_and_by_certificate_key() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    c.issue(&k, &kid, &["a.example.org"]);
    c.issue(&k, &kid, &["b.example.org"]);
    let ders: Vec<Vec<u8>> = c.ca.certificates().iter().map(|c| c.der.clone()).collect();
    let revoke = url("/acme/revoke-cert");

    let r = c.post_json(
        &k,
        &kid,
        &revoke,
        &json!({"certificate": b64(&ders[0]), "reason": 7}),
    );
    assert_eq!(common::problem_type(&r), "badRevocationReason");
    let r = c.post_json(
        &k,
        &kid,
        &revoke,
        &json!({"certificate": b64(&ders[0]), "reason": 4}),
    );
    assert_eq!(r.status, 200, "{}", body(&r));
    let r = c.post_json(&k, &kid, &revoke, &json!({"certificate": b64(&ders[0])}));
    assert_eq!(common::problem_type(&r), "alreadyRevoked");

    // Signed by the certificate's own key, with jwk.
    let cert_key = key(keys::CERT_P256);
    let payload = json!({"certificate": b64(&ders[1])}).to_string();
    let r = c.post(&cert_key, KeyId::Jwk, &revoke, payload.as_bytes());
    assert_eq!(r.status, 200, "{}", body(&r));
    // Another key cannot.
    let stranger = key(keys::P384);
    let r = c.post(&stranger, KeyId::Jwk, &revoke, payload.as_bytes());
    assert_eq!(r.status, 403);

    let certs = c.ca.certificates();
    let first = certs[0].revocation.unwrap();
    assert_eq!((first.reason, first.by_certificate_key), (Some(4), false));
    assert!(certs[1].revocation.unwrap().by_certificate_key);
    assert!(c.ca.violations().is_empty(), "{:?}", c.ca.violations());
}

#[test]
fn renewal_info_and_replaces() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    c.issue(&k, &kid, &["www.example.org"]);
    let cert = c.ca.certificates()[0].clone();
    let r = c.get(&url(&format!("/acme/renewal-info/{}", cert.cert_id)));
    assert_eq!(r.status, 200);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("21600"));
    let w = &body(&r)["suggestedWindow"];
    let start = UnixTime::parse_rfc3339(w["start"].as_str().unwrap()).unwrap();
    let end = UnixTime::parse_rfc3339(w["end"].as_str().unwrap()).unwrap();
    assert!(cert.not_before < start && start < end && end < cert.not_after);
    assert_eq!(c.get(&url("/acme/renewal-info/AAAA.BBBB")).status, 404);

    let ids = json!([{"type": "dns", "value": "www.example.org"}]);
    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-order"),
        &json!({"identifiers": ids, "replaces": cert.cert_id}),
    );
    assert_eq!(r.status, 201, "{}", body(&r));
    assert_eq!(body(&r)["replaces"], json!(cert.cert_id));
    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-order"),
        &json!({"identifiers": ids, "replaces": cert.cert_id}),
    );
    assert_eq!(
        (r.status, common::problem_type(&r).as_str()),
        (409, "alreadyReplaced")
    );
    assert_eq!(
        c.ca.certificates()[0].replaced_by.as_deref(),
        Some(url("/acme/order/2").as_str())
    );
}

#[test]
fn terms_eab_profiles_and_meta() {
    let mut config = Config::new(common::BASE);
    config.terms_of_service = Some("https://ca.test/terms".into());
    config.require_terms_agreement = true;
    config.website = Some("https://ca.test/".into());
    config.caa_identities = vec!["ca.test".into()];
    config.profiles = vec![
        ("classic".into(), "90 days".into()),
        ("shortlived".into(), "6 days".into()),
    ];
    config.eab = Some(acme_proto_fake_ca::EabConfig::new(
        "kid-1",
        b"0123456789abcdef0123456789abcdef",
        acme_proto::EabAlgorithm::Hs256,
    ));
    let mut c = Client::new(config);
    let meta = body(&c.get(&url("/directory")))["meta"].clone();
    assert_eq!(meta["termsOfService"], "https://ca.test/terms");
    assert_eq!(meta["website"], "https://ca.test/");
    assert_eq!(meta["caaIdentities"], json!(["ca.test"]));
    assert_eq!(meta["externalAccountRequired"], true);
    assert_eq!(meta["profiles"]["shortlived"], "6 days");

    let k = key(keys::P256);
    let new_account = url("/acme/new-account");
    let r = c.post(&k, KeyId::Jwk, &new_account, b"{}");
    assert_eq!(
        (r.status, common::problem_type(&r).as_str()),
        (403, "userActionRequired")
    );
    assert!(
        headers(&r, "link")
            .iter()
            .any(|l| l.contains("terms-of-service"))
    );
    let r = c.post(
        &k,
        KeyId::Jwk,
        &new_account,
        br#"{"termsOfServiceAgreed":true}"#,
    );
    assert_eq!(common::problem_type(&r), "externalAccountRequired");

    let eab = |mac: &str| {
        acme_proto::ExternalAccountBinding::new("kid-1", &b64(mac), acme_proto::EabAlgorithm::Hs256)
            .unwrap()
            .sign(k.jwk(), &new_account)
            .unwrap()
    };
    let wrong = json!({"termsOfServiceAgreed": true, "externalAccountBinding": eab("wrong key wrong key wrong key 32")});
    let r = c.post(&k, KeyId::Jwk, &new_account, wrong.to_string().as_bytes());
    assert_eq!(
        (r.status, common::problem_type(&r).as_str()),
        (403, "unauthorized")
    );
    let good = json!({"termsOfServiceAgreed": true, "externalAccountBinding": eab("0123456789abcdef0123456789abcdef")});
    let r = c.post(&k, KeyId::Jwk, &new_account, good.to_string().as_bytes());
    assert_eq!(r.status, 201, "{}", body(&r));
    let kid = header(&r, "location").unwrap();

    let ids = json!([{"type": "dns", "value": "www.example.org"}]);
    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-order"),
        &json!({"identifiers": ids, "profile": "bogus"}),
    );
    assert_eq!(common::problem_type(&r), "invalidProfile");
    let r = c.post_json(
        &k,
        &kid,
        &url("/acme/new-order"),
        &json!({"identifiers": ids, "profile": "shortlived"}),
    );
    assert_eq!(body(&r)["profile"], "shortlived");
    assert_eq!(
        c.ca.violations().len(),
        1,
        "only the wrong MAC: {:?}",
        c.ca.violations()
    );
}

#[test]
fn order_validity_window_is_honoured() {
    let mut c = Client::with_defaults();
    let k = key(keys::P256);
    let kid = c.account(&k);
    let ids = json!([{"type": "dns", "value": "www.example.org"}]);
    let payload = json!({"identifiers": ids, "notBefore": "2027-01-01T00:00:00Z", "notAfter": "2027-01-08T00:00:00Z"});
    let r = c.post_json(&k, &kid, &url("/acme/new-order"), &payload);
    let order = body(&r);
    assert_eq!(order["notBefore"], "2027-01-01T00:00:00Z");
    c.validate(&k, &kid, &order, "tls-alpn-01");
    c.finalize(&k, &kid, &order, &["www.example.org"]);
    let cert = &c.ca.certificates()[0];
    assert_eq!(
        cert.not_before,
        UnixTime::parse_rfc3339("2027-01-01T00:00:00Z").unwrap()
    );
    assert_eq!(
        cert.not_after,
        UnixTime::parse_rfc3339("2027-01-08T00:00:00Z").unwrap()
    );
}
