//! The CA's keys and certificates: a root per chain and one intermediate key, all
//! Ed25519 from the seed (so signatures, and certificates, are reproducible); finalize
//! with CSR checks; certificate download with alternates; revocation.

use std::collections::BTreeSet;
use std::net::IpAddr;

use acme_proto::UnixTime;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber, date_time_ymd,
};
use serde_json::Value;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509CertificationRequest};
use x509_parser::public_key::PublicKey;

use crate::FakeCa;
use crate::inspect::{IssuedCertificate, Revocation};
use crate::jws::{RawKey, Verified, b64d, b64e, raw_key};
use crate::model::OrderState;
use crate::reply::{Problem, Reply};
use crate::script::{Fault, RequestKind};

/// The CA's hierarchy: roots (the primary first), the intermediate certified by each,
/// and the intermediate's key as the leaves' issuer.
pub(crate) struct Pki {
    pub(crate) roots: Vec<String>,
    pub(crate) intermediates: Vec<String>,
    issuer: Issuer<'static, KeyPair>,
    pub(crate) key_id: Vec<u8>,
}

/// An issued certificate with what the CA keeps about it.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) public: IssuedCertificate,
    pub(crate) account: usize,
    pub(crate) key: RawKey,
}

/// An Ed25519 key from the seed: PKCS#8 v1 is a fixed prefix and the 32-byte seed.
fn ed25519(seed: u64, label: &str) -> KeyPair {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&crate::derive(seed, label, 0));
    KeyPair::try_from(der.as_slice()).expect("a well-formed Ed25519 PKCS#8 key")
}

fn ca_params(common_name: &str, serial: u8, path_len: Option<u8>) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "acme-proto fake CA");
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2099, 12, 31);
    params.serial_number = Some(SerialNumber::from_slice(&[0x0a, serial]));
    params
}

impl Pki {
    pub(crate) fn new(seed: u64, alternates: usize) -> Self {
        let intermediate_key = ed25519(seed, "intermediate");
        let mut roots = Vec::new();
        let mut intermediates = Vec::new();
        let mut leaf_issuer_params = None;
        for k in 0..=alternates {
            let serial = u8::try_from(k).unwrap_or(u8::MAX);
            let name = match k {
                0 => "Fake ACME Root CA".to_owned(),
                k => format!("Fake ACME Alternate Root CA {k}"),
            };
            let root_params = ca_params(&name, serial, None);
            let root_key = ed25519(seed, &format!("root {k}"));
            let root = root_params
                .self_signed(&root_key)
                .expect("root certificate");
            roots.push(root.pem());
            let root_issuer = Issuer::new(root_params, root_key);
            let mut params = ca_params("Fake ACME Intermediate CA", 0x80 | serial, Some(0));
            params.serial_number = Some(SerialNumber::from_slice(&[0x0b, serial]));
            params.use_authority_key_identifier_extension = true;
            let cert = params
                .signed_by(&intermediate_key, &root_issuer)
                .expect("intermediate certificate");
            intermediates.push(cert.pem());
            leaf_issuer_params.get_or_insert(params);
        }
        let params = leaf_issuer_params.expect("at least the primary chain");
        let key_id = params.key_identifier(&intermediate_key);
        Self {
            roots,
            intermediates,
            issuer: Issuer::new(params, intermediate_key),
            key_id,
        }
    }
}

/// The key of a SubjectPublicKeyInfo, in the form JWKs are compared in.
fn spki_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<RawKey> {
    let strip = |b: &[u8]| {
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    match spki.parsed().ok()? {
        PublicKey::EC(point) => Some(RawKey::Ec(point.data().to_vec())),
        PublicKey::RSA(rsa) => Some(RawKey::Rsa(strip(rsa.modulus), strip(rsa.exponent))),
        _ if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => {
            Some(RawKey::Ed25519(spki.subject_public_key.data.to_vec()))
        }
        _ => None,
    }
}

impl FakeCa {
    /// Checks the CSR against the order (RFC 8555 §7.4): signature, names equal to the
    /// identifiers, a key other than the account's. Returns the SPKI DER and the key.
    fn check_csr(&self, der: &[u8], order: usize) -> Result<(Vec<u8>, RawKey), Problem> {
        let bad = |why: String| Problem::new(400, "badCSR", why);
        let (rest, csr) = X509CertificationRequest::from_der(der)
            .map_err(|_| bad("the CSR is not a DER PKCS#10 request".into()))?;
        if !rest.is_empty() {
            return Err(bad("the CSR has trailing bytes".into()));
        }
        csr.verify_signature()
            .map_err(|_| bad("the CSR's signature does not verify".into()))?;
        let mut names = BTreeSet::new();
        for ext in csr.requested_extensions().into_iter().flatten() {
            if let ParsedExtension::SubjectAlternativeName(san) = ext {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(n) => names.insert(("dns", n.to_ascii_lowercase())),
                        GeneralName::IPAddress(b) => {
                            let ip = match b.len() {
                                4 => <[u8; 4]>::try_from(*b).map(IpAddr::from).ok(),
                                16 => <[u8; 16]>::try_from(*b).map(IpAddr::from).ok(),
                                _ => None,
                            };
                            let ip =
                                ip.ok_or_else(|| bad("a SAN IP address is malformed".into()))?;
                            names.insert(("ip", ip.to_string()))
                        }
                        other => return Err(bad(format!("unsupported SAN {other:?}"))),
                    };
                }
            }
        }
        let info = &csr.certification_request_info;
        for cn in info.subject.iter_common_name() {
            let cn = cn
                .as_str()
                .map_err(|_| bad("the CN is not a string".into()))?;
            let cn = cn.to_ascii_lowercase();
            if !names.contains(&("dns", cn.clone())) && !names.contains(&("ip", cn.clone())) {
                return Err(bad(format!("the CN {cn:?} is not among the SANs")));
            }
        }
        let wanted: BTreeSet<(&str, String)> = self.orders[order]
            .identifiers
            .iter()
            .map(|i| (i.kind, i.value.clone()))
            .collect();
        if names != wanted {
            return Err(bad(format!(
                "the CSR names {names:?} are not the order's identifiers {wanted:?}"
            )));
        }
        let key = spki_key(&info.subject_pki).ok_or_else(|| bad("unsupported key type".into()))?;
        if raw_key(&self.accounts[self.orders[order].account].jwk).as_ref() == Some(&key) {
            return Err(bad("the CSR's key is the account key".into()));
        }
        Ok((info.subject_pki.raw.to_vec(), key))
    }

    fn issue(
        &mut self,
        order: usize,
        spki_der: &[u8],
        key: RawKey,
        names: Option<Vec<String>>,
        now: UnixTime,
    ) -> Result<usize, Problem> {
        let spki = rcgen::SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|_| Problem::new(400, "badCSR", "the CSR's key type is not supported"))?;
        let index = self.certs.len();
        let o = &self.orders[order];
        let mut serial = vec![0x01];
        serial.extend_from_slice(&crate::derive(self.config.seed, "serial", index as u64)[..15]);
        let not_before = o.not_before.unwrap_or(UnixTime::from_secs(now.as_secs()));
        let not_after = o
            .not_after
            .unwrap_or(not_before.saturating_add(self.config.certificate_validity));
        let names: Vec<String> =
            names.unwrap_or_else(|| o.identifiers.iter().map(|i| i.value.clone()).collect());
        let internal = |_| Problem::new(500, "serverInternal", "certificate generation failed");
        let mut params = CertificateParams::new(names.clone()).map_err(internal)?;
        let mut dn = DistinguishedName::new();
        if let Some(first) = names.first().filter(|n| n.len() <= 64) {
            dn.push(DnType::CommonName, first.as_str());
        }
        params.distinguished_name = dn;
        let time = |t: UnixTime| {
            time::OffsetDateTime::from_unix_timestamp(
                i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
            )
            .map_err(|_| Problem::malformed("the requested validity is out of range"))
        };
        params.not_before = time(not_before)?;
        params.not_after = time(not_after)?;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&spki, &self.pki.issuer)
            .map_err(internal)?;
        let leaf = cert.pem();
        let chains = self
            .pki
            .intermediates
            .iter()
            .map(|i| format!("{leaf}{i}"))
            .collect();
        let public = IssuedCertificate {
            url: self.cert_url(index, 0),
            order: self.order_url(order),
            account: self.account_url(o.account),
            der: cert.der().to_vec(),
            chains,
            cert_id: format!("{}.{}", b64e(&self.pki.key_id), b64e(&serial)),
            serial,
            not_before,
            not_after,
            revocation: None,
            replaced_by: None,
        };
        self.certs.push(Issued {
            public,
            account: o.account,
            key,
        });
        Ok(index)
    }

    pub(crate) fn finalize(
        &mut self,
        order: usize,
        v: &Verified,
        now: UnixTime,
    ) -> Result<Reply, Problem> {
        let o = self.orders.get(order).ok_or_else(Problem::not_found)?;
        self.owner(v, o.account)?;
        let payload = v.object()?;
        let status = self.order_status(order);
        if status != "ready" {
            return Err(Problem::new(
                403,
                "orderNotReady",
                format!("the order is {status}"),
            ));
        }
        let csr = payload
            .get("csr")
            .and_then(Value::as_str)
            .ok_or_else(|| Problem::malformed("finalize needs a csr").violation())?;
        let der = b64d(csr).ok_or_else(|| {
            Problem::new(400, "badCSR", "the csr is not base64url DER").violation()
        })?;
        let (mut spki, key) = self.check_csr(&der, order)?;
        if self
            .outcome(RequestKind::Finalize, |f| {
                matches!(f, Fault::CertificateForOtherKey)
            })
            .is_some()
        {
            spki = rcgen::PublicKeyData::subject_public_key_info(&ed25519(
                self.config.seed,
                "another leaf key",
            ));
        }
        let names = match self.outcome(RequestKind::Finalize, |f| {
            matches!(f, Fault::CertificateNames(_))
        }) {
            Some(Fault::CertificateNames(names)) => Some(names),
            _ => None,
        };
        let cert = self.issue(order, &spki, key, names, now)?;
        let mut polls = self.config.issuance_polls;
        if let Some(Fault::OrderProcessingPolls(n)) = self.outcome(RequestKind::Finalize, |f| {
            matches!(f, Fault::OrderProcessingPolls(_))
        }) {
            polls = n;
        }
        let o = &mut self.orders[order];
        o.certificate = Some(cert);
        o.state = match polls {
            0 => OrderState::Valid,
            n => OrderState::Processing { polls_left: n },
        };
        Ok(self
            .order_reply(200, order)
            .header("Location", self.order_url(order)))
    }

    pub(crate) fn certificate(
        &mut self,
        cert: usize,
        chain: usize,
        v: &Verified,
    ) -> Result<Reply, Problem> {
        let issued = self.certs.get(cert).ok_or_else(Problem::not_found)?;
        let pem = issued
            .public
            .chains
            .get(chain)
            .ok_or_else(Problem::not_found)?;
        self.owner(v, issued.account)?;
        v.require_empty()?;
        let mut reply = Reply::empty(200)
            .header("Content-Type", "application/pem-certificate-chain")
            .body(pem.clone().into_bytes());
        for k in (0..issued.public.chains.len()).filter(|k| *k != chain) {
            reply = reply.header(
                "Link",
                format!("<{}>;rel=\"alternate\"", self.cert_url(cert, k)),
            );
        }
        Ok(reply)
    }

    pub(crate) fn revoke(&mut self, v: &Verified, now: UnixTime) -> Result<Reply, Problem> {
        let payload = v.object()?;
        let der = payload
            .get("certificate")
            .and_then(Value::as_str)
            .and_then(b64d)
            .ok_or_else(|| Problem::malformed("certificate must be base64url DER").violation())?;
        let reason = match payload.get("reason") {
            None => None,
            Some(r) => match r.as_u64().and_then(|r| u8::try_from(r).ok()) {
                Some(r) if r <= 10 && r != 7 => Some(r),
                _ => {
                    return Err(Problem::new(
                        400,
                        "badRevocationReason",
                        format!("reason {r} is not allowed"),
                    ));
                }
            },
        };
        let cert = self
            .certs
            .iter()
            .position(|c| c.public.der == der)
            .ok_or_else(|| Problem::new(404, "malformed", "no such certificate"))?;
        let issued = &self.certs[cert];
        let authorized = match (&v.jwk, v.account) {
            (Some(jwk), _) => raw_key(jwk).as_ref() == Some(&issued.key),
            (None, Some(account)) => account == issued.account,
            (None, None) => false,
        };
        if !authorized {
            return Err(Problem::unauthorized(
                "the signer may not revoke this certificate",
            ));
        }
        if issued.public.revocation.is_some() {
            return Err(Problem::new(
                400,
                "alreadyRevoked",
                "the certificate is already revoked",
            ));
        }
        self.certs[cert].public.revocation = Some(Revocation {
            reason,
            at: now,
            by_certificate_key: v.jwk.is_some(),
        });
        Ok(Reply::empty(200))
    }

    /// Every certificate issued, in order, with its revocation status.
    pub fn certificates(&self) -> Vec<&IssuedCertificate> {
        self.certs.iter().map(|c| &c.public).collect()
    }

    /// The primary root certificate, PEM.
    pub fn root_pem(&self) -> &str {
        &self.pki.roots[0]
    }

    /// Every root, PEM: the primary first, then the root of each alternate chain.
    pub fn root_pems(&self) -> &[String] {
        &self.pki.roots
    }

    /// The intermediate certificate of each chain, PEM, in the same order as the roots.
    pub fn intermediate_pems(&self) -> &[String] {
        &self.pki.intermediates
    }
}
