//! What an order holds: `OrderMachine`'s data, its states and what a request is for.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use super::authorizations::{AuthorizationSlot, Slot};
use super::checks::check_identifiers;
use super::events::{Issued, OrderEvent};
use super::request::NewOrder;
use crate::certificate::CertificateChain;
use crate::client::offer::ChallengeOffer;
use crate::client::polling::Polling;
use crate::client::run::Effects;
use crate::crypto::Thumbprint;
use crate::fault::Misuse;
use crate::identifier::Identifier;
use crate::resource::Order;
use crate::time::UnixTime;

/// What the flow does when no request is out.
#[derive(Debug, Clone)]
pub(super) enum State {
    Create,
    Resume,
    FetchAuthorizations { next: usize },
    Respond,
    PollOrder { at: UnixTime },
    AwaitCsr,
    Finalize,
    Download,
    Diagnose { next: usize },
    Done,
}

/// What the request out is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Directory,
    Create,
    Order,
    Authorization(usize),
    Respond(usize),
    Finalize,
    Certificate,
    Alternate(usize),
    Diagnose(usize),
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

/// The machine of an [`OrderFlow`]: every transition of an order.
#[derive(Debug)]
pub(crate) struct OrderMachine {
    /// The identifiers requested (for a version 1 snapshot, those of the order as first
    /// fetched): what the server's order and authorizations are checked against.
    pub(super) identifiers: Vec<Identifier>,
    /// The rest of the request (its identifiers moved out), until the order is created.
    pub(super) creating: Option<Box<NewOrder>>,
    pub(super) url: Option<Url>,
    /// Boxed, like every field needed only in some states: a parked order is small.
    pub(super) order: Option<Box<Order>>,
    pub(super) slots: Vec<AuthorizationSlot>,
    /// Challenge URLs provisioned in an earlier process, from a snapshot.
    pub(super) resumed_provisioned: Vec<Url>,
    pub(super) provisioned: Vec<ChallengeOffer>,
    /// The account key's thumbprint the compact offers were made with.
    pub(super) thumbprint: Option<Thumbprint>,
    pub(super) csr: Option<Box<[u8]>>,
    /// The CSR's public key (DER SPKI): what the certificate must be for.
    pub(super) csr_key: Option<Box<[u8]>>,
    /// Whether the flow was resumed from a snapshot.
    pub(super) resumed: bool,
    pub(super) state: State,
    /// `Authorize` events held until every authorization of the order has been fetched
    /// and checked, so that no challenge is presented for an order that is refused.
    pub(super) offers_held: Vec<OrderEvent>,
    pub(super) polling: Polling,
    /// What the current poll waits for (a new one restarts the polling schedule).
    pub(super) waiting_for: Option<&'static str>,
    pub(super) finalize_attempts: u32,
    /// The chains downloaded so far, once the certificate is.
    pub(super) downloaded: Option<Box<Downloaded>>,
    pub(super) effects: Effects<OrderEvent, Issued>,
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
        let mut flow = Self::with_state(identifiers, None, State::Create, Vec::new());
        flow.creating = Some(rest);
        Ok(flow)
    }

    pub(super) fn with_state(
        identifiers: Vec<Identifier>,
        url: Option<Url>,
        state: State,
        resumed: Vec<Url>,
    ) -> Self {
        Self {
            identifiers,
            creating: None,
            url,
            order: None,
            slots: Vec::new(),
            resumed_provisioned: resumed,
            provisioned: Vec::new(),
            thumbprint: None,
            csr: None,
            csr_key: None,
            resumed: false,
            state,
            offers_held: Vec::new(),
            polling: Polling::default(),
            waiting_for: None,
            finalize_attempts: 0,
            downloaded: None,
            effects: Effects::default(),
        }
    }

    pub(super) fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    pub(super) fn order(&self) -> Option<&Order> {
        self.order.as_deref()
    }

    /// Whether the flow waits for the caller (a challenge choice or a CSR), with nothing
    /// to send meanwhile.
    pub(super) fn idle(&self) -> bool {
        match &self.state {
            State::AwaitCsr => true,
            State::Respond => {
                self.slots
                    .iter()
                    .any(|s| matches!(s.slot, Slot::Offered(_)))
                    && !self.slots.iter().any(|s| {
                        matches!(
                            s.slot,
                            Slot::Chosen {
                                responded: false,
                                ..
                            }
                        )
                    })
            }
            _ => false,
        }
    }
}
