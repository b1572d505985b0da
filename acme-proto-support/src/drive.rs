//! The runtime-free half of a driver's run loop: the clock, the lock on the core
//! client, handing back what the transport did (with its log line), and the outcome.
//! Each driver keeps only what its runtime decides: how to send, sleep and answer
//! events.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use acme_proto::client::{ChallengeOffer, Operation, OrderEvent, OrderFlow, PreAuthorization};
use acme_proto::{Client, Limits, Misuse, Request, Response, Step, UnixTime, Wait};
use url::Url;

use crate::error::DriverError;
use crate::transport::TransportError;

/// The wall-clock time, as the core takes it.
pub fn now() -> UnixTime {
    UnixTime::from(SystemTime::now())
}

/// Locks the core client (or a driver's other shared state). A panic elsewhere while
/// it was held leaves the core's state as consistent as between two calls (each call
/// is one transition), so poisoning is ignored rather than spread to every other
/// operation.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Logs `request` as about to be sent (at `debug`: method and URL, never the body).
fn sending(request: &Request) {
    tracing::debug!(id = %request.id, method = %request.method, url = %request.url, "sending");
}

/// Hands what the transport did with `request` back to `op`: the response, or the
/// failure with its kind (the one place a [`TransportErrorKind`](crate::TransportErrorKind)
/// becomes the core's [`TransportFailure`](acme_proto::TransportFailure)), named after
/// the request and kept in `last_failure`, for [`DriverError::Transport`] if the core
/// gives up. Logs the outcome: successes at `debug`, refusals (with the problem type
/// only) and transport failures at `info`.
fn hand_back<O: Operation>(
    op: &mut O,
    client: &Mutex<Client>,
    request: &Request,
    result: Result<Response, TransportError>,
    last_failure: &mut Option<TransportError>,
) -> Result<(), DriverError> {
    let (id, method, url) = (request.id, request.method, &request.url);
    match result {
        Ok(response) => {
            if response.is_success() {
                tracing::debug!(%id, %method, %url, status = response.status, "response");
            } else {
                // Only the problem's type: its detail may echo names the operator did
                // not log.
                let problem = response
                    .problem(&Limits::default(), now())
                    .map(|p| p.kind.to_string())
                    .unwrap_or_default();
                tracing::info!(%id, %method, %url, status = response.status, %problem, "refused");
            }
            op.handle_response(&mut lock(client), id, response, now())?;
        }
        Err(error) => {
            let failure = error.kind().failure();
            tracing::info!(%id, %method, %url, %error, %failure, "transport failure");
            op.handle_transport_failure(&mut lock(client), id, failure, now())?;
            *last_failure = Some(error.for_request(request));
        }
    }
    Ok(())
}

/// How long to sleep for `wait`, from now (logged at `debug` with the reason).
fn waiting(wait: &Wait) -> Duration {
    let duration = wait.until.saturating_duration_since(now());
    tracing::debug!(reason = ?wait.reason, ?duration, "waiting");
    duration
}

/// What a driver's loop does next, as [`Drive::next`] decides it: the driver only sends,
/// sleeps and hands events to the caller's handler.
#[derive(Debug)]
pub enum Turn<E, T> {
    /// Send this request, then give the result to [`Drive::sent`].
    Send(Request),
    /// Hand this event to the caller's handler.
    Event(E),
    /// Sleep this long; while requests are out, their results are handed back as they
    /// come (to [`Drive::sent`]), and the next turn taken then.
    Sleep(Duration),
    /// Wait for one of the requests out, and hand its result to [`Drive::sent`]: the
    /// core has let out every request it may send together.
    Await,
    /// The drive is over, with this result.
    Done(Result<T, DriverError>),
}

/// One operation's run loop, without the I/O: the step the core asks for, the request
/// logged as it goes out, the transport's result handed back, the last transport failure
/// kept for [`DriverError::Transport`].
#[derive(Debug, Default)]
pub struct Drive {
    last_failure: Option<TransportError>,
}

impl Drive {
    /// A new loop.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next turn of `op`'s loop.
    pub fn next<O: Operation>(
        &mut self,
        op: &mut O,
        client: &Mutex<Client>,
    ) -> Turn<O::Event, O::Output> {
        let step = op.poll(&mut lock(client), now());
        match step {
            Step::Send(request) => {
                sending(&request);
                Turn::Send(request)
            }
            Step::Event(event) => Turn::Event(event),
            Step::Wait(wait) => Turn::Sleep(waiting(&wait)),
            Step::InFlight => Turn::Await,
            Step::Done => Turn::Done(outcome(op, self.last_failure.take())),
            // `AwaitingCaller`: the handler returned without answering the event (a
            // driver's loop has no later moment to answer in). A step added to the core
            // since is an error too, never a busy loop.
            _ => Turn::Done(Err(DriverError::Stalled)),
        }
    }

    /// Hands what the transport did with `request` back to `op`: the response, or the
    /// failure with its kind, logged.
    pub fn sent<O: Operation>(
        &mut self,
        op: &mut O,
        client: &Mutex<Client>,
        request: &Request,
        result: Result<Response, TransportError>,
    ) -> Result<(), DriverError> {
        hand_back(op, client, request, result, &mut self.last_failure)
    }
}

/// The drive's result once `op` said `Done`: its output, or its error joined with the
/// last transport failure.
fn outcome<O: Operation>(
    op: &mut O,
    last_failure: Option<TransportError>,
) -> Result<O::Output, DriverError> {
    match op.take_outcome() {
        Some(Ok(output)) => Ok(output),
        Some(Err(error)) => Err(DriverError::from_outcome(error, last_failure)),
        None => Err(DriverError::Stalled),
    }
}
/// An operation that asks the caller to present challenges (an order, a
/// pre-authorization): what a driver tells it besides responses. Its events read as
/// [`OrderEvent`]s, so that one handler serves both.
pub trait Presenting: Operation<Event: Into<OrderEvent>> {
    /// The challenge at `url`, from an `Authorize` offer, is in place.
    fn challenge_ready(&mut self, url: &Url) -> Result<(), Misuse>;
    /// Ends it now: what it presented comes back as `Cleanup` events.
    fn abandon(&mut self);
}

impl Presenting for OrderFlow {
    fn challenge_ready(&mut self, url: &Url) -> Result<(), Misuse> {
        OrderFlow::challenge_ready(self, url)
    }

    fn abandon(&mut self) {
        OrderFlow::abandon(self);
    }
}

impl Presenting for PreAuthorization {
    fn challenge_ready(&mut self, url: &Url) -> Result<(), Misuse> {
        PreAuthorization::challenge_ready(self, url)
    }

    fn abandon(&mut self) {
        PreAuthorization::abandon(self);
    }
}

/// After [`OrderFlow::abandon`](acme_proto::client::OrderFlow::abandon) (or
/// [`PreAuthorization::abandon`](acme_proto::client::PreAuthorization::abandon)): the
/// next challenge the operation presented, to clean up, or `None` once it is done.
/// Nothing is sent after `abandon`, so no transport is needed; a driver calls this
/// until `None`.
pub fn next_cleanup<O: Presenting>(op: &mut O, client: &Mutex<Client>) -> Option<ChallengeOffer> {
    // Events, then Done: bounded all the same.
    for _ in 0..64 {
        match op.poll(&mut lock(client), now()) {
            Step::Event(event) => {
                if let OrderEvent::Cleanup(offer) = event.into() {
                    return Some(offer);
                }
            }
            _ => return None,
        }
    }
    None
}
