//! The ring signer against the core's key: same public key, signatures the other side
//! verifies, and the fallback for what ring cannot sign.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use acme_proto::crypto::{AccountKey, KeyId, SignatureAlgorithm, Signer, jws};
use acme_proto_fake_ca::test_keys as keys;
use acme_proto_support::RingSigner;
use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey};

fn b64d(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// A newAccount JWS signed by `signer`: its signing input and its signature.
fn signed_jws(signer: &dyn Signer) -> (String, Vec<u8>) {
    let body = jws::sign(
        signer,
        KeyId::Jwk,
        "oFvnlFP1wIhRlYS2jTaXbA",
        "https://ca.example/acme/new-account",
        br#"{"termsOfServiceAgreed":true}"#,
    )
    .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let signing_input = format!(
        "{}.{}",
        body["protected"].as_str().unwrap(),
        body["payload"].as_str().unwrap()
    );
    (signing_input, b64d(body["signature"].as_str().unwrap()))
}

/// The raw public key ring's verifier takes, read from the core key's JWK.
fn public_key(key: &AccountKey) -> Vec<u8> {
    let jwk: serde_json::Value = serde_json::from_str(&key.jwk().to_canonical_json()).unwrap();
    match jwk["kty"].as_str().unwrap() {
        "EC" => {
            let mut point = vec![4];
            point.extend(b64d(jwk["x"].as_str().unwrap()));
            point.extend(b64d(jwk["y"].as_str().unwrap()));
            point
        }
        "OKP" => b64d(jwk["x"].as_str().unwrap()),
        other => panic!("{other}"),
    }
}

#[test]
fn ring_signatures_verify_against_the_core_keys_jwk() {
    for (pem, algorithm, verifier) in [
        (
            keys::P256,
            SignatureAlgorithm::Es256,
            &signature::ECDSA_P256_SHA256_FIXED as &dyn signature::VerificationAlgorithm,
        ),
        (
            keys::P384,
            SignatureAlgorithm::Es384,
            &signature::ECDSA_P384_SHA384_FIXED,
        ),
        (
            keys::ED25519,
            SignatureAlgorithm::EdDsa,
            &signature::ED25519,
        ),
    ] {
        let core = AccountKey::from_pem(pem).unwrap();
        let ring_signer = RingSigner::new(AccountKey::from_pem(pem).unwrap()).unwrap();
        assert!(ring_signer.uses_ring());
        assert_eq!(ring_signer.algorithm(), algorithm);
        assert_eq!(ring_signer.public_jwk().thumbprint(), *core.thumbprint());

        // A whole JWS, as a request body.
        let (signing_input, sig) = signed_jws(&ring_signer);
        assert_eq!(Some(sig.len()), algorithm.fixed_signature_len());
        UnparsedPublicKey::new(verifier, public_key(&core))
            .verify(signing_input.as_bytes(), &sig)
            .unwrap();
        let protected: serde_json::Value =
            serde_json::from_slice(&b64d(signing_input.split('.').next().unwrap())).unwrap();
        assert_eq!(protected["alg"], algorithm.name());

        // And the core's signature verifies under ring's view of the key.
        let core_sig = core.sign(b"input").unwrap();
        UnparsedPublicKey::new(verifier, public_key(&core))
            .verify(b"input", &core_sig)
            .unwrap();
    }
}

#[test]
fn ecdsa_from_ring_is_randomized_ed25519_is_not() {
    let p256 = RingSigner::new(AccountKey::from_pem(keys::P256).unwrap()).unwrap();
    assert_ne!(p256.sign(b"x").unwrap(), p256.sign(b"x").unwrap());
    let ed = RingSigner::new(AccountKey::from_pem(keys::ED25519).unwrap()).unwrap();
    let core = AccountKey::from_pem(keys::ED25519).unwrap();
    assert_eq!(ed.sign(b"x").unwrap(), core.sign(b"x").unwrap());
}

#[test]
fn es512_falls_back_to_the_core_signer() {
    let core = AccountKey::from_pem(keys::P521).unwrap();
    let signer = RingSigner::new(AccountKey::from_pem(keys::P521).unwrap()).unwrap();
    assert!(!signer.uses_ring());
    assert_eq!(signer.algorithm(), SignatureAlgorithm::Es512);
    assert_eq!(signer.public_jwk(), *core.jwk());
    // Deterministic (RFC 6979): the same signature as the core's own.
    assert_eq!(signer.sign(b"x").unwrap(), core.sign(b"x").unwrap());
    let debug = format!("{signer:?}");
    assert!(
        debug.contains("acme-proto") && !debug.contains("PRIVATE"),
        "{debug}"
    );
}

/// RS256 signs on ring, not with the `rsa` crate (RUSTSEC-2023-0071): the same public
/// key as the core's, and, PKCS#1 v1.5 being deterministic, the same signatures.
#[cfg(feature = "rsa")]
#[test]
fn rs256_signs_on_ring_exactly_as_the_core_would() {
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

    let core = AccountKey::from_pem(keys::RSA2048).unwrap();
    let signer = RingSigner::new(AccountKey::from_pem(keys::RSA2048).unwrap()).unwrap();
    assert!(signer.uses_ring());
    assert_eq!(signer.algorithm(), SignatureAlgorithm::Rs256);
    assert_eq!(signer.public_jwk(), *core.jwk());
    let debug = format!("{signer:?}");
    assert!(debug.contains("\"ring\""), "{debug}");

    let (signing_input, sig) = signed_jws(&signer);
    assert_eq!(sig.len(), 256);
    assert_eq!(sig, core.sign(signing_input.as_bytes()).unwrap());
    let jwk = core.jwk();
    let (n, e) = jwk.rsa_components().unwrap();
    RsaPublicKeyComponents { n, e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &sig)
        .unwrap();
    for input in [&b""[..], b"x", &[0xff; 1000]] {
        assert_eq!(signer.sign(input).unwrap(), core.sign(input).unwrap());
    }
}
