//! A built-in tls-alpn-01 responder (RFC 8737): a TLS server that, for each challenge
//! put in place, answers a handshake naming it (SNI) and offering the `acme-tls/1`
//! protocol (ALPN) with a self-signed certificate for the identifier that carries the
//! critical `acmeIdentifier` extension, then closes the connection.

use std::net::SocketAddr;
use std::sync::Arc;

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::ACME_TLS_ALPN;
use acme_proto_support::{ConnectionLimiter, ResponderLimits, TlsAlpnCertificates};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::accept::{ANSWER_TIMEOUT, serve_connections};
use crate::solver::{Solver, SolverError};

/// A tls-alpn-01 responder: answers `acme-tls/1` handshakes for exactly the
/// challenges presented to it, on one address, for as many concurrent orders as share
/// it. Any other handshake (another SNI, no `acme-tls/1`) is refused. It stops when
/// dropped.
///
/// The validation server connects to port 443 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:443`, or a port a proxy forwards `acme-tls/1` to).
///
/// A flood of connections cannot keep the validation server out: each connection is
/// accepted at once, and served only within the [`ResponderLimits`] (by default 8 at
/// once from one address, 256 in all, the whole handshake within 3 s); see there for
/// what to set behind a load balancer.
#[derive(Debug)]
pub struct TlsAlpn01Responder {
    certificates: TlsAlpnCertificates,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsAlpn01Responder {
    /// Binds `addr` and starts serving (on the current tokio runtime), within the
    /// default [`ResponderLimits`].
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Self::bind_with(addr, ResponderLimits::default()).await
    }

    /// Binds `addr` and starts serving (on the current tokio runtime), within `limits`.
    pub async fn bind_with(addr: SocketAddr, limits: ResponderLimits) -> std::io::Result<Self> {
        Self::serve(TcpListener::bind(addr).await?, limits)
    }

    /// Serves on a listener bound by the caller (socket activation, a port held since
    /// start-up), on the current tokio runtime, within the default [`ResponderLimits`].
    pub fn from_listener(listener: std::net::TcpListener) -> std::io::Result<Self> {
        Self::from_listener_with(listener, ResponderLimits::default())
    }

    /// [`from_listener`](Self::from_listener), within `limits`.
    pub fn from_listener_with(
        listener: std::net::TcpListener,
        limits: ResponderLimits,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        Self::serve(TcpListener::from_std(listener)?, limits)
    }

    fn serve(listener: TcpListener, limits: ResponderLimits) -> std::io::Result<Self> {
        let certificates = TlsAlpnCertificates::default();
        let config = certificates
            .server_config()
            .map_err(std::io::Error::other)?;
        let local_addr = listener.local_addr()?;
        let limiter = ConnectionLimiter::new("tls-alpn-01", limits);
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let task = tokio::spawn(serve(listener, acceptor, limiter));
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

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, limiter: ConnectionLimiter) {
    let head_timeout = limiter.limits().head_timeout;
    serve_connections(listener, limiter, move |stream| {
        let acceptor = acceptor.clone();
        async move {
            // The whole handshake within the head timeout; it is the whole answer, then
            // close_notify (the validation server then closes).
            match tokio::time::timeout(head_timeout, acceptor.accept(stream)).await {
                Ok(Ok(mut tls)) => {
                    let shutdown = tokio::io::AsyncWriteExt::shutdown(&mut tls);
                    let _ = tokio::time::timeout(ANSWER_TIMEOUT, shutdown).await;
                }
                Ok(Err(error)) => tracing::debug!(%error, "tls-alpn-01 handshake refused"),
                Err(_) => tracing::debug!("tls-alpn-01 handshake timed out"),
            }
        }
    })
    .await;
}
