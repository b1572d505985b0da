//! A rustls server of the user's own answering tls-alpn-01 itself: one listener on
//! Pebble's tls-alpn-01 port, a `TlsAcceptor` whose configuration resolves with
//! `TlsAlpnResolver` over a `CertificateSlot`. Pebble validates the challenge against
//! that listener; the issued certificate is installed in the slot, and an ordinary
//! client (trusting Pebble's issuing root) gets it from the same listener.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto::client::NewAccount;
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto_support::generate_account_key;
use acme_proto_tests::{PebbleOptions, start_or_skip, verify_chain};
use acme_proto_tokio::rustls::pki_types::pem::PemObject as _;
use acme_proto_tokio::rustls::pki_types::{CertificateDer, ServerName};
use acme_proto_tokio::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use acme_proto_tokio::tokio_rustls::{TlsAcceptor, TlsConnector};
use acme_proto_tokio::{ACME_TLS_ALPN, AcmeClient, CertificateSlot, TlsAlpnResolver, Transport};
use tokio::net::{TcpListener, TcpStream};

/// Every connection and handshake, either side.
const STEP: Duration = Duration::from_secs(10);
/// The whole issuance.
const ISSUANCE: Duration = Duration::from_secs(120);

const NAME: &str = "resolver.example.org";

/// One handshake the server finished or refused: the SNI, the protocol negotiated, and
/// the error when refused.
#[derive(Debug, Clone)]
struct Seen {
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
    error: Option<String>,
}

/// The user's server: accepts on `listener` with `acceptor`, records each handshake,
/// writes one line and closes.
async fn serve(listener: TcpListener, acceptor: TlsAcceptor, seen: Arc<Mutex<Vec<Seen>>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            let record = match tokio::time::timeout(STEP, acceptor.accept(stream)).await {
                Ok(Ok(mut tls)) => {
                    let (_, connection) = tls.get_ref();
                    let record = Seen {
                        sni: connection.server_name().map(str::to_owned),
                        alpn: connection.alpn_protocol().map(<[u8]>::to_vec),
                        error: None,
                    };
                    let _ = tokio::time::timeout(STEP, async {
                        use tokio::io::AsyncWriteExt as _;
                        let _ = tls.write_all(b"hello\n").await;
                        let _ = tls.shutdown().await;
                    })
                    .await;
                    record
                }
                Ok(Err(error)) => Seen {
                    sni: None,
                    alpn: None,
                    error: Some(error.to_string()),
                },
                Err(_) => Seen {
                    sni: None,
                    alpn: None,
                    error: Some("timed out".into()),
                },
            };
            seen.lock().unwrap().push(record);
        });
    }
}

/// What a client got: the chain served (DER, end-entity first) and the protocol
/// negotiated; `Err` when the handshake failed.
async fn connect(
    addr: SocketAddr,
    config: ClientConfig,
    sni: &str,
) -> Result<(Vec<Vec<u8>>, Option<Vec<u8>>), String> {
    let connector = TlsConnector::from(Arc::new(config));
    let stream = tokio::time::timeout(STEP, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let tls = tokio::time::timeout(STEP, connector.connect(name, stream))
        .await
        .expect("handshake timed out")
        .map_err(|e| e.to_string())?;
    let (_, connection) = tls.get_ref();
    let chain = connection
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_vec())
        .collect();
    Ok((chain, connection.alpn_protocol().map(<[u8]>::to_vec)))
}

/// A client trusting only Pebble's issuing root `root_pem`, offering `alpn`.
fn client_config(root_pem: &str, alpn: &[&[u8]]) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// How many handshakes the server refused so far.
fn refusals(seen: &Mutex<Vec<Seen>>) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|s| s.error.is_some())
        .count()
}

/// The server refused one more handshake than `before`, for want of a certificate.
fn refused_after(seen: &Mutex<Vec<Seen>>, before: usize) {
    // The server task records after the client saw the failure: wait for it, bounded.
    let deadline = Instant::now() + STEP;
    while refusals(seen) == before {
        assert!(Instant::now() < deadline, "the server recorded no refusal");
        std::thread::sleep(Duration::from_millis(10));
    }
    let seen = seen.lock().unwrap();
    let refused: Vec<&Seen> = seen.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(refused.len(), before + 1, "{seen:?}");
    let error = refused[before].error.as_deref().unwrap_or_default();
    assert!(
        error.contains("no server certificate chain resolved"),
        "not refused for want of a certificate: {error}"
    );
}

#[test]
fn a_rustls_server_answers_tls_alpn_01_then_serves_the_issued_certificate() {
    let started = Instant::now();
    let Some(mut pebble) = start_or_skip(PebbleOptions::default()) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = pebble.take_tlsalpn01_listener().expect("tls-alpn-01 port");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let roots = pebble.issuer_roots().expect("Pebble's roots");

    // The user's server: h2 and http/1.1, plus acme-tls/1 put first by `configure`.
    let slot = CertificateSlot::new();
    let resolver = TlsAlpnResolver::new(slot.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(slot.clone()));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    resolver.configure(&mut config);
    assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"h2", b"http/1.1"]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let server = {
        let _entered = runtime.enter();
        let listener = TcpListener::from_std(listener).unwrap();
        runtime.spawn(serve(
            listener,
            TlsAcceptor::from(Arc::new(config)),
            Arc::clone(&seen),
        ))
    };
    let ordinary = || client_config(&roots[0], &[b"http/1.1"]);

    // Before anything is installed, an ordinary client is refused.
    let before = runtime.block_on(connect(addr, ordinary(), NAME));
    assert!(before.is_err(), "{before:?}");
    refused_after(&seen, 0);

    // Issuance, Pebble validating tls-alpn-01 on this very listener.
    let issue_started = Instant::now();
    let certificate = runtime.block_on(async {
        let url = pebble.directory_url().parse().unwrap();
        let transport = Transport::builder()
            .add_root_pem(pebble.root_pem())
            .build()
            .unwrap();
        let key = generate_account_key(SignatureAlgorithm::Es256).unwrap();
        let client = AcmeClient::new(url, key, transport).unwrap();
        let issuance = async {
            client
                .create_account(NewAccount::agreeing_to_terms(["mailto:ops@example.org"]))
                .await?;
            client
                .issue([Identifier::dns(NAME).unwrap()], &resolver)
                .await
        };
        tokio::time::timeout(ISSUANCE, issuance)
            .await
            .unwrap_or_else(|_| panic!("issuance timed out\n{}", pebble.log_tail()))
            .unwrap_or_else(|e| panic!("issuance: {e}\n{}", pebble.log_tail()))
    });
    let issue_time = issue_started.elapsed();
    assert!(resolver.is_empty(), "the challenge was cleaned up");
    verify_chain(certificate.issued.chain.pem(), &roots[0], &[NAME]).unwrap();
    let validations: Vec<Seen> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.alpn.as_deref() == Some(ACME_TLS_ALPN))
        .cloned()
        .collect();
    assert!(
        !validations.is_empty()
            && validations
                .iter()
                .all(|s| s.sni.as_deref() == Some(NAME) && s.error.is_none()),
        "Pebble's validation handshakes negotiated acme-tls/1 for {NAME}: {:?}",
        seen.lock().unwrap()
    );

    // Installed: an ordinary client gets the issued chain, verified up to Pebble's root.
    slot.install(&certificate).unwrap();
    let issued: Vec<Vec<u8>> = certificate.issued.chain.der().map(<[u8]>::to_vec).collect();
    let (served, alpn) = runtime
        .block_on(connect(addr, ordinary(), NAME))
        .expect("an ordinary handshake");
    assert_eq!(served[0], issued[0], "the issued end-entity certificate");
    assert_eq!(served, issued, "the whole issued chain");
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    // h2 and no-ALPN clients too.
    let (served, alpn) = runtime
        .block_on(connect(
            addr,
            client_config(&roots[0], &[b"h2", b"http/1.1"]),
            NAME,
        ))
        .expect("an h2 handshake");
    assert_eq!(served[0], issued[0]);
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    let (served, alpn) = runtime
        .block_on(connect(addr, client_config(&roots[0], &[]), NAME))
        .expect("a handshake without ALPN");
    assert_eq!(served[0], issued[0]);
    assert_eq!(alpn, None);

    // An acme-tls/1 hello for a name with no challenge presented is refused, even now
    // that a certificate valid for it (and trusted by this client) is installed.
    for name in [NAME, "other.example.org"] {
        let count = refusals(&seen);
        let acme = runtime.block_on(connect(
            addr,
            client_config(&roots[0], &[ACME_TLS_ALPN]),
            name,
        ));
        assert!(acme.is_err(), "{name}: {acme:?}");
        refused_after(&seen, count);
    }

    server.abort();
    drop(runtime);
    eprintln!(
        "Pebble start-up {:?}, issuance {issue_time:?}, whole test {:?}",
        pebble.startup_time(),
        started.elapsed()
    );
}
