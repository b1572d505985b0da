//! Requests and responses as plain values: what the core hands to a driver and takes back.
//!
//! The core never sends anything. It builds a [`Request`], the driver moves the bytes and
//! gives back a [`Response`]. With the `http` feature both convert to and from the `http`
//! crate's types, so a driver over hyper, reqwest or ureq stays a few lines.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use url::Url;

/// The HTTP methods ACME uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: the directory, certificates and ARI renewal information.
    Get,
    /// `HEAD`: a fresh nonce from `newNonce`.
    Head,
    /// `POST`: every other request, signed as a JWS.
    Post,
}

impl Method {
    /// The method's name as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
        }
    }

    /// Whether repeating the request cannot change anything on the server (RFC 9110 §9.2.2).
    ///
    /// A signed POST is never idempotent at the HTTP level, even POST-as-GET: its nonce
    /// is spent once the server has read it.
    pub const fn is_idempotent(self) -> bool {
        matches!(self, Self::Get | Self::Head)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HTTP header fields in the order received, names lowercased, values as raw bytes.
///
/// Values are bytes because HTTP allows non-UTF-8 octets in field values; the parsers in
/// [`headers`](crate::headers) reject what they cannot use with a typed error.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// No header fields.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Appends a field; the name is stored lowercased, earlier fields of that name are kept.
    pub fn append(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.entries.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Builder form of [`append`](Self::append).
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.append(name, value);
        self
    }

    /// The first value of the field `name` (matched case-insensitively).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of the field `name`, in the order received.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// Every field as `(lowercase name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<N: AsRef<str>, V: Into<Vec<u8>>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Self::new();
        for (name, value) in iter {
            headers.append(name.as_ref(), value);
        }
        headers
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(n, v)| (n, String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// Identifies a [`Request`] so that its response can be handed back to the operation
/// that sent it. Unique within one [`Client`](crate::Client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// An identifier with this number, for test servers and tools that build requests;
    /// a [`Client`](crate::Client) numbers its own requests from 1.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// The identifier as a number (increasing in the order requests were made).
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An HTTP request the core wants sent.
///
/// The driver sends `method` to `url` with `headers` and `body` exactly as given, and must
/// stop reading the response body once it exceeds [`max_response_body`](Self::max_response_body)
/// bytes (handing back the failure instead), so that a hostile server cannot make it
/// buffer without bound. It also gives up once [`time_limit`](Self::time_limit) has
/// passed since it started sending (handing back [`TransportFailure::TimedOut`]), so
/// that the resends of one request cannot add up past the policy's
/// [`request_timeout`](crate::Policy::request_timeout).
///
/// The driver also adds a `User-Agent` header naming its client (RFC 8555 §6.1: every
/// ACME client must send one; Pebble 2.10 refuses a request without it as `malformed`).
/// The core leaves it out of `headers` because only the driver knows its own name and
/// version; the drivers of this project send `acme-proto-tokio/VERSION` or
/// `acme-proto-blocking/VERSION`, then the caller's product token when given one.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// Which request this is: hand it back with the response.
    pub id: RequestId,
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// Header fields to send (for example `Content-Type: application/jose+json`).
    pub headers: Headers,
    /// The body: a JWS for POST, empty otherwise.
    pub body: Vec<u8>,
    /// The largest response body, in bytes, the core will accept for this request.
    pub max_response_body: usize,
    /// The longest this attempt may take, from the start of sending to the last byte of
    /// the response: what is left of the request's
    /// [`request_timeout`](crate::Policy::request_timeout). A driver gives up at it (or
    /// at its own total timeout, if that comes first). `None` on requests built by hand.
    pub time_limit: Option<Duration>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(id: RequestId, method: Method, url: Url, max_response_body: usize) -> Self {
        Self {
            id,
            method,
            url,
            headers: Headers::new(),
            body: Vec::new(),
            max_response_body,
            time_limit: None,
        }
    }

    /// The same request with a header field appended.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The same request with `body`.
    #[must_use]
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// The same request with a [`time_limit`](Self::time_limit).
    #[must_use]
    pub fn with_time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }
}

/// Why a [`Request`] got no [`Response`], as the driver reports it to
/// [`Operation::handle_transport_failure`](crate::client::Operation::handle_transport_failure).
///
/// The core decides from it whether a resend can help: a connection that could not be
/// made or broke may work the next time; a timeout is tried once more at most; a body
/// too large, a TLS failure or anything else would fail the same way again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportFailure {
    /// No connection could be made (refused, unreachable, the name did not resolve):
    /// nothing was sent. Resent after a backoff, even a request that is not safe to
    /// repeat.
    Connect,
    /// The connection broke: reset, or closed before the response was complete. Resent
    /// after a backoff when the request is safe to repeat.
    Reset,
    /// The server was silent or slow past a connect, read or total timeout, or past the
    /// request's [`time_limit`](Request::time_limit). Resent at most
    /// [`Policy::max_timeout_retries`](crate::Policy::max_timeout_retries) times (once by
    /// default), when the request is safe to repeat.
    TimedOut,
    /// The response body was larger than the request's
    /// [`max_response_body`](Request::max_response_body). Never resent: it would be as
    /// large again.
    TooLarge,
    /// TLS failed: the handshake, or the server's certificate (untrusted, expired, for
    /// another name). Never resent.
    Tls,
    /// Anything else, such as a request the transport could not send at all. Never
    /// resent.
    Other,
}

impl TransportFailure {
    /// A short description, for messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "no connection",
            Self::Reset => "connection broken",
            Self::TimedOut => "timed out",
            Self::TooLarge => "response body too large",
            Self::Tls => "TLS failure",
            Self::Other => "transport failure",
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Request {
    /// Shows method, URL, headers and body size; never the body (a signed JWS).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("max_response_body", &self.max_response_body)
            .field("time_limit", &self.time_limit)
            .finish()
    }
}

/// An HTTP response, as received by the driver.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header fields.
    pub headers: Headers,
    /// The body, at most the request's `max_response_body` bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response from its parts.
    pub fn new(status: u16, headers: Headers, body: Vec<u8>) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl fmt::Debug for Response {
    /// Shows status, headers and body size; the body only through the fields themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(feature = "http")]
mod http_conversions {
    use super::{Headers, Method, Request, Response};
    use alloc::vec::Vec;

    impl Request {
        /// Converts to an `http::Request`, for drivers built on the `http` crate.
        ///
        /// Fails only if the URL or a header is not acceptable to the `http` crate.
        pub fn to_http(&self) -> Result<http::Request<Vec<u8>>, http::Error> {
            let method = match self.method {
                Method::Get => http::Method::GET,
                Method::Head => http::Method::HEAD,
                Method::Post => http::Method::POST,
            };
            let mut builder = http::Request::builder()
                .method(method)
                .uri(self.url.as_str());
            for (name, value) in self.headers.iter() {
                builder = builder.header(name, value);
            }
            builder.body(self.body.clone())
        }
    }

    impl Request {
        /// Builds a request from an `http::Request`, for servers and test doubles that
        /// receive what a driver sent. `max_response_body` is the cap to attach.
        ///
        /// Fails when the method is not one ACME uses or the URI is not an absolute URL.
        pub fn from_http<B: Into<Vec<u8>>>(
            id: super::RequestId,
            request: http::Request<B>,
            max_response_body: usize,
        ) -> Result<Self, crate::Misuse> {
            let (parts, body) = request.into_parts();
            let method = match parts.method {
                http::Method::GET => Method::Get,
                http::Method::HEAD => Method::Head,
                http::Method::POST => Method::Post,
                _ => {
                    return Err(crate::Misuse::InvalidArgument(
                        "ACME uses GET, HEAD and POST only",
                    ));
                }
            };
            let url = url::Url::parse(&alloc::string::ToString::to_string(&parts.uri))
                .map_err(|_| crate::Misuse::InvalidUrl("the request URI is not an absolute URL"))?;
            let mut request = Self::new(id, method, url, max_response_body);
            request.headers = Headers::from(&parts.headers);
            request.body = body.into();
            Ok(request)
        }
    }

    impl Response {
        /// Converts to an `http::Response`, for servers and test doubles.
        ///
        /// Fails only if a header is not acceptable to the `http` crate.
        pub fn to_http(&self) -> Result<http::Response<Vec<u8>>, http::Error> {
            let mut builder = http::Response::builder().status(self.status);
            for (name, value) in self.headers.iter() {
                builder = builder.header(name, value);
            }
            builder.body(self.body.clone())
        }
    }

    impl<B: Into<Vec<u8>>> From<http::Response<B>> for Response {
        fn from(response: http::Response<B>) -> Self {
            let (parts, body) = response.into_parts();
            Self::from_http_parts(&parts, body.into())
        }
    }

    impl Response {
        /// Builds a response from `http::response::Parts` and a body the driver read.
        pub fn from_http_parts(parts: &http::response::Parts, body: Vec<u8>) -> Self {
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()))
                .collect::<Headers>();
            Self::new(parts.status.as_u16(), headers, body)
        }
    }

    impl From<&http::HeaderMap> for Headers {
        fn from(map: &http::HeaderMap) -> Self {
            map.iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes()))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_keep_order() {
        let h: Headers = [
            ("Link", "<a>;rel=up"),
            ("replay-nonce", "abc"),
            ("LINK", "<b>;rel=up"),
        ]
        .into_iter()
        .collect();
        assert_eq!(h.get("Replay-Nonce"), Some(&b"abc"[..]));
        assert_eq!(
            h.get_all("link").collect::<Vec<_>>(),
            [&b"<a>;rel=up"[..], b"<b>;rel=up"]
        );
        assert_eq!(h.get("location"), None);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn debug_never_prints_the_body() {
        let url = Url::parse("https://ca.example/acme/new-order").unwrap();
        let r = Request::new(RequestId(1), Method::Post, url, 10).with_body(b"SECRET-JWS".to_vec());
        let text = alloc::format!("{r:?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("body_len: 10"), "{text}");
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_round_trip() {
        let url = Url::parse("https://ca.example/dir").unwrap();
        let req = Request::new(RequestId(1), Method::Post, url, 10)
            .with_header("Content-Type", "application/jose+json")
            .with_body(b"{}".to_vec());
        let http_req = req.to_http().unwrap();
        assert_eq!(http_req.method(), http::Method::POST);
        assert_eq!(http_req.uri(), "https://ca.example/dir");
        assert_eq!(http_req.headers()["content-type"], "application/jose+json");
        assert_eq!(http_req.body(), b"{}");

        let http_resp = http::Response::builder()
            .status(201)
            .header("Replay-Nonce", "abc")
            .header("Link", "<x>;rel=up")
            .header("Link", "<y>;rel=up")
            .body(b"body".to_vec())
            .unwrap();
        let resp = Response::from(http_resp);
        assert_eq!(resp.status, 201);
        assert_eq!(resp.headers.get("replay-nonce"), Some(&b"abc"[..]));
        assert_eq!(resp.headers.get_all("link").count(), 2);
        assert_eq!(resp.body, b"body");

        // And back: what a test server would do with them.
        let again = Request::from_http(RequestId(1), http_req, 10).unwrap();
        assert_eq!(again, req);
        let back = resp.to_http().unwrap();
        assert_eq!(back.status(), 201);
        assert_eq!(back.headers().get_all("link").iter().count(), 2);
        let put = http::Request::builder()
            .method("PUT")
            .uri("https://a/")
            .body(Vec::new())
            .unwrap();
        assert!(Request::from_http(RequestId(2), put, 1).is_err());
        let relative = http::Request::builder().uri("/x").body(Vec::new()).unwrap();
        assert!(Request::from_http(RequestId(3), relative, 1).is_err());
    }
}
