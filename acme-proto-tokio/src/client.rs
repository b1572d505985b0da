//! [`AcmeClient`]: one ACME account over the network, issuing certificates.

use std::sync::Arc;

use acme_proto::client::{
    AccountCredentials, AccountInfo, AccountRef, ChallengeOffer, Issued, NewAccount, NewOrder,
    Operation, OrderEvent, OrderFlow, PreAuthorization, RenewalSuggestion, RevocationReason,
    RolloverState,
};
use acme_proto::crypto::{AccountKey, Signer};
use acme_proto::resource::{Authorization, Challenge, Directory};
use acme_proto::{CertificateChain, Client, Identifier, NoEvent};
use acme_proto_support::drive::{Presenting, next_cleanup};
use acme_proto_support::{
    Account, Action, Certificate, SaveOrder, SavedOrder, SavingOrder, action, certificate_request,
    report_unrequested_names,
};
use url::Url;

use crate::drive::{EventHandler, drive};
use crate::error::{DriverError, KeyChangeError};
use crate::solver::Solver;
use crate::transport::Transport;

/// One ACME account at one CA, over the network: the core [`Client`] (directory,
/// key, nonce pool, policy) behind a mutex, and a [`Transport`].
///
/// Share it (for example in an `Arc`) to run many orders at once: they share the nonce
/// pool and the connection pool, and each runs in its own future or task.
#[derive(Debug)]
pub struct AcmeClient {
    account: Account,
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
    async fn on_event(&mut self, op: &mut O, event: OrderEvent) -> Result<(), DriverError> {
        AcmeClient::on_solver_event(self.solver, op, event).await
    }
}

/// One cleanup; a failure is logged and does not change the outcome.
async fn cleanup<S: Solver>(solver: &S, offer: &ChallengeOffer) {
    if let Err(error) = solver.cleanup(offer).await {
        tracing::warn!(url = %offer.url, %error, "challenge cleanup failed");
    }
}
