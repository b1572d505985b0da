//! acme-proto in a JavaScript event loop: one class, [`Issuer`], that creates an ACME
//! account and orders a certificate over http-01, while the host (Node.js,
//! `examples/wasm/issue.mjs`) moves the bytes, tells the time, gives the random bytes
//! and serves the challenge.
//!
//! The core is built without `std` (`default-features = false`): it reads no clock and
//! draws no randomness of its own. This crate reads none either (its `clippy.toml`
//! forbids the clock), and nothing in its dependency tree uses `getrandom`.
//!
//! # The loop, for a JavaScript reader
//!
//! ACME (RFC 8555) is a conversation with a certificate authority (CA) over HTTPS: make
//! an account, ask for a certificate for some names (an *order*), prove each name is
//! yours (for http-01: serve a given text at
//! `http://NAME/.well-known/acme-challenge/TOKEN`), send a certificate signing request
//! (CSR), download the certificate. The `Issuer` decides every request and every wait;
//! the host only carries them out. Call `poll(Date.now())` and act on what it returns:
//!
//! | `step.kind` | what the host does |
//! |---|---|
//! | `"send"` | `fetch(step.url, { method, headers, body })`, giving up after `step.timeLimitMs` and reading at most `step.maxResponseBody` bytes; then `handleResponse(step.id, status, [...headers], body, Date.now())`, or `handleTransportFailure(step.id, kind, Date.now())`. Poll again at once: several requests may be out together. |
//! | `"present"` | serve `step.keyAuthorization` (as `text/plain`) at `step.path` for `step.identifier`, then `challengeReady(step.challengeUrl)`, then poll again. |
//! | `"cleanup"` | stop serving `step.token`; poll again. |
//! | `"wait"` | poll again at `step.untilMs` (or earlier, when a response came back). |
//! | `"inFlight"` | every request that can go is out: poll again once one has been answered. |
//! | `"awaitingCaller"` | a `present` was not answered with `challengeReady`: answer it, then poll. |
//! | `"done"` | the certificate is there: `certificatePem()`, `privateKeyPem()`. |
//!
//! Every method that can fail throws a JavaScript `Error` with the core's text as its
//! message and a `kind` property (`problem` when the CA refused, `malformed` when its
//! answer broke the protocol, `transport` when requests kept failing, `misuse` when the
//! host called wrongly, and a few more). Nothing the network sends can make this module
//! panic.
#![forbid(unsafe_code)]

mod csr;
mod js;

use acme_proto::client::{
    AccountInfo, NewAccount, NewOrder, Operation, OrderEvent, OrderFlow, SingleRequest, Solution,
};
use acme_proto::crypto::AccountKey;
use acme_proto::{Client, Identifier, RequestId, Response, SignatureAlgorithm, Step};
use chacha20::ChaCha20Rng;
use rand_core::SeedableRng as _;
use url::Url;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::js::{core_error, misuse};

/// How many random bytes [`Issuer::new`] takes.
const SEED_LEN: usize = 32;

/// One certificate from one ACME server: account creation, then an order over http-01.
///
/// ```js
/// const issuer = new Issuer(directoryUrl, ["www.example.org"], crypto.getRandomValues(new Uint8Array(32)));
/// for (;;) {
///   const step = issuer.poll(Date.now());
///   if (step.kind === "done") break;
///   // ... act on step.kind: see examples/wasm/README.md
/// }
/// const pem = issuer.certificatePem();
/// ```
#[wasm_bindgen]
pub struct Issuer {
    client: Client,
    phase: Phase,
    certificate_key: Zeroizing<String>,
    account_url: Option<String>,
    /// Why this module ended the order itself (no http-01 challenge offered): thrown at
    /// `Done`, once the challenges already presented have been cleaned up.
    failure: Option<JsValue>,
}

enum Phase {
    /// Creating the account (or finding it); the order waits, its CSR given.
    Account(SingleRequest<AccountInfo>, Box<OrderFlow>),
    Order(Box<OrderFlow>),
    Issued(String),
    Failed(JsValue),
}

#[wasm_bindgen]
impl Issuer {
    /// An issuer for `domains` (DNS names) at the ACME server whose directory is
    /// `directory_url` (https). `random` must be 32 bytes from a cryptographic source
    /// (`crypto.getRandomValues`): they seed a ChaCha20 generator from which the account
    /// key (P-256, made by the core) and the certificate key (P-256) are drawn.
    #[wasm_bindgen(constructor)]
    pub fn new(directory_url: &str, domains: Vec<String>, random: &[u8]) -> Result<Self, JsValue> {
        let seed: [u8; SEED_LEN] = random.try_into().map_err(|_| {
            misuse(format!(
                "random must be {SEED_LEN} bytes from crypto.getRandomValues, not {}",
                random.len()
            ))
        })?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let directory_url: Url = directory_url
            .parse()
            .map_err(|e| misuse(format!("the directory URL {directory_url:?}: {e}")))?;
        if domains.is_empty() {
            return Err(misuse("at least one domain is needed"));
        }
        let identifiers = domains
            .iter()
            .map(|d| Identifier::dns(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| core_error(&e.into()))?;
        let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut rng)
            .map_err(|e| core_error(&e))?;
        let client = Client::new(directory_url, key).map_err(|e| core_error(&e.into()))?;
        let request = csr::certificate_request(&identifiers, &mut rng).map_err(misuse)?;
        let mut order =
            OrderFlow::new(NewOrder::new(identifiers)).map_err(|e| core_error(&e.into()))?;
        order
            .provide_csr(request.der)
            .map_err(|e| core_error(&e.into()))?;
        // No contact address: none is required by RFC 8555, and none is needed here.
        let account = client.new_account(NewAccount::agreeing_to_terms(Vec::<String>::new()));
        Ok(Self {
            client,
            phase: Phase::Account(account, Box::new(order)),
            certificate_key: request.key_pem,
            account_url: None,
            failure: None,
        })
    }

    /// The next step, as a plain object with a `kind` (see examples/wasm/README.md).
    /// `now_ms` is `Date.now()`. Throws when the account or the order failed, with the
    /// core's error text; every later call throws the same error.
    pub fn poll(&mut self, now_ms: f64) -> Result<JsValue, JsValue> {
        let now = js::time(now_ms)?;
        loop {
            match &mut self.phase {
                Phase::Account(account, _) => match account.poll(&mut self.client, now) {
                    Step::Done => {
                        let outcome = account.take_outcome();
                        let order = match core::mem::replace(
                            &mut self.phase,
                            Phase::Failed(misuse("unreachable")),
                        ) {
                            Phase::Account(_, order) => order,
                            _ => return Err(self.fail(js::error("bug", "the phase changed"))),
                        };
                        match outcome {
                            Some(Ok(info)) => {
                                self.account_url = Some(info.url.to_string());
                                self.phase = Phase::Order(order);
                            }
                            Some(Err(error)) => return Err(self.fail(core_error(&error))),
                            None => return Err(self.fail(stalled())),
                        }
                    }
                    Step::Event(never) => match never {},
                    step => return plain_step(step),
                },
                Phase::Order(order) => match order.poll(&mut self.client, now) {
                    Step::Event(OrderEvent::Authorize {
                        identifier, offers, ..
                    }) => {
                        let http01 = offers.iter().find_map(|offer| match &offer.solution {
                            Solution::Http01 {
                                token,
                                path,
                                key_authorization,
                            } => Some((offer, token, path, key_authorization)),
                            _ => None,
                        });
                        let Some((offer, token, path, key_authorization)) = http01 else {
                            let offered: Vec<_> = offers.iter().map(|o| o.type_name()).collect();
                            self.failure = Some(misuse(format!(
                                "the server offered no http-01 challenge for {identifier} \
                                 (offered: {offered:?})"
                            )));
                            // Cleanups of what was presented come, then `Done`.
                            order.abandon();
                            continue;
                        };
                        let step = js::object("present")?;
                        js::set(&step, "challengeUrl", offer.url.as_str())?;
                        js::set(&step, "identifier", identifier.to_string())?;
                        js::set(&step, "token", token.as_str())?;
                        js::set(&step, "path", path.as_str())?;
                        js::set(&step, "keyAuthorization", key_authorization.as_str())?;
                        return Ok(step.into());
                    }
                    Step::Event(OrderEvent::Cleanup(offer)) => {
                        if let Solution::Http01 { token, .. } = &offer.solution {
                            let step = js::object("cleanup")?;
                            js::set(&step, "challengeUrl", offer.url.as_str())?;
                            js::set(&step, "token", token.as_str())?;
                            return Ok(step.into());
                        }
                    }
                    // Created, ReplacesDropped: nothing to do; NeedCsr: the CSR was given
                    // up front.
                    Step::Event(_) => {}
                    Step::Done => {
                        self.phase = match order.take_outcome() {
                            Some(Ok(issued)) => Phase::Issued(issued.chain.into_pem()),
                            Some(Err(error)) => {
                                let error =
                                    self.failure.take().unwrap_or_else(|| core_error(&error));
                                Phase::Failed(error)
                            }
                            None => Phase::Failed(stalled()),
                        };
                    }
                    step => return plain_step(step),
                },
                Phase::Issued(_) => return Ok(js::object("done")?.into()),
                Phase::Failed(error) => return Err(error.clone()),
            }
        }
    }

    /// Hands back the response to request `id`: its status, its headers as `[name,
    /// value]` pairs (`[...response.headers]`), its body (at most the request's
    /// `maxResponseBody` bytes), and `Date.now()`.
    #[wasm_bindgen(js_name = handleResponse)]
    pub fn handle_response(
        &mut self,
        id: f64,
        status: u16,
        headers: JsValue,
        body: Vec<u8>,
        now_ms: f64,
    ) -> Result<(), JsValue> {
        let now = js::time(now_ms)?;
        let id = request_id(id)?;
        let response = Response::new(status, js::headers(&headers)?, body);
        let handled = match &mut self.phase {
            Phase::Account(account, _) => {
                account.handle_response(&mut self.client, id, response, now)
            }
            Phase::Order(order) => order.handle_response(&mut self.client, id, response, now),
            _ => return Err(misuse(format!("request #{} is not in flight", id.get()))),
        };
        handled.map_err(|e| core_error(&e.into()))
    }

    /// Says that request `id` got no response, and why: `"connect"` (no connection
    /// could be made), `"reset"` (the connection broke), `"timeout"` (past
    /// `timeLimitMs`), `"too-large"` (the body passed `maxResponseBody`), `"tls"` (the
    /// handshake or the server's certificate failed), `"other"`. The core resends when
    /// that can help.
    #[wasm_bindgen(js_name = handleTransportFailure)]
    pub fn handle_transport_failure(
        &mut self,
        id: f64,
        kind: &str,
        now_ms: f64,
    ) -> Result<(), JsValue> {
        let now = js::time(now_ms)?;
        let id = request_id(id)?;
        let failure = js::transport_failure(kind)?;
        let handled = match &mut self.phase {
            Phase::Account(account, _) => {
                account.handle_transport_failure(&mut self.client, id, failure, now)
            }
            Phase::Order(order) => {
                order.handle_transport_failure(&mut self.client, id, failure, now)
            }
            _ => return Err(misuse(format!("request #{} is not in flight", id.get()))),
        };
        handled.map_err(|e| core_error(&e.into()))
    }

    /// Says that the challenge of a `present` step is being served: the CA will be
    /// asked to validate it.
    #[wasm_bindgen(js_name = challengeReady)]
    pub fn challenge_ready(&mut self, challenge_url: &str) -> Result<(), JsValue> {
        let Phase::Order(order) = &mut self.phase else {
            return Err(misuse("no challenge is waiting: the order is not running"));
        };
        let url: Url = challenge_url
            .parse()
            .map_err(|e| misuse(format!("the challenge URL {challenge_url:?}: {e}")))?;
        order
            .challenge_ready(&url)
            .map_err(|e| core_error(&e.into()))
    }

    /// Ends the order early (the host gave up, say on its own error): every challenge
    /// presented comes back as a `cleanup` step, then `poll` throws
    /// "the operation was abandoned by its caller". Nothing more is sent.
    pub fn abandon(&mut self) {
        match &mut self.phase {
            Phase::Account(..) => {
                self.phase = Phase::Failed(core_error(&acme_proto::Error::Abandoned));
            }
            Phase::Order(order) => order.abandon(),
            Phase::Issued(_) | Phase::Failed(_) => {}
        }
    }

    /// The certificate chain (PEM, end-entity first, exactly as the CA sent it), once
    /// `poll` said `done`.
    #[wasm_bindgen(js_name = certificatePem)]
    pub fn certificate_pem(&self) -> Result<String, JsValue> {
        match &self.phase {
            Phase::Issued(pem) => Ok(pem.clone()),
            _ => Err(misuse("no certificate yet: poll until the step is done")),
        }
    }

    /// The certificate's private key (P-256, PKCS#8 PEM). Made in the constructor; keep
    /// it secret.
    #[wasm_bindgen(js_name = privateKeyPem)]
    pub fn private_key_pem(&self) -> String {
        self.certificate_key.as_str().to_owned()
    }

    /// The account URL, once the account was created (or found).
    #[wasm_bindgen(js_name = accountUrl)]
    pub fn account_url(&self) -> Option<String> {
        self.account_url.clone()
    }
}

impl Issuer {
    /// Ends in `error`: every later `poll` throws it again.
    fn fail(&mut self, error: JsValue) -> JsValue {
        self.phase = Phase::Failed(error.clone());
        error
    }
}

/// A step that is the same for every operation: send, wait, in flight, awaiting the
/// caller. Any other (a step added to the core since) is an error, never skipped: a
/// skipped step would be a busy loop.
fn plain_step<E>(step: Step<E>) -> Result<JsValue, JsValue> {
    match step {
        Step::Send(request) => js::send(&request),
        Step::Wait(wait) => js::wait(&wait),
        Step::InFlight => Ok(js::object("inFlight")?.into()),
        Step::AwaitingCaller => Ok(js::object("awaitingCaller")?.into()),
        _ => Err(js::error("bug", "a step this module does not know")),
    }
}

/// The operation said `Done` but had no outcome: cannot happen with the core's
/// operations.
fn stalled() -> JsValue {
    js::error("bug", "the operation ended without an outcome")
}

/// A request id from JavaScript: a whole number, as `poll` gave it.
fn request_id(id: f64) -> Result<RequestId, JsValue> {
    if id.is_finite() && id >= 0.0 && id.fract() == 0.0 && id <= 9_007_199_254_740_991.0 {
        Ok(RequestId::new(id as u64))
    } else {
        Err(misuse(format!("{id} is not a request id from poll")))
    }
}
