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
use acme_proto_fake_ca::validation::{check_challenge_certificate, validation_client_config};
use acme_proto_tokio::{ACME_TLS_ALPN, AcmeClient, Solver, SolverError, TlsAlpn01Responder};
use rustls::pki_types::ServerName;

/// A handshake as the validation server makes it; the certificate presented, if any.
async fn handshake(responder: &TlsAlpn01Responder, sni: &str, alpn: &[u8]) -> Option<Vec<u8>> {
    let config = validation_client_config(alpn);
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
        let Solution::TlsAlpn01 { server_name, .. } = &offer.solution else {
            panic!("chose {}", offer.type_name());
        };
        let der = handshake(&self.responder, server_name, ACME_TLS_ALPN)
            .await
            .expect("a certificate");
        check_challenge_certificate(&der, offer);
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
