#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every built-in signer's JWS verifies with ring, an independent implementation, and
//! a tampered JWS does not.

mod common;

use common::{TestRng, b64d};

use acme_proto::crypto::{FlattenedJws, jws};
use acme_proto::{AccountKey, KeyId, SignatureAlgorithm};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

/// The public key in the form ring takes, from the JWK alone.
fn ring_public_key(jwk: &serde_json::Value) -> Vec<u8> {
    match jwk["kty"].as_str().unwrap() {
        "EC" => [
            &[4u8][..],
            &b64d(jwk["x"].as_str().unwrap()),
            &b64d(jwk["y"].as_str().unwrap()),
        ]
        .concat(),
        "OKP" => b64d(jwk["x"].as_str().unwrap()),
        "RSA" => {
            // DER RSAPublicKey { n INTEGER, e INTEGER }.
            fn int(bytes: &[u8]) -> Vec<u8> {
                let mut v = if bytes[0] >= 0x80 { vec![0] } else { vec![] };
                v.extend(bytes);
                der(0x02, &v)
            }
            fn der(tag: u8, body: &[u8]) -> Vec<u8> {
                let mut out = vec![tag];
                if body.len() < 128 {
                    out.push(body.len() as u8);
                } else {
                    out.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
                }
                out.extend(body);
                out
            }
            let n = int(&b64d(jwk["n"].as_str().unwrap()));
            let e = int(&b64d(jwk["e"].as_str().unwrap()));
            der(0x30, &[n, e].concat())
        }
        other => panic!("{other}"),
    }
}

fn check(alg: SignatureAlgorithm, ring_alg: &'static dyn VerificationAlgorithm) {
    let key = AccountKey::generate(alg, &mut TestRng::new(42)).unwrap();
    let body = jws::sign(
        &key,
        KeyId::Jwk,
        "bm9uY2U",
        "https://ca.test/new-acct",
        br#"{"contact":[]}"#,
    )
    .unwrap();
    let jws: FlattenedJws = serde_json::from_slice(&body).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&b64d(&jws.protected)).unwrap();
    assert_eq!(header["alg"], alg.name());
    let public = UnparsedPublicKey::new(ring_alg, ring_public_key(&header["jwk"]));
    let input = format!("{}.{}", jws.protected, jws.payload);
    let sig = b64d(&jws.signature);
    public
        .verify(input.as_bytes(), &sig)
        .unwrap_or_else(|_| panic!("{alg}: ring rejects our signature"));
    // Tampered payload, tampered signature.
    let tampered = format!("{}.{}", jws.protected, "eyJjb250YWN0IjpudWxsfQ");
    assert!(public.verify(tampered.as_bytes(), &sig).is_err(), "{alg}");
    let mut bad_sig = sig.clone();
    bad_sig[10] ^= 1;
    assert!(public.verify(input.as_bytes(), &bad_sig).is_err(), "{alg}");
}

#[test]
fn es256_verifies_with_ring() {
    check(
        SignatureAlgorithm::Es256,
        &signature::ECDSA_P256_SHA256_FIXED,
    );
}

#[test]
fn es384_verifies_with_ring() {
    check(
        SignatureAlgorithm::Es384,
        &signature::ECDSA_P384_SHA384_FIXED,
    );
}

#[test]
fn ed25519_verifies_with_ring() {
    check(SignatureAlgorithm::EdDsa, &signature::ED25519);
}

#[cfg(feature = "rsa")]
#[test]
fn rs256_verifies_with_ring() {
    check(
        SignatureAlgorithm::Rs256,
        &signature::RSA_PKCS1_2048_8192_SHA256,
    );
}
