//! Public JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2) and their RFC 7638
//! thumbprints.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::b64;
use crate::crypto::SignatureAlgorithm;
use crate::fault::Misuse;

/// Smallest RSA modulus accepted, in bits.
pub(crate) const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits: bounds the work a hostile key can cause.
pub(crate) const RSA_MAX_BITS: usize = 8192;

/// An elliptic curve of an `EC` JWK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256 (`"P-256"`).
    P256,
    /// NIST P-384 (`"P-384"`).
    P384,
    /// NIST P-521 (`"P-521"`).
    P521,
}

impl EcCurve {
    /// The JWK `crv` value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }

    /// The exact length of each coordinate (RFC 7518 §6.2.1.2).
    pub const fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }

    /// The ECDSA algorithm that goes with this curve.
    pub const fn algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::P256 => SignatureAlgorithm::Es256,
            Self::P384 => SignatureAlgorithm::Es384,
            Self::P521 => SignatureAlgorithm::Es512,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "P-256" => Self::P256,
            "P-384" => Self::P384,
            "P-521" => Self::P521,
            _ => return None,
        })
    }
}

/// A validated public JSON Web Key: EC (P-256, P-384, P-521), OKP (Ed25519) or RSA.
///
/// Serializes with its required members only, in lexicographic order and without
/// whitespace: the RFC 7638 canonical form, so the JWK in a request and the one hashed
/// for the thumbprint are the same bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Jwk(Inner);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Inner {
    Ec {
        crv: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        x: [u8; 32],
    },
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

impl Jwk {
    /// An `EC` key from its affine coordinates, each exactly
    /// [`EcCurve::coordinate_len`] bytes; the point must be on the curve.
    pub fn ec(crv: EcCurve, x: &[u8], y: &[u8]) -> Result<Self, Misuse> {
        let len = crv.coordinate_len();
        if x.len() != len || y.len() != len {
            return Err(Misuse::InvalidKey(
                "EC coordinate has the wrong length for its curve",
            ));
        }
        let mut sec1 = Vec::with_capacity(1 + 2 * len);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let on_curve = match crv {
            EcCurve::P256 => p256::PublicKey::from_sec1_bytes(&sec1).is_ok(),
            EcCurve::P384 => p384::PublicKey::from_sec1_bytes(&sec1).is_ok(),
            EcCurve::P521 => p521::PublicKey::from_sec1_bytes(&sec1).is_ok(),
        };
        if !on_curve {
            return Err(Misuse::InvalidKey("EC point is not on its curve"));
        }
        Ok(Self(Inner::Ec {
            crv,
            x: x.into(),
            y: y.into(),
        }))
    }

    /// An `OKP` Ed25519 key from its 32-byte public key (RFC 8037 §2).
    pub fn ed25519(x: &[u8]) -> Result<Self, Misuse> {
        let x: [u8; 32] = x
            .try_into()
            .map_err(|_| Misuse::InvalidKey("Ed25519 public key is not 32 bytes"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&x)
            .map_err(|_| Misuse::InvalidKey("Ed25519 public key is not a valid point"))?;
        Ok(Self(Inner::Ed25519 { x }))
    }

    /// An `RSA` key from its modulus and public exponent, big-endian without leading
    /// zeros (RFC 7518 §6.3.1); the modulus must have 2048 to 8192 bits.
    pub fn rsa(n: &[u8], e: &[u8]) -> Result<Self, Misuse> {
        let bits = bit_len(n).ok_or(Misuse::InvalidKey("RSA modulus has leading zeros"))?;
        if bits < RSA_MIN_BITS {
            return Err(Misuse::InvalidKey("RSA modulus is shorter than 2048 bits"));
        }
        if bits > RSA_MAX_BITS {
            return Err(Misuse::InvalidKey("RSA modulus is longer than 8192 bits"));
        }
        if n.last().is_none_or(|b| b & 1 == 0) {
            return Err(Misuse::InvalidKey("RSA modulus is even"));
        }
        if bit_len(e).is_none() || e.len() > 8 {
            return Err(Misuse::InvalidKey(
                "RSA exponent is empty, padded or too long",
            ));
        }
        if e.last().is_none_or(|b| b & 1 == 0) || e == [1] {
            return Err(Misuse::InvalidKey(
                "RSA exponent is not an odd number above 1",
            ));
        }
        Ok(Self(Inner::Rsa {
            n: n.into(),
            e: e.into(),
        }))
    }

    /// The JWK `kty`: `"EC"`, `"OKP"` or `"RSA"`.
    pub fn key_type(&self) -> &'static str {
        match self.0 {
            Inner::Ec { .. } => "EC",
            Inner::Ed25519 { .. } => "OKP",
            Inner::Rsa { .. } => "RSA",
        }
    }

    /// The signature algorithm this key is used with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match &self.0 {
            Inner::Ec { crv, .. } => crv.algorithm(),
            Inner::Ed25519 { .. } => SignatureAlgorithm::EdDsa,
            Inner::Rsa { .. } => SignatureAlgorithm::Rs256,
        }
    }

    /// For an RSA key, the modulus length in bytes (the length of its signatures).
    pub fn rsa_modulus_len(&self) -> Option<usize> {
        match &self.0 {
            Inner::Rsa { n, .. } => Some(n.len()),
            _ => None,
        }
    }

    /// The RFC 7638 canonical JSON: required members, lexicographic order, no whitespace.
    pub fn to_canonical_json(&self) -> String {
        // Only base64url text and fixed names go in: no escaping is ever needed.
        match &self.0 {
            Inner::Ec { crv, x, y } => alloc::format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                crv.name(),
                b64::encode(x),
                b64::encode(y)
            ),
            Inner::Ed25519 { x } => {
                alloc::format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64::encode(x)
                )
            }
            Inner::Rsa { n, e } => alloc::format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64::encode(e),
                b64::encode(n)
            ),
        }
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256(canonical JSON)).
    pub fn thumbprint(&self) -> Thumbprint {
        Thumbprint(b64::encode(Sha256::digest(
            self.to_canonical_json().as_bytes(),
        )))
    }

    /// Parses a public JWK from JSON text, with the same validation as
    /// deserialization.
    pub fn from_json(json: &[u8]) -> Result<Self, Misuse> {
        serde_json::from_slice(json).map_err(|_| Misuse::InvalidKey("not a valid public JWK"))
    }

    pub(crate) fn ec_coordinates(&self) -> Option<(EcCurve, &[u8], &[u8])> {
        match &self.0 {
            Inner::Ec { crv, x, y } => Some((*crv, x, y)),
            _ => None,
        }
    }

    /// For an RSA key, the modulus `n` and public exponent `e`, big-endian.
    pub fn rsa_components(&self) -> Option<(&[u8], &[u8])> {
        match &self.0 {
            Inner::Rsa { n, e } => Some((n, e)),
            _ => None,
        }
    }
}

/// Bits in a big-endian unsigned integer, or `None` if it is empty or has a leading zero.
fn bit_len(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.first()?;
    if first == 0 {
        return None;
    }
    Some((bytes.len() - 1) * 8 + (8 - first.leading_zeros() as usize))
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jwk(")?;
        f.write_str(&self.to_canonical_json())?;
        f.write_str(")")
    }
}

impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Inner::Ec { crv, x, y } => {
                let mut st = s.serialize_struct("Jwk", 4)?;
                st.serialize_field("crv", crv.name())?;
                st.serialize_field("kty", "EC")?;
                st.serialize_field("x", &b64::encode(x))?;
                st.serialize_field("y", &b64::encode(y))?;
                st.end()
            }
            Inner::Ed25519 { x } => {
                let mut st = s.serialize_struct("Jwk", 3)?;
                st.serialize_field("crv", "Ed25519")?;
                st.serialize_field("kty", "OKP")?;
                st.serialize_field("x", &b64::encode(x))?;
                st.end()
            }
            Inner::Rsa { n, e } => {
                let mut st = s.serialize_struct("Jwk", 3)?;
                st.serialize_field("e", &b64::encode(e))?;
                st.serialize_field("kty", "RSA")?;
                st.serialize_field("n", &b64::encode(n))?;
                st.end()
            }
        }
    }
}

/// The members a public JWK is read from; unknown members (`alg`, `use`, `kid`) are
/// ignored, private ones refused.
#[derive(Deserialize)]
struct RawJwk<'a> {
    #[serde(borrow)]
    kty: alloc::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    crv: Option<alloc::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    x: Option<alloc::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    y: Option<alloc::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    n: Option<alloc::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    e: Option<alloc::borrow::Cow<'a, str>>,
    #[serde(default)]
    d: Option<serde::de::IgnoredAny>,
}

fn member(value: Option<&str>) -> Result<Vec<u8>, Misuse> {
    let text = value.ok_or(Misuse::InvalidKey("JWK is missing a required member"))?;
    b64::decode(text).ok_or(Misuse::InvalidKey("JWK member is not strict base64url"))
}

impl Jwk {
    fn from_raw(raw: &RawJwk<'_>) -> Result<Self, Misuse> {
        if raw.d.is_some() {
            return Err(Misuse::InvalidKey(
                "a public JWK must not contain the private member d",
            ));
        }
        match &*raw.kty {
            "EC" => {
                let crv =
                    raw.crv
                        .as_deref()
                        .and_then(EcCurve::from_name)
                        .ok_or(Misuse::InvalidKey(
                            "EC JWK curve is not P-256, P-384 or P-521",
                        ))?;
                Self::ec(crv, &member(raw.x.as_deref())?, &member(raw.y.as_deref())?)
            }
            "OKP" => {
                if raw.crv.as_deref() != Some("Ed25519") {
                    return Err(Misuse::InvalidKey("OKP JWK curve is not Ed25519"));
                }
                Self::ed25519(&member(raw.x.as_deref())?)
            }
            "RSA" => Self::rsa(&member(raw.n.as_deref())?, &member(raw.e.as_deref())?),
            _ => Err(Misuse::InvalidKey("JWK kty is not EC, OKP or RSA")),
        }
    }
}

impl<'de> Deserialize<'de> for Jwk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawJwk::deserialize(d)?;
        Self::from_raw(&raw).map_err(D::Error::custom)
    }
}

/// An RFC 7638 JWK thumbprint (SHA-256), base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Thumbprint(String);

impl Thumbprint {
    /// The thumbprint as base64url text (43 characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Thumbprint {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
