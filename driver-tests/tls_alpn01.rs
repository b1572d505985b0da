//! The tls-alpn-01 responder, asked over real TLS as a validation server would
//! (RFC 8737 §3): SNI and ALPN `acme-tls/1`, a self-signed certificate with the
//! identifier and the critical acmeIdentifier extension holding the digest. The
//! handshakes are made with blocking std sockets: the tokio suite runs on several
//! threads, so the responder answers while the scenario blocks.

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use acme_proto_fake_ca::validation::{check_challenge_certificate, validation_client_config};
use rustls::pki_types::ServerName;

use super::support::{CaServer, keys, quick_account};
use crate::driver::{ACME_TLS_ALPN, Solver, SolverError, TlsAlpn01Responder};

driver_tests!(
    answers_acme_tls_handshakes_for_names_and_addresses,
    a_silent_client_does_not_stop_the_others,
);

/// A handshake as the validation server makes it; the certificate presented, if any.
fn handshake(responder: &TlsAlpn01Responder, sni: &str, alpn: &[u8]) -> Option<Vec<u8>> {
    let config = validation_client_config(alpn);
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = TcpStream::connect(responder.local_addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // A refused handshake is `None`; the assertions say which ones must be refused.
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).ok()?;
    }
    assert_eq!(tls.alpn_protocol(), Some(ACME_TLS_ALPN));
    Some(tls.peer_certificates()?.first()?.to_vec())
}

struct Checked {
    responder: TlsAlpn01Responder,
    seen: Mutex<Vec<ChallengeOffer>>,
}

impl Solver for Checked {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.responder.choose(offers)
    }
    solver_method!(
        fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            aw!(self.responder.present(offer))?;
            let Solution::TlsAlpn01 { server_name, .. } = &offer.solution else {
                panic!("chose {}", offer.type_name());
            };
            let der =
                handshake(&self.responder, server_name, ACME_TLS_ALPN).expect("a certificate");
            check_challenge_certificate(&der, offer);
            // Not for a handshake without acme-tls/1, nor for another name.
            assert!(handshake(&self.responder, server_name, b"http/1.1").is_none());
            assert!(handshake(&self.responder, "other.example.org", ACME_TLS_ALPN).is_none());
            self.seen.lock().unwrap().push(offer.clone());
            Ok(())
        }
    );
    solver_method!(
        fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            aw!(self.responder.cleanup(offer))
        }
    );
}

pub async fn answers_acme_tls_handshakes_for_names_and_addresses() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let solver = Checked {
        responder: aw!(TlsAlpn01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap(),
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("tls.example.org").unwrap(),
        Identifier::ip("127.0.0.1".parse().unwrap()),
    ];
    aw!(client.issue(names, &solver)).unwrap();
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
    assert!(handshake(&solver.responder, "tls.example.org", ACME_TLS_ALPN).is_none());
    assert!(server.violations().is_empty());

    let addr = solver.responder.local_addr();
    drop(solver);
    // Stopped when dropped (a driver's listener task may take a moment to go).
    for _ in 0..100 {
        if TcpStream::connect(addr).is_err() {
            break;
        }
        aw!(crate::pause(Duration::from_millis(20)));
    }
    assert!(TcpStream::connect(addr).is_err(), "stopped when dropped");
}

pub async fn a_silent_client_does_not_stop_the_others() {
    let responder = aw!(TlsAlpn01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    // A connection that never says anything holds one thread until its timeout; the
    // responder meanwhile refuses (properly, with an alert) a handshake for nothing
    // presented.
    let _silent = TcpStream::connect(responder.local_addr()).unwrap();
    assert!(handshake(&responder, "nothing.example.org", ACME_TLS_ALPN).is_none());
}
