//! Authorizations on their own (RFC 8555 §7.4.1, §7.5.2): pre-authorization through
//! `newAuthz`, and deactivation.
//!
//! ```text
//!  Create ──newAuthz──► valid ───────────────────────────────────► Done(Ok)
//!                       pending ─► Authorize event ─► challenge_ready() ─► Respond
//!                                                                            │
//!                                  Done(Ok) ◄── valid ◄── Poll ◄─────────────┘
//!                                  Done(Err) ◄─ invalid ──┘  (pending: poll again)
//! ```

use alloc::vec::Vec;

use url::Url;

use super::authorization_table::Authorize;
use super::authorization_table::{AuthorizationTable, failure};
use super::exchange::{Endpoint, Exchanged, Spec};
use super::offer::ChallengeOffer;
use super::order::OrderEvent;
use super::polling::Polling;
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::single_request::SingleRequest;
use super::{Client, Polled};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;
use crate::limits::ResponseKind;
use crate::resource::{Authorization, Challenge};
use crate::status::AuthorizationStatus;
use crate::time::UnixTime;

impl Client {
    /// Fetches an authorization (POST-as-GET, RFC 8555 §7.5): where it stands, and its
    /// challenges.
    pub fn fetch_authorization(&self, url: Url) -> Result<SingleRequest<Authorization>, Misuse> {
        self.account_url().ok_or(NO_ACCOUNT)?;
        Ok(SingleRequest::new(
            "authorization fetch",
            Spec::fetch(url, ResponseKind::Authorization),
            |client, exchanged, now| {
                exchanged
                    .response
                    .json(ResponseKind::Authorization, client.limits(), now)
            },
        ))
    }

    /// Tells the server that the challenge at `url` is ready to be validated (`POST {}`,
    /// RFC 8555 §7.5.1), outside an order: for a caller that tracks an authorization
    /// itself. Gives the challenge as the server answered; the authorization says the
    /// outcome (fetch it with [`fetch_authorization`](Self::fetch_authorization)).
    pub fn answer_challenge(&self, url: Url) -> Result<SingleRequest<Challenge>, Misuse> {
        self.account_url().ok_or(NO_ACCOUNT)?;
        let spec = Spec::post(
            Endpoint::Url(url),
            ResponseKind::Challenge,
            b"{}".to_vec(),
            true,
        );
        Ok(SingleRequest::new(
            "challenge answer",
            spec,
            |client, exchanged, now| {
                exchanged
                    .response
                    .json(ResponseKind::Challenge, client.limits(), now)
            },
        ))
    }

    /// Deactivates an authorization (RFC 8555 §7.5.2), so that it can no longer be used
    /// to issue certificates.
    pub fn deactivate_authorization(
        &self,
        url: Url,
    ) -> Result<SingleRequest<Authorization>, Misuse> {
        self.account_url().ok_or(NO_ACCOUNT)?;
        let payload = br#"{"status":"deactivated"}"#.to_vec();
        let spec = Spec::post(
            Endpoint::Url(url),
            ResponseKind::Authorization,
            payload,
            true,
        );
        Ok(SingleRequest::new(
            "authorization deactivation",
            spec,
            |client, exchanged, now| {
                exchanged
                    .response
                    .json(ResponseKind::Authorization, client.limits(), now)
            },
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PreAuthorizationState {
    /// Sending `newAuthz`.
    Create,
    /// Telling the server of the chosen challenge, or waiting for the caller's choice.
    Respond,
    /// Polling the authorization, next at `at`.
    Poll {
        at: UnixTime,
    },
    Done,
}

/// The refusal of an operation that needs an account before there is one.
const NO_ACCOUNT: Misuse =
    Misuse::InvalidArgument("no account yet: create or find the account first");

/// What a pre-authorization waits for.
const VALIDATION: &str = "validation of the authorization's challenge";

/// What a [`PreAuthorization`] tells the caller: the two events of an [`OrderEvent`]
/// that concern one authorization, and convertible into it, so that one handler can
/// serve orders and pre-authorizations.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "the shape of OrderEvent's variants, which it converts into; a few per operation"
)]
pub enum AuthorizationEvent {
    /// Prove control of the identifier: put one of the offers in place, then call
    /// [`PreAuthorization::challenge_ready`] with its URL.
    Authorize {
        /// The authorization URL.
        authorization: Url,
        /// What it authorizes.
        identifier: Identifier,
        /// Whether it is for a wildcard name.
        wildcard: bool,
        /// The challenges this client can answer for it, in the server's order.
        offers: Vec<ChallengeOffer>,
    },
    /// A challenge put in place is no longer needed: remove it.
    Cleanup(ChallengeOffer),
}

impl From<Authorize> for AuthorizationEvent {
    fn from(held: Authorize) -> Self {
        Self::Authorize {
            authorization: held.authorization,
            identifier: held.identifier,
            wildcard: held.wildcard,
            offers: held.offers,
        }
    }
}

impl From<AuthorizationEvent> for OrderEvent {
    fn from(event: AuthorizationEvent) -> Self {
        match event {
            AuthorizationEvent::Authorize {
                authorization,
                identifier,
                wildcard,
                offers,
            } => Self::Authorize {
                authorization,
                identifier,
                wildcard,
                offers,
            },
            AuthorizationEvent::Cleanup(offer) => Self::Cleanup(offer),
        }
    }
}

/// Pre-authorization of one identifier through `newAuthz` (RFC 8555 §7.4.1), where the
/// directory offers it. Emits [`AuthorizationEvent`]s: the `Authorize` and `Cleanup` of
/// an order, from the same authorization table (one authorization, checked against the
/// identifier asked).
#[derive(Debug)]
pub struct PreAuthorization(Runner<PreAuthorizationMachine>);

/// The machine of a [`PreAuthorization`].
#[derive(Debug)]
pub(crate) struct PreAuthorizationMachine {
    /// The identifier asked, alone: what the authorization is checked against.
    identifier: [Identifier; 1],
    url: Option<Url>,
    authorizations: AuthorizationTable,
    state: PreAuthorizationState,
    polling: Polling,
    effects: Effects<AuthorizationEvent, Authorization>,
}

impl PreAuthorization {
    /// Pre-authorizes `identifier`.
    pub fn new(identifier: Identifier) -> Self {
        Self(Runner::new(PreAuthorizationMachine {
            identifier: [identifier],
            url: None,
            authorizations: AuthorizationTable::default(),
            state: PreAuthorizationState::Create,
            polling: Polling::default(),
            effects: Effects::default(),
        }))
    }

    /// The authorization URL, once created.
    pub fn url(&self) -> Option<&Url> {
        self.0.machine().url.as_ref()
    }

    /// Says that the offered challenge at `challenge_url` is in place.
    pub fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        self.0.machine_mut().challenge_ready(challenge_url)
    }

    /// Ends the pre-authorization now, as the caller decided: the challenge given to
    /// [`challenge_ready`](Self::challenge_ready), if any, comes back in an
    /// [`AuthorizationEvent::Cleanup`], then `Done`, with the outcome `Err(Error::Abandoned)`.
    /// Nothing more is sent. One that has ended already is left as it is.
    pub fn abandon(&mut self) {
        self.0.fail(Error::Abandoned);
    }
}

impl PreAuthorizationMachine {
    fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        if self.state == PreAuthorizationState::Done {
            return Err(Misuse::InvalidArgument(
                "the pre-authorization has ended: do not provision its challenge",
            ));
        }
        self.authorizations.choose(challenge_url, &self.identifier)
    }

    /// The authorization just read (created or polled), after its check: the caller
    /// is never asked to present a challenge for another name than the one asked.
    fn on_authorization(
        &mut self,
        client: &Client,
        url: &Url,
        authorization: Authorization,
        now: UnixTime,
        retry_after: Option<UnixTime>,
    ) -> Result<(), Error> {
        if authorization.wildcard {
            // RFC 8555 §7.4.1: no pre-authorization for a wildcard name.
            return Err(Malformed::new(
                "authorization",
                MalformedKind::mismatch(
                    "identifier",
                    alloc::format!("*.{}", authorization.identifier),
                ),
            )
            .into());
        }
        if self.state == PreAuthorizationState::Create {
            self.authorizations = AuthorizationTable::new(alloc::vec![url.clone()], Vec::new());
            self.authorizations
                .record(client, 0, url, &authorization, &self.identifier)?;
            for held in self.authorizations.release_offers() {
                self.effects.emit(held.into());
            }
        } else {
            self.authorizations
                .check(0, &authorization, &self.identifier)?;
        }
        match authorization.status {
            AuthorizationStatus::Valid => self.effects.end(Ok(authorization)),
            AuthorizationStatus::Pending if self.state == PreAuthorizationState::Create => {
                self.state = PreAuthorizationState::Respond;
            }
            AuthorizationStatus::Pending => {
                let at = self
                    .polling
                    .next(client.policy(), now, retry_after, VALIDATION)?;
                self.state = PreAuthorizationState::Poll { at };
            }
            _ => {
                return Err(failure(
                    &authorization,
                    "the authorization failed and says not why",
                ));
            }
        }
        Ok(())
    }

    fn on_result(
        &mut self,
        client: &mut Client,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let exchanged = result?;
        let limits = client.limits().clone();
        match self.state {
            PreAuthorizationState::Create | PreAuthorizationState::Poll { .. } => {
                let url = match &self.url {
                    Some(url) => url.clone(),
                    None => {
                        let url = exchanged.response.location(&exchanged.url)?;
                        client.check_url(&url)?;
                        self.url = Some(url.clone());
                        url
                    }
                };
                let authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                let retry_after = exchanged.response.retry_after(now);
                self.on_authorization(client, &url, authorization, now, retry_after)
            }
            PreAuthorizationState::Respond => {
                let _: Challenge =
                    exchanged
                        .response
                        .json(ResponseKind::Challenge, &limits, now)?;
                self.authorizations.responded(0);
                // RFC 8555 §8.2: the server says when to look again on the challenge.
                self.polling.restart();
                let retry_after = exchanged.response.retry_after(now);
                let at = self
                    .polling
                    .next(client.policy(), now, retry_after, VALIDATION)?;
                self.state = PreAuthorizationState::Poll { at };
                Ok(())
            }
            PreAuthorizationState::Done => Ok(()),
        }
    }
}

impl Machine for PreAuthorizationMachine {
    type Event = AuthorizationEvent;
    type Output = Authorization;
    type Purpose = ();

    fn operation(&self) -> &'static str {
        "pre-authorization"
    }

    fn effects(&mut self) -> &mut Effects<AuthorizationEvent, Authorization> {
        &mut self.effects
    }

    fn next(&mut self, _: &Client, now: UnixTime) -> Result<Next<()>, Error> {
        let spec = match &self.state {
            PreAuthorizationState::Create => {
                #[derive(serde::Serialize)]
                struct NewAuthz<'a> {
                    identifier: &'a Identifier,
                }
                let [identifier] = &self.identifier;
                let payload = serde_json::to_vec(&NewAuthz { identifier }).unwrap_or_default();
                Spec::post(
                    Endpoint::NewAuthz,
                    ResponseKind::Authorization,
                    payload,
                    false,
                )
            }
            PreAuthorizationState::Respond => match self.authorizations.unanswered() {
                Some((_, url)) => Spec::post(
                    Endpoint::Url(url.clone()),
                    ResponseKind::Challenge,
                    b"{}".to_vec(),
                    true,
                ),
                None if self.authorizations.offered() => return Ok(Next::Caller),
                None => return Err(Error::Bug("a pre-authorization with nothing to answer")),
            },
            PreAuthorizationState::Poll { at } if now < *at => {
                return Ok(Next::poll_at(
                    *at,
                    Polled::Authorization,
                    self.polling.asked(),
                ));
            }
            PreAuthorizationState::Poll { .. } => match &self.url {
                Some(url) => Spec::fetch(url.clone(), ResponseKind::Authorization),
                None => return Err(Error::Bug("a pre-authorization polled before it exists")),
            },
            PreAuthorizationState::Done => return Ok(Next::Again),
        };
        Ok(Next::Send((), spec))
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        (): (),
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.on_result(client, result, now)
    }

    fn on_end(&mut self) {
        self.state = PreAuthorizationState::Done;
        self.authorizations.discard_offers();
        for offer in self.authorizations.cleanups() {
            self.effects.emit(AuthorizationEvent::Cleanup(offer));
        }
    }
}

operation_by_runner!(PreAuthorization, AuthorizationEvent, Authorization);
