//! JWS verification, written against RFC 7515 and RFC 8555 §6.2, not against the
//! client's serializers: parses the flattened JSON, checks every header rule, verifies
//! signatures with `ring` (and `p521` for ES512), and MACs with `ring::hmac`.

use acme_proto::{EabAlgorithm, Jwk, Request, SignatureAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature;
use serde_json::{Map, Value};

use crate::FakeCa;
use crate::reply::Problem;

pub(crate) fn b64d(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

pub(crate) fn b64e(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A flattened JWS, decoded but not yet verified.
pub(crate) struct Parsed {
    pub(crate) header: Map<String, Value>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signing_input: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

impl Parsed {
    pub(crate) fn str(&self, member: &str) -> Option<&str> {
        self.header.get(member).and_then(Value::as_str)
    }
}

/// Parses a flattened JWS JSON object (RFC 7515 §7.2.2) with a protected header only.
pub(crate) fn parse_flattened(body: &[u8]) -> Result<Parsed, String> {
    let value: Value = serde_json::from_slice(body).map_err(|_| "the JWS is not JSON")?;
    let object = value.as_object().ok_or("the JWS is not a JSON object")?;
    if object.contains_key("signatures") {
        return Err("general JWS JSON serialization; ACME requires the flattened form".into());
    }
    if object.contains_key("header") {
        return Err("the JWS has an unprotected header".into());
    }
    if let Some(other) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "protected" | "payload" | "signature"))
    {
        return Err(format!("the JWS has an unexpected member {other:?}"));
    }
    let member = |name: &str| {
        object
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the JWS has no string member {name:?}"))
    };
    let (protected, payload, sig) = (
        member("protected")?,
        member("payload")?,
        member("signature")?,
    );
    let header_bytes = b64d(protected).ok_or("the protected header is not base64url")?;
    let header: Value =
        serde_json::from_slice(&header_bytes).map_err(|_| "the protected header is not JSON")?;
    let Value::Object(header) = header else {
        return Err("the protected header is not a JSON object".into());
    };
    Ok(Parsed {
        header,
        payload: b64d(payload).ok_or("the payload is not base64url")?,
        signing_input: format!("{protected}.{payload}").into_bytes(),
        signature: b64d(sig).ok_or("the signature is not base64url")?,
    })
}

/// A public key in the form the verifiers take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawKey {
    /// Uncompressed SEC1 point `04 || x || y`.
    Ec(Vec<u8>),
    Ed25519(Vec<u8>),
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa(Vec<u8>, Vec<u8>),
}

/// The key's raw form, read from its canonical JWK.
pub(crate) fn raw_key(jwk: &Jwk) -> Option<RawKey> {
    let value: Value = serde_json::from_str(&jwk.to_canonical_json()).ok()?;
    let get = |m: &str| value.get(m).and_then(Value::as_str).and_then(b64d);
    match value.get("kty").and_then(Value::as_str)? {
        "EC" => {
            let mut point = vec![4];
            point.extend(get("x")?);
            point.extend(get("y")?);
            Some(RawKey::Ec(point))
        }
        "OKP" => Some(RawKey::Ed25519(get("x")?)),
        "RSA" => Some(RawKey::Rsa(get("n")?, get("e")?)),
        _ => None,
    }
}

/// Whether `signature` is `jwk`'s `alg` signature over `input`.
pub(crate) fn verify_signature(
    jwk: &Jwk,
    alg: SignatureAlgorithm,
    input: &[u8],
    sig: &[u8],
) -> bool {
    if jwk.algorithm() != alg {
        return false;
    }
    let ring_check = |algorithm: &'static dyn signature::VerificationAlgorithm, key: &[u8]| {
        signature::UnparsedPublicKey::new(algorithm, key)
            .verify(input, sig)
            .is_ok()
    };
    match (alg, raw_key(jwk)) {
        (SignatureAlgorithm::Es256, Some(RawKey::Ec(p))) => {
            ring_check(&signature::ECDSA_P256_SHA256_FIXED, &p)
        }
        (SignatureAlgorithm::Es384, Some(RawKey::Ec(p))) => {
            ring_check(&signature::ECDSA_P384_SHA384_FIXED, &p)
        }
        (SignatureAlgorithm::Es512, Some(RawKey::Ec(p))) => {
            use p521::ecdsa::signature::Verifier as _;
            let (Ok(key), Ok(sig)) = (
                p521::ecdsa::VerifyingKey::from_sec1_bytes(&p),
                p521::ecdsa::Signature::from_slice(sig),
            ) else {
                return false;
            };
            key.verify(input, &sig).is_ok()
        }
        (SignatureAlgorithm::EdDsa, Some(RawKey::Ed25519(x))) => {
            ring_check(&signature::ED25519, &x)
        }
        (SignatureAlgorithm::Rs256, Some(RawKey::Rsa(n, e))) => {
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// Which key reference a request must use (RFC 8555 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// newAccount: `jwk` only.
    Jwk,
    /// Everything else: `kid` only.
    Kid,
    /// revokeCert: `kid`, or `jwk` of the certificate's key.
    Either,
}

/// A request whose JWS passed every check.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) payload: Vec<u8>,
    /// The signing account (index), when signed with `kid`.
    pub(crate) account: Option<usize>,
    /// The signing key, when signed with `jwk`.
    pub(crate) jwk: Option<Jwk>,
}

impl Verified {
    /// The payload as a JSON object; a client sending anything else broke the protocol.
    pub(crate) fn object(&self) -> Result<Map<String, Value>, Problem> {
        match serde_json::from_slice(&self.payload) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Problem::malformed("the payload is not a JSON object").violation()),
        }
    }

    /// POST-as-GET: the payload must be exactly empty (RFC 8555 §6.3).
    pub(crate) fn require_empty(&self) -> Result<(), Problem> {
        if self.payload.is_empty() {
            Ok(())
        } else {
            Err(Problem::malformed("POST-as-GET with a non-empty payload").violation())
        }
    }
}

impl FakeCa {
    /// Every check of RFC 8555 §6.2–6.5 on a POST body, in the order: structure, `alg`,
    /// `jwk`/`kid`, signature, nonce, `url`, account status.
    pub(crate) fn verify_request(
        &mut self,
        request: &Request,
        key_ref: KeyRef,
    ) -> Result<Verified, Problem> {
        let jws =
            parse_flattened(&request.body).map_err(|why| Problem::malformed(why).violation())?;
        let alg_name = jws
            .str("alg")
            .ok_or_else(|| Problem::malformed("the protected header has no alg").violation())?;
        let alg = SignatureAlgorithm::from_name(alg_name).ok_or_else(|| {
            Problem::new(
                400,
                "badSignatureAlgorithm",
                format!("alg {alg_name:?} is not accepted"),
            )
            .with(
                "algorithms",
                serde_json::json!(["ES256", "ES384", "ES512", "EdDSA", "RS256"]),
            )
            .violation()
        })?;
        let (jwk, account) = match (jws.header.get("jwk"), jws.header.get("kid")) {
            (Some(_), Some(_)) => {
                return Err(Problem::malformed("the header has both jwk and kid").violation());
            }
            (None, None) => {
                return Err(Problem::malformed("the header has neither jwk nor kid").violation());
            }
            (Some(jwk), None) => {
                if key_ref == KeyRef::Kid {
                    return Err(Problem::malformed(
                        "this request must name its account with kid, not jwk",
                    )
                    .violation());
                }
                let jwk = parse_jwk(jwk)?;
                (Some(jwk), None)
            }
            (None, Some(kid)) => {
                if key_ref == KeyRef::Jwk {
                    return Err(Problem::malformed(
                        "newAccount must carry the key as jwk, not kid",
                    )
                    .violation());
                }
                let kid = kid.as_str().unwrap_or_default();
                let id = self.account_by_url(kid).ok_or_else(|| {
                    Problem::new(400, "accountDoesNotExist", format!("no account {kid:?}"))
                        .violation()
                })?;
                (None, Some(id))
            }
        };
        let key = match (&jwk, account) {
            (Some(jwk), _) => jwk.clone(),
            (None, Some(id)) => self.accounts[id].jwk.clone(),
            (None, None) => unreachable!("one of jwk and kid was found above"),
        };
        if key.algorithm() != alg {
            return Err(Problem::new(
                400,
                "badSignatureAlgorithm",
                format!("alg {alg_name} does not match the {} key", key.key_type()),
            )
            .violation());
        }
        if !verify_signature(&key, alg, &jws.signing_input, &jws.signature) {
            return Err(Problem::malformed("JWS signature verification failed").violation());
        }
        let nonce = jws
            .str("nonce")
            .ok_or_else(|| Problem::new(400, "badNonce", "the header has no nonce").violation())?;
        self.nonces
            .redeem(nonce)
            .map_err(|why| Problem::new(400, "badNonce", why).violation())?;
        let url = jws.str("url").unwrap_or_default();
        if url != request.url.as_str() {
            return Err(Problem::unauthorized(format!(
                "the header url {url:?} is not the request URL {:?}",
                request.url.as_str()
            ))
            .violation());
        }
        if let Some(id) = account
            && self.accounts[id].deactivated
        {
            return Err(Problem::unauthorized("the account is deactivated"));
        }
        Ok(Verified {
            payload: jws.payload,
            account,
            jwk,
        })
    }

    /// The inner JWS of a key change (RFC 8555 §7.3.5), verified with its own `jwk`:
    /// returns the new key and the inner payload.
    pub(crate) fn verify_key_change_inner(
        &self,
        body: &[u8],
        outer_url: &str,
    ) -> Result<(Jwk, Map<String, Value>), Problem> {
        let bad = |why: &str| Problem::malformed(format!("keyChange inner JWS: {why}")).violation();
        let jws = parse_flattened(body).map_err(|why| bad(&why))?;
        if jws.header.contains_key("nonce") {
            return Err(bad("it must not have a nonce"));
        }
        if jws.header.contains_key("kid") {
            return Err(bad("it must not have a kid"));
        }
        let jwk = parse_jwk(jws.header.get("jwk").ok_or_else(|| bad("it has no jwk"))?)?;
        let alg = jws
            .str("alg")
            .and_then(SignatureAlgorithm::from_name)
            .ok_or_else(|| bad("its alg is missing or not accepted"))?;
        if jws.str("url") != Some(outer_url) {
            return Err(bad("its url differs from the outer JWS's"));
        }
        if !verify_signature(&jwk, alg, &jws.signing_input, &jws.signature) {
            return Err(bad("its signature does not verify with its jwk"));
        }
        match serde_json::from_slice(&jws.payload) {
            Ok(Value::Object(map)) => Ok((jwk, map)),
            _ => Err(bad("its payload is not a JSON object")),
        }
    }

    /// The `externalAccountBinding` of a newAccount (RFC 8555 §7.3.4): MAC, `alg`,
    /// `kid`, `url`, no nonce, payload equal to the account key.
    pub(crate) fn verify_eab(
        &self,
        eab: &Value,
        account_key: &Jwk,
        url: &str,
    ) -> Result<(), Problem> {
        let Some(config) = &self.config.eab else {
            return Ok(());
        };
        let bad =
            |why: &str| Problem::malformed(format!("externalAccountBinding: {why}")).violation();
        let body = serde_json::to_vec(eab).map_err(|_| bad("not JSON"))?;
        let jws = parse_flattened(&body).map_err(|why| bad(&why))?;
        if jws.str("alg") != Some(config.algorithm.name()) {
            return Err(bad(&format!("alg must be {}", config.algorithm.name())));
        }
        if jws.header.contains_key("nonce") {
            return Err(bad("it must not have a nonce"));
        }
        if jws.str("url") != Some(url) {
            return Err(bad("its url is not the newAccount URL"));
        }
        if jws.str("kid") != Some(config.key_id.as_str()) {
            return Err(Problem::unauthorized(
                "externalAccountBinding: unknown key identifier",
            ));
        }
        let mac = match config.algorithm {
            EabAlgorithm::Hs384 => ring::hmac::HMAC_SHA384,
            EabAlgorithm::Hs512 => ring::hmac::HMAC_SHA512,
            _ => ring::hmac::HMAC_SHA256,
        };
        let key = ring::hmac::Key::new(mac, &config.mac_key);
        if ring::hmac::verify(&key, &jws.signing_input, &jws.signature).is_err() {
            return Err(
                Problem::unauthorized("externalAccountBinding: the MAC does not verify")
                    .violation(),
            );
        }
        let bound = Jwk::from_json(&jws.payload).map_err(|_| bad("its payload is not a JWK"))?;
        if &bound != account_key {
            return Err(bad("its payload is not the account key"));
        }
        Ok(())
    }
}

pub(crate) fn parse_jwk(value: &Value) -> Result<Jwk, Problem> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Jwk::from_json(&bytes).map_err(|_| {
        Problem::new(400, "badPublicKey", "the jwk is not a valid public key").violation()
    })
}
