//! instant-acme 0.8, as its documentation has a certificate issued: `new_order`, each
//! authorization's http-01 challenge `set_ready`, `poll_ready`, `finalize` (rcgen makes
//! the key and CSR), `poll_certificate`. Its HTTP client is built here as its own
//! default one is (hyper-rustls, HTTP/1.1 and HTTP/2, only Pebble's root trusted), so
//! that its requests can be counted and, tuned, TCP_NODELAY set; and since it has no
//! http-01 responder, a minimal one is here too.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_acme::{
    Account, AuthorizationStatus, BodyWrapper, BytesResponse, ChallengeType, Error, HttpClient,
    Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::child::{CONTACT, Polling, Progress, Spec, Timed, in_tasks};
use crate::measure::Counts;

struct Context {
    account: Account,
    responder: Responder,
    retry: RetryPolicy,
    spec: Spec,
}

pub fn run(spec: &Spec, progress: &Arc<Progress>) -> String {
    super::runtime().block_on(async {
        let counts = Arc::new(Counts::default());
        let tuned = spec.polling != Polling::Defaults;
        let http = CountingClient::new(&spec.root_pem, tuned, counts.clone());
        let new_account = NewAccount {
            contact: &[CONTACT],
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let (account, _credentials) = Account::builder_with_http(Box::new(http))
            .create(&new_account, spec.directory.clone(), None)
            .await
            .expect("an instant-acme account on Pebble");
        let responder = Responder::start(spec.http01_port).await;
        let retry = if tuned {
            RetryPolicy::new()
                .initial_delay(Duration::from_millis(5))
                .backoff(1.5)
        } else {
            RetryPolicy::default()
        };
        let context = Arc::new(Context {
            account,
            responder,
            retry,
            spec: spec.clone(),
        });
        progress.ready();
        let timed = Timed::start(&counts);
        let results = in_tasks(context, spec, progress, issue).await;
        timed.finish(&counts, results)
    })
}

async fn issue(context: Arc<Context>, order: usize) -> Result<(), String> {
    let identifiers: Vec<Identifier> = context
        .spec
        .names_of(order)
        .into_iter()
        .map(Identifier::Dns)
        .collect();
    let mut tokens = Vec::new();
    let result = issue_presenting(&context, &identifiers, &mut tokens).await;
    for token in tokens {
        context.responder.remove(&token);
    }
    result.map_err(|e| e.to_string())
}

async fn issue_presenting(
    context: &Context,
    identifiers: &[Identifier],
    tokens: &mut Vec<String>,
) -> Result<(), Error> {
    let mut order = context
        .account
        .new_order(&NewOrder::new(identifiers))
        .await?;
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => return Err(Error::Other(format!("authorization {other:?}").into())),
        }
        let mut challenge = authorization
            .challenge(ChallengeType::Http01)
            .ok_or(Error::Str("no http-01 challenge"))?;
        let token = challenge.token.clone();
        let key_authorization = challenge.key_authorization().as_str().to_owned();
        context.responder.insert(token.clone(), key_authorization);
        tokens.push(token);
        challenge.set_ready().await?;
    }
    let status = order.poll_ready(&context.retry).await?;
    if status != OrderStatus::Ready {
        return Err(Error::Other(format!("order {status:?}").into()));
    }
    order.finalize().await?;
    let chain = order.poll_certificate(&context.retry).await?;
    if chain.contains("BEGIN CERTIFICATE") {
        Ok(())
    } else {
        Err(Error::Str("no certificate in the chain"))
    }
}

type Connector = HttpsConnector<HttpConnector>;

/// instant-acme's default HTTP client, counting each request and its answer.
struct CountingClient {
    client: HyperClient<Connector, BodyWrapper<Bytes>>,
    counts: Arc<Counts>,
}

impl CountingClient {
    fn new(root_pem: &str, nodelay: bool, counts: Arc<Counts>) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
            roots
                .add(certificate.expect("Pebble's root PEM"))
                .expect("Pebble's root as a trust anchor");
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring's protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(nodelay);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        Self {
            client: HyperClient::builder(TokioExecutor::new()).build(connector),
            counts,
        }
    }
}

impl HttpClient for CountingClient {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let path = request.uri().path().to_owned();
        let response = self.client.request(request);
        let counts = self.counts.clone();
        Box::pin(async move {
            let response = response.await.map_err(|e| Error::Other(Box::new(e)))?;
            let (parts, body) = response.into_parts();
            if parts.status == http::StatusCode::BAD_REQUEST {
                // Read here to see whether it is a badNonce; handed on as read.
                let body = body
                    .collect()
                    .await
                    .map_err(|e| Error::Other(Box::new(e)))?
                    .to_bytes();
                counts.record(&path, 400, &body);
                return Ok(BytesResponse {
                    parts,
                    body: Box::new(body),
                });
            }
            counts.record(&path, parts.status.as_u16(), &[]);
            Ok(BytesResponse::from(http::Response::from_parts(parts, body)))
        })
    }
}

/// A minimal http-01 responder: `GET /.well-known/acme-challenge/TOKEN` answered with
/// the key authorization, one request per connection.
struct Responder {
    tokens: Arc<Mutex<HashMap<String, String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Responder {
    async fn start(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the http-01 port");
        let tokens = Arc::new(Mutex::new(HashMap::new()));
        let served = tokens.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer(stream, served.clone()));
            }
        });
        Self { tokens, task }
    }

    fn insert(&self, token: String, key_authorization: String) {
        self.lock().insert(token, key_authorization);
    }

    fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(mut stream: tokio::net::TcpStream, tokens: Arc<Mutex<HashMap<String, String>>>) {
    let mut request = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read_head = async {
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), read_head)
        .await
        .is_err()
    {
        return;
    }
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let found = path
        .strip_prefix("/.well-known/acme-challenge/")
        .and_then(|token| {
            tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(token)
                .cloned()
        });
    let response = match found {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
