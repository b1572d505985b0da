//! Private JWK import and export (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2), as certbot
//! stores account keys (`private_key.json`: an RSA JWK with `n e d p q dp dq qi`).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use crate::b64;
use crate::crypto::key::{AccountKey, Inner};
use crate::crypto::{EcCurve, Jwk, crypto, invalid_key};

/// A secret member, wiped when dropped.
struct Secret(Zeroizing<String>);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self(Zeroizing::new(s)))
    }
}

#[derive(Deserialize)]
struct RawPrivateJwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[cfg_attr(not(feature = "rsa"), allow(dead_code))]
    #[serde(default)]
    n: Option<String>,
    #[cfg_attr(not(feature = "rsa"), allow(dead_code))]
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    d: Option<Secret>,
    #[cfg_attr(not(feature = "rsa"), allow(dead_code))]
    #[serde(default)]
    p: Option<Secret>,
    #[cfg_attr(not(feature = "rsa"), allow(dead_code))]
    #[serde(default)]
    q: Option<Secret>,
}

fn public(value: Option<&String>) -> Result<Vec<u8>, crate::Error> {
    let text = value.ok_or(invalid_key("private JWK is missing a public member"))?;
    b64::decode(text).ok_or(invalid_key("JWK member is not strict base64url"))
}

fn secret(value: Option<&Secret>) -> Result<Zeroizing<Vec<u8>>, crate::Error> {
    let text = value.ok_or(invalid_key("private JWK is missing a private member"))?;
    b64::decode(text.0.as_bytes())
        .map(Zeroizing::new)
        .ok_or(invalid_key("JWK member is not strict base64url"))
}

impl AccountKey {
    /// Imports a private JWK (JSON): EC (`crv`, `x`, `y`, `d`), OKP Ed25519 (`crv`, `x`,
    /// `d`) or, with the `rsa` feature, RSA with `n`, `e`, `d`, `p` and `q` (certbot's
    /// `private_key.json`; `dp`, `dq`, `qi` are recomputed). The public members must
    /// match the private key.
    pub fn from_jwk_json(json: impl AsRef<[u8]>) -> Result<Self, crate::Error> {
        let raw: RawPrivateJwk = serde_json::from_slice(json.as_ref())
            .map_err(|_| invalid_key("not a private JWK in JSON"))?;
        let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("EC", Some(crv @ ("P-256" | "P-384" | "P-521"))) => {
                let d = secret(raw.d.as_ref())?;
                let (curve, wrong_len) = match crv {
                    "P-256" => (EcCurve::P256, d.len() != 32),
                    "P-384" => (EcCurve::P384, d.len() != 48),
                    _ => (EcCurve::P521, d.len() != 66),
                };
                if wrong_len {
                    return Err(invalid_key(
                        "EC private key d has the wrong length for its curve",
                    ));
                }
                let bad = |_| invalid_key("EC private key d is not a valid scalar");
                let inner = match curve {
                    EcCurve::P256 => {
                        Inner::P256(p256::ecdsa::SigningKey::from_slice(&d).map_err(bad)?)
                    }
                    EcCurve::P384 => {
                        Inner::P384(p384::ecdsa::SigningKey::from_slice(&d).map_err(bad)?)
                    }
                    _ => Inner::P521(p521::ecdsa::SigningKey::from_slice(&d).map_err(bad)?),
                };
                let expected = Jwk::ec(curve, &public(raw.x.as_ref())?, &public(raw.y.as_ref())?)?;
                (Self::from_inner(inner)?, expected)
            }
            ("OKP", Some("Ed25519")) => {
                let d = secret(raw.d.as_ref())?;
                let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(
                    d.as_slice()
                        .try_into()
                        .map_err(|_| invalid_key("Ed25519 private key d is not 32 bytes"))?,
                );
                let inner = Inner::Ed25519(ed25519_dalek::SigningKey::from_bytes(&bytes));
                let expected = Jwk::ed25519(&public(raw.x.as_ref())?)?;
                (Self::from_inner(inner)?, expected)
            }
            ("RSA", _) => rsa_from_jwk(&raw)?,
            ("EC" | "OKP", _) => {
                return Err(invalid_key(
                    "JWK curve is not P-256, P-384, P-521 or Ed25519",
                ));
            }
            _ => return Err(invalid_key("JWK kty is not EC, OKP or RSA")),
        };
        let (key, expected) = key;
        if key.jwk() != &expected {
            return Err(invalid_key(
                "private JWK's public members do not match its private key",
            ));
        }
        Ok(key)
    }

    /// Exports the key as a private JWK (JSON, members in lexicographic order).
    /// RSA keys include `n e d p q dp dq qi`, as certbot reads them.
    pub fn to_jwk_json(&self) -> Result<Zeroizing<String>, crate::Error> {
        // Sized up front so the buffer never reallocates and leaves copies behind.
        let mut out = Zeroizing::new(String::with_capacity(12 * 1024));
        let mut member = |name: &str, value: &str| {
            let separator = if out.is_empty() { '{' } else { ',' };
            out.push(separator);
            out.push('"');
            out.push_str(name);
            out.push_str("\":\"");
            out.push_str(value);
            out.push('"');
        };
        let public = self.jwk().clone();
        match &self.inner {
            Inner::P256(_) | Inner::P384(_) | Inner::P521(_) => {
                let (crv, x, y) = public
                    .ec_coordinates()
                    .ok_or(crypto("EC key without EC JWK"))?;
                let d: Zeroizing<Vec<u8>> = match &self.inner {
                    Inner::P256(k) => Zeroizing::new(k.to_bytes().to_vec()),
                    Inner::P384(k) => Zeroizing::new(k.to_bytes().to_vec()),
                    Inner::P521(k) => Zeroizing::new(k.to_bytes().to_vec()),
                    _ => return Err(crypto("EC key without EC JWK")),
                };
                member("crv", crv.name());
                member("d", &Zeroizing::new(b64::encode(d.as_slice())));
                member("kty", "EC");
                member("x", &b64::encode(x));
                member("y", &b64::encode(y));
            }
            Inner::Ed25519(k) => {
                let d = Zeroizing::new(k.to_bytes());
                member("crv", "Ed25519");
                member("d", &Zeroizing::new(b64::encode(d.as_slice())));
                member("kty", "OKP");
                member("x", &b64::encode(k.verifying_key().as_bytes()));
            }
            #[cfg(feature = "rsa")]
            Inner::Rsa(k) => {
                use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
                let key: &rsa::RsaPrivateKey = (**k).as_ref();
                let enc = |v: &rsa::BoxedUint| {
                    let bytes = Zeroizing::new(v.to_be_bytes_trimmed_vartime());
                    Zeroizing::new(b64::encode(&*bytes))
                };
                let [p, q] = key.primes() else {
                    return Err(crypto("only two-prime RSA keys can be exported as JWK"));
                };
                let (Some(dp), Some(dq), Some(qi)) = (key.dp(), key.dq(), key.crt_coefficient())
                else {
                    return Err(crypto("RSA key has no CRT parameters"));
                };
                let qi = Zeroizing::new(qi);
                member("d", &enc(key.d()));
                member("dp", &enc(dp));
                member("dq", &enc(dq));
                member("e", &b64::encode(key.e_bytes()));
                member("kty", "RSA");
                member("n", &b64::encode(key.n_bytes()));
                member("p", &enc(p.as_ref()));
                member("q", &enc(q.as_ref()));
                member("qi", &enc(&qi));
            }
        }
        out.push('}');
        Ok(out)
    }
}

#[cfg(feature = "rsa")]
fn rsa_from_jwk(raw: &RawPrivateJwk) -> Result<(AccountKey, Jwk), crate::Error> {
    use rsa::BoxedUint;
    let expected = Jwk::rsa(&public(raw.n.as_ref())?, &public(raw.e.as_ref())?)?;
    let (n, e) = expected
        .rsa_components()
        .ok_or(crypto("RSA JWK without RSA members"))?;
    let uint = |bytes: &[u8]| {
        let bits = u32::try_from(bytes.len().saturating_mul(8))
            .map_err(|_| invalid_key("RSA member is too long"))?;
        BoxedUint::from_be_slice(bytes, bits).map_err(|_| invalid_key("RSA member is malformed"))
    };
    let d = secret(raw.d.as_ref())?;
    let p = secret(raw.p.as_ref())?;
    let q = secret(raw.q.as_ref())?;
    let key = rsa::RsaPrivateKey::from_components(
        uint(n)?,
        uint(e)?,
        uint(&d)?,
        alloc::vec![uint(&p)?, uint(&q)?],
    )
    .map_err(|_| invalid_key("RSA private JWK is not a consistent key"))?;
    let key = AccountKey::from_inner(crate::crypto::key::rsa_inner(key)?)?;
    Ok((key, expected))
}

#[cfg(not(feature = "rsa"))]
fn rsa_from_jwk(_: &RawPrivateJwk) -> Result<(AccountKey, Jwk), crate::Error> {
    Err(crate::fault::Misuse::Unsupported("RS256 keys need the `rsa` feature").into())
}
