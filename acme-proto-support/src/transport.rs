//! What the drivers' transports share: their error, which roots they trust, and their
//! builder's settings. Each driver implements [`BuildTransport`] for its own
//! transport, so `Transport::builder()…build()` reads the same in both.

use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use acme_proto::{Method, Request, Response, TransportFailure};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use url::Url;

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

impl TransportErrorKind {
    /// The failure as the core takes it, to decide whether a resend can help: the one
    /// mapping both drivers use.
    pub fn failure(self) -> TransportFailure {
        match self {
            Self::Connect => TransportFailure::Connect,
            Self::Timeout => TransportFailure::TimedOut,
            Self::Tls => TransportFailure::Tls,
            Self::BodyTooLarge => TransportFailure::TooLarge,
            Self::Io => TransportFailure::Reset,
            Self::Invalid => TransportFailure::Other,
        }
    }
}

/// A request that could not be sent or whose response could not be read: what went
/// wrong and, once the drive loop has seen it, which request it was (method and URL).
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    /// Boxed: an error stays small on the paths that return it.
    request: Option<Box<(Method, Url)>>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// An error of `kind`, saying `message`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            request: None,
            source: None,
        }
    }

    /// The same error, naming `request` (its method and URL) in its message.
    #[must_use]
    pub fn for_request(mut self, request: &Request) -> Self {
        self.request = Some(Box::new((request.method, request.url.clone())));
        self
    }

    /// The same error, caused by `source`.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// A body over `cap` bytes (announced or read).
    pub fn body_too_large(cap: usize) -> Self {
        Self::new(
            TransportErrorKind::BodyTooLarge,
            format!("the response body is larger than {cap} bytes"),
        )
    }

    /// A server silent for the read timeout.
    pub fn read_timeout(timeout: Duration) -> Self {
        Self::new(
            TransportErrorKind::Timeout,
            format!("the server sent nothing for {}", Secs(timeout)),
        )
    }

    /// A request not over within the total timeout (or the request's time limit).
    pub fn total_timeout(timeout: Duration) -> Self {
        Self::new(
            TransportErrorKind::Timeout,
            format!("no complete response within {}", Secs(timeout)),
        )
    }

    /// An attempt at `request` not over within [`attempt_limit`]: the total timeout, or
    /// the time the core left the request, whichever is shorter (the message says which).
    pub fn attempt_timeout(request: &Request, total_timeout: Duration) -> Self {
        let limit = attempt_limit(request, total_timeout);
        if limit < total_timeout {
            Self::new(
                TransportErrorKind::Timeout,
                format!(
                    "no complete response within {}, the time the request had left",
                    Secs(limit)
                ),
            )
        } else {
            Self::total_timeout(limit)
        }
    }

    /// No connection (TCP and TLS) within the connect timeout.
    pub fn connect_timeout(timeout: Duration) -> Self {
        Self::new(
            TransportErrorKind::Timeout,
            format!("no connection within {}", Secs(timeout)),
        )
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The method of the request that failed, once the drive loop named it.
    pub fn method(&self) -> Option<Method> {
        self.request.as_deref().map(|(method, _)| *method)
    }

    /// The URL of the request that failed, once the drive loop named it.
    pub fn url(&self) -> Option<&Url> {
        self.request.as_deref().map(|(_, url)| url)
    }
}

/// A duration in seconds, to a tenth when not whole: `15 s`, `13.9 s`.
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = self.0.as_millis().saturating_add(50) / 100;
        match tenths % 10 {
            0 => write!(f, "{} s", tenths / 10),
            rest => write!(f, "{}.{rest} s", tenths / 10),
        }
    }
}

/// The time one attempt at `request` may take: the transport's total timeout, or the
/// time the core left the request ([`Request::time_limit`]) if shorter.
pub fn attempt_limit(request: &Request, total_timeout: Duration) -> Duration {
    request
        .time_limit
        .map_or(total_timeout, |limit| limit.min(total_timeout))
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((method, url)) = self.request.as_deref() {
            write!(f, "{method} {url}: ")?;
        }
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

/// Whether a TLS error is somewhere in `error`'s chain.
pub fn caused_by_tls(error: &(dyn StdError + 'static)) -> bool {
    in_chain(error, &|e| e.is::<rustls::Error>())
}

/// Whether an I/O timeout is somewhere in `error`'s chain.
pub fn caused_by_timeout(error: &(dyn StdError + 'static)) -> bool {
    in_chain(error, &|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            )
        })
    })
}

/// Whether `matches` holds for an error of `error`'s chain. TLS stacks over `std::io`
/// wrap their errors in an `io::Error`, whose `source` skips the wrapped error, so
/// that one is looked into too (through `get_ref`).
fn in_chain(
    error: &(dyn StdError + 'static),
    matches: &dyn Fn(&(dyn StdError + 'static)) -> bool,
) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if matches(e) {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.get_ref().is_some_and(|inner| in_chain(inner, matches))
        {
            return true;
        }
        next = e.source();
    }
    false
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

/// What a [`TransportBuilder`] was told, for the driver to build its transport from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportSettings {
    /// The root store to start from.
    pub roots: Roots,
    /// Roots added with [`TransportBuilder::add_root_pem`], each checked to be usable
    /// as a trust anchor.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// How long a TCP connection may take to open.
    pub connect_timeout: Duration,
    /// How long the server may stay silent.
    pub read_timeout: Duration,
    /// How long one request may take from start to the last body byte.
    pub total_timeout: Duration,
    /// Whether `http://` URLs may be sent.
    pub allow_http: bool,
    /// The caller's product token, sent after the library's in `User-Agent`.
    pub user_agent_product: Option<String>,
    /// Called with every response received.
    pub observer: Observer,
}

/// A function called with every request and the response it got, as received (before
/// the core reads it): for recording exchanges (the fuzzing corpora are seeded this way
/// from Pebble), metrics or debugging. It sees request bodies, which are signed JWS:
/// keep what it stores private. Cloning shares the function.
#[derive(Clone, Default)]
pub struct Observer(Option<Arc<ObserverFn>>);

type ObserverFn = dyn Fn(&Request, &Response) + Send + Sync;

impl Observer {
    /// Calls the function, if there is one.
    pub fn notify(&self, request: &Request, response: &Response) {
        if let Some(observe) = &self.0 {
            observe(request, response);
        }
    }
}

impl fmt::Debug for Observer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer(set)"
        } else {
            "Observer(none)"
        })
    }
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            roots: Roots::default(),
            extra_roots: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(30),
            allow_http: false,
            user_agent_product: None,
            observer: Observer::default(),
        }
    }
}

impl TransportSettings {
    /// The `User-Agent` to send: `library` (the driver's name and version), then the
    /// caller's product token if one was given (RFC 9110 §10.1.5: the most significant
    /// product first is a recommendation; ACME CAs ask for the client library, RFC 8555
    /// §6.1, which is what they use to find clients with a bug).
    pub fn user_agent(&self, library: &str) -> String {
        match &self.user_agent_product {
            Some(product) => format!("{library} {product}"),
            None => library.to_owned(),
        }
    }

    /// The trust anchors: the chosen store plus the added roots. Fails when the
    /// operating system's store was asked for and could not be read, or when there is
    /// no root at all.
    pub fn root_store(&self) -> Result<RootCertStore, TransportError> {
        let mut store = RootCertStore::empty();
        match self.roots {
            Roots::WebPki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Roots::Native => {
                // Unparseable system certificates are skipped, as browsers do.
                let _ = store.add_parsable_certificates(native_roots()?);
            }
            Roots::None => {}
        }
        let _ = store.add_parsable_certificates(self.extra_roots.iter().cloned());
        if store.is_empty() {
            return Err(no_roots());
        }
        Ok(store)
    }

    /// The same roots as certificates (DER), for TLS stacks that take certificates
    /// rather than trust anchors. Mozilla's come from `webpki-root-certs`, the same
    /// set as `webpki-roots`.
    pub fn root_certificates(&self) -> Result<Vec<CertificateDer<'static>>, TransportError> {
        let mut certificates = match self.roots {
            Roots::WebPki => webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec(),
            Roots::Native => native_roots()?,
            Roots::None => Vec::new(),
        };
        certificates.extend(self.extra_roots.iter().cloned());
        if certificates.is_empty() {
            return Err(no_roots());
        }
        Ok(certificates)
    }
}

fn native_roots() -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let native = rustls_native_certs::load_native_certs();
    if native.certs.is_empty() {
        return Err(TransportError::new(
            TransportErrorKind::Invalid,
            "no root certificate could be read from the operating system",
        ));
    }
    Ok(native.certs)
}

fn no_roots() -> TransportError {
    TransportError::new(TransportErrorKind::Invalid, "no root certificate to trust")
}

/// A transport's `Debug`: its timeouts, nothing of its connections or observer.
pub fn debug_transport(
    f: &mut core::fmt::Formatter<'_>,
    read_timeout: Duration,
    total_timeout: Duration,
) -> core::fmt::Result {
    f.debug_struct("Transport")
        .field("read_timeout", &read_timeout)
        .field("total_timeout", &total_timeout)
        .finish_non_exhaustive()
}

/// A driver's transport, built from [`TransportSettings`].
pub trait BuildTransport: Sized {
    /// The transport for `settings`.
    fn build(settings: TransportSettings) -> Result<Self, TransportError>;
}

/// Builds a driver's transport `T`: roots, timeouts, plain HTTP for tests.
///
/// # Logs
///
/// `tracing` events: each request at `debug` (method, URL, status), refusals and
/// transport failures at `info` (with the problem type). Never a JWS body, a key or a
/// key authorization.
#[derive(Debug)]
pub struct TransportBuilder<T> {
    settings: TransportSettings,
    error: Option<String>,
    transport: PhantomData<fn() -> T>,
}

impl<T> Default for TransportBuilder<T> {
    fn default() -> Self {
        Self {
            settings: TransportSettings::default(),
            error: None,
            transport: PhantomData,
        }
    }
}

impl<T> Clone for TransportBuilder<T> {
    fn clone(&self) -> Self {
        Self {
            settings: self.settings.clone(),
            error: self.error.clone(),
            transport: PhantomData,
        }
    }
}

impl<T: BuildTransport> TransportBuilder<T> {
    /// The root store to start from (Mozilla's by default).
    #[must_use]
    pub fn roots(mut self, roots: Roots) -> Self {
        self.settings.roots = roots;
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
                // Checked now, so that every driver refuses the same roots.
                Ok(cert) => match RootCertStore::empty().add(cert.clone()) {
                    Ok(()) => {
                        self.settings.extra_roots.push(cert);
                        found = true;
                    }
                    Err(e) => self.error = Some(format!("invalid root certificate: {e}")),
                },
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
        self.settings.connect_timeout = timeout;
        self
    }

    /// How long the server may stay silent: for the response head, and between two
    /// pieces of the body (15 s by default: with the core's default policy, a silent
    /// server's first try ends at 15 s and the one resend it gets at the request
    /// timeout, 30 s after the first send).
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.settings.read_timeout = timeout;
        self
    }

    /// How long one request may take from start to the last body byte (30 s by
    /// default, the core's default [`Policy::request_timeout`](acme_proto::Policy)), so
    /// that a server dribbling bytes cannot hold it forever. A request whose
    /// [`time_limit`](acme_proto::Request::time_limit) is shorter ends at that instead.
    #[must_use]
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.settings.total_timeout = timeout;
        self
    }

    /// Adds the caller's product token (`myapp/1.2`, or several separated by spaces) to
    /// the `User-Agent`, after the library's own: `acme-proto-tokio/0.1.0 myapp/1.2`.
    /// At most 256 printable ASCII characters; anything else makes
    /// [`build`](Self::build) fail.
    #[must_use]
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        let product = product.into();
        let printable = product.bytes().all(|b| (0x20..0x7f).contains(&b));
        if product.trim().is_empty() || product.len() > 256 || !printable {
            self.error =
                Some("the User-Agent product must be 1 to 256 printable ASCII characters".into());
        } else {
            self.settings.user_agent_product = Some(product);
        }
        self
    }

    /// Also sends `http://` URLs, for tests against a local server. The core refuses
    /// such URLs anyway unless its client was made with
    /// [`Client::insecure_loopback`](acme_proto::Client::insecure_loopback).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.settings.allow_http = allow;
        self
    }

    /// Calls `observe` with every request sent and the response received (see
    /// [`Observer`]).
    #[must_use]
    pub fn observe(
        mut self,
        observe: impl Fn(&Request, &Response) + Send + Sync + 'static,
    ) -> Self {
        self.settings.observer = Observer(Some(Arc::new(observe)));
        self
    }

    /// The transport. Fails on an invalid root certificate, or when the operating
    /// system's store was asked for and could not be read.
    pub fn build(self) -> Result<T, TransportError> {
        if let Some(error) = self.error {
            return Err(TransportError::new(TransportErrorKind::Invalid, error));
        }
        T::build(self.settings)
    }
}
