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

use alloc::boxed::Box;
use alloc::vec::Vec;

use url::Url;

use super::exchange::{Endpoint, Exchanged, Spec};
use super::offer::{self, ChallengeOffer};
use super::operation::Single;
use super::order::OrderEvent;
use super::polling::Polling;
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::{Client, Polled, Wait, WaitReason};
use crate::error::Error;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;
use crate::limits::ResponseKind;
use crate::resource::{Authorization, Challenge};
use crate::status::AuthorizationStatus;
use crate::time::UnixTime;

impl Client {
    /// Deactivates an authorization (RFC 8555 §7.5.2), so that it can no longer be used
    /// to issue certificates.
    pub fn deactivate_authorization(&self, url: Url) -> Result<Single<Authorization>, Misuse> {
        if self.account_url().is_none() {
            return Err(Misuse::InvalidArgument(
                "no account yet: create or find the account first",
            ));
        }
        let payload = br#"{"status":"deactivated"}"#.to_vec();
        let spec = Spec::post(
            Endpoint::Url(url),
            ResponseKind::Authorization,
            payload,
            true,
        );
        Ok(Single::new(
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
enum State {
    Create,
    AwaitChoice,
    Respond,
    Poll { at: UnixTime },
    Done,
}

/// What a pre-authorization waits for.
const VALIDATION: &str = "validation of the authorization's challenge";

/// Pre-authorization of one identifier through `newAuthz` (RFC 8555 §7.4.1), where the
/// directory offers it. Emits the same [`OrderEvent::Authorize`] and
/// [`OrderEvent::Cleanup`] events as an order.
#[derive(Debug)]
pub struct PreAuthorization(Runner<PreAuthorize>);

/// The machine of a [`PreAuthorization`].
#[derive(Debug)]
pub(crate) struct PreAuthorize {
    identifier: Identifier,
    url: Option<Url>,
    offers: Vec<ChallengeOffer>,
    chosen: Option<Box<ChallengeOffer>>,
    state: State,
    polling: Polling,
    effects: Effects<OrderEvent, Authorization>,
}

impl PreAuthorization {
    /// Pre-authorizes `identifier`.
    pub fn new(identifier: Identifier) -> Self {
        Self(Runner::new(PreAuthorize {
            identifier,
            url: None,
            offers: Vec::new(),
            chosen: None,
            state: State::Create,
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
}

impl PreAuthorize {
    fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        if self.state != State::AwaitChoice {
            return Err(Misuse::InvalidArgument(
                "no challenge is waiting to be chosen",
            ));
        }
        let offer = self
            .offers
            .iter()
            .find(|o| &o.url == challenge_url)
            .cloned()
            .ok_or(Misuse::InvalidArgument("no offered challenge has that URL"))?;
        self.chosen = Some(Box::new(offer));
        self.state = State::Respond;
        Ok(())
    }

    fn finish(&mut self, outcome: Result<Authorization, Error>) {
        self.effects.end(outcome);
        self.state = State::Done;
    }

    fn on_authorization(
        &mut self,
        client: &Client,
        authorization: Authorization,
        now: UnixTime,
        retry_after: Option<UnixTime>,
    ) -> Result<(), Error> {
        // The caller is never asked to present a challenge for another name than its own.
        if authorization.identifier != self.identifier || authorization.wildcard {
            let found = if authorization.wildcard {
                alloc::format!("*.{}", authorization.identifier)
            } else {
                alloc::string::ToString::to_string(&authorization.identifier)
            };
            return Err(Malformed::new(
                "authorization",
                MalformedKind::mismatch("identifier", found),
            )
            .into());
        }
        match authorization.status {
            AuthorizationStatus::Valid => self.finish(Ok(authorization)),
            AuthorizationStatus::Pending if self.chosen.is_none() => {
                let url = self.url.clone().ok_or(Error::Bug("no authorization URL"))?;
                let account_url = client.account_url().ok_or(Misuse::InvalidArgument(
                    "no account yet: create or find the account first",
                ))?;
                self.offers = offer::offers(
                    &url,
                    &authorization,
                    client.thumbprint(),
                    account_url,
                    client.directory_url(),
                )?;
                if self.offers.is_empty() {
                    return Err(Misuse::Unsupported(
                        "the server offers no challenge this client can answer for the identifier",
                    )
                    .into());
                }
                self.effects.emit(OrderEvent::Authorize {
                    authorization: url,
                    identifier: authorization.identifier.clone(),
                    wildcard: authorization.wildcard,
                    offers: self.offers.clone(),
                });
                self.state = State::AwaitChoice;
            }
            AuthorizationStatus::Pending => {
                let at = self
                    .polling
                    .next(client.policy(), now, retry_after, VALIDATION)?;
                self.state = State::Poll { at };
            }
            _ => {
                let problem = authorization
                    .challenges
                    .iter()
                    .filter_map(Challenge::known)
                    .find_map(|c| c.error.clone());
                self.finish(Err(match problem {
                    Some(problem) => problem.into(),
                    None => Malformed::new(
                        "authorization",
                        MalformedKind::Invalid("the authorization failed and says not why"),
                    )
                    .into(),
                }));
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
            State::Create | State::Poll { .. } => {
                if self.state == State::Create {
                    let url = exchanged.response.location(&exchanged.url)?;
                    client.check_url(&url)?;
                    self.url = Some(url);
                }
                let authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                let retry_after = exchanged.response.retry_after(now);
                self.on_authorization(client, authorization, now, retry_after)
            }
            State::Respond => {
                let _: Challenge =
                    exchanged
                        .response
                        .json(ResponseKind::Challenge, &limits, now)?;
                // RFC 8555 §8.2: the server says when to look again on the challenge.
                self.polling.restart();
                let retry_after = exchanged.response.retry_after(now);
                let at = self
                    .polling
                    .next(client.policy(), now, retry_after, VALIDATION)?;
                self.state = State::Poll { at };
                Ok(())
            }
            State::AwaitChoice | State::Done => Ok(()),
        }
    }
}

impl Machine for PreAuthorize {
    type Event = OrderEvent;
    type Output = Authorization;
    type Purpose = ();

    fn operation(&self) -> &'static str {
        "pre-authorization"
    }

    fn effects(&mut self) -> &mut Effects<OrderEvent, Authorization> {
        &mut self.effects
    }

    fn next(&mut self, _: &Client, now: UnixTime) -> Result<Next<()>, Error> {
        let spec = match &self.state {
            State::Create => {
                #[derive(serde::Serialize)]
                struct NewAuthz<'a> {
                    identifier: &'a Identifier,
                }
                let payload = serde_json::to_vec(&NewAuthz {
                    identifier: &self.identifier,
                })
                .unwrap_or_default();
                Spec::post(
                    Endpoint::NewAuthz,
                    ResponseKind::Authorization,
                    payload,
                    false,
                )
            }
            State::Respond => match &self.chosen {
                Some(offer) => Spec::post(
                    Endpoint::Url(offer.url.clone()),
                    ResponseKind::Challenge,
                    b"{}".to_vec(),
                    true,
                ),
                None => return Ok(Next::Caller),
            },
            State::Poll { at } if now < *at => {
                return Ok(Next::Wait(Wait {
                    until: *at,
                    reason: WaitReason::Poll {
                        resource: Polled::Authorization,
                    },
                }));
            }
            State::Poll { .. } => match &self.url {
                Some(url) => Spec::fetch(url.clone(), ResponseKind::Authorization),
                None => return Ok(Next::Caller),
            },
            State::AwaitChoice => return Ok(Next::Caller),
            State::Done => return Ok(Next::Again),
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
        self.state = State::Done;
        if let Some(offer) = self.chosen.take() {
            self.effects.emit(OrderEvent::Cleanup(*offer));
        }
    }
}

operation_by_runner!(PreAuthorization, OrderEvent, Authorization);
