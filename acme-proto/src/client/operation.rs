//! The one driving interface every operation implements.

use super::{Client, Step};
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
