//! The order flow (RFC 8555 §7.4): every transition of an order, from `newOrder` to the
//! downloaded certificate, one concern a file:
//!
//! * here: [`OrderFlow`], the public type (a runner over the machine);
//! * `machine.rs`: every transition, in one file; `operation.rs`, the machine as the
//!   runner sees it;
//! * `state.rs`: what the machine holds, its states (each with its own data);
//! * `client/authorization_table.rs` (shared with pre-authorization): the authorization
//!   table, its checks and the caller's choice of challenge;
//! * `checks.rs`: what the server's order and certificate are checked against;
//! * `request.rs`: [`NewOrder`], the `newOrder` request, and what each request is for;
//! * `events.rs`, `snapshot.rs`: [`OrderEvent`] and [`Issued`], [`OrderSnapshot`].
//!
//! ```text
//!              ┌────────── alreadyReplaced: retry without `replaces` ──────────┐
//!              ▼                                                               │
//!  (new) ──► Create ──newOrder──► FetchAuthorizations ──► Respond ◄── challenge_ready()
//!                       │          (every authorization,     │ (POST {} to each chosen
//!  (resume) ──► Resume ─┘           together; valid ones     │  challenge, together)
//!                                   skipped, pending ones    ▼
//!                                   offered)
//!                                                        PollOrder ◄──── processing, pending
//!                                                            │
//!                         ready ─► AwaitCsr ──provide_csr()──┤
//!                                                            ▼
//!                                   orderNotReady ◄──── Finalize
//!                                    (poll, finalize again)  │ valid
//!                                                            ▼
//!                                                        Download ──► Done(Issued)
//!                                                     (chain, then alternates)
//!
//!  invalid (order, authorization or challenge) ──► Diagnose ──► Done(Err(problem))
//!  (fetch the failed authorizations to report why)
//! ```
//!
//! Every challenge the caller provisioned gets a cleanup event once the order no longer
//! needs it, whether the order succeeds or fails. Once every chosen challenge has been
//! answered, the order itself is polled, not each authorization; an authorization is
//! fetched again only to say why the order failed. A `K`-name order whose server answers
//! at the first poll takes `2K + 5` requests from `newOrder` to the certificate.
//!
//! The authorizations are fetched together, and the chosen challenges answered
//! together, for a caller that sends requests together (see [`Step::Send`](crate::Step::Send); up to
//! [`Policy::max_requests_in_flight`](crate::Policy::max_requests_in_flight) at once):
//! then a `K`-name order takes as many round trips as a one-name order: the `K − 1`
//! nonces its fetches need beyond the pool's are fetched beside the `newOrder`.

mod checks;
mod events;
mod machine;
mod operation;
mod request;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;

pub use events::{Issued, OrderEvent};
pub use request::NewOrder;
pub use snapshot::OrderSnapshot;
pub(crate) use state::OrderMachine;

use alloc::vec::Vec;

use url::Url;

use crate::client::run::{Runner, operation_by_runner};
use crate::fault::Misuse;
use crate::resource::Order;

/// An order in progress, from `newOrder` (or a snapshot) to the certificate.
///
/// Driven like every [`Operation`](crate::client::Operation); between requests it asks the caller, through
/// [`OrderEvent`]s, to provision challenges and to give a CSR. See the module docs for
/// the state diagram.
#[derive(Debug)]
pub struct OrderFlow(Runner<OrderMachine>);

impl OrderFlow {
    /// The most times a CSR is sent for one order (after `orderNotReady` or a transport
    /// failure, the order is polled and finalized again).
    const MAX_FINALIZE_ATTEMPTS: u32 = 3;
    /// The most alternate chains downloaded.
    const MAX_ALTERNATES: usize = 8;
    /// The largest CSR accepted.
    const MAX_CSR_LEN: usize = 64 * 1024;
    /// The most identifiers an order may have: ten times any real CA's limit (100 at
    /// Let's Encrypt).
    pub const MAX_IDENTIFIERS: usize = 1000;
    /// The longest identifier, in bytes of its JSON object (a DNS name takes at most 280).
    pub const MAX_IDENTIFIER_LEN: usize = 512;
    /// The largest CSR public key (DER `SubjectPublicKeyInfo`) kept: an RSA-16384 key
    /// takes about 2 KiB.
    pub const MAX_CSR_KEY_LEN: usize = 4096;
}

/// Starting: a new order, or one resumed from a snapshot.
impl OrderFlow {
    /// A new order. Fails when there is no identifier, or more than
    /// [`OrderFlow::MAX_IDENTIFIERS`], or one longer than
    /// [`OrderFlow::MAX_IDENTIFIER_LEN`] (so that every snapshot reads back).
    pub fn new(request: NewOrder) -> Result<Self, Misuse> {
        OrderMachine::new(request).map(|machine| Self(Runner::new(machine)))
    }

    /// Resumes a saved order: fetches the order and its authorizations again, then
    /// carries on from where the server says it is. Never creates a second order.
    ///
    /// The server's order must still list the snapshot's identifiers, and the
    /// certificate must be for the snapshot's key; when the snapshot has no key (it was
    /// taken before the CSR was given), give the CSR again with
    /// [`OrderFlow::provide_csr`] before the certificate is downloaded.
    pub fn resume(snapshot: OrderSnapshot) -> Self {
        Self(Runner::new(OrderMachine::resume(snapshot)))
    }
}

/// Getters: what the order is now. None changes the flow.
impl OrderFlow {
    /// The order URL, once the server created the order.
    pub fn url(&self) -> Option<&Url> {
        self.0.machine().url()
    }

    /// The order as last fetched.
    pub fn order(&self) -> Option<&Order> {
        self.0.machine().order()
    }

    /// A snapshot to resume from, once the order exists. Requests out meanwhile (the
    /// authorizations' fetches, the challenges' answers, a finalize) change nothing in
    /// it: what they change at the server is fetched again on resume.
    ///
    /// Events not yet taken are re-derived on resume (the authorizations are fetched
    /// again, cleanups are listed in the snapshot), except [`OrderEvent::ReplacesDropped`]:
    /// while it waits to be taken there is no snapshot. It always comes before
    /// [`OrderEvent::Created`], so a snapshot taken on `Created` is always there.
    ///
    /// A snapshot always reads back with [`OrderSnapshot::from_json`]: every URL in it
    /// passed [`Limits::MAX_URL_LEN`](crate::Limits::MAX_URL_LEN), and when a server's order makes the caller
    /// provision more than [`OrderSnapshot::MAX_PROVISIONED`] challenges (ten times any
    /// real CA's names per order) there is no snapshot.
    pub fn snapshot(&self) -> Option<OrderSnapshot> {
        self.0.machine().snapshot()
    }
}

/// The caller's answers to the events: each may come late (see
/// [`Step::AwaitingCaller`](crate::Step::AwaitingCaller)). Driving the flow (`poll`,
/// `handle_response`, `handle_transport_failure`, `take_outcome`) is its
/// [`Operation`](crate::client::Operation) impl's.
impl OrderFlow {
    /// Says that the challenge at `challenge_url` (from an [`OrderEvent::Authorize`]
    /// offer) is in place: the server will be asked to validate it.
    ///
    /// Refused once the order has ended (its last [`OrderEvent::Cleanup`]s may still be
    /// waiting to be taken): nothing would clean the challenge up.
    pub fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        self.0.machine_mut().challenge_ready(challenge_url)
    }

    /// Gives the CSR (DER) to finalize with; may come before [`OrderEvent::NeedCsr`].
    /// Refused once a CSR has been sent: the certificate is checked against that one's
    /// key.
    pub fn provide_csr(&mut self, der: Vec<u8>) -> Result<(), Misuse> {
        self.0.machine_mut().provide_csr(der)
    }

    /// Ends the order now, as the caller decided (a solver failed, the program is
    /// shutting down): every challenge given to [`challenge_ready`](Self::challenge_ready)
    /// comes back in a [`OrderEvent::Cleanup`], then `Done`, with the outcome
    /// `Err(Error::Abandoned)`. Nothing more is sent; a request already out is still to
    /// be handed back (its response is then ignored). An order that has ended already
    /// is left as it is. The order stays on the server, where it expires.
    pub fn abandon(&mut self) {
        self.0.fail(crate::Error::Abandoned);
    }
}

operation_by_runner!(OrderFlow, OrderEvent, Issued);
