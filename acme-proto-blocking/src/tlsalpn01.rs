//! A built-in tls-alpn-01 responder (RFC 8737): a TLS server on `std::net` and rustls
//! that, for each challenge put in place, answers a handshake naming it (SNI) and
//! offering the `acme-tls/1` protocol (ALPN) with a self-signed certificate for the
//! identifier that carries the critical `acmeIdentifier` extension, then closes the
//! connection.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::ACME_TLS_ALPN;
use acme_proto_support::{ConnectionLimiter, ResponderLimits, TlsAlpnCertificates};
use rustls::{ServerConfig, ServerConnection};

use crate::accept::Server;
use crate::solver::{Solver, SolverError};

/// A tls-alpn-01 responder: answers `acme-tls/1` handshakes for exactly the
/// challenges presented to it, on one address, for as many concurrent orders (and
/// threads) as share it. Any other handshake (another SNI, no `acme-tls/1`) is refused.
/// It stops when dropped.
///
/// The validation server connects to port 443 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:443`, or a port a proxy forwards `acme-tls/1` to).
///
/// A flood of connections cannot keep the validation server out: each connection is
/// accepted at once, and served (on a thread of its own) only within the
/// [`ResponderLimits`] (by default 8 at once from one address, 256 in all, the whole
/// handshake within 3 s); see there for what to set behind a load balancer.
#[derive(Debug)]
pub struct TlsAlpn01Responder {
    certificates: TlsAlpnCertificates,
    server: Server,
}

impl TlsAlpn01Responder {
    /// Binds `addr` and starts serving on a background thread, within the default
    /// [`ResponderLimits`].
    pub fn bind(addr: SocketAddr) -> io::Result<Self> {
        Self::bind_with(addr, ResponderLimits::default())
    }

    /// Binds `addr` and starts serving on a background thread, within `limits`.
    pub fn bind_with(addr: SocketAddr, limits: ResponderLimits) -> io::Result<Self> {
        Self::from_listener_with(TcpListener::bind(addr)?, limits)
    }

    /// Serves on a listener bound by the caller (socket activation, a port held since
    /// start-up), on a background thread, within the default [`ResponderLimits`].
    pub fn from_listener(listener: TcpListener) -> io::Result<Self> {
        Self::from_listener_with(listener, ResponderLimits::default())
    }

    /// [`from_listener`](Self::from_listener), within `limits`.
    pub fn from_listener_with(listener: TcpListener, limits: ResponderLimits) -> io::Result<Self> {
        let certificates = TlsAlpnCertificates::default();
        let config = Arc::new(certificates.server_config().map_err(io::Error::other)?);
        let limiter = ConnectionLimiter::new("tls-alpn-01", limits);
        let head_timeout = limiter.limits().head_timeout;
        let server = Server::start(listener, limiter, move |stream| {
            if let Err(error) = handshake(&config, stream, head_timeout) {
                tracing::debug!(%error, "tls-alpn-01 handshake refused");
            }
        })?;
        Ok(Self {
            certificates,
            server,
        })
    }

    /// The address it listens on (with the port chosen, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
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

impl Solver for TlsAlpn01Responder {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        TlsAlpnCertificates::choose(offers)
    }

    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.present(offer)
    }

    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.cleanup(offer);
        Ok(())
    }
}

/// One handshake, driven by hand so that the whole of it stays within `head_timeout`
/// (writes aside: each may block for `ANSWER_TIMEOUT`); the handshake is the whole
/// answer, then the connection is closed.
fn handshake(
    config: &Arc<ServerConfig>,
    mut tcp: TcpStream,
    head_timeout: Duration,
) -> io::Result<()> {
    let deadline = Instant::now() + head_timeout;
    let mut tls = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
    while tls.is_handshaking() {
        if tls.wants_write() {
            tls.write_tls(&mut tcp)?;
            continue;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        tcp.set_read_timeout(Some(remaining))?;
        if tls.read_tls(&mut tcp)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Err(error) = tls.process_new_packets() {
            // Send the alert saying why (no certificate for this name, no acme-tls/1).
            while tls.wants_write() && tls.write_tls(&mut tcp).is_ok_and(|n| n > 0) {}
            return Err(io::Error::other(error));
        }
    }
    tls.send_close_notify();
    while tls.wants_write() {
        if tls.write_tls(&mut tcp)? == 0 {
            break;
        }
    }
    Ok(())
}
