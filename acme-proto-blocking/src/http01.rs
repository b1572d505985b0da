//! A built-in http-01 responder (RFC 8555 §8.3): a small HTTP/1.1 server on
//! `std::net` answering `GET /.well-known/acme-challenge/{token}` with the key
//! authorization of each challenge put in place, and 404 for everything else.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use acme_proto::client::ChallengeOffer;
use acme_proto_support::{ConnectionLimiter, Http01Tokens, ResponderLimits};

use crate::accept::Server;
use crate::solver::{Solver, SolverError};

/// The largest request head read; a longer one gets a 431.
const MAX_HEAD: usize = 8 * 1024;
/// The most header lines in a request head.
const MAX_HEADERS: usize = 64;

/// An http-01 responder: serves exactly the tokens presented to it, on one address,
/// for as many concurrent orders (and threads) as share it. It stops serving when
/// dropped.
///
/// The validation server connects to port 80 of each name, so the responder must be
/// reachable there (bind `0.0.0.0:80`, or a port a proxy forwards to).
///
/// A flood of connections cannot keep the validation server out: each connection is
/// accepted at once, and served (on a thread of its own) only within the
/// [`ResponderLimits`] (by default 8 at once from one address, 256 in all, the request
/// head within 3 s; one request per connection); see there for what to set behind a
/// load balancer.
#[derive(Debug)]
pub struct Http01Responder {
    tokens: Http01Tokens,
    server: Server,
}

impl Http01Responder {
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
        let tokens = Http01Tokens::default();
        let served = tokens.clone();
        let limiter = ConnectionLimiter::new("http-01", limits);
        let head_timeout = limiter.limits().head_timeout;
        let server = Server::start(listener, limiter, move |stream| {
            if let Err(error) = answer(&served, stream, head_timeout) {
                tracing::debug!(%error, "http-01 connection failed");
            }
        })?;
        Ok(Self { tokens, server })
    }

    /// The address it listens on (with the port chosen, when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
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

impl Solver for Http01Responder {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        Http01Tokens::choose(offers)
    }

    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.tokens.present(offer)
    }

    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.tokens.cleanup(offer);
        Ok(())
    }
}

/// Answers one request on `stream` (its head read within `head_timeout`), then closes
/// it: no keep-alive.
fn answer(tokens: &Http01Tokens, mut stream: TcpStream, head_timeout: Duration) -> io::Result<()> {
    let (status, body, head_only) = match read_head(&mut stream, head_timeout)? {
        Head::TooLarge => ("431 Request Header Fields Too Large", None, false),
        Head::Malformed => ("400 Bad Request", None, false),
        Head::Request { method, path } => {
            let found = path.and_then(|path| tokens.answer(&method, &path));
            ("200 OK", found, method == "HEAD")
        }
        Head::Closed => return Ok(()),
    };
    let (status, body) = match body {
        Some(key_authorization) => (status, key_authorization),
        None if status.starts_with("200") => ("404 Not Found", "not found\n".to_owned()),
        None => (status, String::new()),
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        reply.push_str(&body);
    }
    stream.write_all(reply.as_bytes())?;
    stream.flush()
}

enum Head {
    /// The request line's method, and the path of its target (`None` when the target
    /// is neither origin-form nor absolute-form).
    Request {
        method: String,
        path: Option<String>,
    },
    TooLarge,
    /// Not an HTTP/1.x request head.
    Malformed,
    Closed,
}

/// Reads a request head (up to the empty line), at most [`MAX_HEAD`] bytes (and
/// [`MAX_HEADERS`] header lines) and `head_timeout` in all, parsed by httparse.
fn read_head(stream: &mut TcpStream, head_timeout: Duration) -> io::Result<Head> {
    let deadline = Instant::now() + head_timeout;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => {
                let method = request.method.unwrap_or_default().to_owned();
                let path = request.path.and_then(path_of);
                return Ok(Head::Request { method, path });
            }
            Ok(httparse::Status::Complete(_)) | Err(httparse::Error::TooManyHeaders) => {
                return Ok(Head::TooLarge);
            }
            Ok(httparse::Status::Partial) if head.len() > MAX_HEAD => return Ok(Head::TooLarge),
            Ok(httparse::Status::Partial) => {}
            Err(_) => return Ok(Head::Malformed),
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_read_timeout(Some(remaining))?;
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
    }
}

/// The path of a request target: origin-form (`/path?query`) or absolute-form
/// (`http://host/path?query`), without the query.
fn path_of(target: &str) -> Option<String> {
    let target = match target.strip_prefix("http://") {
        Some(rest) => rest.get(rest.find('/')?..)?,
        None if target.starts_with('/') => target,
        None => return None,
    };
    let path = target.split(['?', '#']).next().unwrap_or_default();
    Some(path.to_owned())
}
