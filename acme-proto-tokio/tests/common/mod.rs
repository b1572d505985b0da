//! A fake CA served over real TLS on 127.0.0.1, and keys, for the driver's tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[allow(
    unused_imports,
    reason = "shared by several test binaries; not all use the keys"
)]
pub use acme_proto_fake_ca::test_keys as keys;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use acme_proto::crypto::AccountKey;
use acme_proto::{Headers, Method, Request, RequestId, UnixTime};
use acme_proto_fake_ca::{Config, FakeCa};
use acme_proto_tokio::{Roots, Transport};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A self-made CA and a certificate for 127.0.0.1 and localhost, signed by it.
pub struct TestPki {
    pub root_pem: String,
    pub server: rustls::ServerConfig,
}

pub fn test_pki() -> TestPki {
    let root_key = rcgen::KeyPair::generate().unwrap();
    let mut root_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    root_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "acme-proto-tokio test root");
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

/// The fake CA behind a TLS server (HTTP/1.1 and HTTP/2) on 127.0.0.1.
pub struct CaServer {
    pub ca: Arc<Mutex<FakeCa>>,
    pub directory_url: url::Url,
    pub root_pem: String,
    task: JoinHandle<()>,
}

impl Drop for CaServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CaServer {
    pub async fn start() -> Self {
        Self::start_with(|c| c).await
    }

    pub async fn start_with(configure: impl FnOnce(Config) -> Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let ca = Arc::new(Mutex::new(FakeCa::new(configure(Config::new(&base)))));
        let pki = test_pki();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server));
        let shared = Arc::clone(&ca);
        let base_for_task = base.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let ca = Arc::clone(&shared);
                let base = base_for_task.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |request| {
                        let ca = Arc::clone(&ca);
                        let base = base.clone();
                        async move { Ok::<_, Infallible>(answer(&ca, &base, request).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            ca,
            directory_url: format!("{base}/directory").parse().unwrap(),
            root_pem: pki.root_pem,
            task,
        }
    }

    /// A transport trusting only this server's root.
    pub fn transport(&self) -> Transport {
        Transport::builder()
            .roots(Roots::None)
            .add_root_pem(&self.root_pem)
            .build()
            .unwrap()
    }

    pub fn violations(&self) -> Vec<String> {
        self.ca.lock().unwrap().violations().to_vec()
    }
}

async fn answer(
    ca: &Mutex<FakeCa>,
    base: &str,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
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
    let response = ca.lock().unwrap().handle(&acme, now);
    let (parts, body) = response.to_http().unwrap().into_parts();
    hyper::Response::from_parts(parts, Full::new(Bytes::from(body)))
}

pub fn key(pem: &str) -> AccountKey {
    AccountKey::from_pem(pem).unwrap()
}
