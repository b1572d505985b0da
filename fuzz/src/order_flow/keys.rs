//! The fixed keys every execution uses, so that runs are deterministic: the account's
//! signer (Ed25519 on ring) and the CSRs the caller hands over.

use std::cell::RefCell;
use std::collections::HashMap;

use acme_proto::crypto::{Jwk, Signer};
use acme_proto::{CryptoError, Identifier, SignatureAlgorithm};

/// The account key: Ed25519 on ring, so that signing costs microseconds even in a
/// sanitizer build (the core's pure-Rust signers are fuzzed by the key targets, and
/// took most of this target's time). The core signs every request through the
/// `Signer` trait either way; Ed25519 signatures are deterministic.
pub(super) struct RingEd25519 {
    pair: ring::signature::Ed25519KeyPair,
    jwk: Jwk,
}

impl RingEd25519 {
    pub(super) fn new() -> Self {
        use ring::signature::KeyPair as _;
        let pair = match ring::signature::Ed25519KeyPair::from_seed_unchecked(&[0x2a; 32]) {
            Ok(pair) => pair,
            Err(e) => panic!("a fixed Ed25519 seed: {e}"),
        };
        let jwk = match Jwk::ed25519(pair.public_key().as_ref()) {
            Ok(jwk) => jwk,
            Err(e) => panic!("an Ed25519 public key as a JWK: {e}"),
        };
        Self { pair, jwk }
    }
}

impl Signer for RingEd25519 {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EdDsa
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(self.pair.sign(signing_input).as_ref().to_vec())
    }
}

/// A CSR naming `identifiers`, signed with a fixed Ed25519 key (deterministic), made
/// once per set of names.
pub(super) fn csr(identifiers: &[Identifier]) -> Vec<u8> {
    thread_local! {
        static CSRS: RefCell<HashMap<Vec<String>, Vec<u8>>> = RefCell::new(HashMap::new());
    }
    let names: Vec<String> = identifiers
        .iter()
        .filter_map(|id| match id {
            Identifier::Dns(name) => Some(name.as_str().to_owned()),
            Identifier::Ip(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect();
    CSRS.with(|cache| {
        if let Some(der) = cache.borrow().get(&names) {
            return der.clone();
        }
        let der = make_csr(&names).unwrap_or_else(|| b"not a CSR".to_vec());
        cache.borrow_mut().insert(names, der.clone());
        der
    })
}

/// The key of every CSR: Ed25519, from a PKCS#8 v1 document (a fixed prefix and a
/// 32-byte seed). Not an account key: the CA refuses a CSR signed with the account's
/// own key.
fn csr_key_pair() -> Option<rcgen::KeyPair> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0x5a; 32]);
    rcgen::KeyPair::try_from(der.as_slice()).ok()
}

/// The public key (DER `SubjectPublicKeyInfo`) of every CSR the harness makes, as rcgen
/// writes it: what an issued certificate must carry.
pub(super) fn csr_key() -> Vec<u8> {
    match csr_key_pair() {
        Some(key) => rcgen::PublicKeyData::subject_public_key_info(&key),
        None => panic!("the fixed CSR key is refused"),
    }
}

fn make_csr(names: &[String]) -> Option<Vec<u8>> {
    let key = csr_key_pair()?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).ok()?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    Some(params.serialize_request(&key).ok()?.der().to_vec())
}
