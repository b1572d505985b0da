//! A built-in tls-alpn-01 responder (RFC 8737): a TLS server that, for each challenge
//! put in place, answers a handshake naming it (SNI) and offering the `acme-tls/1`
//! protocol (ALPN) with a self-signed certificate for the identifier that carries the
//! critical `acmeIdentifier` extension, then closes the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::ACME_TLS_ALPN;
use acme_proto_support::TlsAlpnCertificates;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::accept::serve_connections;
use crate::solver::{Solver, SolverError};

/// How long one validation handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A tls-alpn-01 responder: answers `acme-tls/1` handshakes for exactly the
/// challenges presented to it, on one address, for as many concurrent orders as share
/// it. Any other handshake (another SNI, no `acme-tls/1`) is refused. It stops when
/// dropped.
///
/// The validation server connects to port 443 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:443`, or a port a proxy forwards `acme-tls/1` to).
#[derive(Debug)]
pub struct TlsAlpn01Responder {
    certificates: TlsAlpnCertificates,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsAlpn01Responder {
    /// Binds `addr` and starts serving (on the current tokio runtime).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind(addr).await?)
    }

    /// Serves on a listener bound by the caller (socket activation, a port held since
    /// start-up), on the current tokio runtime.
    pub fn from_listener(listener: std::net::TcpListener) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Self::serve(TcpListener::from_std(listener)?)
    }

    fn serve(listener: TcpListener) -> std::io::Result<Self> {
        let certificates = TlsAlpnCertificates::default();
        let config = certificates
            .server_config()
            .map_err(std::io::Error::other)?;
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
        self.certificates.is_empty()
    }
}

impl Drop for TlsAlpn01Responder {
    fn drop(&mut self) {
        // Aborting the accept loop drops its `JoinSet`, which aborts every connection.
        self.task.abort();
    }
}

impl Solver for TlsAlpn01Responder {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        TlsAlpnCertificates::choose(offers)
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.present(offer)
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.cleanup(offer);
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
