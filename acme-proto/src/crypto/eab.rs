//! External Account Binding (RFC 8555 §7.3.4).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{KeyInit as _, Mac as _};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::b64;
use crate::crypto::{FlattenedJws, Jwk};
use crate::fault::{CryptoError, Misuse};

/// The MAC algorithm of an External Account Binding (RFC 7518 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EabAlgorithm {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
}

impl EabAlgorithm {
    /// The JWS `alg` value: `"HS256"`, `"HS384"` or `"HS512"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
        }
    }
}

/// The key identifier and MAC key a CA hands out to bind a new ACME account to an
/// existing account with the CA.
///
/// The MAC key is zeroized on drop and never shown by `Debug`.
pub struct ExternalAccountBinding {
    key_id: String,
    mac_key: Zeroizing<Vec<u8>>,
    algorithm: EabAlgorithm,
}

impl ExternalAccountBinding {
    /// Binds with `key_id` and the MAC key as the CA gives it: base64url, with or
    /// without `=` padding.
    ///
    /// Standard base64 (with `+` or `/`) is refused with a message saying so: decoding
    /// it as base64url would give a different key and a binding the CA rejects.
    pub fn new(
        key_id: &str,
        mac_key_base64url: &str,
        algorithm: EabAlgorithm,
    ) -> Result<Self, Misuse> {
        if key_id.is_empty() {
            return Err(Misuse::InvalidEab("the key identifier is empty"));
        }
        let text = mac_key_base64url.trim();
        if text.contains(['+', '/']) {
            return Err(Misuse::InvalidEab(
                "the MAC key contains '+' or '/': it looks like standard base64, but ACME MAC keys are base64url (RFC 8555 §7.3.4)",
            ));
        }
        let unpadded = text.trim_end_matches('=');
        let padding = text.len() - unpadded.len();
        if padding > 2 || (padding > 0 && !text.len().is_multiple_of(4)) {
            return Err(Misuse::InvalidEab("the MAC key has invalid '=' padding"));
        }
        let mac_key = b64::decode(unpadded)
            .map(Zeroizing::new)
            .ok_or(Misuse::InvalidEab("the MAC key is not base64url"))?;
        if mac_key.is_empty() {
            return Err(Misuse::InvalidEab("the MAC key is empty"));
        }
        Ok(Self {
            key_id: String::from(key_id),
            mac_key,
            algorithm,
        })
    }

    /// The key identifier.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The MAC algorithm.
    pub fn algorithm(&self) -> EabAlgorithm {
        self.algorithm
    }

    /// The `externalAccountBinding` JWS for a newAccount request to `new_account_url`:
    /// protected `{"alg","kid","url"}`, payload the account's public JWK, MAC'ed with
    /// the MAC key. Embed the returned object (it is `Serialize`) in the payload.
    pub fn sign(
        &self,
        account_jwk: &Jwk,
        new_account_url: &str,
    ) -> Result<FlattenedJws, crate::Error> {
        #[derive(Serialize)]
        struct Protected<'a> {
            alg: &'a str,
            kid: &'a str,
            url: &'a str,
        }
        if new_account_url.is_empty() {
            return Err(Misuse::InvalidUrl("the newAccount URL is empty").into());
        }
        let header = Protected {
            alg: self.algorithm.name(),
            kid: &self.key_id,
            url: new_account_url,
        };
        let header = serde_json::to_vec(&header)
            .map_err(|_| CryptoError::new("EAB header serialization failed"))?;
        let protected = b64::encode(header);
        let payload = b64::encode(account_jwk.to_canonical_json());
        let mut input = String::with_capacity(protected.len() + 1 + payload.len());
        input.push_str(&protected);
        input.push('.');
        input.push_str(&payload);
        let mac = self.mac(input.as_bytes())?;
        Ok(FlattenedJws {
            protected,
            payload,
            signature: b64::encode(&*mac),
        })
    }

    fn mac(&self, input: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let bad = |_| CryptoError::new("HMAC key rejected");
        Ok(Zeroizing::new(match self.algorithm {
            EabAlgorithm::Hs256 => {
                let mut m =
                    hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.mac_key).map_err(bad)?;
                m.update(input);
                m.finalize().into_bytes().to_vec()
            }
            EabAlgorithm::Hs384 => {
                let mut m =
                    hmac::Hmac::<sha2::Sha384>::new_from_slice(&self.mac_key).map_err(bad)?;
                m.update(input);
                m.finalize().into_bytes().to_vec()
            }
            EabAlgorithm::Hs512 => {
                let mut m =
                    hmac::Hmac::<sha2::Sha512>::new_from_slice(&self.mac_key).map_err(bad)?;
                m.update(input);
                m.finalize().into_bytes().to_vec()
            }
        }))
    }
}

impl fmt::Debug for ExternalAccountBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalAccountBinding")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("mac_key", &"<redacted>")
            .finish()
    }
}
