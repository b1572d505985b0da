//! The hostile server: the fake CA's honest answer, passed through, damaged, replaced
//! or lost, as the fuzzer's bytes decide.

use acme_proto::{Headers, Request, Response, TransportFailure, UnixTime};
use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};

use super::damage::{forge, mutate};

/// What the server remembers to be hostile with: URLs and bodies it has seen, nonces
/// it handed out and nonces the client used.
#[derive(Default)]
pub(super) struct Memory {
    /// A standing misbehaviour, kept for every response (see [`Standing`]).
    pub(super) standing: Standing,
    pub(super) urls: Vec<String>,
    pub(super) bodies: Vec<Vec<u8>>,
    pub(super) nonces: Vec<String>,
    pub(super) used_nonces: Vec<String>,
    pub(super) fresh: u64,
}

impl Memory {
    const KEEP: usize = 64;

    fn remember<T>(list: &mut Vec<T>, item: T) {
        if list.len() == Self::KEEP {
            list.remove(0);
        }
        list.push(item);
    }

    pub(super) fn saw_request(&mut self, request: &Request, nonce: Option<String>) {
        Self::remember(&mut self.urls, request.url.as_str().to_owned());
        if let Some(nonce) = nonce {
            Self::remember(&mut self.used_nonces, nonce);
        }
    }

    fn saw_response(&mut self, response: &Response) {
        if !response.body.is_empty() {
            Self::remember(&mut self.bodies, response.body.clone());
        }
        for nonce in response.headers.get_all("replay-nonce") {
            Self::remember(
                &mut self.nonces,
                String::from_utf8_lossy(nonce).into_owned(),
            );
        }
    }
}

/// Misbehaviours a server keeps up, which one-off damage rarely strings together.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// None.
    #[default]
    Honest,
    /// Only newNonce answers carry a `Replay-Nonce`, and it is one the client already
    /// used.
    RepeatsUsedNonces,
    /// Every answer carries `Retry-After: 0`.
    RetryNow,
    /// Every answer lacks `Replay-Nonce`.
    NoNonces,
}

impl Standing {
    pub(super) fn draw(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(match u.int_in_range(0..=7u8)? {
            5 => Self::RepeatsUsedNonces,
            6 => Self::RetryNow,
            7 => Self::NoNonces,
            _ => Self::Honest,
        })
    }

    fn apply(self, memory: &Memory, request: &Request, response: &mut Response) {
        let keep = |response: &Response, name: &str| -> Headers {
            let mut headers = Headers::new();
            for (n, v) in response.headers.iter() {
                if !n.eq_ignore_ascii_case(name) {
                    headers.append(n, v.to_vec());
                }
            }
            headers
        };
        match self {
            Self::Honest => {}
            Self::RepeatsUsedNonces => {
                let mut headers = keep(response, "Replay-Nonce");
                if request.method == acme_proto::Method::Head
                    && let Some(used) = memory.used_nonces.last()
                {
                    headers.append("Replay-Nonce", used.as_str());
                }
                response.headers = headers;
            }
            Self::RetryNow => response.headers.append("Retry-After", "0"),
            Self::NoNonces => response.headers = keep(response, "Replay-Nonce"),
        }
    }
}

/// What happens to one request.
pub(super) enum Reply {
    Respond(Response),
    /// The transport failed (after the CA processed the request, or before), as the
    /// driver reports it.
    Lost(TransportFailure),
}

/// Answers `request` as the input says.
pub(super) fn reply(
    u: &mut Unstructured<'_>,
    ca: &mut FakeCa,
    memory: &mut Memory,
    request: &Request,
    now: UnixTime,
) -> Result<Reply> {
    let reply = match u.int_in_range(0..=9u8)? {
        // The honest answer most often: the input's end reads as zeros.
        0..=4 => Reply::Respond(ca.handle(request, now)),
        5..=6 => {
            let mut response = ca.handle(request, now);
            for _ in 0..u.int_in_range(1..=3u8)? {
                mutate(u, memory, ca, &mut response, now)?;
            }
            Reply::Respond(response)
        }
        7 => {
            // Lost on the way back: the CA acted on it.
            let _ = ca.handle(request, now);
            // Never `Connect`: that says nothing was sent, and the core may resend what
            // is not safe to repeat. The first (the input's end) is the old default.
            Reply::Lost(*u.choose(&[
                TransportFailure::Reset,
                TransportFailure::TimedOut,
                TransportFailure::TooLarge,
                TransportFailure::Other,
            ])?)
        }
        8 => Reply::Lost(*u.choose(&[
            TransportFailure::Reset,
            TransportFailure::Connect,
            TransportFailure::TimedOut,
            TransportFailure::Tls,
            TransportFailure::Other,
        ])?),
        _ => Reply::Respond(forge(u, memory, ca, now)?),
    };
    let mut reply = reply;
    if let Reply::Respond(response) = &mut reply {
        memory.standing.apply(memory, request, response);
        memory.saw_response(response);
    }
    Ok(reply)
}
