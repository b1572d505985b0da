//! The signing interface, so that a key in an HSM or KMS can stand in for
//! [`AccountKey`](crate::crypto::AccountKey).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::crypto::{Jwk, SignatureAlgorithm};
use crate::fault::CryptoError;

/// Signs JWS signing inputs with one key.
///
/// Object-safe: requests take `&dyn Signer`. An implementation backed by an HSM or a
/// KMS that returns DER ECDSA signatures converts them with
/// [`ecdsa_der_to_jws`](crate::crypto::ecdsa_der_to_jws).
pub trait Signer {
    /// The algorithm every signature of this key uses.
    fn algorithm(&self) -> SignatureAlgorithm;

    /// The public key, as it goes into a JWS `jwk` header.
    fn public_jwk(&self) -> Jwk;

    /// Signs `signing_input` (`ASCII(BASE64URL(protected) || '.' || BASE64URL(payload))`)
    /// and returns the JWS signature bytes (RFC 7518 §3): for ECDSA the fixed-width
    /// `r || s`, not DER; for EdDSA the 64-byte signature; for RS256 as many bytes as
    /// the modulus.
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

impl<T: Signer + ?Sized> Signer for &T {
    fn algorithm(&self) -> SignatureAlgorithm {
        (**self).algorithm()
    }
    fn public_jwk(&self) -> Jwk {
        (**self).public_jwk()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(signing_input)
    }
}

impl<T: Signer + ?Sized> Signer for Box<T> {
    fn algorithm(&self) -> SignatureAlgorithm {
        (**self).algorithm()
    }
    fn public_jwk(&self) -> Jwk {
        (**self).public_jwk()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(signing_input)
    }
}

/// A shared signer: a caller can keep a handle to a key it gave to a
/// [`Client`](crate::Client) or a [`KeyRollover`](crate::client::KeyRollover).
#[cfg(target_has_atomic = "ptr")]
impl<T: Signer + ?Sized> Signer for alloc::sync::Arc<T> {
    fn algorithm(&self) -> SignatureAlgorithm {
        (**self).algorithm()
    }
    fn public_jwk(&self) -> Jwk {
        (**self).public_jwk()
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        (**self).sign(signing_input)
    }
}
