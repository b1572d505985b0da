//! Moving one [`Request`] to the server and its [`Response`] back: HTTPS over hyper and
//! rustls (ring), with timeouts and a body cap enforced while reading.
//!
//! The transport makes no protocol decision: no retry, no redirect (hyper's client
//! follows none), no interpretation of the status. What it cannot deliver it reports
//! as a [`TransportError`], which the drive loop hands to the core as a transport
//! failure.

use std::fmt;
use std::time::Duration;

use acme_proto::{Request, Response};
use acme_proto_support::{
    BuildTransport, Observer, TransportSettings, attempt_limit, caused_by_timeout, caused_by_tls,
};
pub use acme_proto_support::{Roots, TransportError, TransportErrorKind};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// The `User-Agent` every request carries (RFC 8555 §6.1 asks clients to send one).
pub const USER_AGENT: &str = concat!("acme-proto-tokio/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Transport`]: roots, timeouts (connect 10 s, read 15 s, total 30 s by
/// default), plain HTTP for tests.
pub type TransportBuilder = acme_proto_support::TransportBuilder<Transport>;

impl BuildTransport for Transport {
    fn build(settings: TransportSettings) -> Result<Self, TransportError> {
        let store = settings.root_store()?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Invalid, "TLS configuration").with_source(e)
            })?
            .with_root_certificates(store)
            .with_no_client_auth();

        let mut http = HttpConnector::new();
        // Without it, each HTTP/2 POST waits about 40 ms: Nagle's algorithm holds the body's
        // frame back until the server's delayed ACK of the headers arrives.
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.enforce_http(false);
        let builder = HttpsConnectorBuilder::new().with_tls_config(tls);
        let connector = if settings.allow_http {
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
        // Printable ASCII, checked by the builder.
        let user_agent =
            http::HeaderValue::from_str(&settings.user_agent(USER_AGENT)).map_err(|e| {
                TransportError::new(TransportErrorKind::Invalid, "the User-Agent").with_source(e)
            })?;
        Ok(Transport {
            client,
            allow_http: settings.allow_http,
            read_timeout: settings.read_timeout,
            total_timeout: settings.total_timeout,
            user_agent,
            observer: settings.observer,
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
    allow_http: bool,
    read_timeout: Duration,
    total_timeout: Duration,
    user_agent: http::HeaderValue,
    observer: Observer,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        acme_proto_support::debug_transport(f, self.read_timeout, self.total_timeout)
    }
}

impl Transport {
    /// A builder, with Mozilla's roots and the default timeouts.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// Sends `request` and reads its response, stopping at `request.max_response_body`,
    /// and giving up at the total timeout or `request.time_limit`, whichever comes first.
    pub async fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let limit = attempt_limit(request, self.total_timeout);
        let response = match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(TransportError::attempt_timeout(request, self.total_timeout));
            }
        };
        self.observer.notify(request, &response);
        Ok(response)
    }

    async fn exchange(&self, request: &Request) -> Result<Response, TransportError> {
        // Refused here, as a request the transport will not make: the connector's own
        // refusal reads as a connect failure, which the core would resend.
        if request.url.scheme() != "https" && !self.allow_http {
            return Err(TransportError::new(
                TransportErrorKind::Invalid,
                "request refused by the transport: not https",
            ));
        }
        let http_request = request.to_http().map_err(|e| {
            TransportError::new(TransportErrorKind::Invalid, "request not valid in HTTP")
                .with_source(e)
        })?;
        let (mut parts, body) = http_request.into_parts();
        parts
            .headers
            .entry(http::header::USER_AGENT)
            .or_insert(self.user_agent.clone());
        let http_request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));

        let response = tokio::time::timeout(self.read_timeout, self.client.request(http_request))
            .await
            .map_err(|_| TransportError::read_timeout(self.read_timeout))?
            .map_err(classify)?;
        let (parts, mut body) = response.into_parts();
        let cap = request.max_response_body;
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > cap as u64) {
            return Err(TransportError::body_too_large(cap));
        }
        // Never trust the declared length for the allocation beyond a small start.
        let start = declared.map_or(0, |len| len.min(64 * 1024)) as usize;
        let mut bytes = Vec::with_capacity(start.min(cap));
        loop {
            let frame = tokio::time::timeout(self.read_timeout, body.frame())
                .await
                .map_err(|_| TransportError::read_timeout(self.read_timeout))?;
            let Some(frame) = frame else { break };
            let frame = frame.map_err(classify_hyper)?;
            if let Ok(data) = frame.into_data() {
                if data.len() > cap.saturating_sub(bytes.len()) {
                    return Err(TransportError::body_too_large(cap));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Response::from_http_parts(&parts, bytes))
    }
}

fn classify(error: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if caused_by_tls(&error) {
        TransportErrorKind::Tls
    } else if caused_by_timeout(&error) {
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
    let kind = if caused_by_tls(&error) {
        TransportErrorKind::Tls
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, "reading the response body failed").with_source(error)
}
