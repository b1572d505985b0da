//! `AuthorizationPoll`: one authorization fetched until it is no longer `pending`
//! (RFC 8555 §7.5.1), for a caller that answered its challenge itself.
//!
//! ```text
//!  Fetch ──pending──► Wait (Retry-After, or the policy's growing interval) ──► Fetch
//!    └──any other status──► Done(Ok(authorization))
//!  pending past the policy's patience: Done(Err(Timeout))
//! ```

use url::Url;

use super::exchange::{Exchanged, Spec};
use super::polling::Polling;
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::{Client, NoEvent, Polled};
use crate::error::Error;
use crate::fault::Misuse;
use crate::limits::ResponseKind;
use crate::resource::Authorization;
use crate::status::AuthorizationStatus;
use crate::time::UnixTime;

/// What an authorization poll waits for.
const SETTLING: &str = "the authorization leaving pending";

impl Client {
    /// Fetches the authorization at `url` until it is no longer `pending`: after
    /// [`answer_challenge`](Self::answer_challenge), to learn the validation's outcome.
    ///
    /// Polls as an order does: at the server's `Retry-After` when it sends one (within
    /// [`Policy::max_retry_after`](crate::Policy)), otherwise at the policy's growing
    /// interval, and gives up with [`Error::Timeout`] once the authorization has stayed
    /// `pending` for [`Policy::poll_patience`](crate::Policy) without the server asking
    /// for more time. Ends with the authorization in whatever status it reached
    /// (`valid`, `invalid` with its challenge's error, `deactivated`, `expired`,
    /// `revoked`): the caller decides what each means.
    pub fn poll_authorization(&self, url: Url) -> Result<AuthorizationPoll, Misuse> {
        self.require_account()?;
        Ok(AuthorizationPoll(Runner::new(AuthorizationPollMachine {
            url,
            at: None,
            polling: Polling::default(),
            effects: Effects::default(),
        })))
    }
}

/// An authorization polled until it settles; see [`Client::poll_authorization`].
#[derive(Debug)]
pub struct AuthorizationPoll(Runner<AuthorizationPollMachine>);

operation_by_runner!(AuthorizationPoll, NoEvent, Authorization);

/// The machine of an [`AuthorizationPoll`].
#[derive(Debug)]
pub(crate) struct AuthorizationPollMachine {
    url: Url,
    /// When to fetch next; `None`: now.
    at: Option<UnixTime>,
    polling: Polling,
    effects: Effects<NoEvent, Authorization>,
}

impl Machine for AuthorizationPollMachine {
    type Event = NoEvent;
    type Output = Authorization;
    type Purpose = ();

    fn operation(&self) -> &'static str {
        "authorization poll"
    }

    fn effects(&mut self) -> &mut Effects<NoEvent, Authorization> {
        &mut self.effects
    }

    fn next(&mut self, _: &Client, now: UnixTime) -> Result<Next<()>, Error> {
        match self.at {
            Some(until) if now < until => Ok(Next::poll_at(
                until,
                Polled::Authorization,
                self.polling.asked(),
            )),
            _ => Ok(Next::Send(
                (),
                Spec::fetch(self.url.clone(), ResponseKind::Authorization),
            )),
        }
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        (): (),
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let exchanged = result?;
        let authorization: Authorization =
            exchanged
                .response
                .json(ResponseKind::Authorization, client.limits(), now)?;
        if authorization.status == AuthorizationStatus::Pending {
            let retry_after = exchanged.response.retry_after(now);
            let at = self
                .polling
                .next(client.policy(), now, retry_after, SETTLING)?;
            self.at = Some(at);
        } else {
            self.effects.end(Ok(authorization));
        }
        Ok(())
    }
}
