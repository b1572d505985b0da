//! The drive loop: the core's run loop on the calling thread. It moves bytes, sleeps
//! until the core's [`Wait`](acme_proto::Wait), and hands events to the caller; every
//! decision (retries, backoff, polling, nonces) is the core's.
//!
//! Many operations can be driven at once over one [`Client`] (one nonce pool), each on
//! its own thread: the client sits behind a `std::sync::Mutex` held only inside `poll`
//! and `handle_*`, never while a request is out or while sleeping.

use std::sync::Mutex;

use acme_proto::Client;
use acme_proto::client::{Operation, Step};
use acme_proto_support::drive::{hand_back, lock, now, outcome, sending, waiting};

use crate::error::DriverError;
use crate::transport::Transport;

/// Drives `op` to its end over `client` and `transport`, handing each event to
/// `events`, which answers through `op` (for example
/// [`OrderFlow::challenge_ready`](acme_proto::client::OrderFlow::challenge_ready)).
///
/// An error from `events` ends the drive with that error. When the core gives up
/// after transport failures, the last failure comes back in
/// [`DriverError::Transport`].
pub fn drive<O: Operation>(
    op: &mut O,
    client: &Mutex<Client>,
    transport: &Transport,
    mut events: impl FnMut(&mut O, O::Event) -> Result<(), DriverError>,
) -> Result<O::Output, DriverError> {
    let mut last_failure = None;
    loop {
        let step = op.poll(&mut lock(client), now());
        match step {
            Step::Send(request) => {
                sending(&request);
                let result = transport.send(&request);
                hand_back(op, client, &request, result, &mut last_failure)?;
            }
            Step::Event(event) => events(op, event)?,
            Step::Wait(wait) => std::thread::sleep(waiting(&wait)),
            Step::Done => return outcome(op, last_failure),
            // `AwaitingCaller`: the handler returned without answering the event (this
            // loop has no later moment to answer in). `InFlight` cannot come: every
            // request is answered before the next poll. A step added to the core since
            // is an error too, never a busy loop.
            _ => return Err(DriverError::Stalled),
        }
    }
}
