//! The drive loop: the core's run loop on the calling thread. It moves bytes, sleeps
//! until the core's [`Wait`](acme_proto::Wait), and hands events to the caller; every
//! decision (retries, backoff, polling, nonces) is the core's.
//!
//! Many operations can be driven at once over one [`Client`] (one nonce pool), each on
//! its own thread: the client sits behind a `std::sync::Mutex` held only inside `poll`
//! and `handle_*`, never while a request is out or while sleeping.

use std::sync::Mutex;
use std::sync::mpsc;

use acme_proto::client::Operation;
use acme_proto::{Client, Request, Response};
use acme_proto_support::drive::{Drive, Turn};

use crate::error::DriverError;
use crate::transport::{Transport, TransportError};

/// What a request came to, from the thread that sent it.
type Landed = (Request, Result<Response, TransportError>);

/// Drives `op` to its end over `client` and `transport`, handing each event to
/// `events`, which answers through `op` (for example
/// [`OrderFlow::challenge_ready`](acme_proto::client::OrderFlow::challenge_ready)).
///
/// A request the core lets out alone is sent on the calling thread; the requests it
/// lets out together (an order's authorizations, say) are sent together, each from a
/// thread of its own (scoped: none outlives the drive), on the transport's pooled
/// connections. They keep going while an event is handled or a wait runs, and their
/// results are handed back as they come.
///
/// An error from `events` ends the drive with that error (once the requests out have
/// landed). When the core gives up after transport failures, the last failure comes
/// back in [`DriverError::Transport`].
pub fn drive<O: Operation>(
    op: &mut O,
    client: &Mutex<Client>,
    transport: &Transport,
    mut events: impl FnMut(&mut O, O::Event) -> Result<(), DriverError>,
) -> Result<O::Output, DriverError> {
    let mut drive = Drive::new();
    std::thread::scope(|scope| {
        let (done, landed) = mpsc::channel::<Landed>();
        let mut out = 0_usize;
        let mut batch: Vec<Request> = Vec::new();
        loop {
            let turn = drive.next(op, client);
            if let Turn::Send(request) = turn {
                batch.push(request);
                continue;
            }
            // Every request the core lets out now is in `batch`.
            let alone = batch.len() == 1 && out == 0;
            for request in batch.drain(..) {
                if !alone {
                    let kept = request.clone();
                    let done = done.clone();
                    let spawned = std::thread::Builder::new()
                        .name("acme request".into())
                        .spawn_scoped(scope, move || {
                            let result = transport.send(&request);
                            // The drive ended early (an error): nothing to hand back to.
                            let _ = done.send((request, result));
                        });
                    if spawned.is_ok() {
                        out += 1;
                        continue;
                    }
                    // No thread to be had: this one sends it, as for a request alone.
                    let result = transport.send(&kept);
                    drive.sent(op, client, &kept, result)?;
                    continue;
                }
                let result = transport.send(&request);
                drive.sent(op, client, &request, result)?;
            }
            if alone && matches!(turn, Turn::Await | Turn::Sleep(_)) {
                // Taken while the request was out, which has landed since.
                continue;
            }
            match turn {
                // Stale: what it waited for was sent on this thread and has landed.
                Turn::Send(_) | Turn::Await if out == 0 => {}
                Turn::Send(_) => {}
                Turn::Await => {
                    let (request, result) = landed.recv().map_err(|_| DriverError::Stalled)?;
                    out -= 1;
                    drive.sent(op, client, &request, result)?;
                }
                Turn::Event(event) => events(op, event)?,
                Turn::Sleep(duration) if out == 0 => std::thread::sleep(duration),
                Turn::Sleep(duration) => match landed.recv_timeout(duration) {
                    Ok((request, result)) => {
                        out -= 1;
                        drive.sent(op, client, &request, result)?;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(DriverError::Stalled);
                    }
                },
                Turn::Done(result) => return result,
            }
        }
    })
}
