//! What an order holds: `OrderMachine`'s data and its states.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use super::checks::check_identifiers;
use super::events::{Issued, OrderEvent};
use super::request::NewOrder;
use crate::certificate::CertificateChain;
use crate::client::authorization_table::AuthorizationTable;
use crate::client::polling::Polling;
use crate::client::run::Effects;
use crate::fault::Misuse;
use crate::identifier::Identifier;
use crate::resource::Order;
use crate::time::UnixTime;

/// Where an order is: each state holds what it needs, and nothing else.
#[derive(Debug)]
pub(super) enum OrderState {
    /// Before `newOrder` is answered: the request (its identifiers moved out to
    /// [`OrderMachine::identifiers`]).
    Creating(Box<NewOrder>),
    /// From a snapshot, before the order is fetched again: its URL, and the challenges
    /// the earlier process had provisioned.
    Resuming(Box<Resuming>),
    /// The order exists on the server and was read.
    Live(Box<Live>),
    /// Ended: the outcome is given, or waits to be taken. What the getters still show:
    /// the order URL and the order as last read, when there were.
    Done(Option<Box<Ended>>),
}

/// A saved order, before it is fetched again.
#[derive(Debug)]
pub(super) struct Resuming {
    pub(super) url: Url,
    /// The challenges the earlier process had provisioned.
    pub(super) provisioned: Vec<Url>,
}

/// What an ended order still shows.
#[derive(Debug)]
pub(super) struct Ended {
    pub(super) url: Url,
    /// The order as last read, if it was.
    pub(super) order: Option<Order>,
}

/// An order the server created, as last read.
#[derive(Debug)]
pub(super) struct Live {
    pub(super) url: Url,
    pub(super) order: Order,
    pub(super) authorizations: AuthorizationTable,
    pub(super) phase: LiveState,
    pub(super) polling: Polling,
    pub(super) finalize_attempts: u32,
}

/// What a live order does when no request is out.
#[derive(Debug)]
pub(super) enum LiveState {
    /// Fetching the authorizations, together (as many at once as the policy's
    /// [`max_requests_in_flight`](crate::Policy::max_requests_in_flight)).
    FetchAuthorizations,
    /// Telling the server of each chosen challenge (together, as the authorizations are
    /// fetched), or waiting for the caller's choice.
    Respond,
    /// Polling the order, next at `at`.
    PollOrder { at: UnixTime },
    /// Ready, waiting for the caller's CSR.
    AwaitCsr,
    /// Sending the CSR.
    Finalize,
    /// Downloading the certificate, then its alternates.
    Download(Option<Box<Downloaded>>),
    /// Fetching the authorizations that are not valid, from `next`, to say why the order
    /// failed.
    Diagnose { next: usize },
}

/// The certificate downloaded, with what was checked of it, and its alternates so far.
#[derive(Debug)]
pub(super) struct Downloaded {
    pub(super) url: Url,
    pub(super) chain: CertificateChain,
    pub(super) unrequested_names: Vec<String>,
    /// The alternate chains' URLs (`Link: rel="alternate"`), and the next to download.
    pub(super) alternate_urls: Vec<Url>,
    pub(super) next: usize,
    pub(super) alternates: Vec<(Url, CertificateChain)>,
}

impl Downloaded {
    /// The order's outcome, once every chain is in.
    pub(super) fn issued(self, order_url: Url) -> Issued {
        Issued {
            order_url,
            certificate_url: self.url,
            chain: self.chain,
            alternates: self.alternates,
            unrequested_names: self.unrequested_names,
        }
    }
}

/// The machine of an [`OrderFlow`](super::OrderFlow): every transition of an order.
#[derive(Debug)]
pub(crate) struct OrderMachine {
    /// The identifiers requested (for a version 1 snapshot, those of the order as first
    /// fetched): what the server's order and authorizations are checked against.
    pub(super) identifiers: Vec<Identifier>,
    pub(super) stage: OrderState,
    /// The caller's CSR, once given (it may come before the order is ready).
    pub(super) csr: Option<Box<[u8]>>,
    /// The CSR's public key (DER SPKI): what the certificate must be for.
    pub(super) csr_key: Option<Box<[u8]>>,
    /// The directory and the account the order belongs to: the client's, from the first
    /// step on; for a resumed order, what its snapshot says until that step checks it.
    pub(super) bound: Option<Bound>,
    /// While the `newOrder` is out (for a caller that sends requests together): how
    /// many more nonces to fetch beside it, so that the authorizations can all be
    /// fetched together once it is answered.
    pub(super) nonces_beside: Option<usize>,
    /// Those nonces' requests still out: the authorizations are fetched once they have
    /// landed (all together, then, rather than some fetching a nonce of their own).
    pub(super) nonces_out: usize,
    pub(super) effects: Effects<OrderEvent, Issued>,
}

/// Where an order belongs: a snapshot records it, and resuming checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bound {
    pub(super) directory: Url,
    pub(super) account: Url,
}

/// What an order waits for while its challenges are validated.
pub(super) const VALIDATION: &str = "validation of the order's challenges";
/// What an order waits for once finalized.
pub(super) const ISSUANCE: &str = "issuance of the order's certificate";

impl OrderMachine {
    pub(super) fn new(request: NewOrder) -> Result<Self, Misuse> {
        if request.identifiers.is_empty() {
            return Err(Misuse::InvalidArgument(
                "an order needs at least one identifier",
            ));
        }
        check_identifiers(&request.identifiers)?;
        let mut rest = Box::new(request);
        let identifiers = core::mem::take(&mut rest.identifiers);
        Ok(Self {
            identifiers,
            stage: OrderState::Creating(rest),
            csr: None,
            csr_key: None,
            bound: None,
            nonces_beside: None,
            nonces_out: 0,
            effects: Effects::default(),
        })
    }

    pub(super) fn live(&self) -> Option<&Live> {
        match &self.stage {
            OrderState::Live(live) => Some(live),
            _ => None,
        }
    }

    pub(super) fn url(&self) -> Option<&Url> {
        match &self.stage {
            OrderState::Resuming(resuming) => Some(&resuming.url),
            OrderState::Live(live) => Some(&live.url),
            OrderState::Done(ended) => ended.as_ref().map(|e| &e.url),
            OrderState::Creating(_) => None,
        }
    }

    pub(super) fn order(&self) -> Option<&Order> {
        match &self.stage {
            OrderState::Live(live) => Some(&live.order),
            OrderState::Done(ended) => ended.as_ref().and_then(|e| e.order.as_ref()),
            OrderState::Creating(_) | OrderState::Resuming(_) => None,
        }
    }

    /// Whether the flow waits for the caller (a challenge choice or a CSR), with nothing
    /// to send meanwhile.
    pub(super) fn idle(&self) -> bool {
        self.live().is_some_and(|live| match live.phase {
            LiveState::AwaitCsr => true,
            LiveState::Respond => live.authorizations.waits_for_caller(),
            _ => false,
        })
    }
}
