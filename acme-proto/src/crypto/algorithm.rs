//! The JWS signature algorithms of account keys.

use core::fmt;

/// A JWS signature algorithm (RFC 7518 §3.1, RFC 8037 §3.1) an account key can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (signing needs the `rsa` feature).
    Rs256,
}

impl SignatureAlgorithm {
    /// The JWS `alg` value: `"ES256"`, `"ES384"`, `"ES512"`, `"EdDSA"` or `"RS256"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
        }
    }

    /// The algorithm with this JWS `alg` value (case-sensitive), if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "ES512" => Self::Es512,
            "EdDSA" => Self::EdDsa,
            "RS256" => Self::Rs256,
            _ => return None,
        })
    }

    /// The length of every JWS signature of this algorithm, when it is fixed
    /// (RFC 7518 §3.4: `r || s` for ECDSA); `None` for RSA, whose signature is as
    /// long as the modulus.
    pub const fn fixed_signature_len(self) -> Option<usize> {
        match self {
            Self::Es256 | Self::EdDsa => Some(64),
            Self::Es384 => Some(96),
            Self::Es512 => Some(132),
            Self::Rs256 => None,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
