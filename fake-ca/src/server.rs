//! The fake CA served over real TLS on 127.0.0.1 (HTTP/1.1 and HTTP/2), for the
//! drivers' tests: [`CaServer`], and [`test_pki`], the root and server certificate it
//! uses.
//!
//! The server runs on its own thread with its own tokio runtime, so that tests of the
//! blocking driver (no runtime) and of the tokio driver (any runtime) start it alike.

use std::convert::Infallible;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use acme_proto::{Headers, Method, Request, RequestId, UnixTime};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::{Config, FakeCa, RequestKind};

/// A self-made root CA (PEM) and a server configuration (HTTP/1.1 and HTTP/2 by ALPN)
/// with a certificate for `127.0.0.1` and `localhost` signed by it.
#[derive(Debug)]
pub struct TestPki {
    /// The root certificate, for a client to trust.
    pub root_pem: String,
    /// The server's TLS configuration.
    pub server: rustls::ServerConfig,
}

/// A fresh root and server certificate (new keys on every call).
pub fn test_pki() -> TestPki {
    let root_key = rcgen::KeyPair::generate().unwrap();
    let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "acme-proto test root");
    let root = rcgen::CertifiedIssuer::self_signed(root_params, root_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &root).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut server = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    TestPki {
        root_pem: root.pem(),
        server,
    }
}

/// The fake CA behind a TLS server on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct CaServer {
    /// The CA, to script faults and inspect what happened.
    pub ca: Arc<Mutex<FakeCa>>,
    /// `https://127.0.0.1:PORT/directory`.
    pub directory_url: url::Url,
    /// The root the server's certificate chains to.
    pub root_pem: String,
    /// Kinds of request answered late (see [`CaServer::answer_late`]).
    late: Late,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for CaServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl CaServer {
    /// A server with the default [`Config`].
    pub fn start() -> Self {
        Self::start_with(|c| c)
    }

    /// A server whose [`Config`] (for its base URL) `configure` adjusts.
    pub fn start_with(configure: impl FnOnce(Config) -> Config) -> Self {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let ca = Arc::new(Mutex::new(FakeCa::new(configure(Config::new(&base)))));
        let pki = test_pki();
        let (stop, stopped) = oneshot::channel();
        let shared = Arc::clone(&ca);
        let late = Late::default();
        let late_for_thread = late.clone();
        let base_for_thread = base.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    () = serve(listener, pki.server, shared, base_for_thread, late_for_thread) => {}
                    _ = stopped => {}
                }
            });
            // Connections still open are dropped with their tasks.
            runtime.shutdown_background();
        });
        Self {
            ca,
            directory_url: format!("{base}/directory").parse().unwrap(),
            root_pem: pki.root_pem,
            late,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// From now on, requests of `kind` are processed at once (the CA's state changes)
    /// but answered `delay` later: a server that applied a change and answers late.
    pub fn answer_late(&self, kind: RequestKind, delay: Duration) {
        self.late.0.lock().unwrap().push((kind, delay));
    }

    /// The most requests this server was answering at once so far (a request counts
    /// from when its body was read to when its answer was sent): more than one only for
    /// a client with requests out together, seen best with [`answer_late`](Self::answer_late).
    pub fn most_at_once(&self) -> usize {
        self.late.1.1.load(Ordering::SeqCst)
    }

    /// The protocol rules the clients broke so far.
    pub fn violations(&self) -> Vec<String> {
        self.ca.lock().unwrap().violations().to_vec()
    }
}

/// The kinds of request answered late, and by how much; and how many requests were
/// being answered at once (now, and at most).
#[derive(Debug, Clone, Default)]
struct Late(
    Arc<Mutex<Vec<(RequestKind, Duration)>>>,
    Arc<(AtomicUsize, AtomicUsize)>,
);

/// One request being answered, counted in [`Late`]'s gauge until dropped.
struct Answering(Arc<(AtomicUsize, AtomicUsize)>);

impl Answering {
    fn new(gauge: &Arc<(AtomicUsize, AtomicUsize)>) -> Self {
        let now = gauge.0.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.1.fetch_max(now, Ordering::SeqCst);
        Self(Arc::clone(gauge))
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(
    listener: TcpListener,
    tls: rustls::ServerConfig,
    ca: Arc<Mutex<FakeCa>>,
    base: String,
    late: Late,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let ca = Arc::clone(&ca);
        let base = base.clone();
        let late = late.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = service_fn(move |request| {
                let ca = Arc::clone(&ca);
                let base = base.clone();
                let late = late.clone();
                async move { Ok::<_, Infallible>(answer(&ca, &base, &late, request).await) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// Pebble 2.10's answer to a request without a `User-Agent` (RFC 8555 §6.1: every
/// client must send one), which the fake CA over TLS gives too: 400 `malformed`.
fn without_user_agent(headers: &hyper::HeaderMap) -> Option<hyper::Response<Full<Bytes>>> {
    if headers.contains_key(hyper::header::USER_AGENT) {
        return None;
    }
    let body = r#"{"type":"urn:ietf:params:acme:error:malformed","detail":"All requests MUST include a User-Agent header","status":400}"#;
    hyper::Response::builder()
        .status(400)
        .header("Content-Type", "application/problem+json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .ok()
}

async fn answer(
    ca: &Mutex<FakeCa>,
    base: &str,
    late: &Late,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    if let Some(refused) = without_user_agent(&parts.headers) {
        return refused;
    }
    let method = match parts.method {
        hyper::Method::GET => Method::Get,
        hyper::Method::HEAD => Method::Head,
        _ => Method::Post,
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{base}{path}").parse().unwrap();
    let mut acme = Request::new(RequestId::new(1), method, url, 1 << 20);
    acme.headers = Headers::from(&parts.headers);
    acme.body = body;
    let now = UnixTime::from(SystemTime::now());
    let _answering = Answering::new(&late.1);
    let late = late.0.lock().unwrap().clone();
    let (response, delay) = {
        let mut ca = ca.lock().unwrap();
        let before: Vec<usize> = late.iter().map(|(kind, _)| ca.count(*kind)).collect();
        let response = ca.handle(&acme, now);
        let delay = late
            .iter()
            .zip(before)
            .find(|((kind, _), before)| ca.count(*kind) > *before)
            .map(|((_, delay), _)| *delay);
        (response, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let (parts, body) = response.to_http().unwrap().into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body)))
}

#[cfg(test)]
mod user_agent_tests {
    use super::*;

    #[test]
    fn a_request_without_a_user_agent_is_malformed() {
        let mut headers = hyper::HeaderMap::new();
        let refused = without_user_agent(&headers).expect("refused");
        assert_eq!(refused.status(), 400);
        headers.insert(
            hyper::header::USER_AGENT,
            hyper::header::HeaderValue::from_static("acme-proto-tokio/0.1"),
        );
        assert!(without_user_agent(&headers).is_none());
    }
}
