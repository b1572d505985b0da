//! One request, from intent to final response, with the whole retry policy applied.
//!
//! Every operation sends its requests through an [`Exchange`], so the rules live in one
//! place: fetch the directory when its URLs are needed, take a nonce from the pool (a
//! `HEAD newNonce` only when the pool is empty), sign, resend with a fresh nonce after
//! `badNonce`, wait as told after 429/503, back off and resend after a transport failure
//! when a resend can help (see [`TransportFailure`]) and the request is safe to repeat,
//! keep one request and its resends within [`Policy::request_timeout`](super::Policy)
//! (each attempt carries the time left as [`Request::time_limit`]), and never wait past
//! the operation's deadline.
//!
//! ```text
//!            ┌───────────── badNonce (bounded) ─────────────┐
//!            ▼                                              │
//!  Ready ──► [directory?] ──► [nonce?] ──► Sent(main) ──► classify ──► Done(Ok)
//!    ▲                                        │             │  └──────► Done(Err)
//!    │                                        │ transport   │ 429/503 (bounded)
//!    └──────────── Waiting(until) ◄───────────┴─────────────┘
//! ```

use url::Url;

use super::spec::resolve;
pub(crate) use super::spec::{Body, Endpoint, KeyChoice, NewAccountPayload, Payload, Spec};
use super::{Client, Wait, WaitReason};
use crate::crypto::{KeyId, Signer, jws};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::limits::ResponseKind;
use crate::problem::ProblemType;
use crate::resource::Directory;
use crate::time::UnixTime;
use crate::wire::{Method, Request, RequestId, Response, TransportFailure};

/// A final response, with the URL it came from (to resolve `Location` and `Link`).
#[derive(Debug)]
pub(crate) struct Exchanged {
    pub(crate) response: Response,
    pub(crate) url: Url,
}

/// What an exchange wants next.
#[derive(Debug)]
pub(crate) enum ExchangeStep {
    Send(Request),
    Wait(Wait),
    Pending,
    Done(Result<Exchanged, Error>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Directory,
    Nonce,
    Main,
}

#[derive(Debug)]
enum ExchangeState {
    Ready,
    Sent { id: RequestId, leg: Leg, url: Url },
    Waiting(Wait),
    Finished(Option<Result<Exchanged, Error>>),
}

/// One request through the retry policy. See the module docs.
#[derive(Debug)]
pub(crate) struct Exchange {
    spec: Spec,
    phase: ExchangeState,
    bad_nonce_retries: u32,
    unavailable_retries: u32,
    transport_failures: u32,
    timeouts: u32,
    /// When the request out (or waiting to be resent) was first sent, since the last
    /// answer to the main request (the directory and nonce it needs included): its
    /// [`Policy::request_timeout`](super::Policy) runs from there.
    first_sent: Option<UnixTime>,
}

enum Verdict {
    Success,
    BadNonce(Error),
    Unavailable { error: Error, until: UnixTime },
    Fail(Error),
}

impl Exchange {
    pub(crate) fn new(spec: Spec) -> Self {
        Self {
            spec,
            phase: ExchangeState::Ready,
            bad_nonce_retries: 0,
            unavailable_retries: 0,
            transport_failures: 0,
            timeouts: 0,
            first_sent: None,
        }
    }

    /// The request awaiting its response, if any.
    pub(crate) fn in_flight(&self) -> Option<RequestId> {
        match self.phase {
            ExchangeState::Sent { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The next step. `other` is the operation's own key, for [`KeyChoice::OtherJwk`]
    /// and [`Payload::KeyChange`].
    pub(crate) fn poll(
        &mut self,
        client: &mut Client,
        other: Option<&dyn Signer>,
        now: UnixTime,
    ) -> ExchangeStep {
        loop {
            match &mut self.phase {
                ExchangeState::Finished(result) => {
                    return match result.take() {
                        Some(result) => ExchangeStep::Done(result),
                        None => ExchangeStep::Pending,
                    };
                }
                ExchangeState::Sent { .. } => return ExchangeStep::Pending,
                ExchangeState::Waiting(wait) if now < wait.until => {
                    return ExchangeStep::Wait(*wait);
                }
                ExchangeState::Waiting(_) => self.phase = ExchangeState::Ready,
                ExchangeState::Ready => {
                    let request_timeout = client.policy().request_timeout;
                    let resend = self.first_sent.is_some();
                    let first_sent = *self.first_sent.get_or_insert(now);
                    let end = first_sent.saturating_add(request_timeout);
                    if resend && now >= end {
                        // A resend whose backoff ran late: not started past the budget.
                        self.phase = ExchangeState::Finished(None);
                        return ExchangeStep::Done(Err(Error::Transport {
                            attempts: self.transport_failures,
                        }));
                    }
                    return match self.next_request(client, other) {
                        Ok((leg, mut request)) => {
                            // At most the whole budget, should the clock go back.
                            let left = end.saturating_duration_since(now).min(request_timeout);
                            request.time_limit = Some(left);
                            self.phase = ExchangeState::Sent {
                                id: request.id,
                                leg,
                                url: request.url.clone(),
                            };
                            ExchangeStep::Send(request)
                        }
                        Err(error) => {
                            self.phase = ExchangeState::Finished(None);
                            ExchangeStep::Done(Err(error))
                        }
                    };
                }
            }
        }
    }

    /// Takes the response to the request in flight.
    pub(crate) fn handle_response(
        &mut self,
        client: &mut Client,
        id: RequestId,
        response: Response,
        now: UnixTime,
        deadline: UnixTime,
    ) -> Result<(), Misuse> {
        let (leg, url) = self.take_in_flight(id)?;
        // An answer to the request itself ends it: whatever comes next (after badNonce,
        // a 429/503 wait) is a new one, with its own budget. The directory and nonce it
        // needs are part of it.
        if leg == Leg::Main {
            self.first_sent = None;
        }
        // Every response carries a nonce worth keeping, errors included (RFC 8555 §6.5).
        if let Some(nonce) = response.replay_nonce() {
            client.nonces.push(nonce);
        }
        let policy = client.policy().clone();
        let limits = client.limits().clone();
        let verdict = classify(&response, &limits, &policy, now);
        self.phase = match (verdict, leg) {
            (Verdict::Success, Leg::Directory) => {
                match response.json::<Directory>(ResponseKind::Directory, &limits, now) {
                    Ok(directory) => {
                        client.directory = Some(directory);
                        ExchangeState::Ready
                    }
                    Err(error) => ExchangeState::Finished(Some(Err(error))),
                }
            }
            (Verdict::Success, Leg::Nonce) => {
                let missing = || {
                    Malformed::new(
                        ResponseKind::Nonce.name(),
                        MalformedKind::MissingHeader("Replay-Nonce"),
                    )
                };
                if client.nonces.len() > 0 {
                    ExchangeState::Ready
                } else if response.replay_nonce().is_some()
                    && self.bad_nonce_retries < policy.max_bad_nonce_retries
                {
                    // A nonce the pool refused (one already used): asking again is a
                    // resend like after badNonce, and counted as one, so a server that
                    // keeps repeating a used nonce cannot keep us asking (found writing
                    // the order fuzz target's bound on newNonce requests in a row).
                    self.bad_nonce_retries += 1;
                    ExchangeState::Ready
                } else {
                    ExchangeState::Finished(Some(Err(missing().into())))
                }
            }
            (Verdict::Success, Leg::Main) => {
                ExchangeState::Finished(Some(Ok(Exchanged { response, url })))
            }
            (Verdict::BadNonce(error), _) => {
                if self.spec.is_signed() && self.bad_nonce_retries < policy.max_bad_nonce_retries {
                    self.bad_nonce_retries += 1;
                    ExchangeState::Ready
                } else {
                    ExchangeState::Finished(Some(Err(error)))
                }
            }
            (Verdict::Unavailable { error, until }, _) => {
                let too_long = until.saturating_duration_since(now) > policy.max_retry_after;
                if self.unavailable_retries < policy.max_unavailable_retries
                    && !too_long
                    && until <= deadline
                {
                    self.unavailable_retries += 1;
                    ExchangeState::Waiting(Wait {
                        until,
                        reason: WaitReason::Unavailable {
                            status: response.status,
                        },
                    })
                } else {
                    ExchangeState::Finished(Some(Err(error)))
                }
            }
            (Verdict::Fail(error), _) => ExchangeState::Finished(Some(Err(error))),
        };
        Ok(())
    }

    /// Takes a transport failure of the request in flight.
    ///
    /// Resent after a backoff when the failure is one a resend can help with (see
    /// [`TransportFailure`]), the resends are not used up, and the backoff ends before
    /// both the request's budget and the operation's deadline.
    pub(crate) fn handle_transport_failure(
        &mut self,
        client: &Client,
        id: RequestId,
        failure: TransportFailure,
        now: UnixTime,
        deadline: UnixTime,
    ) -> Result<(), Misuse> {
        let (leg, _) = self.take_in_flight(id)?;
        self.transport_failures = self.transport_failures.saturating_add(1);
        let attempts = self.transport_failures;
        let policy = client.policy();
        // The directory and newNonce are plain reads; the main request says for itself.
        let safe = leg != Leg::Main || self.spec.resend_on_transport_failure;
        let worth_resending = match failure {
            // Nothing reached the server: sending again cannot repeat anything.
            TransportFailure::Connect => true,
            TransportFailure::Reset => safe,
            TransportFailure::TimedOut => {
                self.timeouts = self.timeouts.saturating_add(1);
                safe && self.timeouts <= policy.max_timeout_retries
            }
            TransportFailure::TooLarge | TransportFailure::Tls | TransportFailure::Other => false,
        };
        let until = now.saturating_add(policy.transport_backoff(attempts));
        let budget_end = self
            .first_sent
            .map_or(UnixTime::MAX, |t| t.saturating_add(policy.request_timeout));
        self.phase = if worth_resending
            && attempts <= policy.max_transport_retries
            && until <= deadline
            && until < budget_end
        {
            ExchangeState::Waiting(Wait {
                until,
                reason: WaitReason::TransportBackoff { attempt: attempts },
            })
        } else {
            ExchangeState::Finished(Some(Err(Error::Transport { attempts })))
        };
        Ok(())
    }

    fn take_in_flight(&mut self, id: RequestId) -> Result<(Leg, Url), Misuse> {
        match core::mem::replace(&mut self.phase, ExchangeState::Ready) {
            ExchangeState::Sent { id: sent, leg, url } if sent == id => Ok((leg, url)),
            other => {
                self.phase = other;
                Err(Misuse::InvalidArgument(
                    "no request with this id is in flight here",
                ))
            }
        }
    }

    /// The next request to send (the directory, a nonce, or the request itself), with
    /// what it is for: its response is routed by that, never guessed from its method (a
    /// GET of the directory for a GET operation was once read as the operation's answer).
    fn next_request(
        &mut self,
        client: &mut Client,
        other: Option<&dyn Signer>,
    ) -> Result<(Leg, Request), Error> {
        let needs_directory = !matches!(self.spec.endpoint, Endpoint::Url(_))
            || (self.spec.is_signed() && client.nonces.len() == 0);
        let Some(directory) = client.directory.as_ref() else {
            if needs_directory {
                let url = client.directory_url().clone();
                let request = plain(client, Method::Get, url, ResponseKind::Directory);
                return Ok((Leg::Directory, request));
            }
            return Ok((Leg::Main, self.main_request(client, other)?));
        };
        if self.spec.is_signed() && client.nonces.len() == 0 {
            let url = directory.new_nonce.clone();
            client.check_url(&url)?;
            client.count_nonce_request();
            let request = plain(client, Method::Head, url, ResponseKind::Nonce);
            return Ok((Leg::Nonce, request));
        }
        Ok((Leg::Main, self.main_request(client, other)?))
    }

    fn main_request(
        &self,
        client: &mut Client,
        other: Option<&dyn Signer>,
    ) -> Result<Request, Error> {
        let url = resolve(&self.spec.endpoint, client.directory.as_ref())?;
        client.check_url(&url)?;
        let mut request = plain(client, self.spec.method, url, self.spec.kind);
        if self.spec.kind == ResponseKind::Certificate {
            request
                .headers
                .append("Accept", "application/pem-certificate-chain");
        }
        let Body::Signed { payload, key } = &self.spec.body else {
            return Ok(request);
        };
        let nonce = client.nonces.take().ok_or(Misuse::InvalidArgument(
            "no nonce available: the pool was emptied",
        ))?;
        let account_url = || {
            client
                .account_url
                .as_ref()
                .map(Url::as_str)
                .ok_or(Misuse::InvalidArgument(
                    "no account yet: create or find the account first",
                ))
        };
        let other = || {
            other.ok_or(Misuse::InvalidArgument(
                "this request needs the operation's key",
            ))
        };
        let url = request.url.as_str();
        let body = match (payload, key) {
            (Payload::KeyChange, _) => {
                jws::key_change(client.key(), account_url()?, other()?, nonce.as_str(), url)?
            }
            (Payload::PostAsGet, KeyChoice::AccountKid) => {
                jws::post_as_get(client.key(), account_url()?, nonce.as_str(), url)?
            }
            (Payload::PostAsGet, _) => {
                return Err(Misuse::InvalidArgument(
                    "POST-as-GET is signed with the account's kid",
                )
                .into());
            }
            (Payload::Json(json), KeyChoice::AccountKid) => jws::sign(
                client.key(),
                KeyId::Kid(account_url()?),
                nonce.as_str(),
                url,
                json,
            )?,
            (Payload::Json(json), KeyChoice::AccountJwk) => {
                jws::sign(client.key(), KeyId::Jwk, nonce.as_str(), url, json)?
            }
            (Payload::Json(json), KeyChoice::OtherJwk) => {
                jws::sign(other()?, KeyId::Jwk, nonce.as_str(), url, json)?
            }
            (Payload::NewAccount(lookup), KeyChoice::OtherJwk) => {
                // A lookup by another key (a rollover's check of which key the server
                // holds): signed by that key, with its JWK.
                let key = other()?;
                let json = lookup.to_json(&key.public_jwk(), url)?;
                jws::sign(key, KeyId::Jwk, nonce.as_str(), url, &json)?
            }
            (Payload::NewAccount(new_account), _) => {
                let json = new_account.to_json(&client.key().public_jwk(), url)?;
                jws::sign(client.key(), KeyId::Jwk, nonce.as_str(), url, &json)?
            }
        };
        request
            .headers
            .append("Content-Type", "application/jose+json");
        request.body = body;
        Ok(request)
    }
}

/// What happened to a request, as the caller reports it.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Its response.
    Response(Response),
    /// A transport failure, of this kind.
    TransportFailure(TransportFailure),
}

/// Hands what happened to request `id` to the operation's exchange, if it has one out.
pub(crate) fn deliver(
    exchange: Option<&mut Exchange>,
    client: &mut Client,
    id: RequestId,
    delivery: Delivery,
    now: UnixTime,
    deadline: UnixTime,
) -> Result<(), Misuse> {
    let exchange = exchange.ok_or(NOT_IN_FLIGHT)?;
    match delivery {
        Delivery::Response(response) => {
            exchange.handle_response(client, id, response, now, deadline)
        }
        Delivery::TransportFailure(failure) => {
            exchange.handle_transport_failure(client, id, failure, now, deadline)
        }
    }
}

/// The caller handed back a request the operation did not send, or twice.
pub(crate) const NOT_IN_FLIGHT: Misuse =
    Misuse::InvalidArgument("no request with this id is in flight here");

fn plain(client: &mut Client, method: Method, url: Url, kind: ResponseKind) -> Request {
    let cap = client.limits().read_cap(kind);
    Request::new(client.next_request_id(), method, url, cap)
}

fn classify(
    response: &Response,
    limits: &crate::limits::Limits,
    policy: &super::Policy,
    now: UnixTime,
) -> Verdict {
    if response.is_success() {
        return Verdict::Success;
    }
    let error = response.error(limits, now);
    if let Error::Problem(problem) = &error
        && problem.kind == ProblemType::BadNonce
    {
        return Verdict::BadNonce(error);
    }
    if matches!(response.status, 429 | 503) {
        let until = response
            .retry_after(now)
            .unwrap_or_else(|| now.saturating_add(policy.default_retry_after));
        return Verdict::Unavailable {
            error,
            until: until.max(now),
        };
    }
    Verdict::Fail(error)
}
