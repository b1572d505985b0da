//! An in-memory, sans-IO fake ACME CA (RFC 8555, RFC 8737, RFC 8738, RFC 9773) for
//! acme-proto's tests and benchmarks.
//!
//! [`FakeCa::handle`] takes a [`Request`] and the time, and returns a [`Response`]: no
//! sockets, no clock, no threads, no randomness. Nonces, IDs, tokens, serials and the CA's
//! own keys derive from counters and [`Config::seed`], and the CA signs with Ed25519, so
//! the same requests give the same responses byte for byte.
//!
//! It is strict where a real CA may be lenient: every JWS is checked against every rule
//! of RFC 8555 §6 (flattened form, `alg` matching the key, signature, nonce issued here
//! and unused, `url` equal to the request URL, exactly one of `jwk`/`kid` and the right
//! one for the resource, empty POST-as-GET payloads), and every rule the client breaks is
//! also kept in [`FakeCa::violations`], so a test can demand there were none even when
//! the client recovered. JSON bodies are written here with `serde_json::json!`, never
//! with the client's own types.
//!
//! Tests install faults with [`FakeCa::script`] (refusals such as `badNonce` storms,
//! 429/503 with `Retry-After`, outcomes such as a failed challenge or a long
//! `processing`, and damage such as a truncated body or a missing `Replay-Nonce`) and
//! inspect what happened through [`FakeCa::transcript`], [`FakeCa::count`],
//! [`FakeCa::accounts`], [`FakeCa::orders`] and [`FakeCa::certificates`].
//!
//! ```
//! use acme_proto::{Method, Request, RequestId, UnixTime};
//! use acme_proto_fake_ca::{Config, FakeCa, Fault, RequestKind, RetryAfter};
//!
//! let mut ca = FakeCa::new(Config::new("https://ca.test"));
//! ca.script(RequestKind::Directory, Fault::RateLimited(RetryAfter::Seconds(30)), 1);
//! let url = ca.directory_url().parse().unwrap();
//! let now = UnixTime::from_secs(1_800_000_000);
//! let first = ca.handle(&Request::new(RequestId::new(1), Method::Get, url, 1 << 16), now);
//! assert_eq!(first.status, 429);
//! assert_eq!(first.headers.get("retry-after"), Some(&b"30"[..]));
//! let url = ca.directory_url().parse().unwrap();
//! let second = ca.handle(&Request::new(RequestId::new(1), Method::Get, url, 1 << 16), now);
//! assert_eq!(second.status, 200);
//! assert!(ca.violations().is_empty());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Test infrastructure, never shipped: when the fake CA's own invariants break (an index it
// handed out and checked, a key it generated), panicking fails the test that drove it,
// which is the outcome wanted. Client input never reaches these paths unchecked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod account;
mod ari;
mod certs;
mod challenge;
mod config;
mod directory;
#[cfg(feature = "driver-tests")]
pub mod hook;
#[cfg(feature = "driver-tests")]
pub mod hostile;
mod inspect;
mod jws;
mod model;
mod order;
mod reply;
mod route;
mod script;
#[cfg(feature = "driver-tests")]
pub mod server;
pub mod test_keys;
#[cfg(feature = "driver-tests")]
pub mod validation;

use std::collections::BTreeMap;

use acme_proto::{Headers, Method, Request, Response, UnixTime};

pub use config::{AriConfig, Config, EabConfig};
pub use inspect::{AccountView, Exchange, IssuedCertificate, OrderView, Revocation};
pub use script::{Fault, RequestKind, RetryAfter};

use certs::{Issued, Pki};
use directory::Nonces;
use jws::KeyRef;
use model::{Account, Authz, Challenge, Order};
use reply::{Problem, Reply};
use route::Route;
use script::{Script, Stage};

/// The fake CA. See the [crate docs](crate).
pub struct FakeCa {
    pub(crate) config: Config,
    pub(crate) nonces: Nonces,
    pub(crate) accounts: Vec<Account>,
    pub(crate) orders: Vec<Order>,
    pub(crate) authzs: Vec<Authz>,
    pub(crate) challenges: Vec<Challenge>,
    pub(crate) certs: Vec<Issued>,
    pub(crate) pki: Pki,
    script: Script,
    /// Faults fired while handling the current request.
    pub(crate) fired: Vec<Fault>,
    transcript: Vec<Exchange>,
    violations: Vec<String>,
    counts: BTreeMap<RequestKind, usize>,
    head_nonces: usize,
}

impl std::fmt::Debug for FakeCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCa")
            .field("base_url", &self.config.base_url)
            .field("accounts", &self.accounts.len())
            .field("orders", &self.orders.len())
            .field("certificates", &self.certs.len())
            .field("requests", &self.transcript.len())
            .field("violations", &self.violations.len())
            .finish_non_exhaustive()
    }
}

/// SHA-256 of the seed, a label and a counter: every "random" value the CA hands out.
pub(crate) fn derive(seed: u64, label: &str, n: u64) -> [u8; 32] {
    let mut input = Vec::with_capacity(16 + label.len());
    input.extend_from_slice(&seed.to_be_bytes());
    input.extend_from_slice(label.as_bytes());
    input.extend_from_slice(&n.to_be_bytes());
    let digest = ring::digest::digest(&ring::digest::SHA256, &input);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl FakeCa {
    /// A CA with no accounts, its root(s) and intermediate generated from `config.seed`.
    pub fn new(config: Config) -> Self {
        Self {
            nonces: Nonces::new(config.seed),
            pki: Pki::new(config.seed, config.alternate_chains),
            config,
            accounts: Vec::new(),
            orders: Vec::new(),
            authzs: Vec::new(),
            challenges: Vec::new(),
            certs: Vec::new(),
            script: Script::default(),
            fired: Vec::new(),
            transcript: Vec::new(),
            violations: Vec::new(),
            counts: BTreeMap::new(),
            head_nonces: 0,
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The directory URL: `{base}/directory`.
    pub fn directory_url(&self) -> String {
        self.url("/directory")
    }

    /// Answers one request at wall-clock time `now`.
    pub fn handle(&mut self, request: &Request, now: UnixTime) -> Response {
        let route = self.route(request.url.as_str());
        *self.counts.entry(route.kind).or_insert(0) += 1;
        if route.kind == RequestKind::NewNonce && request.method == Method::Head {
            self.head_nonces += 1;
        }
        self.fired.clear();
        let damage = self.script.take_damage(route.kind);
        let mut reply = match self.dispatch(request, &route, now) {
            Ok(reply) => reply,
            Err(problem) => {
                if problem.violation {
                    self.violations.push(format!(
                        "{} {}: {}",
                        request.method,
                        request.url.as_str(),
                        problem.detail
                    ));
                }
                problem.into_reply()
            }
        };
        for fault in &damage {
            reply.damage(fault);
        }
        let mut headers = Headers::new();
        for (name, value) in &reply.headers {
            headers.append(name, value.as_bytes());
        }
        if !damage.contains(&Fault::NoReplayNonce) {
            headers.append("Replay-Nonce", self.nonces.fresh());
        }
        if route.kind != RequestKind::Directory {
            headers.append("Link", format!("<{}>;rel=\"index\"", self.directory_url()));
        }
        let mut faults = std::mem::take(&mut self.fired);
        faults.extend(damage);
        self.transcript.push(Exchange {
            method: request.method,
            url: request.url.as_str().to_owned(),
            kind: route.kind,
            status: reply.status,
            problem: reply.problem.clone(),
            faults,
        });
        Response::new(reply.status, headers, reply.body)
    }

    fn dispatch(
        &mut self,
        request: &Request,
        route: &Route,
        now: UnixTime,
    ) -> Result<Reply, Problem> {
        use RequestKind as K;
        let kind = route.kind;
        match (kind, request.method) {
            (K::Unknown, _) => Err(Problem::not_found()),
            (K::Directory, Method::Get) => {
                self.refusal(kind, false)?;
                Ok(self.directory())
            }
            (K::NewNonce, Method::Head | Method::Get) => {
                self.refusal(kind, false)?;
                Ok(self.new_nonce(request.method))
            }
            (K::RenewalInfo, Method::Get) => {
                self.refusal(kind, false)?;
                self.renewal_info(&route.text, now)
            }
            (K::Directory | K::NewNonce | K::RenewalInfo, _) => {
                Err(Problem::new(405, "malformed", "method not allowed"))
            }
            (_, Method::Post) => {
                let content_type = request.headers.get("content-type").unwrap_or_default();
                if !content_type.eq_ignore_ascii_case(b"application/jose+json") {
                    return Err(Problem::new(
                        415,
                        "malformed",
                        "a POST must have Content-Type: application/jose+json",
                    )
                    .violation());
                }
                let key_ref = match kind {
                    K::NewAccount => KeyRef::Jwk,
                    K::Revoke => KeyRef::Either,
                    _ => KeyRef::Kid,
                };
                let verified = self.verify_request(request, key_ref)?;
                self.refusal(kind, true)?;
                let url = request.url.as_str();
                match kind {
                    K::NewAccount => self.new_account(url, &verified),
                    K::Account => self.account(route.index, &verified),
                    K::AccountOrders => self.account_orders(route.index, route.sub, &verified),
                    K::KeyChange => self.key_change(url, &verified),
                    K::NewOrder => self.new_order(&verified, now),
                    K::NewAuthz => self.new_authz(&verified, now),
                    K::Order => self.order(route.index, &verified, now),
                    K::Authorization => self.authorization(route.index, &verified, now),
                    K::Challenge => self.challenge(route.index, &verified, now),
                    K::Finalize => self.finalize(route.index, &verified, now),
                    K::Certificate => self.certificate(route.index, route.sub, &verified),
                    K::Revoke => self.revoke(&verified, now),
                    _ => Err(Problem::not_found()),
                }
            }
            _ => Err(Problem::new(405, "malformed", "method not allowed")),
        }
    }

    /// Answers with the next scripted refusal for `kind`, if any.
    fn refusal(&mut self, kind: RequestKind, post: bool) -> Result<(), Problem> {
        let Some(fault) = self.script.take(kind, |f| {
            f.stage() == Stage::Refusal
                && match f {
                    Fault::BadNonce => post,
                    Fault::OrderNotReady => kind == RequestKind::Finalize,
                    Fault::AlreadyReplaced => kind == RequestKind::NewOrder,
                    _ => true,
                }
        }) else {
            return Ok(());
        };
        self.fired.push(fault.clone());
        let retry_after = |problem: Problem, after: &RetryAfter| {
            let value = match after {
                RetryAfter::Seconds(secs) => secs.to_string(),
                RetryAfter::HttpDate(at) => at.http_date().to_string(),
            };
            problem.header("Retry-After", value)
        };
        Err(match &fault {
            Fault::BadNonce => Problem::new(400, "badNonce", "scripted: nonce rejected"),
            Fault::RateLimited(after) => retry_after(
                Problem::new(429, "rateLimited", "scripted: too many requests"),
                after,
            ),
            Fault::Unavailable(after) => {
                let problem = Problem::new(503, "serverInternal", "scripted: service unavailable");
                match after {
                    Some(after) => retry_after(problem, after),
                    None => problem,
                }
            }
            Fault::OrderNotReady => Problem::new(403, "orderNotReady", "scripted: order not ready"),
            Fault::AlreadyReplaced => Problem::new(
                409,
                "alreadyReplaced",
                "scripted: certificate already replaced",
            ),
            _ => Problem::new(500, "serverInternal", "scripted: internal error"),
        })
    }

    /// Takes the next scripted outcome for `kind` that `accept` takes.
    pub(crate) fn outcome(
        &mut self,
        kind: RequestKind,
        accept: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let fault = self
            .script
            .take(kind, |f| f.stage() == Stage::Outcome && accept(f))?;
        self.fired.push(fault.clone());
        Some(fault)
    }

    pub(crate) fn violations_push(&mut self, violation: String) {
        self.violations.push(violation);
    }

    // ---- scripting ----

    /// Installs `fault` for the next `times` requests of `kind` ([`RequestKind::Any`] for
    /// every request). Faults fire in the order installed; a fault that cannot apply to a
    /// request (a `BadNonce` on a GET, an outcome on the wrong resource) waits for one it
    /// can.
    pub fn script(&mut self, kind: RequestKind, fault: Fault, times: usize) -> &mut Self {
        self.script.push(kind, fault, times);
        self
    }

    /// How many scripted uses have not fired yet.
    pub fn pending_faults(&self) -> usize {
        self.script.remaining()
    }

    /// Removes every scripted fault that has not fired.
    pub fn clear_script(&mut self) {
        self.script.clear();
    }

    // ---- inspection ----

    /// Every request seen and the response given, in order.
    pub fn transcript(&self) -> &[Exchange] {
        &self.transcript
    }

    /// Every protocol rule the client broke, one line each (`METHOD URL: what`).
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// How many requests of `kind` were seen ([`RequestKind::Any`]: all of them).
    pub fn count(&self, kind: RequestKind) -> usize {
        match kind {
            RequestKind::Any => self.transcript.len(),
            kind => self.counts.get(&kind).copied().unwrap_or(0),
        }
    }

    /// How many `HEAD newNonce` requests were seen.
    pub fn head_nonce_requests(&self) -> usize {
        self.head_nonces
    }
}
