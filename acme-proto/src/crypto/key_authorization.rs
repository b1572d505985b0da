//! Key authorizations (RFC 8555 §8.1) and the challenge values derived from them.

use alloc::string::String;
use core::fmt;

use sha2::{Digest as _, Sha256};

use crate::b64;
use crate::crypto::Thumbprint;
use crate::token::ChallengeToken;

/// A key authorization: `token || '.' || base64url(JWK thumbprint)` (RFC 8555 §8.1).
///
/// For http-01 it is the response body; the other challenges use a digest of it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyAuthorization(String);

impl KeyAuthorization {
    /// The key authorization for `token` and the account key's `thumbprint`.
    pub fn new(token: &ChallengeToken, thumbprint: &Thumbprint) -> Self {
        let mut s = String::with_capacity(token.as_str().len() + 1 + thumbprint.as_str().len());
        s.push_str(token.as_str());
        s.push('.');
        s.push_str(thumbprint.as_str());
        Self(s)
    }

    /// The key authorization as text: the http-01 response body (RFC 8555 §8.3).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 digest of the key authorization.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The TXT record value for dns-01 (RFC 8555 §8.4) and dns-account-01:
    /// base64url(SHA-256(key authorization)), 43 characters.
    pub fn dns_txt_value(&self) -> String {
        b64::encode(self.digest())
    }

    /// The `acmeIdentifier` extension value for tls-alpn-01 (RFC 8737 §3): the 32 raw
    /// bytes of SHA-256(key authorization), to be wrapped in an ASN.1 OCTET STRING.
    pub fn tls_alpn_digest(&self) -> [u8; 32] {
        self.digest()
    }
}

impl fmt::Display for KeyAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyAuthorization({:?})", self.0)
    }
}

/// The http-01 resource path (RFC 8555 §8.3): `/.well-known/acme-challenge/{token}`.
///
/// The token is base64url only (see [`ChallengeToken`]), so the path cannot escape the
/// directory.
pub fn http01_path(token: &ChallengeToken) -> String {
    alloc::format!("/.well-known/acme-challenge/{token}")
}

/// The dns-account-01 TXT record name for `domain` and the account URL (the
/// `Location` of newAccount), per draft-ietf-acme-dns-account-label-02 §3.1 (the
/// construction is unchanged in -03):
///
/// `"_" || base32(SHA-256(account_url)[0:10]) || "._acme-challenge." || domain`
///
/// base32 is RFC 4648 without padding (16 characters), written in lowercase as DNS
/// names are case-insensitive. A wildcard's `*.` prefix and a trailing dot are removed
/// from `domain`, as the challenge validates the base domain. The record's value is
/// [`KeyAuthorization::dns_txt_value`].
pub fn dns_account01_record_name(domain: &str, account_url: &str) -> String {
    let domain = domain.strip_prefix("*.").unwrap_or(domain);
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let digest = Sha256::digest(account_url.as_bytes());
    let mut label = [0u8; 10];
    for (out, b) in label.iter_mut().zip(digest.iter()) {
        *out = *b;
    }
    let mut name = String::with_capacity(1 + 16 + 17 + domain.len());
    name.push('_');
    base32_lower(&label, &mut name);
    name.push_str("._acme-challenge.");
    name.push_str(domain);
    name
}

/// RFC 4648 base32 in lowercase, for inputs whose length is a multiple of 5 bytes.
fn base32_lower(bytes: &[u8; 10], out: &mut String) {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    for chunk in bytes.chunks(5) {
        let mut acc: u64 = 0;
        for &b in chunk {
            acc = (acc << 8) | u64::from(b);
        }
        for i in (0..8).rev() {
            let index = usize::try_from((acc >> (i * 5)) & 0x1f).unwrap_or_default();
            out.push(ALPHABET.get(index).map_or('a', |&c| char::from(c)));
        }
    }
}
