//! `KeyRollover`: the key change (RFC 8555 §7.3.5), and, when its response is lost,
//! a lookup of the account by the new key to learn whether the server applied it.
//!
//! ```text
//!  Change ──ok──────────────────────────────────────────► installed (Applied)
//!    │ ──a refusal (problem document) ───────────────────► kept old key (NotApplied)
//!    │ ──no readable response (transport, malformed)
//!    ▼
//!  Check: newAccount {onlyReturnExisting} signed by the new key
//!    │ ──the same account URL ───────────────────────────► installed (Applied)
//!    │ ──accountDoesNotExist, or another account ────────► kept old key (NotApplied)
//!    └─ anything else ───────────────────────────────────► kept old key (Unknown)
//! ```
//!
//! Until the rollover is known to have been applied, the new key stays with the
//! operation: [`KeyRollover::take_new_key`] gives it back, so that a caller never loses
//! the only key that may now work.

use alloc::boxed::Box;
use core::fmt;

use super::Client;
use super::NoEvent;
use super::exchange::{Body, Endpoint, Exchanged, KeyChoice, NewAccountPayload, Payload, Spec};
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use crate::crypto::Signer;
use crate::error::Error;
use crate::fault::Misuse;
use crate::limits::ResponseKind;
use crate::problem::ProblemType;
use crate::time::UnixTime;
use crate::wire::Method;

/// What a key rollover did, as far as the client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RolloverState {
    /// Not finished yet.
    Running,
    /// The server holds the new key for the account; the client signs with it.
    Applied,
    /// The server still holds the old key; the client signs with it, and the new key
    /// can be taken back ([`KeyRollover::take_new_key`]).
    NotApplied,
    /// The key change got no readable answer and the lookup by the new key could not
    /// tell either: either key may be the account's now. The client keeps the old one;
    /// keep both, and find the account with each
    /// ([`Client::find_account`]) to learn which.
    Unknown,
}

/// A key rollover in progress; see [`Client::change_key`].
pub struct KeyRollover(Runner<Rollover>);

impl fmt::Debug for KeyRollover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyRollover").field(&self.0).finish()
    }
}

operation_by_runner!(KeyRollover, NoEvent, ());

impl KeyRollover {
    /// The rollover to `new_key`; `refused` ends it at its first poll (the caller's
    /// mistake, found when it was asked for), with the key still given back.
    pub(crate) fn new(new_key: Box<dyn Signer + Send + Sync>, refused: Option<Misuse>) -> Self {
        Self(Runner::new(Rollover {
            new_key: Some(new_key),
            next: match refused {
                Some(misuse) => NextRequest::Refused(misuse),
                None => NextRequest::Change { sent: false },
            },
            state: RolloverState::Running,
            lost: None,
            effects: Effects::default(),
        }))
    }

    /// What the rollover did: see [`RolloverState`]. Read it once the operation is
    /// done; an operation that timed out before its answer was known is `Unknown`.
    pub fn state(&self) -> RolloverState {
        match self.0.machine().state {
            RolloverState::Running if self.0.machine().effects_over() => RolloverState::Unknown,
            state => state,
        }
    }

    /// The new key, when the rollover did not install it (its state is not `Applied`):
    /// nothing is lost when the server's answer was. `None` once taken, or once the
    /// client signs with it.
    pub fn take_new_key(&mut self) -> Option<Box<dyn Signer + Send + Sync>> {
        self.0.machine_mut().new_key.take()
    }
}

/// The machine of a [`KeyRollover`].
pub(crate) struct Rollover {
    /// The new key until it is installed (or taken back).
    new_key: Option<Box<dyn Signer + Send + Sync>>,
    next: NextRequest,
    state: RolloverState,
    /// The error of a key change whose answer was lost, given if the check cannot
    /// show that the change was applied.
    lost: Option<Error>,
    effects: Effects<NoEvent, ()>,
}

impl fmt::Debug for Rollover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rollover")
            .field("next", &self.next)
            .field("state", &self.state)
            .field("holds_new_key", &self.new_key.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum NextRequest {
    /// Refused before anything was sent.
    Refused(Misuse),
    /// The key change, not yet sent, or out.
    Change { sent: bool },
    /// The lookup of the account by the new key, not yet sent, or out.
    Check { sent: bool },
}

/// Which request a result is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sent {
    Change,
    Check,
}

impl Rollover {
    fn effects_over(&self) -> bool {
        self.effects.is_over()
    }

    fn install(&mut self, client: &mut Client) {
        if let Some(key) = self.new_key.take() {
            client.replace_key(key);
            self.state = RolloverState::Applied;
            self.effects.end(Ok(()));
        } else {
            // Taken back while the request was out: the caller has it, the client
            // cannot sign with it.
            self.state = RolloverState::Unknown;
            self.effects.end(Err(Error::Misuse(Misuse::InvalidArgument(
                "the new key was taken back before the rollover ended",
            ))));
        }
    }

    /// The key change's own error, kept while the lookup ran.
    fn take_lost(&mut self) -> Error {
        self.lost
            .take()
            .unwrap_or(Error::Bug("a key rollover checked without a lost answer"))
    }

    fn not_applied(&mut self, error: Error) {
        self.state = RolloverState::NotApplied;
        self.effects.end(Err(error));
    }
}

impl Machine for Rollover {
    type Event = NoEvent;
    type Output = ();
    type Purpose = Sent;

    fn operation(&self) -> &'static str {
        "key rollover"
    }

    fn effects(&mut self) -> &mut Effects<NoEvent, ()> {
        &mut self.effects
    }

    fn next(&mut self, _: &Client, _: UnixTime) -> Result<Next<Sent>, Error> {
        if let NextRequest::Refused(misuse) = &self.next {
            let misuse = misuse.clone();
            self.not_applied(Error::Misuse(misuse));
            return Ok(Next::Again);
        }
        Ok(match self.next {
            NextRequest::Change { sent: false } => {
                self.next = NextRequest::Change { sent: true };
                Next::Send(Sent::Change, change_spec())
            }
            NextRequest::Check { sent: false } => {
                self.next = NextRequest::Check { sent: true };
                Next::Send(Sent::Check, check_spec())
            }
            // A result always moves the machine on or ends it.
            NextRequest::Refused(_)
            | NextRequest::Change { sent: true }
            | NextRequest::Check { sent: true } => {
                return Err(Error::Bug("a key rollover request ended without a result"));
            }
        })
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        sent: Sent,
        result: Result<Exchanged, Error>,
        _: UnixTime,
    ) -> Result<(), Error> {
        match (sent, result) {
            (Sent::Change, Ok(_)) => self.install(client),
            // The server answered: a refusal changes nothing; so does a failure before
            // anything was sent (signing, a missing account URL).
            (
                Sent::Change,
                Err(error @ (Error::Problem(_) | Error::Misuse(_) | Error::Crypto(_))),
            ) => self.not_applied(error),
            // No answer that can be read: the server may have applied it.
            (Sent::Change, Err(error)) => {
                self.lost = Some(error);
                self.next = NextRequest::Check { sent: false };
            }
            (Sent::Check, Ok(exchanged)) => {
                let same = exchanged
                    .response
                    .location(&exchanged.url)
                    .is_ok_and(|url| Some(&url) == client.account_url());
                if same {
                    self.install(client);
                } else {
                    // The new key names another account (or none the response shows):
                    // this account still has the old key.
                    let lost = self.take_lost();
                    self.not_applied(lost);
                }
            }
            (Sent::Check, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::AccountDoesNotExist =>
            {
                let lost = self.take_lost();
                self.not_applied(lost);
            }
            (Sent::Check, Err(_)) => {
                let lost = self.take_lost();
                self.state = RolloverState::Unknown;
                self.effects.end(Err(lost));
            }
        }
        Ok(())
    }

    fn signer(&self) -> Option<&dyn Signer> {
        self.new_key.as_deref().map(|k| k as &dyn Signer)
    }
}

fn change_spec() -> Spec {
    Spec {
        method: Method::Post,
        endpoint: Endpoint::KeyChange,
        kind: ResponseKind::Account,
        body: Body::Signed {
            payload: Payload::KeyChange,
            key: KeyChoice::AccountKid,
        },
        // A resend after the server accepted the change would be signed by a key the
        // account no longer has; a lost answer is resolved by the check instead.
        resend_on_transport_failure: false,
    }
}

/// `newAccount` with `onlyReturnExisting`, signed by the new key (RFC 8555 §7.3.1): the
/// server answers with the account that key belongs to, or `accountDoesNotExist`.
fn check_spec() -> Spec {
    Spec {
        method: Method::Post,
        endpoint: Endpoint::NewAccount,
        kind: ResponseKind::Account,
        body: Body::Signed {
            payload: Payload::NewAccount(NewAccountPayload {
                only_return_existing: true,
                ..Default::default()
            }),
            key: KeyChoice::OtherJwk,
        },
        resend_on_transport_failure: true,
    }
}
