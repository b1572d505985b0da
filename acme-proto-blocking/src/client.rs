//! [`AcmeClient`]: one ACME account over the network, issuing certificates, from as
//! many threads as the caller likes.

use std::sync::Arc;

use acme_proto::NoEvent;
use acme_proto::client::{ChallengeOffer, KeyRollover, Operation};
use acme_proto::crypto::AccountKey;
use acme_proto_support::Account;
use acme_proto_support::drive::Presenting;

use crate::drive::drive;
use crate::error::{DriverError, KeyChangeError};
use crate::solver::Solver;
use crate::transport::Transport;

/// One ACME account at one CA, over the network: the core
/// [`Client`](acme_proto::Client) (directory, key, nonce pool, policy) behind a mutex,
/// and a [`Transport`].
///
/// `Send` and `Sync`: share it (for example in an `Arc`, or by reference into scoped
/// threads) to run many orders at once, one per thread. They share the nonce pool and
/// the connection pool; the mutex is held only for one step of the core at a time,
/// never while a request is out.
#[derive(Debug)]
pub struct AcmeClient {
    account: Arc<Account>,
    transport: Transport,
}

impl AcmeClient {
    acme_proto_support::acme_client_operations!(blocking);

    /// [`run`](Self::run), leaving the operation with the caller (to read it after).
    fn run_mut<O: Operation<Event = NoEvent>>(&self, op: &mut O) -> Result<O::Output, DriverError> {
        let no_events = |_: &mut O, never: NoEvent| -> Result<(), DriverError> { match never {} };
        drive(op, self.account.core(), &self.transport, no_events)
    }

    /// Drives a key rollover on this thread.
    fn roll_over<K>(
        &self,
        mut op: KeyRollover,
        new_key: K,
        kept: fn(K) -> Option<AccountKey>,
    ) -> Result<(), Box<KeyChangeError<K>>> {
        let result = self.run_mut(&mut op);
        self.account.rolled_over(&op, result, new_key, kept)
    }

    /// Drives `op` on this thread, handing its events to `solver`.
    fn drive_solving<O: Presenting, S: Solver + ?Sized>(
        &self,
        op: &mut O,
        solver: &S,
    ) -> Result<O::Output, DriverError> {
        let events = |op: &mut O, event: O::Event| Self::on_solver_event(solver, op, event.into());
        drive(op, self.account.core(), &self.transport, events)
    }
}

/// One cleanup; a failure is logged and does not change the outcome.
fn cleanup<S: Solver + ?Sized>(solver: &S, offer: &ChallengeOffer) {
    if let Err(error) = solver.cleanup(offer) {
        tracing::warn!(url = %offer.url, %error, "challenge cleanup failed");
    }
}
