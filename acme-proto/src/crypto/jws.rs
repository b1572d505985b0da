//! Flattened JWS request bodies (RFC 8555 §6.2, RFC 7515 §7.2.2).
//!
//! Every body is byte-deterministic: the protected header's members are always in the
//! order `alg`, `jwk` or `kid`, `nonce`, `url`, the JWK in RFC 7638 canonical form, and
//! the body's members in the order `protected`, `payload`, `signature`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::b64;
use crate::crypto::{Jwk, Signer};
use crate::fault::{CryptoError, Misuse};

/// How a request names its key: exactly one of `jwk` and `kid` (RFC 8555 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyId<'a> {
    /// The signer's public JWK goes in the header: newAccount, and revocation signed by
    /// the certificate's key.
    Jwk,
    /// The account URL goes in the header as `kid`: every other request.
    Kid(&'a str),
}

/// A flattened JWS JSON object: `{"protected","payload","signature"}`, each base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlattenedJws {
    /// base64url of the protected header's JSON.
    pub protected: String,
    /// base64url of the payload (empty for POST-as-GET).
    pub payload: String,
    /// base64url of the signature.
    pub signature: String,
}

impl FlattenedJws {
    /// The JSON body: `{"protected":…,"payload":…,"signature":…}` without whitespace.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // The three members are base64url text, which JSON never needs to escape.
        alloc::format!(
            r#"{{"protected":"{}","payload":"{}","signature":"{}"}}"#,
            self.protected,
            self.payload,
            self.signature
        )
        .into_bytes()
    }
}

#[derive(Serialize)]
struct Protected<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwk: Option<&'a Jwk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    url: &'a str,
}

/// Signs `payload` (JSON bytes) as an ACME request to `url` with `nonce`.
///
/// The nonce is mandatory and must be base64url (RFC 8555 §6.5.1).
pub fn sign(
    signer: &dyn Signer,
    key_id: KeyId<'_>,
    nonce: &str,
    url: &str,
    payload: &[u8],
) -> Result<Vec<u8>, crate::Error> {
    check_nonce(nonce)?;
    Ok(sign_flattened(signer, key_id, Some(nonce), url, payload)?.to_json_bytes())
}

/// A POST-as-GET request (RFC 8555 §6.3): signed with the account's `kid`, empty payload.
pub fn post_as_get(
    signer: &dyn Signer,
    account_url: &str,
    nonce: &str,
    url: &str,
) -> Result<Vec<u8>, crate::Error> {
    sign(signer, KeyId::Kid(account_url), nonce, url, b"")
}

/// The body of a keyChange request (RFC 8555 §7.3.5): an inner JWS signed by
/// `new_key` (header `alg`, `jwk`, `url`; no nonce; payload `{"account","oldKey"}`),
/// carried as the payload of an outer JWS signed by `old_key` with the account's `kid`.
pub fn key_change(
    old_key: &dyn Signer,
    account_url: &str,
    new_key: &dyn Signer,
    nonce: &str,
    key_change_url: &str,
) -> Result<Vec<u8>, crate::Error> {
    #[derive(Serialize)]
    struct KeyChange<'a> {
        account: &'a str,
        #[serde(rename = "oldKey")]
        old_key: &'a Jwk,
    }
    check_nonce(nonce)?;
    let old_jwk = old_key.public_jwk();
    if old_jwk == new_key.public_jwk() {
        return Err(Misuse::InvalidKey("the new account key is the same as the old one").into());
    }
    let inner_payload = serde_json::to_vec(&KeyChange {
        account: account_url,
        old_key: &old_jwk,
    })
    .map_err(|_| CryptoError::new("keyChange payload serialization failed"))?;
    let inner = sign_flattened(new_key, KeyId::Jwk, None, key_change_url, &inner_payload)?;
    sign(
        old_key,
        KeyId::Kid(account_url),
        nonce,
        key_change_url,
        &inner.to_json_bytes(),
    )
}

fn check_nonce(nonce: &str) -> Result<(), Misuse> {
    if nonce.is_empty() {
        return Err(Misuse::InvalidArgument("an ACME request needs a nonce"));
    }
    if !b64::is_alphabet(nonce.as_bytes()) {
        return Err(Misuse::InvalidArgument("the nonce is not base64url"));
    }
    Ok(())
}

/// Signs one flattened JWS; `nonce` is `None` only for the inner JWS of a key change.
pub(crate) fn sign_flattened(
    signer: &dyn Signer,
    key_id: KeyId<'_>,
    nonce: Option<&str>,
    url: &str,
    payload: &[u8],
) -> Result<FlattenedJws, crate::Error> {
    if url.is_empty() {
        return Err(Misuse::InvalidUrl("the request URL is empty").into());
    }
    let algorithm = signer.algorithm();
    let public = signer.public_jwk();
    if public.algorithm() != algorithm {
        return Err(
            CryptoError::new("the signer's algorithm does not match its public key").into(),
        );
    }
    let (jwk, kid) = match key_id {
        KeyId::Jwk => (Some(&public), None),
        KeyId::Kid("") => return Err(Misuse::InvalidUrl("the account URL (kid) is empty").into()),
        KeyId::Kid(kid) => (None, Some(kid)),
    };
    let header = Protected {
        alg: algorithm.name(),
        jwk,
        kid,
        nonce,
        url,
    };
    let header = serde_json::to_vec(&header)
        .map_err(|_| CryptoError::new("protected header serialization failed"))?;
    let protected = b64::encode(header);
    let payload = b64::encode(payload);
    let mut signing_input = String::with_capacity(protected.len() + 1 + payload.len());
    signing_input.push_str(&protected);
    signing_input.push('.');
    signing_input.push_str(&payload);
    let signature = signer.sign(signing_input.as_bytes())?;
    let expected = algorithm
        .fixed_signature_len()
        .or_else(|| public.rsa_modulus_len());
    if expected != Some(signature.len()) {
        return Err(CryptoError::new("the signer returned a signature of the wrong length").into());
    }
    Ok(FlattenedJws {
        protected,
        payload,
        signature: b64::encode(signature),
    })
}
