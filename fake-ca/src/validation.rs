//! What a CA's validation server does with a tls-alpn-01 responder (RFC 8737 §3), for
//! the drivers' tests: a TLS client configuration that takes any certificate, and the
//! checks of the challenge certificate it gets.

use std::sync::Arc;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// id-pe-acmeIdentifier (RFC 8737 §6.1).
const ACME_IDENTIFIER: &str = "1.3.6.1.5.5.7.1.31";

/// A TLS client configuration offering `alpn` only, that accepts any server
/// certificate.
///
/// A validation server checks the certificate itself, not against a root. The
/// handshake signatures are not checked either: webpki (behind rustls' own checks)
/// refuses any certificate with an unknown critical extension, which is exactly what a
/// tls-alpn-01 certificate is; [`check_challenge_certificate`] reads it instead.
pub fn validation_client_config(alpn: &[u8]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    config
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Panics unless `der` is the RFC 8737 certificate for `offer`: the critical
/// acmeIdentifier extension holding the offer's digest (as a DER OCTET STRING), and the
/// offer's identifier as the only subjectAltName.
pub fn check_challenge_certificate(der: &[u8], offer: &ChallengeOffer) {
    let Solution::TlsAlpn01 { digest, .. } = &offer.solution else {
        panic!("not a tls-alpn-01 offer: {}", offer.type_name());
    };
    let (_, certificate) = X509Certificate::from_der(der).unwrap();
    let acme = certificate
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == ACME_IDENTIFIER)
        .expect("the acmeIdentifier extension");
    assert!(acme.critical, "acmeIdentifier must be critical");
    let mut expected = vec![0x04, 0x20];
    expected.extend_from_slice(digest);
    assert_eq!(acme.value, expected.as_slice());
    let info = acme_proto::CertificateInfo::from_der(der).unwrap();
    match &offer.identifier {
        Identifier::Dns(name) => assert_eq!(info.dns_names(), [name.as_str()]),
        Identifier::Ip(ip) => assert_eq!(info.ip_addresses(), [*ip]),
        other => panic!("{other:?}"),
    }
}
