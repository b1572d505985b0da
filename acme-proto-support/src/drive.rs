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
pub fn sending(request: &Request) {
    tracing::debug!(id = %request.id, method = %request.method, url = %request.url, "sending");
}

/// Hands what the transport did with `request` back to `op`: the response, or the
/// failure with its kind (the one place a [`TransportErrorKind`](crate::TransportErrorKind)
/// becomes the core's [`TransportFailure`](acme_proto::TransportFailure)), named after
/// the request and kept in `last_failure`, for [`DriverError::Transport`] if the core
/// gives up. Logs the outcome: successes at `debug`, refusals (with the problem type
/// only) and transport failures at `info`.
pub fn hand_back<O: Operation>(
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
pub fn waiting(wait: &Wait) -> Duration {
    let duration = wait.until.saturating_duration_since(now());
    tracing::debug!(reason = ?wait.reason, ?duration, "waiting");
    duration
}

/// The drive's result once `op` said `Done`: its output, or its error joined with the
/// last transport failure.
pub fn outcome<O: Operation>(
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
/// pre-authorization): what a driver tells it besides responses.
pub trait Presenting: Operation<Event = OrderEvent> {
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
            Step::Event(OrderEvent::Cleanup(offer)) => return Some(offer),
            Step::Event(_) => {}
            _ => return None,
        }
    }
    None
}
