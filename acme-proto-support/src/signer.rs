//! An account-key [`Signer`] on `ring`, which both drivers' TLS stacks link anyway and
//! which signs P-256 about five times faster than the core's pure-Rust signer, and RSA
//! in constant time (the core's `rsa` crate does not: RUSTSEC-2023-0071).
//!
//! ring's ECDSA draws a random nonce per signature, so its JWS are not byte-for-byte
//! reproducible: golden transcript tests stay on the core's
//! [`AccountKey`](acme_proto::crypto::AccountKey), whose ECDSA is deterministic
//! (RFC 6979). Both produce the same public JWK and signatures either verifies.

use acme_proto::crypto::{AccountKey, EcCurve, Jwk, SignatureAlgorithm, Signer};
use acme_proto::{CryptoError, Error};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair,
    KeyPair as _,
};

use crate::rsa_key::RsaSigner;

enum Key {
    Ecdsa(EcdsaKeyPair, SystemRandom),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaSigner),
    /// ES512: ring cannot sign it; the core's signer does.
    Core(AccountKey),
}

/// An account key signing with `ring` where it can (ES256, ES384, EdDSA, RS256), and
/// with the core's signer otherwise (ES512).
///
/// An RS256 key (the `rsa` feature) always signs with ring, in constant time, never with
/// the core's `rsa` crate (RUSTSEC-2023-0071): a key ring refuses (fewer than 2048 or
/// more than 8192 bits, a public exponent under 65537) is refused here.
pub struct RingSigner {
    key: Key,
    jwk: Jwk,
}

impl std::fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.key {
            Key::Ecdsa(..) | Key::Ed25519(_) | Key::Rsa(_) => "ring",
            Key::Core(_) => "acme-proto",
        };
        f.debug_struct("RingSigner")
            .field("algorithm", &self.jwk.algorithm())
            .field("thumbprint", &self.jwk.thumbprint().as_str())
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

impl RingSigner {
    /// The same key as `key`, signing with ring when ring has the algorithm.
    ///
    /// The key goes over as PKCS#8 DER (zeroized after); the public key ring derives
    /// is checked to be the one the core's key has. An RSA key ring refuses is an error.
    pub fn new(key: AccountKey) -> Result<Self, Error> {
        let jwk = key.jwk().clone();
        let algorithm = key.algorithm();
        let ring_key = match algorithm {
            SignatureAlgorithm::Es256 | SignatureAlgorithm::Es384 => {
                let (alg, crv) = if algorithm == SignatureAlgorithm::Es256 {
                    (&ECDSA_P256_SHA256_FIXED_SIGNING, EcCurve::P256)
                } else {
                    (&ECDSA_P384_SHA384_FIXED_SIGNING, EcCurve::P384)
                };
                let der = key.to_pkcs8_der()?;
                let rng = SystemRandom::new();
                let pair = EcdsaKeyPair::from_pkcs8(alg, &der, &rng)
                    .map_err(|_| CryptoError::new("ring refused the ECDSA PKCS#8 key"))?;
                let point = pair.public_key().as_ref();
                let width = (point.len().saturating_sub(1)) / 2;
                let xy = point.get(1..).unwrap_or_default();
                let (x, y) = xy.split_at(width.min(xy.len()));
                let ring_jwk = Jwk::ec(crv, x, y)?;
                check_same(&ring_jwk, &jwk)?;
                Key::Ecdsa(pair, rng)
            }
            SignatureAlgorithm::EdDsa => {
                let der = key.to_pkcs8_der()?;
                // The core writes PKCS#8 v1 (no public key): the public key ring derives
                // is compared with the core's below instead.
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|_| CryptoError::new("ring refused the Ed25519 PKCS#8 key"))?;
                let ring_jwk = Jwk::ed25519(pair.public_key().as_ref())?;
                check_same(&ring_jwk, &jwk)?;
                Key::Ed25519(pair)
            }
            SignatureAlgorithm::Rs256 => {
                let der = key.to_pkcs8_der()?;
                let signer = RsaSigner::from_pkcs8_der(&der)?;
                check_same(&signer.public_jwk(), &jwk)?;
                Key::Rsa(signer)
            }
            _ => Key::Core(key),
        };
        Ok(Self { key: ring_key, jwk })
    }

    /// Whether signatures come from ring (ES256, ES384, EdDSA, RS256) rather than the
    /// core.
    pub fn uses_ring(&self) -> bool {
        !matches!(self.key, Key::Core(_))
    }
}

fn check_same(ring: &Jwk, core: &Jwk) -> Result<(), CryptoError> {
    if ring.thumbprint() == core.thumbprint() {
        Ok(())
    } else {
        Err(CryptoError::new(
            "ring derived another public key than the core",
        ))
    }
}

impl Signer for RingSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.jwk.algorithm()
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.key {
            Key::Ecdsa(pair, rng) => pair
                .sign(rng, signing_input)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| CryptoError::new("ring ECDSA signing failed")),
            Key::Ed25519(pair) => Ok(pair.sign(signing_input).as_ref().to_vec()),
            Key::Rsa(signer) => signer.sign(signing_input),
            Key::Core(key) => key.sign(signing_input),
        }
    }
}
