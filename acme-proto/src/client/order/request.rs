//! What to order (`NewOrder`), the `newOrder` request, and what each request of an
//! order is for.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;

use crate::client::Client;
use crate::client::spec::{Body, Endpoint, Spec};
use crate::error::Error;
use crate::fault::Misuse;
use crate::identifier::Identifier;
use crate::limits::ResponseKind;
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

/// What the request out is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Directory,
    Create,
    /// A nonce fetched beside the `newOrder` (see [`nonces_to_fetch_beside`]).
    Nonce,
    Order,
    Authorization(usize),
    Respond(usize),
    Finalize,
    Certificate,
    Alternate(usize),
    Diagnose(usize),
}

/// The `newOrder` request, or first the directory's when a profile is to be checked
/// against it.
pub(super) fn create_request(
    client: &Client,
    identifiers: &[Identifier],
    request: &NewOrder,
) -> Result<(Purpose, Spec), Error> {
    if request.profile.is_some() && client.directory().is_none() {
        let spec = Spec {
            method: Method::Get,
            endpoint: Endpoint::Url(client.directory_url().clone()),
            kind: ResponseKind::Directory,
            body: Body::Empty,
            resend_on_transport_failure: true,
        };
        return Ok((Purpose::Directory, spec));
    }
    if let (Some(profile), Some(directory)) = (&request.profile, client.directory())
        && !directory.meta.profiles.contains_key(profile)
    {
        return Err(
            Misuse::Unsupported("the server's directory does not offer this profile").into(),
        );
    }
    let payload = new_order_payload(identifiers, request)?;
    // Resending a newOrder after a transport failure could create a second order.
    let spec = Spec::post(Endpoint::NewOrder, ResponseKind::Order, payload, false);
    Ok((Purpose::Create, spec))
}

/// How many nonces to fetch beside a `newOrder` for `identifiers` while it is out: the
/// `K` authorizations its answer lists are then fetched together, each signed with a
/// nonce of its own, instead of waiting one more round trip for `K - 1` of them. The
/// pool's nonces count (the `newOrder` takes one and its answer brings one back); no
/// more than may be out beside it.
pub(super) fn nonces_to_fetch_beside(client: &Client, identifiers: &[Identifier]) -> usize {
    let in_hand = client.nonces.len().max(1);
    identifiers
        .len()
        .saturating_sub(in_hand)
        .min(client.policy().max_requests_in_flight.saturating_sub(1))
}

/// A `HEAD newNonce`, for a nonce fetched ahead (its `Replay-Nonce` goes to the pool, as
/// every answer's does); `None` without a directory.
pub(super) fn nonce_request(client: &Client) -> Option<Spec> {
    let url = client.directory()?.new_nonce.clone();
    Some(Spec {
        method: Method::Head,
        endpoint: Endpoint::Url(url),
        kind: ResponseKind::Nonce,
        body: Body::Empty,
        resend_on_transport_failure: true,
    })
}
