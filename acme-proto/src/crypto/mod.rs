//! Keys, JWK, JWS, External Account Binding and key authorizations.
//!
//! * [`SignatureAlgorithm`]: the JWS algorithms an ACME account key can use.
//! * [`Jwk`]: a validated public JSON Web Key (RFC 7517/7518), with its RFC 7638
//!   [`Thumbprint`].
//! * [`Signer`]: anything that signs a JWS signing input: the built-in [`AccountKey`],
//!   or a key held in an HSM or KMS.
//! * [`jws`]: the flattened JWS bodies of ACME requests (RFC 8555 §6.2), POST-as-GET,
//!   the nested JWS of a key change (§7.3.5), and [`ExternalAccountBinding`] (§7.3.4).
//! * [`KeyAuthorization`]: what a challenge response is made of (§8.1), and the
//!   values derived from it for http-01, dns-01, tls-alpn-01 and dns-account-01.
//!
//! Signing is deterministic: ECDSA uses RFC 6979 nonces, Ed25519 and RSA PKCS#1 v1.5
//! are deterministic by construction, so the same inputs give byte-identical requests.
//!
//! # RSA and RUSTSEC-2023-0071
//!
//! RS256 keys are behind the non-default `rsa` feature. The `rsa` crate is subject to
//! [RUSTSEC-2023-0071](https://rustsec.org/advisories/RUSTSEC-2023-0071) ("Marvin"): a
//! timing side channel that can leak the private key to an attacker who can measure
//! many private-key operations precisely. It is offered so that accounts created by
//! other clients (certbot's `private_key.json`, lego, acme.sh) can be migrated; prefer
//! ES256 for new accounts, and roll RSA accounts over to an ECDSA key (`keyChange`).

mod algorithm;
mod der_signature;
mod eab;
mod jwk;
pub mod jws;
mod key;
mod key_authorization;
mod pem;
mod private_jwk;
mod signer;

pub use algorithm::SignatureAlgorithm;
pub use der_signature::ecdsa_der_to_jws;
pub use eab::{EabAlgorithm, ExternalAccountBinding};
pub use jwk::{EcCurve, Jwk, Thumbprint};
pub use jws::{FlattenedJws, KeyId};
pub use key::AccountKey;
pub use key_authorization::{KeyAuthorization, dns_account01_record_name, http01_path};
pub use signer::Signer;

use crate::fault::{CryptoError, Misuse};

fn invalid_key(why: &'static str) -> crate::Error {
    crate::Error::Misuse(Misuse::InvalidKey(why))
}

fn crypto(why: &'static str) -> crate::Error {
    crate::Error::Crypto(CryptoError::new(why))
}
