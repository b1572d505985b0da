//! RS256 account keys on ring, without the `rsa` crate (whose RUSTSEC-2023-0071 timing
//! advisory keeps it behind the core's `rsa` feature): for accounts brought over from
//! another client, certbot's among them, whose keys are RSA by default.
//!
//! ring signs RSASSA-PKCS1-v1_5 with SHA-256 in constant time, with blinding. It cannot
//! make RSA keys, and neither can this crate by default: a new account gets ES256. An
//! RSA [`AccountKey`] (the `rsa` feature) signs here too: [`RingSigner`] hands it over.

use acme_proto::crypto::{AccountKey, Jwk, SignatureAlgorithm, Signer};
use acme_proto::{CryptoError, Error, Misuse};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use zeroize::Zeroizing;

use crate::signer::RingSigner;

/// An RS256 account key signing with ring: from a key file's DER here, or from an RSA
/// [`AccountKey`] through [`RingSigner::new`].
pub struct RsaSigner {
    pair: RsaKeyPair,
    rng: SystemRandom,
    jwk: Jwk,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigner")
            .field("bits", &(self.pair.public().modulus_len() * 8))
            .field("thumbprint", &self.jwk.thumbprint().as_str())
            .finish_non_exhaustive()
    }
}

impl RsaSigner {
    /// From a PKCS#8 DER `PrivateKeyInfo` holding an RSA key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| CryptoError::new(REJECTED))?;
        Self::from_pair(pair)
    }

    /// From a PKCS#1 DER `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, Error> {
        let pair = RsaKeyPair::from_der(der).map_err(|_| CryptoError::new(REJECTED))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: RsaKeyPair) -> Result<Self, Error> {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
        let jwk = Jwk::rsa(&public.n, &public.e)?;
        Ok(Self {
            pair,
            rng: SystemRandom::new(),
            jwk,
        })
    }
}

/// Why ring refuses a key: one of these (ring does not say which).
const REJECTED: &str = "ring refused the RSA key: it must have 2048 to 8192 bits, an odd \
     public exponent of at least 65537, and consistent CRT members";

impl Signer for RsaSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::Rs256
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&RSA_PKCS1_SHA256, &self.rng, signing_input, &mut signature)
            .map_err(|_| CryptoError::new("ring RSA signing failed"))?;
        Ok(signature)
    }
}

/// An account key brought from a file, as its signer: a PEM private key (PKCS#8, SEC1
/// or PKCS#1; the first private key block of the text) or a private JWK (certbot's
/// `private_key.json`), RSA, EC or Ed25519. RSA signs with ring ([`RsaSigner`]), the
/// others with ring where it can ([`RingSigner`]).
pub fn account_signer(bytes: &[u8]) -> Result<Box<dyn Signer + Send + Sync>, Error> {
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"{") {
        return jwk_signer(text);
    }
    let der = PrivateKeyDer::from_pem_slice(text)
        .map_err(|_| Misuse::InvalidKey("no private key in PEM (PKCS#8, SEC1 or PKCS#1) or JWK"))?;
    match der {
        PrivateKeyDer::Pkcs1(pkcs1) => Ok(Box::new(RsaSigner::from_pkcs1_der(
            pkcs1.secret_pkcs1_der(),
        )?)),
        PrivateKeyDer::Pkcs8(pkcs8) => {
            let der = pkcs8.secret_pkcs8_der();
            match AccountKey::from_pkcs8_der(der) {
                Ok(key) => Ok(Box::new(RingSigner::new(key)?)),
                // RSA, which the core reads only with its `rsa` feature: ring signs it.
                Err(_) if RsaKeyPair::from_pkcs8(der).is_ok() => {
                    Ok(Box::new(RsaSigner::from_pkcs8_der(der)?))
                }
                Err(e) => Err(e),
            }
        }
        PrivateKeyDer::Sec1(sec1) => Ok(Box::new(RingSigner::new(AccountKey::from_sec1_der(
            sec1.secret_sec1_der(),
        )?)?)),
        _ => Err(Misuse::InvalidKey("a private key of an unknown form").into()),
    }
}

/// A private JWK's signer: RSA through PKCS#1 DER made of its members (`n e d p q dp dq
/// qi`, all required: certbot writes them all), anything else through the core.
fn jwk_signer(json: &[u8]) -> Result<Box<dyn Signer + Send + Sync>, Error> {
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|_| Misuse::InvalidKey("not a private JWK in JSON"))?;
    if value.get("kty").and_then(serde_json::Value::as_str) != Some("RSA") {
        return Ok(Box::new(RingSigner::new(AccountKey::from_jwk_json(json)?)?));
    }
    let mut members = Vec::with_capacity(8);
    for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
        let text =
            value
                .get(name)
                .and_then(serde_json::Value::as_str)
                .ok_or(Misuse::InvalidKey(
                    "an RSA private JWK needs n, e, d, p, q, dp, dq and qi",
                ))?;
        let bytes = base64url(text).ok_or(Misuse::InvalidKey(
            "an RSA private JWK member is not base64url",
        ))?;
        members.push(bytes);
    }
    let der = pkcs1_der(&members);
    let signer = RsaSigner::from_pkcs1_der(&der)?;
    // The public members must be the key's (ring checks `n` against `p q`; `e` is
    // compared here). Leading zero bytes aside, they are what the JWK said.
    let strip = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|x| *x == 0).collect() };
    let (n, e) = signer.jwk.rsa_components().unwrap_or_default();
    let said = members.get(..2).unwrap_or_default();
    let same =
        said.first().is_some_and(|m| strip(m) == n) && said.get(1).is_some_and(|m| strip(m) == e);
    if !same {
        return Err(Misuse::InvalidKey("the RSA JWK's public members are not its key's").into());
    }
    Ok(Box::new(signer))
}

fn base64url(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .map(Zeroizing::new)
}

/// `RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, dp, dq, qi }` (RFC 8017
/// A.1.2), in DER, from the members as unsigned big-endian integers.
fn pkcs1_der(members: &[Zeroizing<Vec<u8>>]) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::new());
    der_integer(&mut body, &[0]);
    for member in members {
        der_integer(&mut body, member);
    }
    let mut der = Zeroizing::new(Vec::with_capacity(body.len() + 4));
    der.push(0x30);
    der_length(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

fn der_integer(out: &mut Vec<u8>, unsigned: &[u8]) {
    let first = unsigned.iter().position(|b| *b != 0);
    let digits = first.map_or(&[0_u8][..], |at| unsigned.get(at..).unwrap_or_default());
    let pad = digits.first().is_some_and(|b| b & 0x80 != 0);
    out.push(0x02);
    der_length(out, digits.len() + usize::from(pad));
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

fn der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let significant = bytes.get(first..).unwrap_or_default();
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}
