//! A built-in tls-alpn-01 responder (RFC 8737): a TLS server that, for each challenge
//! put in place, answers a handshake naming it (SNI) and offering the `acme-tls/1`
//! protocol (ALPN) with a self-signed certificate for the identifier that carries the
//! critical `acmeIdentifier` extension, then closes the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::PrivateKeyDer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::presented::{Presented, serve_connections};
use crate::solver::{Solver, SolverError};

/// The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";
/// How long one validation handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Server name (lowercase SNI) → the challenge certificate.
type Certificates = Arc<Presented<Arc<CertifiedKey>>>;

/// A tls-alpn-01 responder: answers `acme-tls/1` handshakes for exactly the
/// challenges presented to it, on one address, for as many concurrent orders as share
/// it. Any other handshake (another SNI, no `acme-tls/1`) is refused. It stops when
/// dropped.
///
/// The validation server connects to port 443 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:443`, or a port a proxy forwards `acme-tls/1` to).
#[derive(Debug)]
pub struct TlsAlpn01Responder {
    certificates: Certificates,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct BySni(Certificates);

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if !acme {
            return None;
        }
        self.0.get(&hello.server_name()?.to_ascii_lowercase())
    }
}

impl TlsAlpn01Responder {
    /// Binds `addr` and starts serving (on the current tokio runtime).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certificates = Certificates::default();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(BySni(Arc::clone(&certificates))));
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, TlsAcceptor::from(Arc::new(config))));
        Ok(Self {
            certificates,
            local_addr,
            task,
        })
    }

    /// The address it listens on (with the port chosen, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many challenges are being answered.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether no challenge is being answered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for TlsAlpn01Responder {
    fn drop(&mut self) {
        // Aborting the accept loop drops its `JoinSet`, which aborts every connection.
        self.task.abort();
    }
}

/// The self-signed challenge certificate of RFC 8737 §3: the identifier as its only
/// subjectAltName, and the critical `acmeIdentifier` extension with the digest.
fn challenge_certificate(
    identifier: &Identifier,
    digest: &[u8; 32],
) -> Result<CertifiedKey, SolverError> {
    let san = match identifier {
        Identifier::Dns(name) => rcgen::SanType::DnsName(name.without_wildcard().try_into()?),
        Identifier::Ip(ip) => rcgen::SanType::IpAddress(*ip),
        other => return Err(format!("tls-alpn-01 cannot prove {other}").into()),
    };
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.subject_alt_names = vec![san];
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let certificate = params.self_signed(&key)?;
    let private_key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&private_key)?;
    Ok(CertifiedKey::new(
        vec![certificate.der().clone()],
        signing_key,
    ))
}

impl Solver for TlsAlpn01Responder {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        offers
            .iter()
            .find(|o| matches!(o.solution, Solution::TlsAlpn01 { .. }))
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        let Solution::TlsAlpn01 {
            server_name,
            digest,
            ..
        } = &offer.solution
        else {
            return Err(format!("not a tls-alpn-01 challenge: {}", offer.type_name()).into());
        };
        let sni = server_name.to_ascii_lowercase();
        // Concurrent orders for one identifier share the certificate already served.
        let certificate = match self.certificates.get(&sni) {
            Some(certificate) => certificate,
            None => Arc::new(challenge_certificate(&offer.identifier, digest)?),
        };
        self.certificates.add(sni, certificate);
        Ok(())
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        if let Solution::TlsAlpn01 { server_name, .. } = &offer.solution {
            self.certificates.remove(&server_name.to_ascii_lowercase());
        }
        Ok(())
    }
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor) {
    serve_connections(listener, "tls-alpn-01", move |stream| {
        let acceptor = acceptor.clone();
        async move {
            // The handshake is the whole answer; the validation server then closes.
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(mut tls)) => {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                }
                Ok(Err(error)) => tracing::debug!(%error, "tls-alpn-01 handshake refused"),
                Err(_) => tracing::debug!("tls-alpn-01 handshake timed out"),
            }
        }
    })
    .await;
}
