//! `OrderSnapshot`: a saved order, taken at a quiescent point and resumed in another
//! process.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::OrderFlow;
use super::checks::check_identifiers;
use super::events::OrderEvent;
use super::state::{Bound, OrderMachine, OrderState, Resuming};
use crate::b64;
use crate::client::Client;
use crate::client::run::Effects;
use crate::error::Error;
use crate::fault::Misuse;
use crate::fault::{Malformed, MalformedKind};
use crate::identifier::Identifier;
use crate::limits::Limits;

/// A saved order: enough to resume it in another process (with the same account key).
///
/// Small on purpose (the order URL, its identifiers, the CSR's public key once given, and
/// the challenges the caller provisioned: a few hundred bytes for a one-name order): the
/// server is the source of truth, and a resumed order starts by fetching the order and
/// its authorizations again. The identifiers and the key are what the resumed order is
/// checked against, as the first process checked it: the server's order must still list
/// exactly these identifiers, and the certificate must be for this key.
///
/// It also names where the order belongs: the directory and the account. A resumed order
/// checks them against the client's before it sends anything, and every URL in the
/// snapshot against the directory's origin (scheme, host and port): a snapshot planted
/// or left over from another CA or account is refused with [`Error::Misuse`], never
/// followed.
///
/// Older snapshots still read back, with the checks their data allows: version 2 (no
/// directory or account) has its URLs checked against the client's directory's origin;
/// version 1 (without identifiers or key either) also takes the identifiers of the order
/// as first fetched, and needs the CSR again ([`OrderFlow::provide_csr`]) to check a
/// certificate.
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
    /// The directory URL of the CA the order was made at (from version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<Url>,
    /// The account URL the order was made by (from version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Url>,
}

impl OrderSnapshot {
    /// The current format version.
    pub const VERSION: u32 = 3;
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
    /// ([`OrderFlow::MAX_CSR_KEY_LEN`] bytes, in base64url) are counted too, and the
    /// directory and account URLs.
    pub const MAX_LEN: usize = (Self::MAX_PROVISIONED + 3) * (2 * Limits::MAX_URL_LEN + 3)
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
        if !(1..=Self::VERSION).contains(&snapshot.version) {
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
        if (snapshot.version < 3) != (snapshot.directory.is_none() && snapshot.account.is_none())
            || (snapshot.directory.is_none() != snapshot.account.is_none())
        {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid(
                    "a version 3 snapshot names its directory and account, an older one neither",
                ),
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
            .chain(&snapshot.directory)
            .chain(&snapshot.account)
            .any(|url| crate::client::check_url_len(url).is_err())
        {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::Invalid("a URL longer than Limits::MAX_URL_LEN"),
            ));
        }
        Ok(snapshot)
    }
}

impl OrderMachine {
    pub(super) fn resume(snapshot: OrderSnapshot) -> Self {
        Self {
            identifiers: snapshot.identifiers,
            stage: OrderState::Resuming(Box::new(Resuming {
                url: snapshot.url,
                provisioned: snapshot.provisioned,
            })),
            bound: snapshot
                .directory
                .zip(snapshot.account)
                .map(|(directory, account)| Bound { directory, account }),
            csr: None,
            csr_key: snapshot
                .key
                .as_deref()
                .and_then(b64::decode)
                .map(Vec::into_boxed_slice),
            nonces_beside: None,
            nonces_out: 0,
            effects: Effects::default(),
        }
    }

    pub(super) fn snapshot(&self) -> Option<OrderSnapshot> {
        if self
            .effects
            .queued()
            .any(|e| matches!(e, OrderEvent::ReplacesDropped { .. }))
        {
            return None;
        }
        // In the order of a live order's list: those provisioned, those whose cleanup
        // waits to be taken, those resumed and not rebuilt yet.
        let (url, resumed) = match &self.stage {
            OrderState::Creating(_) | OrderState::Done(_) => return None,
            OrderState::Resuming(resuming) => (&resuming.url, resuming.provisioned.as_slice()),
            OrderState::Live(live) => (&live.url, live.authorizations.resumed_urls()),
        };
        let live_provisioned = self
            .live()
            .into_iter()
            .flat_map(|live| live.authorizations.provisioned_urls());
        let queued_cleanups = self.effects.queued().filter_map(|e| match e {
            OrderEvent::Cleanup(offer) => Some(&offer.url),
            _ => None,
        });
        let provisioned = live_provisioned
            .chain(queued_cleanups)
            .chain(resumed)
            .cloned()
            .collect::<Vec<_>>();
        if provisioned.len() > OrderSnapshot::MAX_PROVISIONED {
            return None;
        }
        let identifiers = match self.order() {
            Some(order) if self.identifiers.is_empty() => order.identifiers.clone(),
            _ => self.identifiers.clone(),
        };
        // A version 1 order resumed before its order was fetched has nothing to save but
        // what it was resumed from; one resumed from version 2 learns where it belongs at
        // its first step.
        let version = match &self.bound {
            _ if identifiers.is_empty() => 1,
            None => 2,
            Some(_) => OrderSnapshot::VERSION,
        };
        let bound = self
            .bound
            .clone()
            .filter(|_| version == OrderSnapshot::VERSION);
        Some(OrderSnapshot {
            version,
            url: url.clone(),
            identifiers,
            key: self
                .csr_key
                .as_deref()
                .filter(|_| version > 1)
                .map(b64::encode),
            provisioned,
            directory: bound.as_ref().map(|b| b.directory.clone()),
            account: bound.map(|b| b.account),
        })
    }
}

/// Where an order made or resumed by `client` belongs: its directory and account.
pub(super) fn bound_of(client: &Client) -> Result<Bound, Error> {
    let account = client.account_url().ok_or(Misuse::InvalidArgument(
        "no account yet: create or find the account first",
    ))?;
    Ok(Bound {
        directory: client.directory_url().clone(),
        account: account.clone(),
    })
}

/// Checks a resumed order against `client` before anything is sent: the directory and
/// account its snapshot names (version 3) are the client's, and every URL it holds is on
/// the directory's origin.
pub(super) fn check_resumed(
    client: &Client,
    snapshot_bound: Option<&Bound>,
    resuming: &Resuming,
) -> Result<Bound, Error> {
    let bound = bound_of(client)?;
    if let Some(saved) = snapshot_bound {
        if saved.directory != bound.directory {
            return Err(Misuse::InvalidArgument(
                "the saved order is for another CA: its directory is not the client's",
            )
            .into());
        }
        if saved.account != bound.account {
            return Err(Misuse::InvalidArgument(
                "the saved order is for another account than the client's",
            )
            .into());
        }
    }
    let origin = bound.directory.origin();
    if core::iter::once(&resuming.url)
        .chain(&resuming.provisioned)
        .any(|url| url.origin() != origin)
    {
        return Err(Misuse::InvalidArgument(
            "the saved order holds a URL off the directory's origin",
        )
        .into());
    }
    Ok(bound)
}
