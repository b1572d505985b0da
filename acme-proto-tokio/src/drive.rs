//! The drive loop: the core's run loop bound to tokio. It moves bytes, sleeps until
//! the core's [`Wait`](acme_proto::Wait), and hands events to the caller; every
//! decision (retries, backoff, polling, nonces) is the core's.
//!
//! Many operations can be driven at once over one [`Client`] (one nonce pool): the
//! client sits behind a `std::sync::Mutex` that is held only inside `poll` and
//! `handle_*`, never across an `.await`, and each operation is its own future.

use std::future::Future;
use std::sync::Mutex;

use acme_proto::client::Operation;
use acme_proto::{Client, Request, Response};
use acme_proto_support::drive::{Drive, Turn};
use futures_util::StreamExt as _;
use futures_util::future::{Either, select};
use futures_util::stream::FuturesUnordered;

use crate::transport::TransportError;

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
/// The requests the core lets out together (an order's authorizations, say) are sent
/// together, on the transport's pooled connections (HTTP/2 where the server offers it);
/// they keep going while an event is handled or a wait runs, and their results are
/// handed back as they come.
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
    let mut drive = Drive::new();
    let mut out = FuturesUnordered::new();
    // Results that landed while an event was handled, handed back before the next turn.
    let mut landed: Vec<(Request, Result<Response, TransportError>)> = Vec::new();
    loop {
        for (request, result) in landed.drain(..) {
            drive.sent(op, client, &request, result)?;
        }
        match drive.next(op, client) {
            Turn::Send(request) => out.push(async move {
                let result = transport.send(&request).await;
                (request, result)
            }),
            Turn::Await => {
                let (request, result) = out.next().await.ok_or(DriverError::Stalled)?;
                drive.sent(op, client, &request, result)?;
            }
            Turn::Event(event) => {
                // The requests out keep going while the handler runs.
                let mut handled = std::pin::pin!(events.on_event(op, event));
                loop {
                    if out.is_empty() {
                        handled.as_mut().await?;
                        break;
                    }
                    match select(handled.as_mut(), out.next()).await {
                        Either::Left((result, _)) => {
                            result?;
                            break;
                        }
                        Either::Right((done, _)) => landed.extend(done),
                    }
                }
            }
            Turn::Sleep(duration) => {
                let sleep = std::pin::pin!(tokio::time::sleep(duration));
                if out.is_empty() {
                    sleep.await;
                } else if let Either::Right((done, _)) = select(sleep, out.next()).await {
                    landed.extend(done);
                }
            }
            Turn::Done(result) => return result,
        }
    }
}
