//! Private-key import: PKCS#8 and SEC1/PKCS#1 PEM, PKCS#8 DER, and private JWK
//! (`AccountKey::from_pem`, `from_pkcs8_der`, `from_jwk_json`).
//!
//! A key read is exported in every format and imported again: the same public key
//! every time, and (every algorithm here signing deterministically) the same signature
//! of the same message. The signature is checked with `ring`, an implementation
//! independent of the crate's, against the public key as the JWK states it.

use acme_proto::crypto::Signer as _;
use acme_proto::{AccountKey, SignatureAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

const MESSAGE: &[u8] = b"eyJhbGciOiJFUzI1NiJ9.e30";

/// A PEM private key of any label the crate reads.
pub fn key_pem(data: &[u8]) {
    if let Ok(key) = AccountKey::from_pem(data) {
        check_key(&key);
    }
}

/// A PKCS#8 `PrivateKeyInfo` in DER.
pub fn key_der(data: &[u8]) {
    if let Ok(key) = AccountKey::from_pkcs8_der(data) {
        check_key(&key);
    }
}

/// A private JWK (RFC 7517), as certbot and others store account keys.
pub fn key_jwk(data: &[u8]) {
    if let Ok(key) = AccountKey::from_jwk_json(data) {
        check_key(&key);
    }
}

fn same_key(what: &str, key: &AccountKey, again: Result<AccountKey, acme_proto::Error>) {
    let again = match again {
        Ok(k) => k,
        Err(e) => panic!("a key exported as {what} does not import again: {e}"),
    };
    assert_eq!(again.jwk(), key.jwk(), "{what}: another public key");
    assert_eq!(
        again.thumbprint(),
        key.thumbprint(),
        "{what}: another thumbprint"
    );
    assert_eq!(again.algorithm(), key.algorithm());
    match (again.sign(MESSAGE), key.sign(MESSAGE)) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}: another signature of the same message"),
        (a, b) => assert_eq!(a.is_ok(), b.is_ok(), "{what}: signing differs"),
    }
}

fn check_key(key: &AccountKey) {
    assert_eq!(key.jwk().thumbprint(), *key.thumbprint());
    let der = match key.to_pkcs8_der() {
        Ok(d) => d,
        Err(e) => panic!("an imported key does not export to PKCS#8: {e}"),
    };
    same_key("PKCS#8 DER", key, AccountKey::from_pkcs8_der(&der));
    let pem = match key.to_pkcs8_pem() {
        Ok(p) => p,
        Err(e) => panic!("an imported key does not export to PEM: {e}"),
    };
    same_key("PKCS#8 PEM", key, AccountKey::from_pem(pem.as_bytes()));
    let jwk = match key.to_jwk_json() {
        Ok(j) => j,
        Err(e) => panic!("an imported key does not export to a JWK: {e}"),
    };
    same_key(
        "private JWK",
        key,
        AccountKey::from_jwk_json(jwk.as_bytes()),
    );
    verify_independently(key);
}

/// The key's public members, from its canonical JWK text.
fn member(jwk: &serde_json::Value, name: &str) -> Vec<u8> {
    let text = jwk.get(name).and_then(|v| v.as_str()).unwrap_or_default();
    match URL_SAFE_NO_PAD.decode(text) {
        Ok(bytes) => bytes,
        Err(e) => panic!("JWK member {name} is not base64url: {e}"),
    }
}

fn verify_independently(key: &AccountKey) {
    let Ok(signature) = key.sign(MESSAGE) else {
        return;
    };
    let jwk: serde_json::Value = match serde_json::from_str(&key.jwk().to_canonical_json()) {
        Ok(v) => v,
        Err(e) => panic!("the canonical JWK is not JSON: {e}"),
    };
    let verify = |algorithm: &'static dyn VerificationAlgorithm, public: &[u8]| {
        let ok = UnparsedPublicKey::new(algorithm, public)
            .verify(MESSAGE, &signature)
            .is_ok();
        assert!(
            ok,
            "{} signature does not verify with ring",
            key.algorithm()
        );
    };
    let point = || {
        let mut p = vec![4];
        p.extend(member(&jwk, "x"));
        p.extend(member(&jwk, "y"));
        p
    };
    match key.algorithm() {
        SignatureAlgorithm::Es256 => verify(&signature::ECDSA_P256_SHA256_FIXED, &point()),
        SignatureAlgorithm::Es384 => verify(&signature::ECDSA_P384_SHA384_FIXED, &point()),
        SignatureAlgorithm::EdDsa => verify(&signature::ED25519, &member(&jwk, "x")),
        SignatureAlgorithm::Rs256 => {
            let n = member(&jwk, "n");
            let e = member(&jwk, "e");
            // ring verifies 2048 to 8192-bit moduli and odd exponents from 3 to 2^33 - 1.
            let bits = |b: &[u8]| {
                b.first().map_or(0, |&top| {
                    (b.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
                })
            };
            let odd = e.last().is_some_and(|&low| low & 1 == 1);
            if (2048..=8192).contains(&bits(&n)) && (2..=33).contains(&bits(&e)) && odd {
                let public = signature::RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                };
                let ok = public
                    .verify(&signature::RSA_PKCS1_2048_8192_SHA256, MESSAGE, &signature)
                    .is_ok();
                assert!(ok, "RS256 signature does not verify with ring");
            }
        }
        // P-521 (ES512) is not in ring; the round trips above still cover it.
        _ => {}
    }
}
