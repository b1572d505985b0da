//! `SingleRequest`: an operation that is one request and the reading of its response.

use alloc::boxed::Box;
use core::fmt;

use super::Client;
use super::NoEvent;
use super::exchange::{Exchanged, Spec};
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use crate::crypto::Signer;
use crate::error::Error;
use crate::time::UnixTime;

type Finish<T> = fn(&mut Client, Exchanged, UnixTime) -> Result<T, Error>;

/// An operation made of one request and the reading of its response: fetching the
/// directory, most account operations, revocation, renewal information.
pub struct SingleRequest<T>(Runner<OneRequest<T>>);

/// The machine of a [`SingleRequest`]: one request, then its reading.
pub(crate) struct OneRequest<T> {
    name: &'static str,
    spec: Option<Spec>,
    other_key: Option<Box<dyn Signer + Send + Sync>>,
    finish: Finish<T>,
    effects: Effects<NoEvent, T>,
}

impl<T> fmt::Debug for OneRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneRequest")
            .field("name", &self.name)
            .field("sent", &self.spec.is_none())
            .field("over", &self.effects.is_over())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SingleRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SingleRequest").field(&self.0).finish()
    }
}

impl<T> SingleRequest<T> {
    pub(crate) fn new(name: &'static str, spec: Spec, finish: Finish<T>) -> Self {
        Self(Runner::new(OneRequest {
            name,
            spec: Some(spec),
            other_key: None,
            finish,
            effects: Effects::default(),
        }))
    }

    /// With the operation's own key (revocation by certificate key).
    pub(crate) fn with_other_key(mut self, key: Box<dyn Signer + Send + Sync>) -> Self {
        self.0.machine_mut().other_key = Some(key);
        self
    }
}

impl<T> Machine for OneRequest<T> {
    type Event = NoEvent;
    type Output = T;
    type Purpose = ();

    fn operation(&self) -> &'static str {
        self.name
    }

    fn effects(&mut self) -> &mut Effects<NoEvent, T> {
        &mut self.effects
    }

    fn next(&mut self, _: &Client, _: UnixTime) -> Result<Next<()>, Error> {
        match self.spec.take() {
            Some(spec) => Ok(Next::Send((), spec)),
            // The runner ends the operation once the request is done.
            None => Ok(Next::Again),
        }
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        (): (),
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let outcome = result.and_then(|exchanged| (self.finish)(client, exchanged, now));
        self.effects.end(outcome);
        Ok(())
    }

    fn signer(&self) -> Option<&dyn Signer> {
        self.other_key.as_deref().map(|k| k as &dyn Signer)
    }
}

operation_by_runner!(SingleRequest<T>, NoEvent, T);
