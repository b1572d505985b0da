//! The protocol state machines, and the [`Client`] context they share.
//!
//! A [`Client`] holds what every operation of one ACME account shares: the directory,
//! the account key and URL, the nonce pool, the [`Limits`] and the retry [`Policy`].
//! Each operation (an order, an account change, a revocation, …) is its own value that
//! the caller drives against the client with the same loop:
//!
//! * `poll(&mut client, now)` returns the next [`Step`]: a [`Request`] to send, an event
//!   for the caller (for an order: "provision this challenge", "give me a CSR"), a
//!   [`Wait`] until a time with its reason, or `Done`.
//! * `handle_response(&mut client, id, response, now)` and
//!   `handle_transport_failure(&mut client, id, failure, now)` feed back what happened
//!   to a request (for a failure, its kind: a [`TransportFailure`](crate::TransportFailure)).
//!
//! Time is always an argument; nothing here reads a clock, sleeps or does I/O.

mod account;
mod authorization_poll;
mod authorization_table;
mod credentials;
mod exchange;
mod nonce;
mod offer;
mod operation;
mod order;
mod policy;
mod polling;
mod pre_authorization;
mod renewal;
mod revocation;
mod rollover;
mod run;
mod single_request;
mod spec;

use alloc::boxed::Box;
use core::fmt;

use url::Url;

use crate::crypto::{Signer, Thumbprint};
use crate::fault::Misuse;
use crate::limits::Limits;
use crate::resource::Directory;
use crate::time::UnixTime;
use crate::wire::{Request, RequestId};

pub use account::{AccountInfo, NewAccount, OrderListing};
pub use authorization_poll::AuthorizationPoll;
pub use credentials::{AccountCredentials, AccountRef};
pub use offer::{ChallengeOffer, DnsPersistRecord, PersistIssuers, Solution};
pub use operation::Operation;
pub use order::{Issued, NewOrder, OrderEvent, OrderFlow, OrderSnapshot};
pub use policy::Policy;
pub use pre_authorization::{AuthorizationEvent, PreAuthorization};
pub use renewal::RenewalSuggestion;
pub use revocation::RevocationReason;
pub use rollover::{KeyRollover, RolloverState};
pub use single_request::SingleRequest;

pub(crate) use nonce::NoncePool;

/// What an operation wants next; see the crate docs' "Run loop" for what the caller
/// does with each. Drain `poll` until it returns [`Step::Wait`], [`Step::InFlight`],
/// [`Step::AwaitingCaller`] or [`Step::Done`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Step<E> {
    /// Send this request, then hand back its response (or the transport failure) with
    /// its id. Poll again at once: another request may be able to go meanwhile.
    Send(Request),
    /// Something the caller must know or act on, now or later (see
    /// [`AwaitingCaller`](Step::AwaitingCaller)). Poll again at once.
    Event(E),
    /// Nothing to do before `until`: call `poll` again then (earlier is harmless: the
    /// same wait comes back). With requests out meanwhile (a resend waits beside
    /// others), hand back their results as they come, and poll after each.
    Wait(Wait),
    /// Every request that can go is out: poll again once a response or a transport
    /// failure has been handed back. A loop that answers each request before it polls
    /// again never sees this.
    InFlight,
    /// Nothing can go until the caller answers an event it was given (for an order:
    /// [`OrderFlow::challenge_ready`] after an [`OrderEvent::Authorize`],
    /// [`OrderFlow::provide_csr`] after an [`OrderEvent::NeedCsr`]). Answering late (after
    /// DNS propagation, say) is fine: poll again after answering. Only the operation's
    /// deadline runs meanwhile, and it is checked at the next poll.
    AwaitingCaller,
    /// The operation is over: take its outcome with `take_outcome` (given once, and
    /// only from now on: every event, cleanups included, came before). Every later
    /// `poll` returns `Done` again.
    Done,
}

/// A wait the core asks for, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// When to poll again.
    pub until: UnixTime,
    /// Why.
    pub reason: WaitReason,
}

/// Why the core asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// The server answered 429 or 503 and asked (or was assumed) to be left alone.
    Unavailable {
        /// The status it answered with.
        status: u16,
    },
    /// The transport failed; resend number `attempt` comes after this backoff.
    TransportBackoff {
        /// The resend that follows (1-based).
        attempt: u32,
    },
    /// A resource is still being processed by the server; poll it again.
    Poll {
        /// What is being polled.
        resource: Polled,
    },
}

/// What a poll is waiting on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Polled {
    /// An order (waiting for `ready` or `valid`).
    Order,
    /// An authorization (waiting for its validation).
    Authorization,
}

/// No events: the `E` of operations that never need the caller between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoEvent {}

/// The context every operation of one account shares: directory, key, account URL,
/// nonce pool, limits and policy.
pub struct Client {
    directory_url: Url,
    pub(crate) directory: Option<Directory>,
    key: Box<dyn Signer + Send + Sync>,
    thumbprint: Thumbprint,
    pub(crate) account_url: Option<Url>,
    pub(crate) nonces: NoncePool,
    limits: Limits,
    policy: Policy,
    insecure_loopback: bool,
    next_request: u64,
    nonce_requests: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("directory_url", &self.directory_url.as_str())
            .field("account_url", &self.account_url.as_ref().map(Url::as_str))
            .field("key", &self.key.algorithm())
            .field("nonces", &self.nonces.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the ACME server at `directory_url`, signing with `key`.
    ///
    /// The URL must be `https`; so must every URL the server hands out.
    pub fn new(
        directory_url: Url,
        key: impl Signer + Send + Sync + 'static,
    ) -> Result<Self, Misuse> {
        Self::build(directory_url, Box::new(key), false)
    }

    /// [`Client::new`] with a key that is already boxed (for example an HSM signer).
    pub fn with_boxed_key(
        directory_url: Url,
        key: Box<dyn Signer + Send + Sync>,
    ) -> Result<Self, Misuse> {
        Self::build(directory_url, key, false)
    }

    /// A client that also accepts `http://` URLs on loopback addresses (127.0.0.0/8,
    /// `::1`, `localhost`), for tests against a local server. Everything else must still
    /// be `https`.
    pub fn insecure_loopback(
        directory_url: Url,
        key: Box<dyn Signer + Send + Sync>,
    ) -> Result<Self, Misuse> {
        Self::build(directory_url, key, true)
    }

    fn build(
        directory_url: Url,
        key: Box<dyn Signer + Send + Sync>,
        insecure_loopback: bool,
    ) -> Result<Self, Misuse> {
        let thumbprint = key.public_jwk().thumbprint();
        let client = Self {
            directory_url,
            directory: None,
            key,
            thumbprint,
            account_url: None,
            nonces: NoncePool::default(),
            limits: Limits::default(),
            policy: Policy::default(),
            insecure_loopback,
            next_request: 0,
            nonce_requests: 0,
        };
        client.check_url(&client.directory_url).map_err(|_| {
            Misuse::InvalidUrl(
                "the directory URL must be https (http only on loopback, when allowed)",
            )
        })?;
        Ok(client)
    }

    /// The same client, for the account at `account_url` (as saved from an earlier run).
    #[must_use]
    pub fn with_account(mut self, account_url: Url) -> Self {
        self.account_url = Some(account_url);
        self
    }

    /// The same client with other limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The same client with another policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The directory URL.
    pub fn directory_url(&self) -> &Url {
        &self.directory_url
    }

    /// The directory, once fetched.
    pub fn directory(&self) -> Option<&Directory> {
        self.directory.as_ref()
    }

    /// The account URL (the `kid` of signed requests), once known.
    pub fn account_url(&self) -> Option<&Url> {
        self.account_url.as_ref()
    }

    /// The account key.
    pub fn key(&self) -> &dyn Signer {
        &*self.key
    }

    /// The RFC 7638 thumbprint of the account key (the second half of key authorizations).
    pub fn thumbprint(&self) -> &Thumbprint {
        &self.thumbprint
    }

    /// The limits on response bodies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The retry and polling policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many `newNonce` requests this client has made (a measure of round trips).
    pub fn nonce_requests(&self) -> u64 {
        self.nonce_requests
    }

    pub(crate) fn next_request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    pub(crate) fn count_nonce_request(&mut self) {
        self.nonce_requests += 1;
    }

    /// Replaces the account key, after the server accepted it (key rollover).
    pub(crate) fn replace_key(
        &mut self,
        key: Box<dyn Signer + Send + Sync>,
    ) -> Box<dyn Signer + Send + Sync> {
        self.thumbprint = key.public_jwk().thumbprint();
        core::mem::replace(&mut self.key, key)
    }

    /// Whether a URL from the server may be requested or kept: `https`, or `http` on
    /// loopback when allowed, and at most [`Limits::MAX_URL_LEN`] bytes.
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), crate::fault::Malformed> {
        check_url_len(url)?;
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.insecure_loopback && is_loopback(url) => Ok(()),
            _ => Err(crate::fault::Malformed::new(
                "URL",
                crate::fault::MalformedKind::Invalid("not an https URL"),
            )),
        }
    }
}

/// Refuses a URL longer than [`Limits::MAX_URL_LEN`].
pub(crate) fn check_url_len(url: &Url) -> Result<(), crate::fault::Malformed> {
    if url.as_str().len() > Limits::MAX_URL_LEN {
        return Err(crate::fault::Malformed::new(
            "URL",
            crate::fault::MalformedKind::Invalid("longer than Limits::MAX_URL_LEN (2048 bytes)"),
        ));
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}
