//! The order flow (RFC 8555 §7.4): every transition of an order, from `newOrder` to the
//! downloaded certificate, in this one file.
//!
//! ```text
//!              ┌────────── alreadyReplaced: retry without `replaces` ──────────┐
//!              ▼                                                               │
//!  (new) ──► Create ──newOrder──► FetchAuthorizations ──► Respond ◄── challenge_ready()
//!                       │          (each authorization;      │ (POST {} to each chosen
//!  (resume) ──► Resume ─┘           valid ones skipped,      │  challenge)
//!                                   pending ones offered)    ▼
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

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::exchange::{Body, Endpoint, Exchanged, Spec};
use super::offer::{self, ChallengeOffer, CompactOffer};
use super::polling::Polling;
use super::run::{Effects, Machine, Next, Runner, operation_by_runner};
use super::{Client, Polled, Wait, WaitReason};
use crate::b64;
use crate::certificate::CertificateChain;
use crate::crypto::Thumbprint;
use crate::error::{Error, Malformed, MalformedKind, Misuse};
use crate::headers::LinkRelation;
use crate::identifier::Identifier;
use crate::limits::{Limits, ResponseKind};
use crate::problem::{Problem, ProblemType};
use crate::resource::{Authorization, Challenge, Directory, Order};
use crate::status::{AuthorizationStatus, ChallengeStatus, OrderStatus};
use crate::time::UnixTime;
use crate::wire::Method;

/// What to order (RFC 8555 §7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewOrder {
    /// The names and addresses the certificate is for.
    pub identifiers: Vec<Identifier>,
    /// The requested start of validity.
    pub not_before: Option<UnixTime>,
    /// The requested end of validity.
    pub not_after: Option<UnixTime>,
    /// A certificate profile the directory offers (draft-ietf-acme-profiles).
    pub profile: Option<String>,
    /// The ARI certID of the certificate this order replaces (RFC 9773 §5).
    pub replaces: Option<String>,
}

impl NewOrder {
    /// An order for these identifiers.
    pub fn new(identifiers: impl IntoIterator<Item = Identifier>) -> Self {
        Self {
            identifiers: identifiers.into_iter().collect(),
            not_before: None,
            not_after: None,
            profile: None,
            replaces: None,
        }
    }

    /// The same order, asking for a profile the directory lists.
    #[must_use]
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The same order, replacing the certificate with this ARI certID.
    #[must_use]
    pub fn replacing(mut self, cert_id: impl Into<String>) -> Self {
        self.replaces = Some(cert_id.into());
        self
    }

    /// The same order, asking for this validity period.
    #[must_use]
    pub fn valid_between(
        mut self,
        not_before: Option<UnixTime>,
        not_after: Option<UnixTime>,
    ) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
}

/// What the order flow tells the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderEvent {
    /// The server created the order. Save a [`snapshot`](OrderFlow::snapshot) now to
    /// resume it after a restart without creating a second one.
    Created {
        /// The order URL.
        url: Url,
    },
    /// The server refused `replaces` (`alreadyReplaced`): the order was sent again
    /// without it.
    ReplacesDropped {
        /// The certID that was dropped.
        cert_id: String,
        /// The server's problem.
        problem: Problem,
    },
    /// Prove control of an identifier: put one of the offers in place, then call
    /// [`OrderFlow::challenge_ready`] with its URL.
    Authorize {
        /// The authorization URL.
        authorization: Url,
        /// What it authorizes (for a wildcard, the name without `*.`).
        identifier: Identifier,
        /// Whether it is for a wildcard name.
        wildcard: bool,
        /// The challenges this client can answer for it, in the server's order.
        offers: Vec<ChallengeOffer>,
    },
    /// A challenge put in place is no longer needed: remove it.
    Cleanup(ChallengeOffer),
    /// The order is ready: call [`OrderFlow::provide_csr`] with a CSR (DER) for exactly
    /// these identifiers.
    NeedCsr {
        /// The identifiers the CSR must name.
        identifiers: Vec<Identifier>,
    },
}

/// The certificate an order produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issued {
    /// The order URL.
    pub order_url: Url,
    /// The certificate URL.
    pub certificate_url: Url,
    /// The default chain, end-entity first; [`CertificateChain::pem`] gives the text
    /// exactly as the server sent it.
    pub chain: CertificateChain,
    /// Alternate chains (`Link: rel="alternate"`), with their URLs.
    pub alternates: Vec<(Url, CertificateChain)>,
    /// Names in the certificate the order did not ask for (DNS names, then IP
    /// addresses, as the certificate lists them): some CAs add one. Every identifier of
    /// the order is in the certificate, and its key is the CSR's; these are extra, to be
    /// logged.
    pub unrequested_names: Vec<String>,
}

impl Issued {
    /// The chain leading to the root named `root` (the issuer common name of the chain's
    /// last certificate), or the default chain when none does: certbot's and lego's
    /// `--preferred-chain` rule, see [`select_chain`](crate::certificate::select_chain).
    pub fn preferred_chain(&self, root: &str) -> &CertificateChain {
        crate::certificate::select_chain(&self.chain, self.alternates.iter().map(|(_, c)| c), root)
    }
}

/// A saved order: enough to resume it in another process (with the same account key).
///
/// Small on purpose (the order URL, its identifiers, the CSR's public key once given, and
/// the challenges the caller provisioned: a few hundred bytes for a one-name order): the
/// server is the source of truth, and a resumed order starts by fetching the order and
/// its authorizations again. The identifiers and the key are what the resumed order is
/// checked against, as the first process checked it: the server's order must still list
/// exactly these identifiers, and the certificate must be for this key.
///
/// Version 1 snapshots (without identifiers or key) still read back; a resumed version 1
/// order takes the identifiers of the order as first fetched, and needs the CSR again
/// ([`OrderFlow::provide_csr`]) to check a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSnapshot {
    /// The format version, [`OrderSnapshot::VERSION`].
    #[serde(rename = "v")]
    pub version: u32,
    /// The order URL.
    pub url: Url,
    /// The identifiers of the order, as requested (and as the server confirmed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier>,
    /// The CSR's public key (DER `SubjectPublicKeyInfo`, base64url), once a CSR was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The challenges the caller provisioned and has not been told to clean up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisioned: Vec<Url>,
}

impl OrderSnapshot {
    /// The current format version.
    pub const VERSION: u32 = 2;
    /// The most provisioned challenges a snapshot may list: far above any real CA's
    /// names per order (100 at Let's Encrypt).
    pub const MAX_PROVISIONED: usize = 1000;
    /// The largest snapshot accepted by [`OrderSnapshot::from_json`]: what
    /// [`OrderSnapshot::MAX_PROVISIONED`] URLs plus the order URL take at most, each at
    /// most [`Limits::MAX_URL_LEN`] bytes and doubled by JSON escaping in the worst case.
    /// Every snapshot [`OrderFlow::snapshot`] gives fits. A one-name order's is a few
    /// hundred bytes.
    ///
    /// The identifiers ([`OrderFlow::MAX_IDENTIFIERS`], each at most
    /// [`OrderFlow::MAX_IDENTIFIER_LEN`] bytes of JSON, doubled by escaping) and the key
    /// ([`OrderFlow::MAX_CSR_KEY_LEN`] bytes, in base64url) are counted too.
    pub const MAX_LEN: usize = (Self::MAX_PROVISIONED + 1) * (2 * Limits::MAX_URL_LEN + 3)
        + OrderFlow::MAX_IDENTIFIERS * (2 * OrderFlow::MAX_IDENTIFIER_LEN + 1)
        + OrderFlow::MAX_CSR_KEY_LEN.div_ceil(3) * 4
        + 128;

    /// The snapshot as compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Cannot fail: a number, URLs and a list of URLs.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a snapshot written by [`OrderSnapshot::to_json`], checking its version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Malformed> {
        const CONTEXT: &str = "order snapshot";
        let snapshot: Self = crate::resource::bounded_json(CONTEXT, bytes, Self::MAX_LEN)?;
        if snapshot.version != Self::VERSION && snapshot.version != 1 {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("unsupported snapshot version"),
            ));
        }
        if snapshot.provisioned.len() > Self::MAX_PROVISIONED {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("too many provisioned challenges"),
            ));
        }
        if snapshot.version == 1 && (!snapshot.identifiers.is_empty() || snapshot.key.is_some()) {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("a version 1 snapshot has no identifiers or key"),
            ));
        }
        if snapshot.version != 1 && snapshot.identifiers.is_empty() {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("a snapshot without identifiers"),
            ));
        }
        if check_identifiers(&snapshot.identifiers).is_err() {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("identifiers over OrderFlow's bounds"),
            ));
        }
        if let Some(key) = &snapshot.key {
            let fits = b64::decode(key)
                .is_some_and(|k| !k.is_empty() && k.len() <= OrderFlow::MAX_CSR_KEY_LEN);
            if !fits {
                return Err(Malformed::new(
                    CONTEXT,
                    MalformedKind::Invalid(
                        "the key is not base64url of at most MAX_CSR_KEY_LEN bytes",
                    ),
                ));
            }
        }
        if core::iter::once(&snapshot.url)
            .chain(&snapshot.provisioned)
            .any(|url| super::check_url_len(url).is_err())
        {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("a URL longer than Limits::MAX_URL_LEN"),
            ));
        }
        Ok(snapshot)
    }
}

/// Where an authorization of the order stands.
#[derive(Debug, Clone)]
enum Slot {
    /// Not fetched yet.
    Unfetched,
    /// Valid: nothing to do (for instance reused from an earlier order).
    Valid,
    /// Offered to the caller, waiting for `challenge_ready`.
    Offered(Offered),
    /// The caller provisioned this challenge; `responded` once the server was told.
    Chosen {
        offer: Box<ChallengeOffer>,
        responded: bool,
    },
    /// Not valid and not pending (invalid, deactivated, expired, revoked).
    Failed,
}

/// The offers of a pending authorization, as the caller was given them, kept compactly
/// until one is chosen.
#[derive(Debug, Clone)]
struct Offered {
    /// Whether the authorization is for a wildcard name.
    wildcard: bool,
    /// The authorization's identifier as the server sent it (without `*.`), only when it
    /// is not the requested identifier the authorization is for (without `*.`): never
    /// for a server that passed the checks, but made sure of, not assumed.
    identifier: Option<Box<Identifier>>,
    offers: Box<[CompactOffer]>,
}

impl Offered {
    fn find(&self, challenge_url: &Url) -> Option<&CompactOffer> {
        self.offers.iter().find(|o| o.is_at(challenge_url))
    }
}

/// The identifier an authorization for `requested` names: the same, or for a wildcard
/// the name without `*.` (RFC 8555 §7.1.4).
fn authorization_identifier(requested: &Identifier, wildcard: bool) -> Option<Identifier> {
    match requested {
        Identifier::Dns(name) if wildcard => {
            crate::identifier::DnsName::new(name.without_wildcard())
                .ok()
                .map(Identifier::Dns)
        }
        _ if wildcard => None,
        other => Some(other.clone()),
    }
}

#[derive(Debug, Clone)]
struct AuthorizationSlot {
    url: Url,
    /// Which of the requested identifiers (its index) this authorization is for, once
    /// fetched and checked.
    identifier: Option<u32>,
    slot: Slot,
}

/// What the flow does when no request is out.
#[derive(Debug, Clone)]
enum State {
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
struct Downloaded {
    url: Url,
    chain: CertificateChain,
    unrequested_names: Vec<String>,
    /// The alternate chains' URLs (`Link: rel="alternate"`), and the next to download.
    alternate_urls: Vec<Url>,
    next: usize,
    alternates: Vec<(Url, CertificateChain)>,
}

/// An order in progress, from `newOrder` (or a snapshot) to the certificate.
///
/// Driven like every [`Operation`]; between requests it asks the caller, through
/// [`OrderEvent`]s, to provision challenges and to give a CSR. See the module docs for
/// the state diagram.
#[derive(Debug)]
pub struct OrderFlow(Runner<OrderMachine>);

/// The machine of an [`OrderFlow`]: every transition of an order.
#[derive(Debug)]
pub(crate) struct OrderMachine {
    /// The identifiers requested (for a version 1 snapshot, those of the order as first
    /// fetched): what the server's order and authorizations are checked against.
    identifiers: Vec<Identifier>,
    /// The rest of the request (its identifiers moved out), until the order is created.
    creating: Option<Box<NewOrder>>,
    url: Option<Url>,
    /// Boxed, like every field needed only in some states: a parked order is small.
    order: Option<Box<Order>>,
    slots: Vec<AuthorizationSlot>,
    /// Challenge URLs provisioned in an earlier process, from a snapshot.
    resumed_provisioned: Vec<Url>,
    provisioned: Vec<ChallengeOffer>,
    /// The account key's thumbprint the compact offers were made with.
    thumbprint: Option<Thumbprint>,
    csr: Option<Box<[u8]>>,
    /// The CSR's public key (DER SPKI): what the certificate must be for.
    csr_key: Option<Box<[u8]>>,
    /// Whether the flow was resumed from a snapshot.
    resumed: bool,
    state: State,
    /// `Authorize` events held until every authorization of the order has been fetched
    /// and checked, so that no challenge is presented for an order that is refused.
    offers_held: Vec<OrderEvent>,
    polling: Polling,
    /// What the current poll waits for (a new one restarts the polling schedule).
    waiting_for: Option<&'static str>,
    finalize_attempts: u32,
    /// The chains downloaded so far, once the certificate is.
    downloaded: Option<Box<Downloaded>>,
    effects: Effects<OrderEvent, Issued>,
}

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

    /// The order URL, once the server created the order.
    pub fn url(&self) -> Option<&Url> {
        self.0.machine().url()
    }

    /// The order as last fetched.
    pub fn order(&self) -> Option<&Order> {
        self.0.machine().order()
    }

    /// A snapshot to resume from, when the order exists and no request is out.
    ///
    /// Events not yet taken are re-derived on resume (the authorizations are fetched
    /// again, cleanups are listed in the snapshot), except [`OrderEvent::ReplacesDropped`]:
    /// while it waits to be taken there is no snapshot. It always comes before
    /// [`OrderEvent::Created`], so a snapshot taken on `Created` is always there.
    ///
    /// A snapshot always reads back with [`OrderSnapshot::from_json`]: every URL in it
    /// passed [`Limits::MAX_URL_LEN`], and when a server's order makes the caller
    /// provision more than [`OrderSnapshot::MAX_PROVISIONED`] challenges (ten times any
    /// real CA's names per order) there is no snapshot.
    pub fn snapshot(&self) -> Option<OrderSnapshot> {
        if self.0.busy() {
            return None;
        }
        self.0.machine().snapshot()
    }

    /// Says that the challenge at `challenge_url` (from an [`OrderEvent::Authorize`]
    /// offer) is in place: the server will be asked to validate it.
    ///
    /// Refused once the order has ended (its last [`OrderEvent::Cleanup`]s may still be
    /// waiting to be taken): nothing would clean the challenge up.
    pub fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        self.0.machine_mut().challenge_ready(challenge_url)
    }

    /// Gives the CSR (DER) to finalize with; may come before [`OrderEvent::NeedCsr`].
    pub fn provide_csr(&mut self, der: Vec<u8>) -> Result<(), Misuse> {
        self.0.machine_mut().provide_csr(der)
    }
}

impl OrderMachine {
    fn new(request: NewOrder) -> Result<Self, Misuse> {
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

    fn resume(snapshot: OrderSnapshot) -> Self {
        let mut flow = Self::with_state(
            snapshot.identifiers,
            Some(snapshot.url),
            State::Resume,
            snapshot.provisioned,
        );
        flow.resumed = true;
        flow.csr_key = snapshot
            .key
            .as_deref()
            .and_then(b64::decode)
            .map(Vec::into_boxed_slice);
        flow
    }

    fn with_state(
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

    fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    fn order(&self) -> Option<&Order> {
        self.order.as_deref()
    }

    fn snapshot(&self) -> Option<OrderSnapshot> {
        if matches!(self.state, State::Done) {
            return None;
        }
        if self
            .effects
            .queued()
            .any(|e| matches!(e, OrderEvent::ReplacesDropped { .. }))
        {
            return None;
        }
        let url = self.url.clone()?;
        let queued_cleanups = self.effects.queued().filter_map(|e| match e {
            OrderEvent::Cleanup(offer) => Some(&offer.url),
            _ => None,
        });
        let provisioned = self
            .provisioned
            .iter()
            .map(|o| &o.url)
            .chain(queued_cleanups)
            .chain(&self.resumed_provisioned)
            .cloned()
            .collect::<Vec<_>>();
        if provisioned.len() > OrderSnapshot::MAX_PROVISIONED {
            return None;
        }
        let identifiers = match self.order.as_deref() {
            Some(order) if self.identifiers.is_empty() => order.identifiers.clone(),
            _ => self.identifiers.clone(),
        };
        // A version 1 order resumed before its order was fetched has nothing to save but
        // what it was resumed from.
        let version = if identifiers.is_empty() {
            1
        } else {
            OrderSnapshot::VERSION
        };
        Some(OrderSnapshot {
            version,
            url,
            identifiers,
            key: self
                .csr_key
                .as_deref()
                .filter(|_| version > 1)
                .map(b64::encode),
            provisioned,
        })
    }

    fn challenge_ready(&mut self, challenge_url: &Url) -> Result<(), Misuse> {
        if matches!(self.state, State::Done) {
            return Err(Misuse::InvalidArgument(
                "the order has ended: do not provision its challenges",
            ));
        }
        const NOT_OFFERED: Misuse =
            Misuse::InvalidArgument("no pending challenge of this order has that URL");
        let thumbprint = self.thumbprint.as_ref();
        let slot = self
            .slots
            .iter_mut()
            .find(|s| matches!(&s.slot, Slot::Offered(offered) if offered.find(challenge_url).is_some()))
            .ok_or(NOT_OFFERED)?;
        let Slot::Offered(offered) = &slot.slot else {
            return Err(NOT_OFFERED);
        };
        let identifier = match &offered.identifier {
            Some(identifier) => Some(Identifier::clone(identifier)),
            None => slot
                .identifier
                .and_then(|at| self.identifiers.get(usize::try_from(at).ok()?))
                .and_then(|requested| authorization_identifier(requested, offered.wildcard)),
        };
        let offer = offered
            .find(challenge_url)
            .zip(identifier)
            .and_then(|(o, identifier)| {
                o.to_offer(&slot.url, &identifier, offered.wildcard, thumbprint)
            })
            .ok_or(NOT_OFFERED)?;
        // Already listed when it was provisioned before a resume.
        if !self.provisioned.iter().any(|p| p.url == offer.url) {
            self.provisioned.push(offer.clone());
        }
        slot.slot = Slot::Chosen {
            offer: Box::new(offer),
            responded: false,
        };
        Ok(())
    }

    fn provide_csr(&mut self, der: Vec<u8>) -> Result<(), Misuse> {
        if der.is_empty() || der.len() > OrderFlow::MAX_CSR_LEN {
            return Err(Misuse::InvalidArgument(
                "the CSR is empty or larger than 64 KiB",
            ));
        }
        if matches!(self.state, State::Finalize | State::Download | State::Done) {
            return Err(Misuse::InvalidArgument(
                "the order has already been finalized",
            ));
        }
        let key = crate::certificate::csr_public_key(&der)?;
        if key.len() > OrderFlow::MAX_CSR_KEY_LEN {
            return Err(Misuse::InvalidArgument(
                "the CSR's public key is larger than OrderFlow::MAX_CSR_KEY_LEN",
            ));
        }
        self.csr_key = Some(key.into_boxed_slice());
        self.csr = Some(der.into_boxed_slice());
        if matches!(self.state, State::AwaitCsr) {
            self.state = State::Finalize;
        }
        Ok(())
    }

    fn cleanup_all(&mut self) {
        for offer in self.provisioned.drain(..) {
            self.effects.emit(OrderEvent::Cleanup(offer));
        }
    }

    /// Decides the next request (or wait) from the state, when none is out.
    fn next_request(&mut self, client: &Client, now: UnixTime) -> Result<Next<Purpose>, Error> {
        let (purpose, spec) = match &mut self.state {
            State::Done | State::AwaitCsr => return Ok(Next::Again),
            State::Create => {
                let request = self
                    .creating
                    .as_deref()
                    .ok_or(Misuse::InvalidArgument("no order to create"))?;
                if request.profile.is_some() && client.directory().is_none() {
                    let spec = Spec {
                        method: Method::Get,
                        endpoint: Endpoint::Url(client.directory_url().clone()),
                        kind: ResponseKind::Directory,
                        body: Body::Empty,
                        resend_on_transport_failure: true,
                    };
                    return Ok(Next::Send(Purpose::Directory, spec));
                }
                if let (Some(profile), Some(directory)) = (&request.profile, client.directory())
                    && !directory.meta.profiles.contains_key(profile)
                {
                    return Err(Misuse::Unsupported(
                        "the server's directory does not offer this profile",
                    )
                    .into());
                }
                let payload = new_order_payload(&self.identifiers, request)?;
                // Resending a newOrder after a transport failure could create a second order.
                (
                    Purpose::Create,
                    Spec::post(Endpoint::NewOrder, ResponseKind::Order, payload, false),
                )
            }
            State::Resume => {
                let url = self
                    .url
                    .clone()
                    .ok_or(Misuse::InvalidArgument("no order URL to resume"))?;
                (Purpose::Order, Spec::fetch(url, ResponseKind::Order))
            }
            State::FetchAuthorizations { next } => {
                let index = *next;
                match self.slots.get(index) {
                    Some(slot) => (
                        Purpose::Authorization(index),
                        Spec::fetch(slot.url.clone(), ResponseKind::Authorization),
                    ),
                    None => {
                        // Every authorization passed its check: now the caller may
                        // present challenges.
                        for event in core::mem::take(&mut self.offers_held) {
                            self.effects.emit(event);
                        }
                        self.advance(client, now, None)?;
                        return Ok(Next::Again);
                    }
                }
            }
            State::Respond => {
                let unanswered = self.slots.iter().find_map(|s| match &s.slot {
                    Slot::Chosen {
                        offer,
                        responded: false,
                    } => Some(offer.url.clone()),
                    _ => None,
                });
                let index = self.slots.iter().position(|s| {
                    matches!(
                        s.slot,
                        Slot::Chosen {
                            responded: false,
                            ..
                        }
                    )
                });
                if let (Some(url), Some(index)) = (unanswered, index) {
                    let spec = Spec::post(
                        Endpoint::Url(url),
                        ResponseKind::Challenge,
                        b"{}".to_vec(),
                        true,
                    );
                    return Ok(Next::Send(Purpose::Respond(index), spec));
                }
                if self
                    .slots
                    .iter()
                    .any(|s| matches!(s.slot, Slot::Offered(_)))
                {
                    return Ok(Next::Again);
                }
                // Every challenge is answered: wait (as long as a challenge's response
                // asked, if one did), then poll the order.
                self.waiting_for = None;
                let at = self.next_poll(client, now, None, VALIDATION)?;
                self.state = State::PollOrder { at };
                return Ok(Next::Again);
            }
            State::PollOrder { at } => {
                if now < *at {
                    return Ok(Next::Wait(Wait {
                        until: *at,
                        reason: WaitReason::Poll {
                            resource: Polled::Order,
                        },
                    }));
                }
                let url = self
                    .url
                    .clone()
                    .ok_or(Misuse::InvalidArgument("no order URL"))?;
                (Purpose::Order, Spec::fetch(url, ResponseKind::Order))
            }
            State::Finalize => {
                let Some(csr) = &self.csr else {
                    self.state = State::AwaitCsr;
                    return Ok(Next::Again);
                };
                let finalize = self
                    .order
                    .as_ref()
                    .map(|o| o.finalize.clone())
                    .ok_or(Misuse::InvalidArgument("no order to finalize"))?;
                self.finalize_attempts += 1;
                let payload = alloc::format!(r#"{{"csr":"{}"}}"#, b64::encode(csr)).into_bytes();
                // The CSR is not resent blindly after a transport failure: the order is
                // polled instead, and finalized again only if it is still `ready`.
                (
                    Purpose::Finalize,
                    Spec::post(Endpoint::Url(finalize), ResponseKind::Order, payload, false),
                )
            }
            State::Download => {
                let (purpose, url) = match self.downloaded.as_deref() {
                    None => {
                        let url = self
                            .order
                            .as_ref()
                            .and_then(|o| o.certificate.clone())
                            .ok_or(Malformed::new(
                                "order",
                                MalformedKind::Invalid("a valid order without a certificate URL"),
                            ))?;
                        (Purpose::Certificate, url)
                    }
                    Some(downloaded) => match downloaded.alternate_urls.get(downloaded.next) {
                        Some(url) => (Purpose::Alternate(downloaded.next), url.clone()),
                        None => {
                            self.finish_issued()?;
                            return Ok(Next::Again);
                        }
                    },
                };
                (purpose, Spec::fetch(url, ResponseKind::Certificate))
            }
            State::Diagnose { next } => {
                let index = *next;
                let pending = self
                    .slots
                    .iter()
                    .enumerate()
                    .skip(index)
                    .find(|(_, s)| !matches!(s.slot, Slot::Valid))
                    .map(|(i, s)| (i, s.url.clone()));
                match pending {
                    Some((i, url)) => (
                        Purpose::Diagnose(i),
                        Spec::fetch(url, ResponseKind::Authorization),
                    ),
                    None => {
                        let problem = self.order.as_ref().and_then(|o| o.error.clone());
                        return Err(match problem {
                            Some(problem) => problem.into(),
                            None => Malformed::new(
                                "order",
                                MalformedKind::Invalid("the order is invalid and says not why"),
                            )
                            .into(),
                        });
                    }
                }
            }
        };
        Ok(Next::Send(purpose, spec))
    }

    fn finish_issued(&mut self) -> Result<(), Error> {
        let downloaded = self.downloaded.take().ok_or(Malformed::new(
            "order",
            MalformedKind::Invalid("no certificate downloaded"),
        ))?;
        let Downloaded {
            url: certificate_url,
            chain,
            unrequested_names,
            alternates,
            ..
        } = *downloaded;
        let order_url = self
            .url
            .clone()
            .ok_or(Misuse::InvalidArgument("no order URL"))?;
        self.effects.end(Ok(Issued {
            order_url,
            certificate_url,
            chain,
            alternates,
            unrequested_names,
        }));
        Ok(())
    }

    /// When to poll next while waiting `for_what` (see [`Polling`]): a new reason to
    /// wait starts a new schedule, with its own patience.
    fn next_poll(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
        for_what: &'static str,
    ) -> Result<UnixTime, Error> {
        if self.waiting_for != Some(for_what) {
            self.polling.restart();
            self.waiting_for = Some(for_what);
        }
        self.polling
            .next(client.policy(), now, retry_after, for_what)
    }

    /// Checks the server's order against the one asked for (RFC 8555 §7.4): the same
    /// identifiers, as a set, and no more authorizations than identifiers.
    fn check_order(&mut self, order: &Order) -> Result<(), Error> {
        fn mismatch(field: &'static str, found: impl core::fmt::Display) -> Error {
            Malformed::new("order", MalformedKind::mismatch(field, found)).into()
        }
        if self.identifiers.is_empty() {
            // A version 1 snapshot: the order as first fetched is the reference.
            check_identifiers(&order.identifiers).map_err(|_| {
                mismatch(
                    "identifiers",
                    "more or longer identifiers than OrderFlow allows",
                )
            })?;
            self.identifiers = order.identifiers.clone();
        }
        let mut asked = self.identifiers.clone();
        let mut given = order.identifiers.clone();
        asked.sort();
        asked.dedup();
        given.sort();
        given.dedup();
        if asked != given || order.identifiers.len() > asked.len() {
            let listed = given
                .iter()
                .take(8)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(mismatch("identifiers", listed));
        }
        if order.authorizations.len() > asked.len() {
            return Err(mismatch(
                "authorizations",
                alloc::format!(
                    "{} authorizations for {} identifiers",
                    order.authorizations.len(),
                    asked.len()
                ),
            ));
        }
        Ok(())
    }

    /// Checks that an authorization is for one of the order's identifiers, and for one no
    /// other authorization of the order covers: the caller is never asked to present a
    /// challenge for a name it did not order.
    fn check_authorization(
        &mut self,
        index: usize,
        authorization: &Authorization,
    ) -> Result<(), Error> {
        let identifier = match (&authorization.identifier, authorization.wildcard) {
            (Identifier::Dns(name), true) if !name.is_wildcard() => {
                crate::identifier::DnsName::new(&alloc::format!("*.{}", name.as_str()))
                    .ok()
                    .map(Identifier::Dns)
            }
            (Identifier::Dns(name), _) if name.is_wildcard() => None,
            (_, true) => None,
            (other, false) => Some(other.clone()),
        };
        // Equal identifiers have the same first index.
        let claimed = |at: u32| {
            self.slots
                .iter()
                .enumerate()
                .any(|(i, s)| i != index && s.identifier == Some(at))
        };
        let requested = identifier
            .and_then(|id| self.identifiers.iter().position(|r| *r == id))
            .and_then(|at| u32::try_from(at).ok());
        match requested {
            Some(at) if !claimed(at) => {
                if let Some(slot) = self.slots.get_mut(index) {
                    slot.identifier = Some(at);
                }
                Ok(())
            }
            _ => {
                let shown = if authorization.wildcard {
                    alloc::format!("*.{}", authorization.identifier)
                } else {
                    authorization.identifier.to_string()
                };
                Err(Malformed::new(
                    "authorization",
                    MalformedKind::mismatch("identifier", shown),
                )
                .into())
            }
        }
    }

    /// Checks a downloaded chain's end-entity certificate against the CSR and the order.
    fn check_certificate(&self, chain: &CertificateChain) -> Result<Vec<String>, Error> {
        let key = self.csr_key.as_deref().ok_or(Misuse::InvalidArgument(
            "no CSR to check the certificate against: give the CSR of a resumed order \
             with provide_csr before its certificate is downloaded",
        ))?;
        let identifiers = self
            .order
            .as_ref()
            .map_or(&self.identifiers, |o| &o.identifiers);
        Ok(crate::certificate::check_issued(
            chain.end_entity(),
            key,
            identifiers,
        )?)
    }

    /// Carries on from the order object just read.
    fn on_order(
        &mut self,
        client: &Client,
        order: Order,
        retry_after: Option<UnixTime>,
        now: UnixTime,
    ) -> Result<(), Error> {
        for url in order
            .authorizations
            .iter()
            .chain(core::iter::once(&order.finalize))
            .chain(order.certificate.iter())
        {
            client.check_url(url)?;
        }
        self.check_order(&order)?;
        let first_sight = self.order.is_none();
        let authorizations = order.authorizations.clone();
        // Parsed lists grow by doubling: keep only what they hold.
        let mut order = Box::new(order);
        order.identifiers.shrink_to_fit();
        order.authorizations.shrink_to_fit();
        self.order = Some(order);
        if first_sight {
            self.slots = authorizations
                .into_iter()
                .map(|url| AuthorizationSlot {
                    url,
                    identifier: None,
                    slot: Slot::Unfetched,
                })
                .collect();
            let resuming = self.resumed;
            let pending = self
                .order
                .as_ref()
                .is_some_and(|o| o.status == OrderStatus::Pending);
            if pending || resuming {
                self.state = State::FetchAuthorizations { next: 0 };
                return Ok(());
            }
        }
        self.advance(client, now, retry_after)
    }

    /// Decides the next state from the order's status.
    fn advance(
        &mut self,
        client: &Client,
        now: UnixTime,
        retry_after: Option<UnixTime>,
    ) -> Result<(), Error> {
        let status = self
            .order
            .as_ref()
            .map(|o| o.status)
            .ok_or(Misuse::InvalidArgument("no order"))?;
        // Challenges resumed from a snapshot whose authorization was not pending still
        // need cleaning up; they were rebuilt while fetching.
        self.resumed_provisioned.clear();
        match status {
            OrderStatus::Pending => {
                let open = self.slots.iter().any(|s| {
                    matches!(
                        s.slot,
                        Slot::Offered(_)
                            | Slot::Chosen {
                                responded: false,
                                ..
                            }
                    )
                });
                if open {
                    self.state = State::Respond;
                } else {
                    let at = self.next_poll(client, now, retry_after, VALIDATION)?;
                    self.state = State::PollOrder { at };
                }
            }
            OrderStatus::Ready => {
                self.cleanup_all();
                if self.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Malformed::new(
                        "order",
                        MalformedKind::Invalid("the order stays ready after finalization"),
                    )
                    .into());
                }
                if self.csr.is_some() {
                    self.state = State::Finalize;
                } else {
                    self.state = State::AwaitCsr;
                    let identifiers = self
                        .order
                        .as_ref()
                        .map(|o| o.identifiers.clone())
                        .unwrap_or_default();
                    self.effects.emit(OrderEvent::NeedCsr { identifiers });
                }
            }
            OrderStatus::Processing => {
                self.cleanup_all();
                let at = self.next_poll(client, now, retry_after, ISSUANCE)?;
                self.state = State::PollOrder { at };
            }
            OrderStatus::Valid => {
                self.cleanup_all();
                self.state = State::Download;
            }
            _ => {
                self.state = State::Diagnose { next: 0 };
            }
        }
        Ok(())
    }

    /// Takes the final response of the request out.
    fn on_result(
        &mut self,
        client: &mut Client,
        purpose: Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        let limits = client.limits().clone();
        match (purpose, result) {
            (Purpose::Directory, Ok(exchanged)) => {
                let directory: Directory =
                    exchanged
                        .response
                        .json(ResponseKind::Directory, &limits, now)?;
                client.directory = Some(directory);
                Ok(())
            }
            (Purpose::Create, Ok(exchanged)) => {
                let url = exchanged.response.location(&exchanged.url)?;
                client.check_url(&url)?;
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.creating = None;
                self.url = Some(url.clone());
                self.effects.emit(OrderEvent::Created { url });
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Create, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::AlreadyReplaced
                    && self.creating.as_ref().is_some_and(|r| r.replaces.is_some()) =>
            {
                let cert_id = self
                    .creating
                    .as_deref_mut()
                    .and_then(|r| r.replaces.take())
                    .unwrap_or_default();
                self.effects.emit(OrderEvent::ReplacesDropped {
                    cert_id,
                    problem: *problem,
                });
                self.state = State::Create;
                Ok(())
            }
            (Purpose::Order, Ok(exchanged)) => {
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Authorization(index), Ok(exchanged)) => {
                let authorization: Authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                self.on_authorization(client, index, &exchanged.url, &authorization)?;
                self.state = State::FetchAuthorizations { next: index + 1 };
                Ok(())
            }
            (Purpose::Respond(index), Ok(exchanged)) => {
                let challenge: Challenge =
                    exchanged
                        .response
                        .json(ResponseKind::Challenge, &limits, now)?;
                if let Some(Slot::Chosen { responded, .. }) =
                    self.slots.get_mut(index).map(|s| &mut s.slot)
                {
                    *responded = true;
                }
                // RFC 8555 §8.2: the server says when to look again on the challenge.
                self.polling.hint(exchanged.response.retry_after(now));
                if challenge.status() == Some(ChallengeStatus::Invalid) {
                    if let Challenge::Known(known) = challenge
                        && let Some(problem) = known.error
                    {
                        return Err(problem.into());
                    }
                    self.state = State::Diagnose { next: 0 };
                    return Ok(());
                }
                self.state = State::Respond;
                Ok(())
            }
            (Purpose::Finalize, Ok(exchanged)) => {
                let order: Order = exchanged.response.json(ResponseKind::Order, &limits, now)?;
                self.on_order(client, order, exchanged.response.retry_after(now), now)
            }
            (Purpose::Finalize, Err(Error::Problem(problem)))
                if problem.kind == ProblemType::OrderNotReady =>
            {
                // Not ready after all: poll, and finalize again once it is.
                self.waiting_for = None;
                let at = self.next_poll(client, now, problem.retry_after, VALIDATION)?;
                self.state = State::PollOrder { at };
                Ok(())
            }
            (Purpose::Finalize, Err(Error::Transport { attempts })) => {
                // The server may or may not have the CSR: ask the order, not the CSR again.
                if self.finalize_attempts >= OrderFlow::MAX_FINALIZE_ATTEMPTS {
                    return Err(Error::Transport { attempts });
                }
                self.state = State::PollOrder { at: now };
                Ok(())
            }
            (Purpose::Certificate, Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                let unrequested_names = self.check_certificate(&chain)?;
                let links = exchanged.response.links(&exchanged.url)?;
                let mut alternates = Vec::new();
                for url in crate::headers::links_with(&links, &LinkRelation::Alternate)
                    .take(OrderFlow::MAX_ALTERNATES)
                {
                    client.check_url(url)?;
                    alternates.push(url.clone());
                }
                self.downloaded = Some(Box::new(Downloaded {
                    url: exchanged.url,
                    chain,
                    unrequested_names,
                    alternate_urls: alternates,
                    next: 0,
                    alternates: Vec::new(),
                }));
                self.state = State::Download;
                Ok(())
            }
            (Purpose::Alternate(index), Ok(exchanged)) => {
                let chain =
                    CertificateChain::from_pem(exchanged.response.pem_chain(&limits, now)?)?;
                self.check_certificate(&chain)?;
                if let Some(downloaded) = self.downloaded.as_deref_mut() {
                    downloaded.alternates.push((exchanged.url, chain));
                    downloaded.next = index + 1;
                }
                Ok(())
            }
            (Purpose::Diagnose(index), Ok(exchanged)) => {
                let authorization: Authorization =
                    exchanged
                        .response
                        .json(ResponseKind::Authorization, &limits, now)?;
                if let Some(problem) = failure_of(&authorization) {
                    return Err(problem.into());
                }
                self.state = State::Diagnose { next: index + 1 };
                Ok(())
            }
            (_, Err(error)) => Err(error),
        }
    }

    /// Records what a fetched authorization asks for.
    fn on_authorization(
        &mut self,
        client: &Client,
        index: usize,
        url: &Url,
        authorization: &Authorization,
    ) -> Result<(), Error> {
        let account_url = client
            .account_url()
            .cloned()
            .ok_or(Misuse::InvalidArgument(
                "no account yet: create or find the account first",
            ))?;
        // Every challenge URL may end up requested, provisioned or in a snapshot.
        for challenge in authorization.challenges.iter().filter_map(Challenge::known) {
            client.check_url(&challenge.url)?;
        }
        self.check_authorization(index, authorization)?;
        let thumbprint = client.thumbprint();
        // Challenges provisioned in an earlier process: rebuild them, to clean them up.
        for challenge in authorization.challenges.iter().filter_map(Challenge::known) {
            if let Some(at) = self
                .resumed_provisioned
                .iter()
                .position(|u| u == &challenge.url)
            {
                self.resumed_provisioned.swap_remove(at);
                if let Some(offer) = offer::offer(
                    url,
                    authorization,
                    challenge,
                    thumbprint,
                    &account_url,
                    client.directory_url(),
                )? {
                    if challenge.status == ChallengeStatus::Pending {
                        // Offered again below; the caller says ready once more.
                        self.provisioned.push(offer);
                    } else if let Some(slot) = self.slots.get_mut(index) {
                        self.provisioned.push(offer.clone());
                        if authorization.status == AuthorizationStatus::Pending {
                            slot.slot = Slot::Chosen {
                                offer: Box::new(offer),
                                responded: true,
                            };
                            return Ok(());
                        }
                    }
                }
            }
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return Ok(());
        };
        slot.slot = match authorization.status {
            AuthorizationStatus::Valid => Slot::Valid,
            AuthorizationStatus::Pending => {
                let made = offer::offers_of(
                    url,
                    authorization,
                    thumbprint,
                    &account_url,
                    client.directory_url(),
                )?;
                if made.is_empty() {
                    return Err(Misuse::Unsupported(
                        "the server offers no challenge this client can answer for an identifier",
                    )
                    .into());
                }
                // The offers are kept compactly only if they can be made again with the
                // thumbprint kept (the first one seen: a key rollover while the order
                // runs keeps later offers whole).
                let compact =
                    self.thumbprint.get_or_insert_with(|| thumbprint.clone()) == thumbprint;
                let derived = slot
                    .identifier
                    .and_then(|at| self.identifiers.get(usize::try_from(at).ok()?))
                    .and_then(|requested| {
                        authorization_identifier(requested, authorization.wildcard)
                    });
                let offered = Offered {
                    identifier: (derived.as_ref() != Some(&authorization.identifier))
                        .then(|| Box::new(authorization.identifier.clone())),
                    wildcard: authorization.wildcard,
                    offers: made
                        .iter()
                        .map(|(o, challenge)| CompactOffer::new(o, &challenge.kind, compact))
                        .collect(),
                };
                self.offers_held.push(OrderEvent::Authorize {
                    authorization: url.clone(),
                    identifier: authorization.identifier.clone(),
                    wildcard: authorization.wildcard,
                    offers: made.into_iter().map(|(o, _)| o).collect(),
                });
                Slot::Offered(offered)
            }
            _ => {
                if let Some(problem) = failure_of(authorization) {
                    return Err(problem.into());
                }
                Slot::Failed
            }
        };
        Ok(())
    }
}

/// What an order waits for while its challenges are validated.
const VALIDATION: &str = "validation of the order's challenges";
/// What an order waits for once finalized.
const ISSUANCE: &str = "issuance of the order's certificate";

/// The bounds [`OrderFlow::new`] keeps on identifiers, so every snapshot reads back.
fn check_identifiers(identifiers: &[Identifier]) -> Result<(), Misuse> {
    if identifiers.len() > OrderFlow::MAX_IDENTIFIERS {
        return Err(Misuse::InvalidArgument(
            "more identifiers than OrderFlow::MAX_IDENTIFIERS",
        ));
    }
    let too_long = identifiers.iter().any(|i| {
        // Cannot fail: a type and a value, both strings.
        serde_json::to_vec(i).map_or(true, |json| json.len() > OrderFlow::MAX_IDENTIFIER_LEN)
    });
    if too_long {
        return Err(Misuse::InvalidArgument(
            "an identifier longer than OrderFlow::MAX_IDENTIFIER_LEN",
        ));
    }
    Ok(())
}

/// Why an authorization failed: the error of its invalid challenge, naming the identifier.
fn failure_of(authorization: &Authorization) -> Option<Problem> {
    if authorization.status == AuthorizationStatus::Valid {
        return None;
    }
    authorization
        .challenges
        .iter()
        .filter_map(Challenge::known)
        .find_map(|c| {
            let mut problem = c.error.clone()?;
            if problem.identifier.is_none() {
                problem.identifier = Some(authorization.identifier.clone());
            }
            Some(problem)
        })
}

fn new_order_payload(identifiers: &[Identifier], request: &NewOrder) -> Result<Vec<u8>, Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload<'a> {
        identifiers: &'a [Identifier],
        #[serde(skip_serializing_if = "Option::is_none")]
        not_before: Option<UnixTime>,
        #[serde(skip_serializing_if = "Option::is_none")]
        not_after: Option<UnixTime>,
        #[serde(skip_serializing_if = "Option::is_none")]
        profile: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        replaces: Option<&'a str>,
    }
    let payload = Payload {
        identifiers,
        not_before: request.not_before,
        not_after: request.not_after,
        profile: request.profile.as_deref(),
        replaces: request.replaces.as_deref(),
    };
    serde_json::to_vec(&payload)
        .map_err(|_| Misuse::InvalidArgument("the order cannot be serialized").into())
}

impl Machine for OrderMachine {
    type Event = OrderEvent;
    type Output = Issued;
    type Purpose = Purpose;

    fn operation(&self) -> &'static str {
        "order"
    }

    fn effects(&mut self) -> &mut Effects<OrderEvent, Issued> {
        &mut self.effects
    }

    fn next(&mut self, client: &Client, now: UnixTime) -> Result<Next<Purpose>, Error> {
        match self.next_request(client, now)? {
            Next::Again if self.idle() => Ok(Next::Caller),
            next => Ok(next),
        }
    }

    fn on_exchanged(
        &mut self,
        client: &mut Client,
        purpose: Purpose,
        result: Result<Exchanged, Error>,
        now: UnixTime,
    ) -> Result<(), Error> {
        self.on_result(client, purpose, result, now)
    }

    fn on_end(&mut self) {
        // Offers held back are never shown: nothing was presented for them.
        self.offers_held = Vec::new();
        self.cleanup_all();
        self.state = State::Done;
    }
}

operation_by_runner!(OrderFlow, OrderEvent, Issued);

impl OrderMachine {
    /// Whether the flow waits for the caller (a challenge choice or a CSR), with nothing
    /// to send meanwhile.
    fn idle(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Operation as _, Step};
    use crate::crypto::AccountKey;
    use crate::wire::Headers;
    use crate::wire::Response;
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec;

    fn client() -> Client {
        // An Ed25519 PKCS#8 v1 key: a fixed prefix and a 32-byte seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&[7; 32]);
        let key = AccountKey::from_pkcs8_der(&der).unwrap();
        Client::new(Url::parse("https://ca.test/dir").unwrap(), key)
            .unwrap()
            .with_account(Url::parse("https://ca.test/acct/1").unwrap())
    }

    fn json(status: u16, nonce: &str, body: &str) -> Response {
        let content_type = if status >= 400 {
            "application/problem+json"
        } else {
            "application/json"
        };
        Response::new(
            status,
            Headers::new()
                .with("Content-Type", content_type)
                .with("Replay-Nonce", nonce)
                .with("Location", "https://ca.test/order/1"),
            body.as_bytes().to_vec(),
        )
    }

    /// The server's answer to each request of an order whose challenge response fails.
    fn answer(request: &crate::Request) -> Response {
        match request.url.path() {
            "/dir" => json(
                200,
                "n0",
                r#"{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",
                "newOrder":"https://ca.test/new-order"}"#,
            ),
            "/nonce" => json(200, "n1", ""),
            "/new-order" => json(
                201,
                "n2",
                r#"{"status":"pending","identifiers":[{"type":"dns","value":"a.example"}],
                "authorizations":["https://ca.test/authz/1"],"finalize":"https://ca.test/fin/1"}"#,
            ),
            "/authz/1" => json(
                200,
                "n3",
                r#"{"status":"pending","identifier":{"type":"dns","value":"a.example"},
                "challenges":[{"type":"http-01","url":"https://ca.test/chall/1",
                "token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}]}"#,
            ),
            _ => json(
                500,
                "n4",
                r#"{"type":"urn:ietf:params:acme:error:serverInternal"}"#,
            ),
        }
    }

    /// A server that answers every newNonce with a nonce already used, and sends no
    /// nonce with its other responses: the client asks for a nonce a bounded number of
    /// times, then fails, instead of asking for ever.
    #[test]
    fn a_repeated_used_nonce_is_not_asked_for_without_bound() {
        let mut client = client();
        let now = UnixTime::from_secs(1_800_000_000);
        let mut flow =
            OrderFlow::new(NewOrder::new([Identifier::dns("a.example").unwrap()])).unwrap();
        let mut heads = 0;
        for _ in 0..1000 {
            match flow.poll(&mut client, now) {
                Step::Send(request) => {
                    let mut response = answer(&request);
                    if request.method == Method::Head {
                        heads += 1;
                        response.headers = Headers::new().with("Replay-Nonce", "n1");
                    } else {
                        response.headers = Headers::new()
                            .with("Content-Type", "application/json")
                            .with("Location", "https://ca.test/order/1");
                    }
                    flow.handle_response(&mut client, request.id, response, now)
                        .unwrap();
                }
                Step::Event(_) => {}
                Step::Done => break,
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            flow.take_outcome(),
            Some(Err(Error::Malformed(_)))
        ));
        let bound = 2 + client.policy().max_bad_nonce_retries;
        assert!(heads <= bound, "{heads} newNonce requests, bound {bound}");
    }

    /// Drives `flow` until `Done` against `server`, handing each event to `on_event`.
    fn drive(
        flow: &mut OrderFlow,
        server: impl Fn(&crate::Request) -> Response,
        mut on_event: impl FnMut(&mut OrderFlow, OrderEvent),
    ) {
        let mut client = client();
        let now = UnixTime::from_secs(1_800_000_000);
        for _ in 0..64 {
            match flow.poll(&mut client, now) {
                Step::Send(request) => {
                    let response = server(&request);
                    flow.handle_response(&mut client, request.id, response, now)
                        .unwrap();
                }
                Step::Event(event) => on_event(flow, event),
                Step::Done => return,
                other => panic!("{other:?}"),
            }
        }
        panic!("not done after 64 steps");
    }

    fn one_name() -> OrderFlow {
        OrderFlow::new(NewOrder::new([Identifier::dns("a.example").unwrap()])).unwrap()
    }

    #[test]
    fn the_outcome_comes_with_done_after_the_cleanups() {
        let mut flow = one_name();
        let mut events = Vec::new();
        drive(&mut flow, answer, |flow, event| match event {
            OrderEvent::Authorize { offers, .. } => flow.challenge_ready(&offers[0].url).unwrap(),
            event => {
                // The order has failed once the cleanup is out, but is not done.
                assert!(flow.take_outcome().is_none(), "an outcome before Done");
                events.push(event);
            }
        });
        assert!(
            events.iter().any(|e| matches!(e, OrderEvent::Cleanup(_))),
            "{events:?}"
        );
        assert!(matches!(flow.take_outcome(), Some(Err(Error::Problem(_)))));
        assert!(flow.take_outcome().is_none());
    }

    /// Runs a one-name order against `answer`, with `rewrite` changing each response
    /// first; gives the outcome and the snapshot after each event.
    fn run(
        rewrite: impl Fn(&crate::Request, &mut Response),
    ) -> (Option<Result<Issued, Error>>, Vec<OrderSnapshot>) {
        let mut flow = one_name();
        let mut snapshots = Vec::new();
        let server = |request: &crate::Request| {
            let mut response = answer(request);
            rewrite(request, &mut response);
            response
        };
        drive(&mut flow, server, |flow, event| {
            snapshots.extend(flow.snapshot());
            if let OrderEvent::Authorize { offers, .. } = event {
                flow.challenge_ready(&offers[0].url).unwrap();
            }
        });
        (flow.take_outcome(), snapshots)
    }

    fn long_url(len: usize) -> String {
        let base = "https://ca.test/";
        format!("{base}{}", "a".repeat(len - base.len()))
    }

    /// A `Location` longer than `Limits::MAX_URL_LEN` is refused before it is kept, so
    /// every snapshot reads back (a 70 KB one once made a snapshot `from_json` refused).
    #[test]
    fn a_server_url_over_the_cap_is_malformed() {
        for (len, accepted) in [
            (Limits::MAX_URL_LEN, true),
            (Limits::MAX_URL_LEN + 1, false),
        ] {
            let location = long_url(len);
            let (outcome, snapshots) = run(|request, response| {
                if request.url.path() == "/new-order" {
                    response.headers = Headers::new()
                        .with("Content-Type", "application/json")
                        .with("Replay-Nonce", "n2")
                        .with("Location", location.as_str());
                }
            });
            let outcome = outcome.expect("an outcome");
            if accepted {
                assert!(matches!(outcome, Err(Error::Problem(_))), "{outcome:?}");
                assert!(!snapshots.is_empty());
            } else {
                let Err(Error::Malformed(m)) = outcome else {
                    panic!("{outcome:?}")
                };
                assert!(m.to_string().contains("MAX_URL_LEN"), "{m}");
                assert!(snapshots.is_empty());
            }
            for snapshot in snapshots {
                let json = snapshot.to_json();
                assert!(json.len() <= OrderSnapshot::MAX_LEN);
                assert_eq!(OrderSnapshot::from_json(&json).unwrap(), snapshot);
            }
        }
    }

    #[test]
    fn a_challenge_url_over_the_cap_is_malformed_before_it_is_offered() {
        let challenge = long_url(Limits::MAX_URL_LEN + 1);
        let (outcome, _) = run(|request, response| {
            if request.url.path() == "/authz/1" {
                let body = String::from_utf8(core::mem::take(&mut response.body)).unwrap();
                response.body = body
                    .replace("https://ca.test/chall/1", &challenge)
                    .into_bytes();
            }
        });
        assert!(
            matches!(outcome, Some(Err(Error::Malformed(_)))),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_snapshot_with_a_url_over_the_cap_is_refused() {
        let ok = long_url(Limits::MAX_URL_LEN);
        let json = format!(r#"{{"v":1,"url":"{ok}","provisioned":["{ok}"]}}"#);
        assert!(OrderSnapshot::from_json(json.as_bytes()).is_ok());
        let long = long_url(Limits::MAX_URL_LEN + 1);
        for json in [
            format!(r#"{{"v":1,"url":"{long}"}}"#),
            format!(r#"{{"v":1,"url":"{ok}","provisioned":["{long}"]}}"#),
        ] {
            let err = OrderSnapshot::from_json(json.as_bytes()).unwrap_err();
            assert!(err.to_string().contains("MAX_URL_LEN"), "{err}");
        }
    }

    /// The largest snapshot `from_json` accepts by count and URL length fits `MAX_LEN`,
    /// even when every URL doubles under JSON escaping.
    #[test]
    fn the_largest_snapshot_fits_max_len() {
        let base = "https://ca.test/?";
        let url = Url::parse(&format!(
            "{base}{}",
            "\\".repeat(Limits::MAX_URL_LEN - base.len())
        ))
        .unwrap();
        assert!(
            url.as_str().len() <= Limits::MAX_URL_LEN,
            "{}",
            url.as_str().len()
        );
        // The longest identifier JSON allows: quotes, escaped, up to the length bound.
        let identifier = Identifier::Other {
            kind: "x".into(),
            value: "\"".repeat((OrderFlow::MAX_IDENTIFIER_LEN - 24) / 2),
        };
        let identifier_len = serde_json::to_vec(&identifier).unwrap().len();
        assert!(identifier_len <= OrderFlow::MAX_IDENTIFIER_LEN && identifier_len > 480);
        let identifiers = vec![identifier; OrderFlow::MAX_IDENTIFIERS];
        assert!(check_identifiers(&identifiers).is_ok());
        let snapshot = OrderSnapshot {
            version: OrderSnapshot::VERSION,
            url: url.clone(),
            identifiers,
            key: Some(b64::encode([0xff; OrderFlow::MAX_CSR_KEY_LEN])),
            provisioned: vec![url; OrderSnapshot::MAX_PROVISIONED],
        };
        let json = snapshot.to_json();
        assert!(
            json.len() <= OrderSnapshot::MAX_LEN,
            "{} > {}",
            json.len(),
            OrderSnapshot::MAX_LEN
        );
        assert!(
            json.len() > Limits::MAX_URL_LEN * 2 * OrderSnapshot::MAX_PROVISIONED * 9 / 10,
            "{} bytes, {}",
            json.len(),
            &snapshot.url
        );
        assert_eq!(OrderSnapshot::from_json(&json).unwrap(), snapshot);
    }

    /// The order fails while a second authorization's offer is still open; a challenge
    /// said ready between the failure's cleanups and `Done` is refused, so everything
    /// provisioned is cleaned up (found by the `order_flow` fuzz target).
    #[test]
    fn a_challenge_said_ready_after_the_order_failed_is_refused() {
        let mut flow = OrderFlow::new(NewOrder::new([
            Identifier::dns("a.example").unwrap(),
            Identifier::dns("b.example").unwrap(),
        ]))
        .unwrap();
        let two = |request: &crate::Request| match request.url.path() {
            "/new-order" => json(
                201,
                "n2",
                r#"{"status":"pending","identifiers":[{"type":"dns","value":"a.example"},
                {"type":"dns","value":"b.example"}],"authorizations":["https://ca.test/authz/1",
                "https://ca.test/authz/2"],"finalize":"https://ca.test/fin/1"}"#,
            ),
            "/authz/2" => json(
                200,
                "n5",
                r#"{"status":"pending","identifier":{"type":"dns","value":"b.example"},
                "challenges":[{"type":"http-01","url":"https://ca.test/chall/2",
                "token":"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"}]}"#,
            ),
            _ => answer(request),
        };
        let mut late = None;
        let mut ready = Vec::new();
        let mut cleaned = Vec::new();
        drive(&mut flow, two, |flow, event| match event {
            // The first offer is taken at once, the second kept for later.
            OrderEvent::Authorize { offers, .. } if ready.is_empty() => {
                flow.challenge_ready(&offers[0].url).unwrap();
                ready.push(offers[0].url.clone());
            }
            OrderEvent::Authorize { offers, .. } => late = Some(offers[0].url.clone()),
            OrderEvent::Cleanup(offer) => {
                cleaned.push(offer.url);
                let late = late.as_ref().expect("the second offer came first");
                let refused = flow.challenge_ready(late).unwrap_err();
                assert!(refused.to_string().contains("ended"), "{refused}");
            }
            _ => {}
        });
        assert!(matches!(flow.take_outcome(), Some(Err(Error::Problem(_)))));
        assert_eq!(cleaned, ready);
    }
}
