//! The one driving interface every operation implements, and a runner for operations
//! that are a single exchange.

use alloc::boxed::Box;
use core::fmt;

use super::exchange::{Exchanged, Spec};
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::{Client, NoEvent, Step};
use crate::crypto::Signer;
use crate::error::Error;
use crate::fault::Misuse;
use crate::time::UnixTime;
use crate::wire::{RequestId, Response, TransportFailure};

/// An ACME operation driven by the caller: drain [`poll`](Operation::poll) for
/// [`Step`]s, hand back what happened to each request, take the outcome when `Done`.
///
/// ```
/// use acme_proto::client::{Operation, Step};
/// use acme_proto::{Client, Request, Response, TransportFailure, UnixTime};
///
/// /// Runs any operation to its end with a blocking transport and a clock. The
/// /// transport gives up at `request.time_limit` and says why it failed.
/// fn drive<O: Operation>(
///     op: &mut O,
///     client: &mut Client,
///     mut send: impl FnMut(&Request) -> Result<Response, TransportFailure>,
///     mut now: impl FnMut() -> UnixTime,
///     mut sleep_until: impl FnMut(UnixTime),
///     mut on_event: impl FnMut(&mut O, &mut Client, O::Event),
/// ) -> Result<O::Output, acme_proto::Error> {
///     loop {
///         match op.poll(client, now()) {
///             Step::Send(request) => {
///                 let id = request.id;
///                 match send(&request) {
///                     Ok(response) => op.handle_response(client, id, response, now())?,
///                     Err(failure) => {
///                         op.handle_transport_failure(client, id, failure, now())?
///                     }
///                 }
///             }
///             Step::Event(event) => on_event(op, client, event),
///             Step::Wait(wait) => sleep_until(wait.until),
///             // This loop answers every request before it polls again.
///             Step::InFlight => unreachable!("no request is left unanswered"),
///             // The handler answered nothing: nothing can ever happen (a caller that
///             // answers later polls again then; see the crate docs' "Run loop").
///             Step::AwaitingCaller => {
///                 return Err(acme_proto::Misuse::InvalidArgument("an event left unanswered").into())
///             }
///             Step::Done => return op.take_outcome().expect("the outcome is taken once"),
///             _ => return Err(acme_proto::Misuse::Unsupported("a step this loop does not know").into()),
///         }
///     }
/// }
/// ```
pub trait Operation {
    /// What the operation tells the caller between requests.
    type Event;
    /// What it produces.
    type Output;

    /// The next step.
    fn poll(&mut self, client: &mut Client, now: UnixTime) -> Step<Self::Event>;

    /// The response to request `id`. Fails only if `id` is not in flight here.
    fn handle_response(
        &mut self,
        client: &mut Client,
        id: RequestId,
        response: Response,
        now: UnixTime,
    ) -> Result<(), Misuse>;

    /// Request `id` could not be sent or its response not read, for the reason
    /// `failure`: the core resends it later (a [`Step::Wait`] first) or ends the
    /// operation with [`Error::Transport`], as [`TransportFailure`] and the
    /// [`Policy`](crate::Policy) say. Fails only if `id` is not in flight here.
    fn handle_transport_failure(
        &mut self,
        client: &mut Client,
        id: RequestId,
        failure: TransportFailure,
        now: UnixTime,
    ) -> Result<(), Misuse>;

    /// The outcome, once [`Step::Done`] was returned; `None` before, and after it was taken.
    fn take_outcome(&mut self) -> Option<Result<Self::Output, Error>>;
}

/// The deadline of an operation, fixed at its first poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Deadline(Option<UnixTime>);

impl Deadline {
    /// Starts the clock at the first call; the deadline afterwards.
    pub(crate) fn start(&mut self, client: &Client, now: UnixTime) -> UnixTime {
        *self
            .0
            .get_or_insert_with(|| now.saturating_add(client.policy().operation_timeout))
    }

    /// The deadline, or "never" before the first poll.
    pub(crate) fn get(self) -> UnixTime {
        self.0.unwrap_or(UnixTime::MAX)
    }
}

type Finish<T> = fn(&mut Client, Exchanged, UnixTime) -> Result<T, Error>;

/// An operation made of one request and the reading of its response: fetching the
/// directory, most account operations, revocation, renewal information.
pub struct Single<T>(Runner<OneRequest<T>>);

/// The machine of a [`Single`]: one request, then its reading.
pub(crate) struct OneRequest<T> {
    name: &'static str,
    spec: Option<Spec>,
    other_key: Option<Box<dyn Signer + Send + Sync>>,
    /// Whether `other_key` becomes the client's account key once the request succeeded.
    install_key: bool,
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

impl<T> fmt::Debug for Single<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Single").field(&self.0).finish()
    }
}

impl<T> Single<T> {
    pub(crate) fn new(name: &'static str, spec: Spec, finish: Finish<T>) -> Self {
        Self(Runner::new(OneRequest {
            name,
            spec: Some(spec),
            other_key: None,
            install_key: false,
            finish,
            effects: Effects::default(),
        }))
    }

    /// With the operation's own key (revocation by certificate key, key rollover).
    pub(crate) fn with_other_key(mut self, key: Box<dyn Signer + Send + Sync>) -> Self {
        self.0.machine_mut().other_key = Some(key);
        self
    }

    /// With the operation's own key, which becomes the client's account key once the
    /// request has succeeded (key rollover).
    pub(crate) fn installing_key(mut self, key: Box<dyn Signer + Send + Sync>) -> Self {
        let machine = self.0.machine_mut();
        machine.other_key = Some(key);
        machine.install_key = true;
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
        if outcome.is_ok()
            && self.install_key
            && let Some(key) = self.other_key.take()
        {
            client.replace_key(key);
        }
        self.effects.end(outcome);
        Ok(())
    }

    fn signer(&self) -> Option<&dyn Signer> {
        self.other_key.as_deref().map(|k| k as &dyn Signer)
    }
}

operation_by_runner!(Single<T>, NoEvent, T);
