//! [`AcmeClient`]: one ACME account over the network, issuing certificates.

use std::sync::Arc;

use acme_proto::NoEvent;
use acme_proto::client::{ChallengeOffer, KeyRollover, Operation};
use acme_proto::crypto::AccountKey;
use acme_proto_support::Account;
use acme_proto_support::drive::Presenting;

use crate::drive::{EventHandler, drive};
use crate::error::{DriverError, KeyChangeError};
use crate::solver::Solver;
use crate::transport::Transport;

/// One ACME account at one CA, over the network: the core
/// [`Client`](acme_proto::Client) (directory, key, nonce pool, policy) behind a mutex,
/// and a [`Transport`].
///
/// Share it (for example in an `Arc`) to run many orders at once: they share the nonce
/// pool and the connection pool, and each runs in its own future or task.
///
/// # Cancellation
///
/// What a method's future does when it is dropped before it ends (a `timeout`, a
/// `select!`, an aborted task):
///
/// * [`change_key`](Self::change_key) and [`change_signer`](Self::change_signer) run in
///   a task of their own, which holds the new key: the rollover still ends, and when
///   the server applied it the client signs with the new key
///   ([`credentials`](Self::credentials) hold it). Nothing is lost.
/// * The orders ([`issue`](Self::issue), [`issue_order`](Self::issue_order),
///   [`issue_with_csr`](Self::issue_with_csr), [`order`](Self::order),
///   [`issue_saving`](Self::issue_saving), [`resume`](Self::resume)) and
///   [`pre_authorize`](Self::pre_authorize) stop where they are: challenges already
///   presented **stay in place** (no cleanup runs without an `.await`), and the order
///   stays on the server. With `issue_saving`, the last save lists what was presented,
///   and `resume` cleans it up and carries the order on.
/// * Every other operation stops at its next `.await`: a request already sent may have
///   been processed (a revocation, a deactivation), so repeat it, or fetch, to learn.
#[derive(Debug)]
pub struct AcmeClient {
    account: Arc<Account>,
    transport: Transport,
}

impl AcmeClient {
    acme_proto_support::acme_client_operations!(tokio);

    /// [`run`](Self::run), leaving the operation with the caller (to read it after).
    async fn run_mut<O: Operation<Event = NoEvent>>(
        &self,
        op: &mut O,
    ) -> Result<O::Output, DriverError> {
        let no_events = |_: &mut O, never: NoEvent| -> Result<(), DriverError> { match never {} };
        drive(op, self.account.core(), &self.transport, no_events).await
    }

    /// Drives a key rollover in a task of its own, which holds the new key: a caller
    /// that stops waiting (a `timeout`, a `select!`, an abort) cannot drop a key the
    /// server may already have installed. The task ends the rollover either way, and
    /// installs the key in this client when the server applied it.
    async fn roll_over<K: Send + 'static>(
        &self,
        mut op: KeyRollover,
        new_key: K,
        kept: fn(K) -> Option<AccountKey>,
    ) -> Result<(), Box<KeyChangeError<K>>> {
        let account = Arc::clone(&self.account);
        let transport = self.transport.clone();
        let rollover = tokio::spawn(async move {
            let no_events =
                |_: &mut KeyRollover, never: NoEvent| -> Result<(), DriverError> { match never {} };
            let result = drive(&mut op, account.core(), &transport, no_events).await;
            account.rolled_over(&op, result, new_key, kept)
        });
        match rollover.await {
            Ok(outcome) => outcome,
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only a runtime shutting down cancels it: this future goes with it.
                Err(_) => std::future::pending().await,
            },
        }
    }

    /// Drives `op`, handing its events to `solver`.
    async fn drive_solving<O: Presenting + Send, S: Solver>(
        &self,
        op: &mut O,
        solver: &S,
    ) -> Result<O::Output, DriverError>
    where
        O::Output: Send,
    {
        drive(
            op,
            self.account.core(),
            &self.transport,
            SolverEvents { solver },
        )
        .await
    }
}

/// The events of an order or a pre-authorization, for [`drive`].
struct SolverEvents<'a, S> {
    solver: &'a S,
}

impl<S: Solver, O: Presenting + Send> EventHandler<O> for SolverEvents<'_, S> {
    fn on_event(
        &mut self,
        op: &mut O,
        event: O::Event,
    ) -> impl Future<Output = Result<(), DriverError>> + Send {
        // Converted here, so that the future holds an `OrderEvent` (which is `Send`).
        AcmeClient::on_solver_event(self.solver, op, event.into())
    }
}

/// One cleanup; a failure is logged and does not change the outcome.
async fn cleanup<S: Solver>(solver: &S, offer: &ChallengeOffer) {
    if let Err(error) = solver.cleanup(offer).await {
        tracing::warn!(url = %offer.url, %error, "challenge cleanup failed");
    }
}
