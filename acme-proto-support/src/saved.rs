//! Orders that survive a crash: [`SavedOrder`] (the core's snapshot with the
//! certificate's private key) written through [`SaveOrder`] at every quiescent point,
//! and [`SavingOrder`], the order operation that does the writing, which both drivers'
//! `issue_saving` and `resume` drive.

use std::fmt;

use acme_proto::client::{Issued, NewOrder, Operation, OrderEvent, OrderFlow, OrderSnapshot};
use acme_proto::{
    Client, Error, Malformed, MalformedKind, Misuse, OrderStatus, RequestId, Response, Step,
    TransportFailure, UnixTime,
};
use serde::{Deserialize, Serialize};
use url::Url;
use zeroize::Zeroizing;

use crate::drive::Presenting;
use crate::error::DriverError;
use crate::issue::{Certificate, certificate_request, csr_for_key};

/// A saver's own error.
pub type SaveError = Box<dyn std::error::Error + Send + Sync>;

/// An order in progress, as saved: the core's [`OrderSnapshot`], the private key of the
/// certificate it will issue, and the order's status when it was saved.
///
/// The key is made before the order is created and saved with it, so it is on disk
/// before the CSR is sent: an order resumed after finalize still holds the key its
/// certificate is for. `Debug` never shows the key.
///
/// Where it may be read from: only a file the user wrote. Read it back with
/// [`read_trusted_file`](crate::read_trusted_file) (with [`MAX_LEN`](Self::MAX_LEN)),
/// which refuses a symbolic link, a file of another owner than the user or root, and one
/// writable by group or others. What it holds is checked again on resume: the snapshot
/// names its directory and account, and an order saved at another CA or by another
/// account, or pointing off the directory's origin, is refused before anything is sent
/// (see [`OrderSnapshot`]); a certificate expiring within the client's
/// `Policy::min_certificate_validity` is refused, not handed over.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedOrder {
    snapshot: OrderSnapshot,
    status: Option<OrderStatus>,
    private_key_pem: Zeroizing<String>,
}

/// The JSON form: a version, the snapshot in its own format, the status, the key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u32,
    order: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<OrderStatus>,
    certificate_key: Zeroizing<String>,
}

impl SavedOrder {
    /// The format version [`to_json`](Self::to_json) writes.
    pub const VERSION: u32 = 1;
    /// The largest saved order [`from_json`](Self::from_json) reads: the largest
    /// snapshot, doubled by JSON escaping, and 16 KiB for the key (an RSA-4096 PKCS#8
    /// PEM takes 3.3 KiB).
    pub const MAX_LEN: usize = 2 * OrderSnapshot::MAX_LEN + 16 * 1024;

    /// The core's snapshot: the order URL, its identifiers, the CSR's public key and the
    /// challenges provisioned.
    pub fn snapshot(&self) -> &OrderSnapshot {
        &self.snapshot
    }

    /// The order's status as last fetched before this was saved (`None` before the
    /// first fetch of a resumed order). Informational: a resumed order fetches it again.
    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }

    /// The certificate's private key (PKCS#8 PEM).
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// The saved order as JSON, in a buffer zeroized on drop (it holds the key).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let order = serde_json::from_slice(&self.snapshot.to_json()).unwrap_or_default();
        let wire = Wire {
            v: Self::VERSION,
            order,
            status: self.status,
            certificate_key: self.private_key_pem.clone(),
        };
        // Cannot fail: numbers, strings and the snapshot's own JSON.
        Zeroizing::new(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// Reads what [`to_json`](Self::to_json) wrote, checking the version, the
    /// snapshot (as [`OrderSnapshot::from_json`] does, and that it names its
    /// identifiers) and that the key is a PEM private key.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Malformed> {
        const CONTEXT: &str = "saved order";
        let invalid = |why| Malformed::new(CONTEXT, MalformedKind::Invalid(why));
        if bytes.len() > Self::MAX_LEN {
            return Err(invalid("larger than SavedOrder::MAX_LEN"));
        }
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|_| invalid("not a saved order's JSON"))?;
        if wire.v != Self::VERSION {
            return Err(invalid("unsupported saved-order version"));
        }
        let order = Zeroizing::new(serde_json::to_vec(&wire.order).unwrap_or_default());
        let snapshot = OrderSnapshot::from_json(&order)?;
        if snapshot.identifiers.is_empty() {
            return Err(invalid("a saved order without identifiers"));
        }
        if !wire
            .certificate_key
            .starts_with("-----BEGIN PRIVATE KEY-----")
        {
            return Err(invalid(
                "the certificate key is not a PKCS#8 PEM private key",
            ));
        }
        Ok(Self {
            snapshot,
            status: wire.status,
            private_key_pem: wire.certificate_key,
        })
    }
}

impl fmt::Debug for SavedOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedOrder")
            .field("snapshot", &self.snapshot)
            .field("status", &self.status)
            .field("private_key_pem", &"<hidden>")
            .finish()
    }
}

/// Where an order is saved, at each turn of its loop where what would be saved changed: once created, after each challenge is presented or cleaned
/// up, on each change of the order's status (finalize included).
///
/// It must be durable when it returns (write a temporary file, sync it, rename it, sync
/// the directory): the driver goes on as if it were. An error ends the order: what was
/// presented is cleaned up, and the driver's error is
/// [`DriverError::Save`]. It is called from the driving task or thread, so it should
/// be quick (a small file).
///
/// Closures `FnMut(&SavedOrder) -> Result<(), E>` are savers.
pub trait SaveOrder {
    /// Saves `order`, replacing what was saved before.
    fn save(&mut self, order: &SavedOrder) -> Result<(), SaveError>;
}

impl<F, E> SaveOrder for F
where
    F: FnMut(&SavedOrder) -> Result<(), E>,
    E: Into<SaveError>,
{
    fn save(&mut self, order: &SavedOrder) -> Result<(), SaveError> {
        self(order).map_err(Into::into)
    }
}

/// An [`OrderFlow`] with its certificate key, saving itself through a [`SaveOrder`]
/// before each request it sends once the order exists: a driver drives it as it drives
/// the flow, then calls [`finish`](Self::finish).
#[derive(Debug)]
pub struct SavingOrder<S> {
    flow: OrderFlow,
    private_key_pem: Zeroizing<String>,
    saver: S,
    last: Option<(OrderSnapshot, Option<OrderStatus>)>,
    failed: Option<SaveError>,
}

impl<S: SaveOrder> SavingOrder<S> {
    /// A new order for `request`, with a new P-256 key and a CSR naming exactly the
    /// request's identifiers (as `issue()` makes them).
    pub fn new(request: NewOrder, saver: S) -> Result<Self, DriverError> {
        let (csr, private_key_pem) = certificate_request(&request.identifiers)?;
        let mut flow = OrderFlow::new(request)?;
        flow.provide_csr(csr)?;
        Ok(Self::with(flow, private_key_pem, saver))
    }

    /// The order `saved` was taken from, resumed: never a second order. The CSR is made
    /// again from the saved key and identifiers (the server uses it only if the order
    /// was not finalized yet).
    pub fn resume(saved: SavedOrder, saver: S) -> Result<Self, DriverError> {
        let csr = csr_for_key(&saved.snapshot.identifiers, &saved.private_key_pem)?;
        let private_key_pem = saved.private_key_pem.clone();
        let mut flow = OrderFlow::resume(saved.snapshot.clone());
        flow.provide_csr(csr)?;
        let mut this = Self::with(flow, private_key_pem, saver);
        this.last = Some((saved.snapshot, saved.status));
        Ok(this)
    }

    fn with(flow: OrderFlow, private_key_pem: Zeroizing<String>, saver: S) -> Self {
        Self {
            flow,
            private_key_pem,
            saver,
            last: None,
            failed: None,
        }
    }

    /// The flow inside.
    pub fn flow(&self) -> &OrderFlow {
        &self.flow
    }

    /// The drive's result made whole: the certificate with its key, or the error, with
    /// a save failure (which the flow only saw as its abandonment) put first.
    pub fn finish(
        mut self,
        result: Result<Issued, DriverError>,
    ) -> Result<Certificate, DriverError> {
        if let Some(source) = self.failed.take() {
            return Err(DriverError::Save(source));
        }
        Ok(Certificate::new(result?, self.private_key_pem))
    }

    /// Saves the order if it exists and changed since last saved; on failure,
    /// abandons it (its presented challenges then come back as cleanups).
    fn checkpoint(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let Some(snapshot) = self.flow.snapshot() else {
            return;
        };
        let status = self.flow.order().map(|order| order.status);
        if self
            .last
            .as_ref()
            .is_some_and(|(s, st)| *s == snapshot && (status.is_none() || *st == status))
        {
            return;
        }
        let saved = SavedOrder {
            snapshot,
            status,
            private_key_pem: self.private_key_pem.clone(),
        };
        match self.saver.save(&saved) {
            Ok(()) => self.last = Some((saved.snapshot, saved.status)),
            Err(error) => {
                tracing::warn!(%error, "saving the order failed; abandoning it");
                self.failed = Some(error);
                self.flow.abandon();
            }
        }
    }
}

impl<S: SaveOrder> Operation for SavingOrder<S> {
    type Event = OrderEvent;
    type Output = Issued;

    fn poll(&mut self, client: &mut Client, now: UnixTime) -> Step<OrderEvent> {
        self.checkpoint();
        self.flow.poll(client, now)
    }

    fn handle_response(
        &mut self,
        client: &mut Client,
        id: RequestId,
        response: Response,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.flow.handle_response(client, id, response, now)
    }

    fn handle_transport_failure(
        &mut self,
        client: &mut Client,
        id: RequestId,
        failure: TransportFailure,
        now: UnixTime,
    ) -> Result<(), Misuse> {
        self.flow.handle_transport_failure(client, id, failure, now)
    }

    fn take_outcome(&mut self) -> Option<Result<Issued, Error>> {
        self.flow.take_outcome()
    }
}

impl<S: SaveOrder> Presenting for SavingOrder<S> {
    /// Tells the flow, then saves at once: the drivers call this before presenting, so
    /// that a challenge is in the saved order before it is put in place, and a resumed
    /// order cleans it up whatever moment the crash came at. Refused when the save
    /// fails (the order is then abandoned, and [`finish`](Self::finish) gives
    /// [`DriverError::Save`]).
    fn challenge_ready(&mut self, url: &Url) -> Result<(), Misuse> {
        self.flow.challenge_ready(url)?;
        self.checkpoint();
        if self.failed.is_some() {
            return Err(Misuse::InvalidArgument("the order could not be saved"));
        }
        Ok(())
    }

    fn abandon(&mut self) {
        self.flow.abandon();
    }
}
