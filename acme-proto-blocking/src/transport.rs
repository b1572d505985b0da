//! Moving one [`Request`] to the server and its [`Response`] back: HTTPS over ureq and
//! rustls (ring), with timeouts and a body cap enforced while reading.
//!
//! The transport makes no protocol decision: no retry, no redirect (ureq is told to
//! follow none), no interpretation of the status (ureq is told not to turn 4xx/5xx into
//! errors, which would lose the problem document). What it cannot deliver it reports
//! as a [`TransportError`], which the drive loop hands to the core as a transport
//! failure.

use std::fmt;
use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use acme_proto::{Method, Request, Response};
use acme_proto_support::{
    BuildTransport, Observer, TransportSettings, attempt_limit, caused_by_timeout, caused_by_tls,
};
pub use acme_proto_support::{Roots, TransportError, TransportErrorKind};
use ureq::config::AutoHeaderValue;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// The `User-Agent` every request carries (RFC 8555 §6.1 asks clients to send one).
pub const USER_AGENT: &str = concat!("acme-proto-blocking/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Transport`]: roots, timeouts (connect 10 s, read 15 s, total 30 s by
/// default), plain HTTP for tests.
pub type TransportBuilder = acme_proto_support::TransportBuilder<Transport>;

/// How many idle connections the pool keeps, for one ACME server (or all together).
const MAX_IDLE_CONNECTIONS: usize = 64;

/// An HTTPS client for ACME requests on ureq: HTTP/1.1 with connection pooling, TLS
/// verification always on, `TCP_NODELAY`, timeouts, bounded bodies.
///
/// Cheap to clone, `Send` and `Sync`: clones and threads share the connection pool.
#[derive(Clone)]
pub struct Transport {
    agent: ureq::Agent,
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
    observer: Observer,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        acme_proto_support::debug_transport(f, self.read_timeout, self.total_timeout)
    }
}

impl BuildTransport for Transport {
    fn build(settings: TransportSettings) -> Result<Self, TransportError> {
        // ureq compiles Mozilla's roots in as trust anchors; any other set goes over as
        // certificates.
        let roots = if settings.roots == Roots::WebPki && settings.extra_roots.is_empty() {
            RootCerts::WebPki
        } else {
            let certificates = settings.root_certificates()?;
            RootCerts::from(
                certificates
                    .iter()
                    .map(|c| Certificate::from_der(c).to_owned()),
            )
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(roots)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            // The trap: otherwise a 4xx/5xx is an error and its problem document is lost.
            .http_status_as_error(false)
            // A redirect comes back as it is; the core decides (and never follows one).
            .max_redirects(0)
            .max_redirects_will_error(false)
            .https_only(!settings.allow_http)
            // No proxy from the environment: the same as the tokio driver.
            .proxy(None)
            .no_delay(true)
            // ureq keeps 3 idle connections per host by default: a thread per order, 32
            // orders at once, then paid a TLS handshake for nearly every request (3.7 ms
            // of CPU per certificate, 2.3 with this: see bench/RESULTS.md). An idle TLS connection
            // holds some 40 KiB.
            .max_idle_connections(MAX_IDLE_CONNECTIONS)
            .max_idle_connections_per_host(MAX_IDLE_CONNECTIONS)
            .user_agent(settings.user_agent(USER_AGENT))
            // Exactly the headers the core asked for, plus the User-Agent.
            .accept(AutoHeaderValue::None)
            .accept_encoding(AutoHeaderValue::None)
            .timeout_resolve(Some(settings.connect_timeout))
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_per_read(Some(settings.read_timeout))
            .timeout_per_write(Some(settings.read_timeout))
            .timeout_global(Some(settings.total_timeout))
            .build()
            .new_agent();
        Ok(Self {
            agent,
            connect_timeout: settings.connect_timeout,
            read_timeout: settings.read_timeout,
            total_timeout: settings.total_timeout,
            observer: settings.observer,
        })
    }
}

impl Transport {
    /// A builder, with Mozilla's roots and the default timeouts.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// Sends `request` and reads its response, stopping at `request.max_response_body`:
    /// a body over the cap is an error, never a truncated body. Gives up at the total
    /// timeout or `request.time_limit`, whichever comes first.
    pub fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let http_request = request.to_http().map_err(|e| {
            TransportError::new(TransportErrorKind::Invalid, "request not valid in HTTP")
                .with_source(e)
        })?;
        // The whole attempt, body included, within this (ureq's global timeout, set
        // for this request only).
        let limit = attempt_limit(request, self.total_timeout);
        // Only POST has a body: a GET or HEAD goes without one (and without
        // `Content-Length: 0`).
        let response = if request.method == Method::Post {
            let http_request = self
                .agent
                .configure_request(http_request)
                .timeout_global(Some(limit))
                .build();
            self.agent.run(http_request)
        } else {
            let http_request = self
                .agent
                .configure_request(http_request.map(|_| ()))
                .timeout_global(Some(limit))
                .build();
            self.agent.run(http_request)
        }
        .map_err(|e| self.classify(e, request))?;
        let (parts, body) = response.into_parts();
        let cap = request.max_response_body;
        if body.content_length().is_some_and(|len| len > cap as u64) {
            // Refused unread; dropping the body closes the connection.
            return Err(TransportError::body_too_large(cap));
        }
        // At most one byte past the cap is read, to tell "at the cap" from "over it".
        let mut bytes = Vec::with_capacity(body.content_length().map_or(0, |len| {
            usize::try_from(len).unwrap_or(usize::MAX).min(64 * 1024)
        }));
        let most = (cap as u64).saturating_add(1);
        body.into_with_config()
            .limit(u64::MAX)
            .reader()
            .take(most)
            .read_to_end(&mut bytes)
            .map_err(|e| self.classify(ureq::Error::from(e), request))?;
        if bytes.len() > cap {
            return Err(TransportError::body_too_large(cap));
        }
        let response = Response::from_http_parts(&parts, bytes);
        self.observer.notify(request, &response);
        Ok(response)
    }

    fn classify(&self, error: ureq::Error, request: &Request) -> TransportError {
        use ureq::Error as E;
        let (kind, message) = match &error {
            E::Timeout(ureq::Timeout::PerRead) => {
                return TransportError::read_timeout(self.read_timeout);
            }
            E::Timeout(ureq::Timeout::Global) => {
                return TransportError::attempt_timeout(request, self.total_timeout);
            }
            // Connect covers the TCP connection and the TLS handshake.
            E::Timeout(ureq::Timeout::Connect) => {
                return TransportError::connect_timeout(self.connect_timeout);
            }
            E::Timeout(_) => (TransportErrorKind::Timeout, "timed out"),
            E::Tls(_) | E::Rustls(_) | E::Pem(_) => (TransportErrorKind::Tls, "TLS failure"),
            E::Io(io) if caused_by_tls(io) => (TransportErrorKind::Tls, "TLS failure"),
            E::Io(io) if caused_by_timeout(io) => (TransportErrorKind::Timeout, "timed out"),
            E::Io(io) if is_connect(io.kind()) => {
                (TransportErrorKind::Connect, "could not connect")
            }
            E::HostNotFound | E::ConnectionFailed => {
                (TransportErrorKind::Connect, "could not connect")
            }
            E::BadUri(_) | E::Http(_) | E::RequireHttpsOnly(_) => (
                TransportErrorKind::Invalid,
                "request refused by the transport",
            ),
            E::BodyExceedsLimit(_) => (TransportErrorKind::BodyTooLarge, "body too large"),
            _ => (TransportErrorKind::Io, "request failed"),
        };
        TransportError::new(kind, message).with_source(error)
    }
}

fn is_connect(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::ConnectionRefused
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::AddrNotAvailable
            | K::NetworkDown
    )
}
