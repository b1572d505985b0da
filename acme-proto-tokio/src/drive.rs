//! The drive loop: the core's run loop bound to tokio. It moves bytes, sleeps until
//! the core's [`Wait`](acme_proto::Wait), and hands events to the caller; every
//! decision (retries, backoff, polling, nonces) is the core's.
//!
//! Many operations can be driven at once over one [`Client`] (one nonce pool): the
//! client sits behind a `std::sync::Mutex` that is held only inside `poll` and
//! `handle_*`, never across an `.await`, and each operation is its own future.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use acme_proto::client::{Operation, Step};
use acme_proto::{Client, Response, UnixTime};

use crate::error::DriverError;
use crate::transport::Transport;

/// What [`drive()`] hands each event of an operation to.
///
/// A trait rather than an async closure so that the future's `Send` bound is written in
/// the signature: the futures of [`drive()`] can then be spawned on a multi-threaded
/// runtime (an `AsyncFnMut` bound cannot say that its future is `Send`). Synchronous
/// closures `FnMut(&mut O, O::Event) -> Result<(), DriverError>` are handlers too.
pub trait EventHandler<O: Operation> {
    /// Acts on `event`, answering through `op` (for example
    /// [`OrderFlow::challenge_ready`](acme_proto::client::OrderFlow::challenge_ready)).
    /// An error ends the drive with it.
    fn on_event(
        &mut self,
        op: &mut O,
        event: O::Event,
    ) -> impl Future<Output = Result<(), DriverError>> + Send;
}

impl<O, F> EventHandler<O> for F
where
    O: Operation,
    F: FnMut(&mut O, O::Event) -> Result<(), DriverError>,
{
    fn on_event(
        &mut self,
        op: &mut O,
        event: O::Event,
    ) -> impl Future<Output = Result<(), DriverError>> + Send {
        std::future::ready(self(op, event))
    }
}

/// Drives `op` to its end over `client` and `transport`, handing each event to
/// `events`.
///
/// An error from `events` ends the drive with that error. When the core gives up
/// after transport failures, the last failure comes back in
/// [`DriverError::Transport`].
pub async fn drive<O: Operation>(
    op: &mut O,
    client: &Mutex<Client>,
    transport: &Transport,
    mut events: impl EventHandler<O>,
) -> Result<O::Output, DriverError> {
    let mut last_failure = None;
    loop {
        let step = op.poll(&mut lock(client), now());
        match step {
            Step::Send(request) => {
                let id = request.id;
                tracing::debug!(%id, method = %request.method, url = %request.url, "sending");
                let result = transport.send(&request).await;
                match result {
                    Ok(response) => {
                        log_response(&request.method, &request.url, &response);
                        op.handle_response(&mut lock(client), id, response, now())?;
                    }
                    Err(error) => {
                        tracing::info!(%id, method = %request.method, url = %request.url, %error, "transport failure");
                        op.handle_transport_failure(&mut lock(client), id, now())?;
                        last_failure = Some(error);
                    }
                }
            }
            Step::Event(event) => events.on_event(op, event).await?,
            Step::Wait(wait) => {
                let duration = wait.until.saturating_duration_since(now());
                tracing::debug!(?wait.reason, ?duration, "waiting");
                tokio::time::sleep(duration).await;
            }
            Step::Done => {
                return match op.take_outcome() {
                    Some(Ok(output)) => Ok(output),
                    Some(Err(error)) => Err(DriverError::from_outcome(error, last_failure)),
                    None => Err(DriverError::Stalled),
                };
            }
            // Every request is answered before the next poll, so `Pending` means an
            // event was left unanswered.
            _ => return Err(DriverError::Stalled),
        }
    }
}

/// The wall-clock time, as the core takes it.
pub(crate) fn now() -> UnixTime {
    UnixTime::from(SystemTime::now())
}

/// Locks the client (or the driver's other shared state). A panic elsewhere while it
/// was held leaves the core's state as consistent as between two calls (each call is
/// one transition), so poisoning is ignored rather than spread to every other
/// operation.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn log_response(method: &acme_proto::Method, url: &url::Url, response: &Response) {
    if response.is_success() {
        tracing::debug!(%method, %url, status = response.status, "response");
        return;
    }
    // Only the problem's type: its detail may echo names the operator did not log.
    let problem = response
        .problem(&acme_proto::Limits::default(), now())
        .map(|p| p.kind.to_string())
        .unwrap_or_default();
    tracing::info!(%method, %url, status = response.status, %problem, "refused");
}
