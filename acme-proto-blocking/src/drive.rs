//! The drive loop: the core's run loop on the calling thread. It moves bytes, sleeps
//! until the core's [`Wait`](acme_proto::Wait), and hands events to the caller; every
//! decision (retries, backoff, polling, nonces) is the core's.
//!
//! Many operations can be driven at once over one [`Client`] (one nonce pool), each on
//! its own thread: the client sits behind a `std::sync::Mutex` held only inside `poll`
//! and `handle_*`, never while a request is out or while sleeping.

use std::sync::Mutex;

use acme_proto::Client;
use acme_proto::client::Operation;
use acme_proto_support::drive::{Drive, Turn};

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
    let mut drive = Drive::new();
    loop {
        match drive.next(op, client) {
            Turn::Send(request) => {
                let result = transport.send(&request);
                drive.sent(op, client, &request, result)?;
            }
            Turn::Event(event) => events(op, event)?,
            Turn::Sleep(duration) => std::thread::sleep(duration),
            Turn::Done(result) => return result,
        }
    }
}
