//! Moving one [`Request`] to the server and its [`Response`] back: HTTPS over hyper and
//! rustls (ring), with timeouts and a body cap enforced while reading.
//!
//! The transport makes no protocol decision: no retry, no redirect (hyper's client
//! follows none), no interpretation of the status. What it cannot deliver it reports
//! as a [`TransportError`], which the drive loop hands to the core as a transport
//! failure.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use acme_proto::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

/// The `User-Agent` every request carries (RFC 8555 §6.1 asks clients to send one).
pub const USER_AGENT: &str = concat!("acme-proto-tokio/", env!("CARGO_PKG_VERSION"));

/// What went wrong moving a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The TCP connection could not be made (refused, unreachable, DNS failure).
    Connect,
    /// The connect, read or total timeout ran out.
    Timeout,
    /// The TLS handshake failed (certificate not trusted, wrong name, protocol error).
    Tls,
    /// The response body was larger than the request's `max_response_body`; reading
    /// stopped there.
    BodyTooLarge,
    /// Anything else on the connection: reset, closed early, an HTTP framing error.
    Io,
    /// The request could not be turned into an HTTP request, or the transport could not
    /// be built (an invalid root certificate, a URL scheme this transport refuses).
    Invalid,
}

/// A request that could not be sent or whose response could not be read.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

/// Which root certificates the transport trusts, before any added with
/// [`TransportBuilder::add_root_pem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Roots {
    /// Mozilla's roots, compiled in (`webpki-roots`): the same on every machine.
    #[default]
    WebPki,
    /// The operating system's store (`rustls-native-certs`).
    Native,
    /// None: only the roots added (a private CA, or Pebble in tests).
    None,
}

/// Builds a [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportBuilder {
    roots: Roots,
    extra_roots: Vec<CertificateDer<'static>>,
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
    allow_http: bool,
    error: Option<String>,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        Self {
            roots: Roots::default(),
            extra_roots: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(60),
            allow_http: false,
            error: None,
        }
    }
}

impl TransportBuilder {
    /// The root store to start from (Mozilla's by default).
    #[must_use]
    pub fn roots(mut self, roots: Roots) -> Self {
        self.roots = roots;
        self
    }

    /// Also trusts every certificate in `pem` (one or more `CERTIFICATE` blocks): a
    /// private CA's root, or the test CA a Pebble instance serves with. An invalid PEM
    /// makes [`build`](Self::build) fail.
    #[must_use]
    pub fn add_root_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(pem.as_ref()) {
            match cert {
                Ok(cert) => {
                    self.extra_roots.push(cert);
                    found = true;
                }
                Err(e) => self.error = Some(format!("invalid root certificate PEM: {e}")),
            }
        }
        if !found && self.error.is_none() {
            self.error = Some("no CERTIFICATE block in the root certificate PEM".into());
        }
        self
    }

    /// How long a TCP connection may take to open (10 s by default).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long the server may stay silent: for the response head, and between two
    /// pieces of the body (30 s by default).
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How long one request may take from start to the last body byte (60 s by
    /// default), so that a server dribbling bytes cannot hold it forever.
    #[must_use]
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = timeout;
        self
    }

    /// Also sends `http://` URLs, for tests against a local server. The core refuses
    /// such URLs anyway unless its client was made with
    /// [`Client::insecure_loopback`](acme_proto::Client::insecure_loopback).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// The transport. Fails on an invalid root certificate, or when the operating
    /// system's store was asked for and could not be read.
    pub fn build(self) -> Result<Transport, TransportError> {
        if let Some(error) = self.error {
            return Err(TransportError::new(TransportErrorKind::Invalid, error));
        }
        let mut store = RootCertStore::empty();
        match self.roots {
            Roots::WebPki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Roots::Native => {
                let native = rustls_native_certs::load_native_certs();
                if native.certs.is_empty() {
                    return Err(TransportError::new(
                        TransportErrorKind::Invalid,
                        "no root certificate could be read from the operating system",
                    ));
                }
                // Unparseable system certificates are skipped, as browsers do.
                let _ = store.add_parsable_certificates(native.certs);
            }
            Roots::None => {}
        }
        for cert in self.extra_roots {
            store.add(cert).map_err(|e| {
                TransportError::new(TransportErrorKind::Invalid, "invalid root certificate")
                    .with_source(e)
            })?;
        }
        if store.is_empty() {
            return Err(TransportError::new(
                TransportErrorKind::Invalid,
                "no root certificate to trust",
            ));
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Invalid, "TLS configuration").with_source(e)
            })?
            .with_root_certificates(store)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        // Without it, HTTP/2 POSTs stall about 40 ms on delayed ACKs (see DESIGN.md).
        http.set_nodelay(true);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.enforce_http(false);
        let builder = HttpsConnectorBuilder::new().with_tls_config(tls);
        let connector = if self.allow_http {
            builder
                .https_or_http()
                .enable_all_versions()
                .wrap_connector(http)
        } else {
            builder
                .https_only()
                .enable_all_versions()
                .wrap_connector(http)
        };
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .timer(TokioTimer::new())
            .build(connector);
        Ok(Transport {
            client,
            read_timeout: self.read_timeout,
            total_timeout: self.total_timeout,
        })
    }
}

/// An HTTPS client for ACME requests: connection pooling, HTTP/1.1 and HTTP/2 (ALPN),
/// TLS verification always on, `TCP_NODELAY`, timeouts, bounded bodies.
///
/// Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    read_timeout: Duration,
    total_timeout: Duration,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("read_timeout", &self.read_timeout)
            .field("total_timeout", &self.total_timeout)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A builder, with Mozilla's roots and the default timeouts.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// Sends `request` and reads its response, stopping at `request.max_response_body`.
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        match tokio::time::timeout(self.total_timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                format!("no complete response within {:?}", self.total_timeout),
            )),
        }
    }

    async fn exchange(&self, request: &Request) -> Result<Response, TransportError> {
        let http_request = request.to_http().map_err(|e| {
            TransportError::new(TransportErrorKind::Invalid, "request not valid in HTTP")
                .with_source(e)
        })?;
        let (mut parts, body) = http_request.into_parts();
        parts
            .headers
            .entry(http::header::USER_AGENT)
            .or_insert(http::HeaderValue::from_static(USER_AGENT));
        let http_request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));

        let response = tokio::time::timeout(self.read_timeout, self.client.request(http_request))
            .await
            .map_err(|_| read_timeout(self.read_timeout))?
            .map_err(classify)?;
        let (parts, mut body) = response.into_parts();
        let cap = request.max_response_body;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap as u64) {
            return Err(too_large(cap));
        }
        // Never trust the declared length for the allocation beyond a small start.
        let start = declared.map_or(0, |len| len.min(64 * 1024)) as usize;
        let mut bytes = Vec::with_capacity(start.min(cap));
        loop {
            let frame = tokio::time::timeout(self.read_timeout, body.frame())
                .await
                .map_err(|_| read_timeout(self.read_timeout))?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(classify_hyper)?;
            if let Ok(data) = frame.into_data() {
                if data.len() > cap.saturating_sub(bytes.len()) {
                    return Err(too_large(cap));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Response::from_http_parts(&parts, bytes))
    }
}

fn too_large(cap: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the response body is larger than {cap} bytes"),
    )
}

fn read_timeout(timeout: Duration) -> TransportError {
    TransportError::new(
        TransportErrorKind::Timeout,
        format!("the server sent nothing for {timeout:?}"),
    )
}

/// Whether a TLS error is somewhere in the chain (tokio-rustls wraps it in an
/// `io::Error`, whose `source` skips it, hence `get_ref`).
fn is_tls(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.get_ref().is_some_and(|inner| is_tls(inner))
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn is_timeout(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn classify(error: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if is_tls(&error) {
        TransportErrorKind::Tls
    } else if is_timeout(&error) {
        TransportErrorKind::Timeout
    } else if error.is_connect() {
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    let message = match kind {
        TransportErrorKind::Tls => "TLS failure",
        TransportErrorKind::Timeout => "timed out",
        TransportErrorKind::Connect => "could not connect",
        _ => "request failed",
    };
    TransportError::new(kind, message).with_source(error)
}

fn classify_hyper(error: hyper::Error) -> TransportError {
    let kind = if is_tls(&error) {
        TransportErrorKind::Tls
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, "reading the response body failed").with_source(error)
}
