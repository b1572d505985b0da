//! A built-in http-01 responder (RFC 8555 §8.3): a small HTTP/1.1 server answering
//! `GET /.well-known/acme-challenge/{token}` with the key authorization of each
//! challenge put in place, and 404 for everything else.

use std::convert::Infallible;
use std::net::SocketAddr;

use acme_proto::client::ChallengeOffer;
use acme_proto_support::{ConnectionLimiter, Http01Tokens, ResponderLimits};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::accept::{ANSWER_TIMEOUT, serve_connections};
use crate::solver::{Solver, SolverError};

/// The largest request head read (hyper's smallest buffer).
const MAX_HEAD: usize = 8 * 1024;
/// The most header lines a request may have.
const MAX_HEADERS: usize = 64;

/// An http-01 responder: serves exactly the tokens presented to it, on one address,
/// for as many concurrent orders as share it. It stops serving when dropped.
///
/// The validation server connects to port 80 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:80`, or a port a proxy forwards to).
///
/// A flood of connections cannot keep the validation server out: each connection is
/// accepted at once, and served only within the [`ResponderLimits`] (by default 8 at
/// once from one address, 256 in all, the request head within 3 s; one request per
/// connection); see there for what to set behind a load balancer.
#[derive(Debug)]
pub struct Http01Responder {
    tokens: Http01Tokens,
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Http01Responder {
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
        let local_addr = listener.local_addr()?;
        let tokens = Http01Tokens::default();
        let limiter = ConnectionLimiter::new("http-01", limits);
        let task = tokio::spawn(serve(listener, tokens.clone(), limiter));
        Ok(Self {
            tokens,
            local_addr,
            task,
        })
    }

    /// The address it listens on (with the port chosen, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many tokens are being served.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether no token is being served.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl Drop for Http01Responder {
    fn drop(&mut self) {
        // Aborting the accept loop drops its `JoinSet`, which aborts every connection.
        self.task.abort();
    }
}

impl Solver for Http01Responder {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        Http01Tokens::choose(offers)
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.tokens.present(offer)
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.tokens.cleanup(offer);
        Ok(())
    }
}

async fn serve(listener: TcpListener, tokens: Http01Tokens, limiter: ConnectionLimiter) {
    let head_timeout = limiter.limits().head_timeout;
    serve_connections(listener, limiter, move |stream| {
        let tokens = tokens.clone();
        async move {
            let service = service_fn(move |request| {
                let response = answer(&tokens, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            // One request per connection (a validation server asks one), its head within
            // the head timeout (hyper's timer starts with the connection), at most 8 KiB
            // and 64 header lines (a 431 past either), as the blocking responder answers:
            // no connection is held open after its answer.
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout)
                .keep_alive(false)
                .max_buf_size(MAX_HEAD)
                .max_headers(MAX_HEADERS)
                .serve_connection(TokioIo::new(stream), service);
            // And the whole connection within the head timeout and the answer's time.
            let _ =
                tokio::time::timeout(head_timeout.saturating_add(ANSWER_TIMEOUT), connection).await;
        }
    })
    .await;
}

fn answer<B>(tokens: &Http01Tokens, request: &http::Request<B>) -> http::Response<Full<Bytes>> {
    let found = tokens.answer(request.method().as_str(), request.uri().path());
    let mut response = match found {
        Some(key_authorization) => http::Response::new(Full::new(Bytes::from(key_authorization))),
        None => {
            let mut response = http::Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *response.status_mut() = http::StatusCode::NOT_FOUND;
            response
        }
    };
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    response
}
