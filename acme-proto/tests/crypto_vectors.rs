#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Published test vectors (RFC 7638, RFC 8037, RFC 7515), determinism, JWS structure,
//! EAB, key authorizations and hostile key imports.

mod common;

use common::{TestRng, b64d};

use acme_proto::crypto::{self, EcCurve, FlattenedJws, jws};
use acme_proto::{
    AccountKey, ChallengeToken, EabAlgorithm, Error, ExternalAccountBinding, Jwk, KeyAuthorization,
    KeyId, Misuse, SignatureAlgorithm, Signer,
};
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

fn rfc7638_jwk() -> Jwk {
    let json =
        format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":"AQAB","alg":"RS256","kid":"2011-04-29"}}"#);
    Jwk::from_json(json.as_bytes()).unwrap()
}

#[test]
fn rfc7638_thumbprint_and_key_authorization() {
    let jwk = rfc7638_jwk();
    assert_eq!(
        jwk.thumbprint().as_str(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(
        jwk.to_canonical_json(),
        format!(r#"{{"e":"AQAB","kty":"RSA","n":"{RFC7638_N}"}}"#)
    );
    assert_eq!(
        serde_json::to_string(&jwk).unwrap(),
        jwk.to_canonical_json()
    );
    let token = ChallengeToken::new(TOKEN).unwrap();
    let ka = KeyAuthorization::new(&token, &jwk.thumbprint());
    assert_eq!(
        ka.as_str(),
        "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(ka.as_str()).into();
    assert_eq!(ka.tls_alpn_digest(), digest);
    assert_eq!(b64d(&ka.dns_txt_value()), digest.to_vec());
    assert_eq!(ka.dns_txt_value().len(), 43);
    assert_eq!(
        crypto::http01_path(&token),
        "/.well-known/acme-challenge/evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
    );
}

#[test]
fn dns_account01_record_name_construction() {
    use sha2::Digest;
    let url = "https://example.com/acme/acct/ExampleAccount";
    let name = crypto::dns_account01_record_name("*.example.org.", url);
    // Independent construction: base32 (RFC 4648) of the first 10 bytes of SHA-256.
    let d = sha2::Sha256::digest(url.as_bytes());
    let mut bits = 0u128;
    for b in &d[..10] {
        bits = (bits << 8) | u128::from(*b);
    }
    let label: String = (0..16)
        .rev()
        .map(|i| b"abcdefghijklmnopqrstuvwxyz234567"[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    assert_eq!(name, format!("_{label}._acme-challenge.example.org"));
    assert_eq!(label.len(), 16);
}

const ED_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn rfc8037_key() -> AccountKey {
    AccountKey::from_jwk_json(format!(
        r#"{{"kty":"OKP","crv":"Ed25519","d":"{ED_D}","x":"{ED_X}"}}"#
    ))
    .unwrap()
}

#[test]
fn rfc8037_a1_to_a4() {
    let key = rfc8037_key();
    assert_eq!(key.algorithm(), SignatureAlgorithm::EdDsa);
    assert_eq!(
        serde_json::to_string(key.jwk()).unwrap(),
        format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{ED_X}"}}"#)
    );
    assert_eq!(
        key.thumbprint().as_str(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
    let sig = key.sign(input.as_bytes()).unwrap();
    assert_eq!(
        sig,
        b64d(
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        )
    );
    // The private JWK round-trips.
    let json = key.to_jwk_json().unwrap();
    assert_eq!(
        *json,
        format!(r#"{{"crv":"Ed25519","d":"{ED_D}","kty":"OKP","x":"{ED_X}"}}"#)
    );
}

#[test]
fn rfc7515_a3_es256() {
    let key = AccountKey::from_jwk_json(
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#,
    )
    .unwrap();
    assert_eq!(key.algorithm(), SignatureAlgorithm::Es256);
    assert_eq!(
        key.jwk().to_canonical_json(),
        r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#
    );
    // The appendix's own signature verifies with p256's verifier against our public key.
    use p256::ecdsa::signature::Verifier;
    let input = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    let sig = b64d(
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
    );
    let (_, x, y) = (
        0,
        b64d("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
        b64d("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"),
    );
    let mut sec1 = vec![4u8];
    sec1.extend(&x);
    sec1.extend(&y);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&sig).unwrap();
    vk.verify(input.as_bytes(), &sig).unwrap();
    // And our own signature of the same input verifies too.
    let ours = p256::ecdsa::Signature::from_slice(&key.sign(input.as_bytes()).unwrap()).unwrap();
    vk.verify(input.as_bytes(), &ours).unwrap();
}

fn all_algorithms() -> Vec<SignatureAlgorithm> {
    let mut v = vec![
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::EdDsa,
    ];
    if cfg!(feature = "rsa") {
        v.push(SignatureAlgorithm::Rs256);
    }
    v
}

#[test]
fn deterministic_signatures_and_round_trips() {
    for alg in all_algorithms() {
        let key = AccountKey::generate(alg, &mut TestRng::new(7)).unwrap();
        assert_eq!(key.algorithm(), alg);
        let a = jws::sign(
            &key,
            KeyId::Kid("https://ca/acct/1"),
            "bm9uY2U",
            "https://ca/new-order",
            b"{}",
        )
        .unwrap();
        let b = jws::sign(
            &key,
            KeyId::Kid("https://ca/acct/1"),
            "bm9uY2U",
            "https://ca/new-order",
            b"{}",
        )
        .unwrap();
        assert_eq!(a, b, "{alg}: not deterministic");
        // Same key from the same seed, and through every export format.
        let again = AccountKey::generate(alg, &mut TestRng::new(7)).unwrap();
        assert_eq!(again.thumbprint(), key.thumbprint());
        let from_der = AccountKey::from_pkcs8_der(&key.to_pkcs8_der().unwrap()).unwrap();
        let from_pem = AccountKey::from_pem(key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
        let from_jwk = AccountKey::from_jwk_json(key.to_jwk_json().unwrap().as_bytes()).unwrap();
        for k in [&from_der, &from_pem, &from_jwk] {
            assert_eq!(k.thumbprint(), key.thumbprint(), "{alg}");
            assert_eq!(k.sign(b"x").unwrap(), key.sign(b"x").unwrap(), "{alg}");
        }
        // Debug shows the algorithm and thumbprint, never key material.
        let debug = format!("{key:?}");
        assert!(
            debug.contains(alg.name()) && debug.contains(key.thumbprint().as_str()),
            "{debug}"
        );
        let jwk_json = key.to_jwk_json().unwrap();
        let v: serde_json::Value = serde_json::from_str(&jwk_json).unwrap();
        let d = v["d"].as_str().unwrap();
        assert!(!debug.contains(d), "{debug}");
        assert!(!debug.contains("d:") && debug.len() < 200, "{debug}");
    }
}

fn decode_jws(body: &[u8]) -> (serde_json::Value, serde_json::Value, FlattenedJws) {
    let text = std::str::from_utf8(body).unwrap();
    let jws: FlattenedJws = serde_json::from_str(text).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"protected":"{}","payload":"{}","signature":"{}"}}"#,
            jws.protected, jws.payload, jws.signature
        )
    );
    let protected: serde_json::Value = serde_json::from_slice(&b64d(&jws.protected)).unwrap();
    let payload = if jws.payload.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&b64d(&jws.payload)).unwrap()
    };
    (protected, payload, jws)
}

#[test]
fn jws_header_order_jwk_or_kid_and_post_as_get() {
    let key = rfc8037_key();
    let body = jws::sign(
        &key,
        KeyId::Jwk,
        "abc_-123",
        "https://ca/new-acct",
        br#"{"termsOfServiceAgreed":true}"#,
    )
    .unwrap();
    let (_, payload, jws) = decode_jws(&body);
    let header = String::from_utf8(b64d(&jws.protected)).unwrap();
    assert_eq!(
        header,
        format!(
            r#"{{"alg":"EdDSA","jwk":{{"crv":"Ed25519","kty":"OKP","x":"{ED_X}"}},"nonce":"abc_-123","url":"https://ca/new-acct"}}"#
        )
    );
    assert_eq!(payload["termsOfServiceAgreed"], true);

    let body = jws::post_as_get(&key, "https://ca/acct/9", "n0nce", "https://ca/order/1").unwrap();
    let (_, _, jws) = decode_jws(&body);
    assert_eq!(jws.payload, "");
    let header = String::from_utf8(b64d(&jws.protected)).unwrap();
    assert_eq!(
        header,
        r#"{"alg":"EdDSA","kid":"https://ca/acct/9","nonce":"n0nce","url":"https://ca/order/1"}"#
    );
    // Ed25519 is deterministic, so the whole body is fixed.
    let input = format!("{}.", jws.protected);
    assert_eq!(b64d(&jws.signature), key.sign(input.as_bytes()).unwrap());

    // A nonce is mandatory and base64url.
    for bad in ["", "a b", "a+b", "a=", "é"] {
        let err = jws::sign(
            &key,
            KeyId::Kid("https://ca/acct/9"),
            bad,
            "https://ca/x",
            b"",
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Misuse(Misuse::InvalidArgument(_))),
            "{bad:?}: {err:?}"
        );
    }
    assert!(matches!(
        jws::sign(&key, KeyId::Kid(""), "n", "https://ca/x", b"").unwrap_err(),
        Error::Misuse(Misuse::InvalidUrl(_))
    ));
}

#[test]
fn key_change_nested_jws() {
    let old = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(1)).unwrap();
    let new = rfc8037_key();
    let body = jws::key_change(
        &old,
        "https://ca/acct/5",
        &new,
        "nonce1",
        "https://ca/key-change",
    )
    .unwrap();
    let (outer_header, inner_value, outer) = decode_jws(&body);
    assert_eq!(outer_header["alg"], "ES256");
    assert_eq!(outer_header["kid"], "https://ca/acct/5");
    assert_eq!(outer_header["nonce"], "nonce1");
    assert_eq!(outer_header["url"], "https://ca/key-change");
    assert!(outer_header.get("jwk").is_none());
    let inner_bytes = b64d(&outer.payload);
    let (inner_header, inner_payload, inner) = decode_jws(&inner_bytes);
    assert_eq!(inner_value["protected"], inner.protected.as_str());
    assert_eq!(
        String::from_utf8(b64d(&inner.protected)).unwrap(),
        format!(
            r#"{{"alg":"EdDSA","jwk":{{"crv":"Ed25519","kty":"OKP","x":"{ED_X}"}},"url":"https://ca/key-change"}}"#
        )
    );
    assert!(inner_header.get("nonce").is_none());
    assert_eq!(
        String::from_utf8(b64d(&inner.payload)).unwrap(),
        format!(
            r#"{{"account":"https://ca/acct/5","oldKey":{}}}"#,
            old.jwk().to_canonical_json()
        )
    );
    assert_eq!(inner_payload["oldKey"]["crv"], "P-256");
    // The inner signature is the new key's over the inner signing input.
    let input = format!("{}.{}", inner.protected, inner.payload);
    assert_eq!(b64d(&inner.signature), new.sign(input.as_bytes()).unwrap());
    // The outer signature verifies with the old key.
    use p256::ecdsa::signature::Verifier;
    let (_, x, y) = {
        let v: serde_json::Value = serde_json::from_str(&old.jwk().to_canonical_json()).unwrap();
        (
            0,
            b64d(v["x"].as_str().unwrap()),
            b64d(v["y"].as_str().unwrap()),
        )
    };
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&b64d(&outer.signature)).unwrap();
    vk.verify(
        format!("{}.{}", outer.protected, outer.payload).as_bytes(),
        &sig,
    )
    .unwrap();
    // The same key twice is refused.
    assert!(jws::key_change(&old, "https://ca/acct/5", &old, "n", "https://ca/kc").is_err());
}

#[test]
fn eab_vectors_checked_with_ring_hmac() {
    let jwk = rfc8037_key().jwk().clone();
    // 32 random bytes as a CA hands them out (base64url, unpadded and padded).
    let mac_key = b64d("zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W");
    for (alg, ring_alg) in [
        (EabAlgorithm::Hs256, ring::hmac::HMAC_SHA256),
        (EabAlgorithm::Hs384, ring::hmac::HMAC_SHA384),
        (EabAlgorithm::Hs512, ring::hmac::HMAC_SHA512),
    ] {
        for encoded in [
            "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
            "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W\n",
        ] {
            let eab = ExternalAccountBinding::new("kid-1", encoded, alg).unwrap();
            let debug = format!("{eab:?}");
            assert!(
                debug.contains("kid-1") && !debug.contains("zWNDZM6e"),
                "{debug}"
            );
            let jws = eab.sign(&jwk, "https://ca/new-acct").unwrap();
            assert_eq!(
                String::from_utf8(b64d(&jws.protected)).unwrap(),
                format!(
                    r#"{{"alg":"{}","kid":"kid-1","url":"https://ca/new-acct"}}"#,
                    alg.name()
                )
            );
            assert_eq!(
                String::from_utf8(b64d(&jws.payload)).unwrap(),
                jwk.to_canonical_json()
            );
            let key = ring::hmac::Key::new(ring_alg, &mac_key);
            let input = format!("{}.{}", jws.protected, jws.payload);
            let tag = ring::hmac::sign(&key, input.as_bytes());
            assert_eq!(b64d(&jws.signature), tag.as_ref(), "{alg:?}");
            ring::hmac::verify(&key, input.as_bytes(), &b64d(&jws.signature)).unwrap();
        }
    }
    // Padding is accepted: "AAEC" = [0,1,2], "AAE=" = [0,1].
    let a = ExternalAccountBinding::new("k", "AAE=", EabAlgorithm::Hs256).unwrap();
    let b = ExternalAccountBinding::new("k", "AAE", EabAlgorithm::Hs256).unwrap();
    assert_eq!(a.sign(&jwk, "u").unwrap(), b.sign(&jwk, "u").unwrap());
    let std_b64 = ExternalAccountBinding::new("k", "ab+/cd==", EabAlgorithm::Hs256).unwrap_err();
    match std_b64 {
        Misuse::InvalidEab(why) => assert!(why.contains("standard base64"), "{why}"),
        other => panic!("{other:?}"),
    }
    for bad in ["", "====", "a", "ab!c", "AAE==="] {
        assert!(
            matches!(
                ExternalAccountBinding::new("k", bad, EabAlgorithm::Hs256),
                Err(Misuse::InvalidEab(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        ExternalAccountBinding::new("", "AAEC", EabAlgorithm::Hs256),
        Err(Misuse::InvalidEab(_))
    ));
}

#[test]
fn der_signature_conversion() {
    use SignatureAlgorithm::*;
    // r = 1, s = 0x80 (needs a sign byte).
    let der = [0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x80];
    let out = crypto::ecdsa_der_to_jws(Es256, &der).unwrap();
    assert_eq!(out.len(), 64);
    assert_eq!(out[31], 1);
    assert_eq!(out[63], 0x80);
    assert!(out[..31].iter().chain(&out[32..63]).all(|&b| b == 0));
    // A real signature round-trips through p256's DER encoding.
    let key = AccountKey::generate(Es256, &mut TestRng::new(3)).unwrap();
    let fixed = key.sign(b"m").unwrap();
    let der = p256::ecdsa::Signature::from_slice(&fixed).unwrap().to_der();
    assert_eq!(
        crypto::ecdsa_der_to_jws(Es256, der.as_bytes()).unwrap(),
        fixed
    );
    for hostile in [
        &[][..],
        &[0x30],
        &[0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00], // truncated
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x80], // negative s
        &[0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01], // zero r
        &[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01], // non-minimal r
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00], // trailing byte
        &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], // not a SEQUENCE
        &[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01], // non-minimal length
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],             // huge length
    ] {
        assert!(
            crypto::ecdsa_der_to_jws(Es256, hostile).is_err(),
            "{hostile:02x?}"
        );
    }
    // r wider than the curve.
    let mut wide = vec![0x30, 0x27, 0x02, 0x21];
    wide.extend([0x01; 33]);
    wide.extend([0x02, 0x01, 0x01]);
    wide[1] = (wide.len() - 2) as u8;
    assert!(crypto::ecdsa_der_to_jws(Es256, &wide).is_err());
    assert!(crypto::ecdsa_der_to_jws(EdDsa, der.as_bytes()).is_err());
}

fn is_invalid_key(r: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(r, Err(Error::Misuse(Misuse::InvalidKey(_))))
}

#[test]
fn hostile_imports_give_typed_errors() {
    let key = AccountKey::generate(SignatureAlgorithm::Es384, &mut TestRng::new(9)).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(
            is_invalid_key(AccountKey::from_pkcs8_der(&der[..cut])),
            "cut at {cut}"
        );
    }
    // Wrong curve: P-192 (1.2.840.10045.3.1.1) in place of P-256's OID.
    let p256 = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(2)).unwrap();
    let mut wrong = p256.to_pkcs8_der().unwrap().to_vec();
    let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let pos = wrong.windows(oid.len()).position(|w| w == oid).unwrap();
    wrong[pos + oid.len() - 1] = 0x01;
    assert!(is_invalid_key(AccountKey::from_pkcs8_der(&wrong)));
    assert!(is_invalid_key(AccountKey::from_pem(
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )));
    assert!(is_invalid_key(AccountKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"
    )));
    assert!(is_invalid_key(AccountKey::from_pem("no pem here")));
    assert!(is_invalid_key(AccountKey::from_pem(
        b"\xff\xfe-----BEGIN PRIVATE KEY-----".as_slice()
    )));
    assert!(is_invalid_key(AccountKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n"
    )));
    assert!(matches!(
        AccountKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        ),
        Err(Error::Misuse(Misuse::Unsupported(_)))
    ));
    // Private JWKs: bad base64, wrong lengths, mismatched public part, non-UTF-8.
    for bad in [
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9L"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL+YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#,
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
        r#"{"kty":"EC","crv":"P-256K","x":"AA","y":"AA","d":"AA"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp"}"#,
        r#"{"kty":"oct","k":"AAAA"}"#,
        r#"[]"#,
    ] {
        assert!(is_invalid_key(AccountKey::from_jwk_json(bad)), "{bad}");
    }
    assert!(is_invalid_key(AccountKey::from_jwk_json(
        b"{\"kty\":\"\xff\"}".as_slice()
    )));

    // Public JWKs.
    let ok_x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    let ok_y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    assert!(
        Jwk::from_json(
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{ok_x}","y":"{ok_y}"}}"#).as_bytes()
        )
        .is_ok()
    );
    for bad in [
        format!(
            r#"{{"kty":"EC","crv":"P-256","x":"{ok_x}","y":"{}"}}"#,
            &ok_y[..42]
        ),
        format!(r#"{{"kty":"EC","crv":"P-384","x":"{ok_x}","y":"{ok_y}"}}"#),
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{ok_x}","y":"{ok_x}"}}"#),
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{ok_x}=","y":"{ok_y}"}}"#),
        format!(r#"{{"kty":"EC","crv":"P-256","x":"{ok_x}","y":"{ok_y}","d":"AA"}}"#),
        r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#.to_string(),
        format!(r#"{{"kty":"RSA","n":"AA{RFC7638_N}","e":"AQAB"}}"#),
        format!(r#"{{"kty":"RSA","n":"{RFC7638_N}","e":""}}"#),
        r#"{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#
            .to_string(),
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}"#
            .to_string(),
    ] {
        assert!(
            matches!(Jwk::from_json(bad.as_bytes()), Err(Misuse::InvalidKey(_))),
            "{bad}"
        );
    }
    assert!(Jwk::ec(EcCurve::P521, &[0; 65], &[0; 66]).is_err());
}

#[test]
fn sec1_pem_with_ec_parameters_block() {
    // openssl ecparam -name prime256v1 -genkey output shape: parameters, then the key.
    let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(11)).unwrap();
    let pkcs8 = key.to_pkcs8_der().unwrap();
    // The SEC1 ECPrivateKey is the OCTET STRING inside PKCS#8; take it by structure:
    // PKCS#8 v1 for P-256 from RustCrypto: 30 81 87 02 01 00 30 13 <alg> 04 6d <sec1>.
    let pos = pkcs8.windows(2).position(|w| w == [0x04, 0x6d]).unwrap();
    let sec1 = &pkcs8[pos + 2..pos + 2 + 0x6d];
    let b64 = std_b64(sec1);
    let pem = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\n{b64}\n-----END EC PRIVATE KEY-----\n"
    );
    let imported = AccountKey::from_pem(&pem).unwrap();
    assert_eq!(imported.thumbprint(), key.thumbprint());
}

fn std_b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(not(feature = "rsa"))]
#[test]
fn rsa_without_feature_is_unsupported() {
    assert!(matches!(
        AccountKey::generate(SignatureAlgorithm::Rs256, &mut TestRng::new(1)),
        Err(Error::Misuse(Misuse::Unsupported(_)))
    ));
}

#[cfg(feature = "rsa")]
#[test]
fn rsa_small_keys_and_pkcs1() {
    let key = AccountKey::generate(SignatureAlgorithm::Rs256, &mut TestRng::new(5)).unwrap();
    assert_eq!(key.jwk().rsa_modulus_len(), Some(256));
    assert_eq!(key.sign(b"x").unwrap().len(), 256);
    // certbot-style private JWK has all eight members.
    let v: serde_json::Value = serde_json::from_str(&key.to_jwk_json().unwrap()).unwrap();
    for m in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        assert!(v[m].is_string(), "{m}");
    }
    // A 1024-bit modulus is refused.
    let n = b64d(RFC7638_N);
    assert!(
        matches!(Jwk::rsa(&n[..128], &[1, 0, 1]), Err(Misuse::InvalidKey(why)) if why.contains("2048"))
    );
    // Truncated private JWK member.
    let mut obj = v.clone();
    obj["p"] = serde_json::Value::String("AQAB".into());
    assert!(is_invalid_key(AccountKey::from_jwk_json(obj.to_string())));
}
