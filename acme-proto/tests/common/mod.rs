//! Helpers shared by the integration tests (not a test target itself).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub(crate) mod ca;

/// A deterministic RNG for tests: SHA-256 in counter mode over a seed.
pub(crate) struct TestRng(u64, [u8; 32], usize);

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed, [0; 32], 32)
    }
}

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        use sha2::Digest;
        for byte in dst {
            if self.2 == 32 {
                self.1 = sha2::Sha256::digest(self.0.to_le_bytes()).into();
                self.0 = self.0.wrapping_add(1);
                self.2 = 0;
            }
            *byte = self.1[self.2];
            self.2 += 1;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

/// base64url decoding written independently of the crate's own, so tests do not check
/// the crate against itself.
pub(crate) fn b64d(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | A.iter().position(|&a| a == c).expect("base64url") as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

use acme_proto::client::{Operation, Step};
use acme_proto::{Client, Headers, Request, Response, TransportFailure, UnixTime};

/// What a scripted server does with one request.
pub(crate) enum Reply {
    /// Answer with this response.
    Respond(Response),
    /// Fail in transport: the connection was reset.
    Drop,
    /// Fail in transport with `failure`, `after` the request was sent. A driver gives up
    /// at the request's time limit: when that comes first, the failure is a timeout then.
    Fail {
        failure: TransportFailure,
        after: std::time::Duration,
    },
}

/// A transport failure of `failure`, at once.
pub(crate) fn fail(failure: TransportFailure) -> Reply {
    Reply::Fail {
        failure,
        after: std::time::Duration::ZERO,
    }
}

/// A server that never answers, for a driver whose read timeout is `read_timeout`.
pub(crate) fn hang(read_timeout: std::time::Duration) -> Reply {
    Reply::Fail {
        failure: TransportFailure::TimedOut,
        after: read_timeout,
    }
}

/// JSON response with a fresh nonce.
pub(crate) fn json(status: u16, nonce: &str, body: &str) -> Reply {
    let content_type = if status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    Reply::Respond(Response::new(
        status,
        Headers::new()
            .with("Content-Type", content_type)
            .with("Replay-Nonce", nonce),
        body.as_bytes().to_vec(),
    ))
}

/// A problem document of `kind` (the short name, e.g. `badNonce`).
pub(crate) fn problem(status: u16, nonce: &str, kind: &str) -> Reply {
    json(
        status,
        nonce,
        &format!(r#"{{"type":"urn:ietf:params:acme:error:{kind}","detail":"scripted"}}"#),
    )
}

/// Drives `op` to its end, answering each request with `server` and sleeping on a
/// virtual clock; returns every request sent, the final time and the outcome.
pub(crate) fn drive<O: Operation>(
    op: &mut O,
    client: &mut Client,
    mut now: UnixTime,
    mut server: impl FnMut(&Request, UnixTime) -> Reply,
    mut on_event: impl FnMut(&mut O, O::Event),
) -> (Vec<Request>, UnixTime, Result<O::Output, acme_proto::Error>) {
    let mut sent = Vec::new();
    for _ in 0..100_000 {
        match op.poll(client, now) {
            Step::Send(request) => {
                let id = request.id;
                match server(&request, now) {
                    Reply::Respond(response) => {
                        op.handle_response(client, id, response, now).unwrap()
                    }
                    Reply::Drop => op
                        .handle_transport_failure(client, id, TransportFailure::Reset, now)
                        .unwrap(),
                    Reply::Fail { failure, after } => {
                        let limit = request.time_limit.unwrap_or(std::time::Duration::MAX);
                        let (failure, after) = if after >= limit {
                            (TransportFailure::TimedOut, limit)
                        } else {
                            (failure, after)
                        };
                        now = now.saturating_add(after);
                        op.handle_transport_failure(client, id, failure, now)
                            .unwrap();
                    }
                }
                sent.push(request);
            }
            Step::Wait(wait) => {
                assert!(
                    wait.until > now,
                    "a wait must be in the future: {wait:?} at {now:?}"
                );
                now = wait.until;
            }
            Step::Event(event) => on_event(op, event),
            Step::AwaitingCaller => panic!("the operation waits for an answer never given"),
            Step::InFlight => panic!("every request was answered, yet one is in flight"),
            Step::Done => {
                let outcome = op.take_outcome().expect("an outcome once done");
                assert!(matches!(op.poll(client, now), Step::Done), "done is final");
                assert!(op.take_outcome().is_none(), "the outcome is taken once");
                return (sent, now, outcome);
            }
            _ => unreachable!(),
        }
    }
    panic!("the operation did not finish in 100000 steps");
}
