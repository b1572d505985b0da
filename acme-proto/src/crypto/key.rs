//! The built-in signing key: ES256, ES384, ES512, Ed25519 and (feature `rsa`) RS256.

#[cfg(feature = "rsa")]
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use p256::elliptic_curve::Generate as _;
use pkcs8::der::Decode as _;
use pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, ObjectIdentifier};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{
    EcCurve, Jwk, SignatureAlgorithm, Signer, Thumbprint, crypto, invalid_key, pem,
};
use crate::fault::{CryptoError, Misuse};

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

#[cfg(feature = "rsa")]
pub(crate) type RsaSigningKey = rsa::pkcs1v15::SigningKey<sha2::Sha256>;

/// A private key held in memory that signs ACME requests: an account key, or a
/// certificate's key when revoking by certificate key.
///
/// * ES256, ES384, ES512: ECDSA with RFC 6979 deterministic nonces.
/// * EdDSA: Ed25519 (deterministic by construction).
/// * RS256 (feature `rsa`): RSASSA-PKCS1-v1_5 with SHA-256. **The `rsa` crate is
///   subject to [RUSTSEC-2023-0071](https://rustsec.org/advisories/RUSTSEC-2023-0071)**,
///   the "Marvin" timing side channel: an attacker who can time many private-key
///   operations precisely may recover the key. RS256 is offered to migrate accounts
///   created by other clients (certbot, lego, acme.sh); prefer ECDSA for new accounts
///   and roll RSA accounts over to one.
///
/// The key material is zeroized on drop (the key types are `ZeroizeOnDrop`), every
/// export is returned in a [`Zeroizing`] buffer, and `Debug` shows only the algorithm
/// and the public key's thumbprint.
pub struct AccountKey {
    pub(crate) inner: Inner,
    jwk: Jwk,
    thumbprint: Thumbprint,
}

pub(crate) enum Inner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    #[cfg(feature = "rsa")]
    Rsa(Box<RsaSigningKey>),
}

impl AccountKey {
    pub(crate) fn from_inner(inner: Inner) -> Result<Self, crate::Error> {
        let jwk = match &inner {
            Inner::P256(k) => ec_jwk(
                EcCurve::P256,
                k.verifying_key().to_sec1_point(false).as_bytes(),
            )?,
            Inner::P384(k) => ec_jwk(
                EcCurve::P384,
                k.verifying_key().to_sec1_point(false).as_bytes(),
            )?,
            Inner::P521(k) => ec_jwk(
                EcCurve::P521,
                k.verifying_key().to_sec1_point(false).as_bytes(),
            )?,
            Inner::Ed25519(k) => Jwk::ed25519(k.verifying_key().as_bytes())?,
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => {
                use rsa::traits::PublicKeyParts as _;
                let public = k.as_ref().as_ref();
                Jwk::rsa(&public.n_bytes(), &public.e_bytes())?
            }
        };
        let thumbprint = jwk.thumbprint();
        Ok(Self {
            inner,
            jwk,
            thumbprint,
        })
    }

    /// Generates a new key for `algorithm` from the caller's cryptographic RNG.
    ///
    /// RS256 keys have 2048 bits and need the `rsa` feature (see the type's docs on
    /// RUSTSEC-2023-0071); without it, RS256 is [`Misuse::Unsupported`].
    pub fn generate<R: CryptoRng + ?Sized>(
        algorithm: SignatureAlgorithm,
        rng: &mut R,
    ) -> Result<Self, crate::Error> {
        let inner = match algorithm {
            SignatureAlgorithm::Es256 => {
                Inner::P256(p256::ecdsa::SigningKey::generate_from_rng(rng))
            }
            SignatureAlgorithm::Es384 => {
                Inner::P384(p384::ecdsa::SigningKey::generate_from_rng(rng))
            }
            SignatureAlgorithm::Es512 => {
                Inner::P521(p521::ecdsa::SigningKey::generate_from_rng(rng))
            }
            SignatureAlgorithm::EdDsa => Inner::Ed25519(ed25519_dalek::SigningKey::generate(rng)),
            #[cfg(feature = "rsa")]
            SignatureAlgorithm::Rs256 => {
                let key = rsa::RsaPrivateKey::new(rng, 2048).map_err(|e| {
                    CryptoError::with_source("RSA key generation failed", RsaError(e))
                })?;
                Inner::Rsa(Box::new(RsaSigningKey::new(key)))
            }
            #[allow(unreachable_patterns)]
            _ => return Err(unsupported(algorithm).into()),
        };
        Self::from_inner(inner)
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.jwk.algorithm()
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The RFC 7638 thumbprint of the public key.
    pub fn thumbprint(&self) -> &Thumbprint {
        &self.thumbprint
    }

    /// Imports a PKCS#8 `PrivateKeyInfo` (DER): P-256, P-384, P-521, Ed25519, or RSA
    /// (feature `rsa`).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, crate::Error> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|_| invalid_key("not a PKCS#8 private key"))?;
        let bad = |_| invalid_key("PKCS#8 private key is malformed");
        let inner = match info.algorithm.oid {
            OID_EC_PUBLIC_KEY => match info.algorithm.parameters_oid() {
                Ok(OID_P256) => {
                    Inner::P256(p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?)
                }
                Ok(OID_P384) => {
                    Inner::P384(p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?)
                }
                Ok(OID_P521) => {
                    Inner::P521(p521::ecdsa::SigningKey::from_pkcs8_der(der).map_err(bad)?)
                }
                _ => return Err(invalid_key("EC key is not on P-256, P-384 or P-521")),
            },
            OID_ED25519 => {
                Inner::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).map_err(bad)?)
            }
            #[cfg(feature = "rsa")]
            OID_RSA => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(bad)?;
                rsa_inner(key)?
            }
            #[cfg(not(feature = "rsa"))]
            OID_RSA => return Err(unsupported(SignatureAlgorithm::Rs256).into()),
            _ => return Err(invalid_key("PKCS#8 key is not EC, Ed25519 or RSA")),
        };
        Self::from_inner(inner)
    }

    /// Imports a SEC1 `ECPrivateKey` (DER), as in `EC PRIVATE KEY` PEM files written by
    /// lego, acme.sh and `openssl ecparam -genkey`.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, crate::Error> {
        let inner = if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
            Inner::P256(k.into())
        } else if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
            Inner::P384(k.into())
        } else if let Ok(k) = p521::SecretKey::from_sec1_der(der) {
            Inner::P521(k.into())
        } else {
            return Err(invalid_key(
                "not a SEC1 EC private key on P-256, P-384 or P-521",
            ));
        };
        Self::from_inner(inner)
    }

    /// Imports a PKCS#1 `RSAPrivateKey` (DER), as in `RSA PRIVATE KEY` PEM files.
    /// See the type's docs on RUSTSEC-2023-0071.
    #[cfg(feature = "rsa")]
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, crate::Error> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        let key = rsa::RsaPrivateKey::from_pkcs1_der(der)
            .map_err(|_| invalid_key("not a valid PKCS#1 RSA private key"))?;
        Self::from_inner(rsa_inner(key)?)
    }

    /// Imports a PEM private key, choosing the format from its label: `PRIVATE KEY`
    /// (PKCS#8), `EC PRIVATE KEY` (SEC1; an `EC PARAMETERS` block before it is
    /// skipped) or `RSA PRIVATE KEY` (PKCS#1, feature `rsa`). Encrypted keys are
    /// [`Misuse::Unsupported`].
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, crate::Error> {
        let (label, der) = pem::decode(pem.as_ref())?;
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            #[cfg(feature = "rsa")]
            "RSA PRIVATE KEY" => Self::from_pkcs1_der(&der),
            #[cfg(not(feature = "rsa"))]
            "RSA PRIVATE KEY" => Err(unsupported(SignatureAlgorithm::Rs256).into()),
            "ENCRYPTED PRIVATE KEY" => {
                Err(Misuse::Unsupported("encrypted PEM private keys; decrypt the key first").into())
            }
            _ => Err(invalid_key("PEM label is not a supported private key type")),
        }
    }

    /// Exports the key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, crate::Error> {
        let doc = match &self.inner {
            Inner::P256(k) => k.to_pkcs8_der(),
            Inner::P384(k) => k.to_pkcs8_der(),
            Inner::P521(k) => k.to_pkcs8_der(),
            Inner::Ed25519(k) => k.to_pkcs8_der(),
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => k.as_ref().as_ref().to_pkcs8_der(),
        }
        .map_err(|_| crypto("PKCS#8 encoding failed"))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Exports the key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), LF line endings.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, crate::Error> {
        pem::encode("PRIVATE KEY", &self.to_pkcs8_der()?)
    }
}

#[cfg(feature = "rsa")]
pub(crate) fn rsa_inner(key: rsa::RsaPrivateKey) -> Result<Inner, crate::Error> {
    Ok(Inner::Rsa(Box::new(RsaSigningKey::new(key))))
}

/// `rsa::Error` carried as a source (it is `core::error::Error` only with `std`).
#[cfg(feature = "rsa")]
#[derive(Debug)]
pub(crate) struct RsaError(pub(crate) rsa::Error);

#[cfg(feature = "rsa")]
impl fmt::Display for RsaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(feature = "rsa")]
impl core::error::Error for RsaError {}

fn unsupported(algorithm: SignatureAlgorithm) -> Misuse {
    match algorithm {
        SignatureAlgorithm::Rs256 => Misuse::Unsupported("RS256 keys need the `rsa` feature"),
        _ => Misuse::Unsupported("this signature algorithm"),
    }
}

/// The JWK of an uncompressed SEC1 point `04 || x || y`.
fn ec_jwk(crv: EcCurve, sec1: &[u8]) -> Result<Jwk, crate::Error> {
    let len = crv.coordinate_len();
    match sec1.split_first() {
        Some((4, xy)) if xy.len() == 2 * len => {
            let (x, y) = xy.split_at(len);
            Ok(Jwk::ec(crv, x, y)?)
        }
        _ => Err(crypto("EC public key is not an uncompressed point")),
    }
}

impl Signer for AccountKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.jwk.algorithm()
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use p256::ecdsa::signature::Signer as _;
        let failed = |e| CryptoError::with_source("signing failed", e);
        Ok(match &self.inner {
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(signing_input).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            Inner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.try_sign(signing_input).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            Inner::P521(k) => {
                let sig: p521::ecdsa::Signature = k.try_sign(signing_input).map_err(failed)?;
                sig.to_bytes().to_vec()
            }
            Inner::Ed25519(k) => k
                .try_sign(signing_input)
                .map_err(failed)?
                .to_bytes()
                .to_vec(),
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => {
                let sig = k.try_sign(signing_input).map_err(failed)?;
                let bytes: Box<[u8]> = sig.into();
                let width = self.jwk.rsa_modulus_len().unwrap_or(bytes.len());
                // PKCS#1 v1.5 signatures are exactly as long as the modulus.
                let mut out = Vec::with_capacity(width);
                out.resize(width.saturating_sub(bytes.len()), 0);
                out.extend_from_slice(&bytes);
                out
            }
        })
    }
}

impl fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountKey")
            .field("algorithm", &format_args!("{}", self.algorithm()))
            .field("thumbprint", &self.thumbprint.as_str())
            .finish_non_exhaustive()
    }
}
