//! The tls-alpn-01 responder, asked over real TLS as a validation server would
//! (RFC 8737 §3): SNI and ALPN `acme-tls/1`, a self-signed certificate with the
//! identifier and the critical acmeIdentifier extension holding the digest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Mutex};

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, NewAccount, Solution};
use acme_proto_tokio::{ACME_TLS_ALPN, AcmeClient, Solver, SolverError, TlsAlpn01Responder};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use x509_cert::der::Decode as _;

/// A validation server checks the certificate itself, not against a root. The
/// handshake signatures are not checked either: webpki (behind rustls' own checks)
/// refuses any certificate with an unknown critical extension, which is exactly what
/// a tls-alpn-01 certificate is; the test reads the certificate instead.
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

/// A handshake as the validation server makes it; the certificate presented, if any.
async fn handshake(responder: &TlsAlpn01Responder, sni: &str, alpn: &[u8]) -> Option<Vec<u8>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::net::TcpStream::connect(responder.local_addr())
        .await
        .unwrap();
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    // A refused handshake is `None`; the assertions say which ones must be refused.
    let tls = connector.connect(name, stream).await.ok()?;
    let (_, connection) = tls.get_ref();
    assert_eq!(connection.alpn_protocol(), Some(ACME_TLS_ALPN));
    Some(connection.peer_certificates()?.first()?.to_vec())
}

/// id-pe-acmeIdentifier (RFC 8737 §6.1).
const ACME_IDENTIFIER: &str = "1.3.6.1.5.5.7.1.31";

struct Checked {
    responder: TlsAlpn01Responder,
    seen: Mutex<Vec<ChallengeOffer>>,
}

impl Solver for Checked {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.responder.choose(offers)
    }
    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.present(offer).await?;
        let Solution::TlsAlpn01 {
            server_name,
            digest,
            ..
        } = &offer.solution
        else {
            panic!("chose {}", offer.type_name());
        };
        let der = handshake(&self.responder, server_name, ACME_TLS_ALPN)
            .await
            .expect("a certificate");
        let certificate = x509_cert::Certificate::from_der(&der).unwrap();
        let extensions = certificate.tbs_certificate().extensions().unwrap();
        let acme = extensions
            .iter()
            .find(|e| e.extn_id.to_string() == ACME_IDENTIFIER)
            .expect("the acmeIdentifier extension");
        assert!(acme.critical, "acmeIdentifier must be critical");
        // Its value is the DER OCTET STRING of the 32-byte digest.
        let mut expected = vec![0x04, 0x20];
        expected.extend_from_slice(digest);
        assert_eq!(acme.extn_value.as_bytes(), expected.as_slice());
        let info = acme_proto::CertificateInfo::from_der(&der).unwrap();
        match &offer.identifier {
            Identifier::Dns(name) => assert_eq!(info.dns_names(), [name.as_str()]),
            Identifier::Ip(ip) => assert_eq!(info.ip_addresses(), [*ip]),
            other => panic!("{other:?}"),
        }
        // Not for a handshake without acme-tls/1, nor for another name.
        assert!(
            handshake(&self.responder, server_name, b"http/1.1")
                .await
                .is_none()
        );
        assert!(
            handshake(&self.responder, "other.example.org", ACME_TLS_ALPN)
                .await
                .is_none()
        );
        self.seen.lock().unwrap().push(offer.clone());
        Ok(())
    }
    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.cleanup(offer).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_acme_tls_handshakes_for_names_and_addresses() {
    let server = common::CaServer::start().await;
    let client = AcmeClient::new(
        server.directory_url.clone(),
        common::key(common::keys::P256),
        server.transport(),
    )
    .unwrap();
    client
        .create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]))
        .await
        .unwrap();
    let solver = Checked {
        responder: TlsAlpn01Responder::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap(),
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("tls.example.org").unwrap(),
        Identifier::ip("127.0.0.1".parse().unwrap()),
    ];
    client.issue(names, &solver).await.unwrap();
    let seen = solver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "both identifiers answered by tls-alpn-01");
    let Solution::TlsAlpn01 { server_name, .. } = &seen
        .iter()
        .find(|o| matches!(o.identifier, Identifier::Ip(_)))
        .unwrap()
        .solution
    else {
        panic!()
    };
    assert_eq!(server_name, "1.0.0.127.in-addr.arpa");
    assert!(solver.responder.is_empty(), "cleaned up after issuance");
    assert!(
        handshake(&solver.responder, "tls.example.org", ACME_TLS_ALPN)
            .await
            .is_none()
    );
    assert!(server.violations().is_empty());
}
