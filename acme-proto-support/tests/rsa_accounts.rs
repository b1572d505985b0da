//! RS256 account keys brought from files sign with ring, without the `rsa` feature:
//! the same key as PKCS#8, PKCS#1 and certbot's JWK gives one JWK, and its signatures
//! verify with ring's RSA verifier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use acme_proto::crypto::{SignatureAlgorithm, Signer};
use acme_proto_support::account_signer;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

const PKCS8: &str = include_str!("keys/rsa2048-pkcs8.pem");
const PKCS1: &str = include_str!("keys/rsa2048-pkcs1.pem");
const JWK: &str = include_str!("keys/rsa2048-certbot.json");

#[test]
fn one_rsa_key_in_three_forms_signs_rs256_verifiably() {
    let signers: Vec<_> = [PKCS8, PKCS1, JWK]
        .iter()
        .map(|text| account_signer(text.as_bytes()).expect("the key reads"))
        .collect();
    let thumbprint = signers[0].public_jwk().thumbprint();
    for signer in &signers {
        assert_eq!(signer.algorithm(), SignatureAlgorithm::Rs256);
        assert_eq!(signer.public_jwk().thumbprint(), thumbprint);
        let message = b"eyJhbGciOiJSUzI1NiJ9.e30";
        let signature = signer.sign(message).expect("signs");
        assert_eq!(signature.len(), 256);
        let jwk = signer.public_jwk();
        let (n, e) = jwk.rsa_components().expect("an RSA JWK");
        RsaPublicKeyComponents { n, e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, &signature)
            .expect("the signature verifies");
    }
}

#[test]
fn a_jwk_whose_public_members_are_not_its_key_is_refused() {
    let mut jwk: serde_json::Value = serde_json::from_str(JWK).unwrap();
    // Another valid-looking modulus: the first byte changed, still odd and 2048 bits.
    let n = jwk["n"].as_str().unwrap().to_owned();
    let mut chars: Vec<char> = n.chars().collect();
    chars[1] = if chars[1] == 'A' { 'B' } else { 'A' };
    jwk["n"] = serde_json::Value::String(chars.into_iter().collect());
    let error = account_signer(jwk.to_string().as_bytes())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("RSA"), "{error}");
    // Without the CRT members ring needs: refused, saying which.
    let mut short: serde_json::Value = serde_json::from_str(JWK).unwrap();
    short.as_object_mut().unwrap().remove("qi");
    let error = account_signer(short.to_string().as_bytes())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("dp, dq and qi"), "{error}");
}

#[test]
fn ec_keys_and_garbage_go_their_own_way() {
    let ec = acme_proto_support::generate_account_key(SignatureAlgorithm::Es256).unwrap();
    let pem = ec.to_pkcs8_pem().unwrap();
    let signer = account_signer(pem.as_bytes()).expect("an EC key reads");
    assert_eq!(signer.algorithm(), SignatureAlgorithm::Es256);
    assert_eq!(&signer.public_jwk().thumbprint(), ec.thumbprint());
    assert!(account_signer(b"not a key").is_err());
    assert!(account_signer(b"{\"kty\":\"oct\"}").is_err());
}
