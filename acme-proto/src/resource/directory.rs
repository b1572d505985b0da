//! The directory (RFC 8555 §7.1.1).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Resource, is_false, null_as_default};

/// The directory object: the URLs of the server's operations (RFC 8555 §7.1.1).
///
/// Members this crate does not know are ignored (Boulder adds a random key to every
/// directory so that clients do not depend on its exact shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Directory {
    /// Where to get a fresh anti-replay nonce (RFC 8555 §7.2).
    pub new_nonce: Url,
    /// Where to create or find an account (RFC 8555 §7.3).
    pub new_account: Url,
    /// Where to create an order (RFC 8555 §7.4).
    pub new_order: Url,
    /// Where to pre-authorize an identifier (RFC 8555 §7.4.1), if the server allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_authz: Option<Url>,
    /// Where to revoke a certificate (RFC 8555 §7.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_cert: Option<Url>,
    /// Where to roll over an account key (RFC 8555 §7.3.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_change: Option<Url>,
    /// The base of renewal information URLs (RFC 9773 §4.1), if the server offers ARI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_info: Option<Url>,
    /// Metadata about the server (RFC 8555 §7.1.1).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Meta::is_empty"
    )]
    pub meta: Meta,
}

/// The directory's `meta` object (RFC 8555 §7.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Meta {
    /// The current terms of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_of_service: Option<Url>,
    /// A web page with information about the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<Url>,
    /// The domains the server recognizes as its own in CAA records (RFC 8659).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub caa_identities: Vec<String>,
    /// Whether new accounts must carry an External Account Binding (RFC 8555 §7.3.4).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_false"
    )]
    pub external_account_required: bool,
    /// Certificate profiles offered, by name, with a human-readable description of each
    /// (draft-ietf-acme-profiles).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub profiles: BTreeMap<String, String>,
}

impl Meta {
    /// Whether no member is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Resource for Directory {
    const NAME: &'static str = "directory";
}
