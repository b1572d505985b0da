//! The certificate's key and its CSR, made in Rust from the host's random bytes: a
//! P-256 key (p256) and a PKCS#10 request signed with it (x509-cert's builder).

use acme_proto::Identifier;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::elliptic_curve::Generate as _;
use p256::pkcs8::{EncodePrivateKey as _, LineEnding};
use rand_core::CryptoRng;
use x509_cert::builder::{Builder as _, RequestBuilder};
use x509_cert::der::Encode as _;
use x509_cert::der::asn1::Ia5String;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use zeroize::Zeroizing;

/// A new certificate key and the CSR for it.
pub(crate) struct CertificateRequest {
    /// The CSR (DER): the identifiers as DNS subjectAltNames, an empty subject.
    pub(crate) der: Vec<u8>,
    /// The key, PKCS#8 PEM, zeroized on drop.
    pub(crate) key_pem: Zeroizing<String>,
}

/// A P-256 key drawn from `rng` and a CSR naming `identifiers` (DNS names only) as
/// subjectAltNames, with an empty subject, as CAs that follow the CA/B Forum rules
/// expect. With an empty subject the subjectAltName extension is marked critical
/// (RFC 5280 §4.2.1.6), which x509-cert does by itself.
///
/// The signature is ECDSA with RFC 6979 nonces: no more randomness is drawn.
pub(crate) fn certificate_request<R: CryptoRng + ?Sized>(
    identifiers: &[Identifier],
    rng: &mut R,
) -> Result<CertificateRequest, String> {
    let mut names = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        let Some(name) = identifier.dns_name() else {
            return Err("only DNS names can be put in this example's CSR".into());
        };
        let name = Ia5String::new(name.as_str()).map_err(|e| format!("the CSR's names: {e}"))?;
        names.push(GeneralName::DnsName(name));
    }
    let key = SigningKey::generate_from_rng(rng);
    let mut builder =
        RequestBuilder::new(Name::default()).map_err(|e| format!("the CSR builder: {e}"))?;
    builder
        .add_extension(&SubjectAltName(names))
        .map_err(|e| format!("the CSR's subjectAltName: {e}"))?;
    let request = builder
        .build::<_, DerSignature>(&key)
        .map_err(|e| format!("signing the CSR: {e}"))?;
    let der = request
        .to_der()
        .map_err(|e| format!("encoding the CSR: {e}"))?;
    let key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("encoding the certificate key: {e}"))?;
    Ok(CertificateRequest { der, key_pem })
}
