//! One HTTP/1.1 exchange (a request out, its response in) over any byte stream, sans-IO:
//! the caller writes [`Exchange::output`] to the stream and hands what it reads to
//! [`Exchange::input`]. The framing (request head, `Content-Length`, chunked or
//! close-delimited bodies) is [ureq-proto](https://docs.rs/ureq-proto)'s; this module
//! only moves bytes between it and the core's `Request` and `Response`.
//!
//! One exchange per connection: the request says `Connection: close`.

use acme_proto::{Request, Response, TransportFailure};
use ureq_proto::client::state::{RecvBody, RecvResponse};
use ureq_proto::client::{Call, RecvResponseResult, SendRequestResult};

/// What reading the response found wrong.
#[derive(Debug)]
pub enum ExchangeError {
    /// The request could not be written as HTTP/1.1 (a header the `http` crate refuses).
    Request(String),
    /// The response was not HTTP/1.1, or its body larger than the request allows.
    Response(TransportFailure, String),
}

impl ExchangeError {
    /// The core's name for what went wrong, to hand to `handle_transport_failure`.
    pub fn failure(&self) -> TransportFailure {
        match self {
            Self::Request(_) => TransportFailure::Other,
            Self::Response(failure, _) => *failure,
        }
    }
}

impl std::fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Request(why) => write!(f, "writing the request: {why}"),
            Self::Response(_, why) => write!(f, "reading the response: {why}"),
        }
    }
}

impl std::error::Error for ExchangeError {}

enum Receiving {
    Head(Call<RecvResponse>),
    Body(Call<RecvBody>, http::response::Parts),
    /// Taken: the response is complete.
    Over,
}

/// One request and its response.
pub struct Exchange {
    /// The whole request, head and body.
    output: Vec<u8>,
    written: usize,
    /// Bytes read and not consumed yet (a response head arrives in pieces).
    input: Vec<u8>,
    receiving: Receiving,
    body: Vec<u8>,
    max_body: usize,
}

fn bad(why: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::Response(TransportFailure::Other, why.to_string())
}

/// The `User-Agent` the embedding programs send.
pub const USER_AGENT: &str = concat!("acme-proto-examples/", env!("CARGO_PKG_VERSION"));

impl Exchange {
    /// The largest response head read.
    const MAX_HEAD: usize = 64 * 1024;

    /// Frames `request` (with `Content-Length`, `Connection: close`, and
    /// [`USER_AGENT`] unless the request has a `User-Agent`).
    pub fn new(request: &Request) -> Result<Self, ExchangeError> {
        let framing = |e: ureq_proto::Error| ExchangeError::Request(e.to_string());
        let mut http_request = request
            .to_http()
            .map_err(|e| ExchangeError::Request(e.to_string()))?;
        let body = std::mem::take(http_request.body_mut());
        let (parts, ()) = http_request.map(|_| ()).into_parts();
        let has_user_agent = parts.headers.contains_key(http::header::USER_AGENT);
        let mut call = Call::new(http::Request::from_parts(parts, ())).map_err(framing)?;
        if !body.is_empty() {
            call.header("content-length", body.len().to_string())
                .map_err(framing)?;
        }
        // RFC 8555 §6.1: an ACME client MUST send a User-Agent, and servers enforce it
        // (Pebble 2.10 refuses a request without one as `malformed`). The core leaves
        // headers of the transport's own to the transport: this one is ours.
        if !has_user_agent {
            call.header("user-agent", USER_AGENT).map_err(framing)?;
        }
        call.header("connection", "close").map_err(framing)?;
        let mut call = call.proceed();
        // The head is small; the body is written after it.
        let mut output = vec![0; 16 * 1024 + body.len()];
        let mut used = call.write(&mut output).map_err(framing)?;
        let receiving = match call.proceed().map_err(framing)? {
            Some(SendRequestResult::RecvResponse(call)) => call,
            Some(SendRequestResult::SendBody(mut call)) => {
                let rest = output.get_mut(used..).unwrap_or_default();
                let (_, n) = call.write(&body, rest).map_err(framing)?;
                used += n;
                if !call.can_proceed() {
                    let rest = output.get_mut(used..).unwrap_or_default();
                    let (_, n) = call.write(&[], rest).map_err(framing)?;
                    used += n;
                }
                call.proceed().ok_or_else(|| {
                    ExchangeError::Request("the request body was not written whole".into())
                })?
            }
            _ => return Err(ExchangeError::Request("an unexpected framing state".into())),
        };
        output.truncate(used);
        Ok(Self {
            output,
            written: 0,
            input: Vec::new(),
            receiving: Receiving::Head(receiving),
            body: Vec::new(),
            max_body: request.max_response_body,
        })
    }

    /// What is still to be written to the stream.
    pub fn output(&self) -> &[u8] {
        self.output.get(self.written..).unwrap_or_default()
    }

    /// `n` bytes of [`output`](Self::output) were written.
    pub fn wrote(&mut self, n: usize) {
        self.written = (self.written + n).min(self.output.len());
    }

    /// Takes bytes read from the stream; gives the response once it is complete.
    pub fn input(&mut self, bytes: &[u8]) -> Result<Option<Response>, ExchangeError> {
        self.input.extend_from_slice(bytes);
        loop {
            match std::mem::replace(&mut self.receiving, Receiving::Over) {
                Receiving::Head(mut call) => {
                    let (used, response) = call.try_response(&self.input, false).map_err(bad)?;
                    self.input.drain(..used);
                    let Some(response) = response else {
                        if self.input.len() > Self::MAX_HEAD {
                            return Err(bad("a response head over 64 KiB"));
                        }
                        self.receiving = Receiving::Head(call);
                        if used > 0 {
                            // An informational response (1xx) was passed over.
                            continue;
                        }
                        return Ok(None);
                    };
                    let (parts, ()) = response.into_parts();
                    match call.proceed() {
                        Some(RecvResponseResult::RecvBody(call)) => {
                            self.receiving = Receiving::Body(call, parts);
                        }
                        // No body (a 204, say), or a redirect: the core reads it as it is.
                        Some(_) => return Ok(Some(Response::from_http_parts(&parts, Vec::new()))),
                        None => return Err(bad("a response head with nothing after it")),
                    }
                }
                Receiving::Body(mut call, parts) => {
                    let mut chunk = [0; 16 * 1024];
                    let (used, produced) = call.read(&self.input, &mut chunk).map_err(bad)?;
                    self.input.drain(..used);
                    self.body
                        .extend_from_slice(chunk.get(..produced).unwrap_or_default());
                    if self.body.len() > self.max_body {
                        return Err(ExchangeError::Response(
                            TransportFailure::TooLarge,
                            format!("a body over {} bytes", self.max_body),
                        ));
                    }
                    if ended(&call) {
                        let body = std::mem::take(&mut self.body);
                        return Ok(Some(Response::from_http_parts(&parts, body)));
                    }
                    self.receiving = Receiving::Body(call, parts);
                    if used == 0 && produced == 0 {
                        return Ok(None);
                    }
                }
                Receiving::Over => return Err(bad("input after the response")),
            }
        }
    }

    /// The stream ended: the response, when its body was delimited by the close.
    pub fn end_of_stream(&mut self) -> Result<Response, ExchangeError> {
        match std::mem::replace(&mut self.receiving, Receiving::Over) {
            Receiving::Body(call, parts) if call.can_proceed() => {
                let body = std::mem::take(&mut self.body);
                Ok(Response::from_http_parts(&parts, body))
            }
            _ => Err(ExchangeError::Response(
                TransportFailure::Reset,
                "the connection closed before the response was complete".into(),
            )),
        }
    }
}

/// Whether the body is complete by its own framing (a length, or the last chunk); a
/// close-delimited body ends only with the stream.
fn ended(call: &Call<RecvBody>) -> bool {
    call.can_proceed() && call.body_mode() != ureq_proto::BodyMode::CloseDelimited
}
