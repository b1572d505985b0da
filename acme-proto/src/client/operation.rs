//! The one driving interface every operation implements, and a runner for operations
//! that are a single exchange.

use alloc::boxed::Box;
use core::fmt;

use super::exchange::{Exchange, ExchangeStep, Exchanged, Spec};
use super::{Client, NoEvent, Step};
use crate::crypto::Signer;
use crate::error::{Error, Misuse};
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
///             Step::Pending => unreachable!("every request is answered before polling again"),
///             Step::Done => return op.take_outcome().expect("the outcome is taken once"),
///             _ => {}
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
pub struct Single<T> {
    name: &'static str,
    exchange: Exchange,
    other_key: Option<Box<dyn Signer + Send + Sync>>,
    finish: Finish<T>,
    deadline: Deadline,
    outcome: Option<Result<T, Error>>,
    done: bool,
}

impl<T> fmt::Debug for Single<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Single")
            .field("name", &self.name)
            .field("exchange", &self.exchange)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T> Single<T> {
    pub(crate) fn new(name: &'static str, spec: Spec, finish: Finish<T>) -> Self {
        Self {
            name,
            exchange: Exchange::new(spec),
            other_key: None,
            finish,
            deadline: Deadline::default(),
            outcome: None,
            done: false,
        }
    }

    /// With the operation's own key (revocation by certificate key, key rollover).
    pub(crate) fn with_other_key(mut self, key: Box<dyn Signer + Send + Sync>) -> Self {
        self.other_key = Some(key);
        self
    }

    /// The operation's own key, once the outcome is known (key rollover installs it).
    pub(crate) fn take_other_key(&mut self) -> Option<Box<dyn Signer + Send + Sync>> {
        self.other_key.take()
    }

    /// The outcome, without taking it.
    pub(crate) fn peek_outcome(&self) -> Option<&Result<T, Error>> {
        self.outcome.as_ref()
    }

    fn finish_with(&mut self, outcome: Result<T, Error>) {
        self.outcome = Some(outcome);
        self.done = true;
    }
}

impl<T> Operation for Single<T> {
    type Event = NoEvent;
    type Output = T;

    fn poll(&mut self, client: &mut Client, now: UnixTime) -> Step<NoEvent> {
        if self.done {
            return Step::Done;
        }
        let deadline = self.deadline.start(client, now);
        if now >= deadline && self.exchange.in_flight().is_none() {
            self.finish_with(Err(Error::Timeout {
                operation: self.name,
            }));
            return Step::Done;
        }
        let other = self.other_key.as_deref().map(|k| k as &dyn Signer);
        match self.exchange.poll(client, other, now) {
            ExchangeStep::Send(request) => Step::Send(request),
            ExchangeStep::Wait(wait) => Step::Wait(wait),
            ExchangeStep::Pending => Step::Pending,
            ExchangeStep::Done(result) => {
                let outcome = result.and_then(|exchanged| (self.finish)(client, exchanged, now));
                self.finish_with(outcome);
                Step::Done
            }
        }
    }

    fn handle_response(
        &mut self,
        client: &mut Client,
        id: RequestId,
        response: Response,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.exchange
            .handle_response(client, id, response, now, self.deadline.get())
    }

    fn handle_transport_failure(
        &mut self,
        client: &mut Client,
        id: RequestId,
        failure: TransportFailure,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.exchange
            .handle_transport_failure(client, id, failure, now, self.deadline.get())
    }

    fn take_outcome(&mut self) -> Option<Result<T, Error>> {
        self.outcome.take()
    }
}
