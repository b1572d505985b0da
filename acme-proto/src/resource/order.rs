//! Orders (RFC 8555 §7.1.3).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::Resource;
use crate::identifier::Identifier;
use crate::problem::Problem;
use crate::status::OrderStatus;
use crate::time::UnixTime;

/// An order object: a request for a certificate, and its progress (RFC 8555 §7.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Order {
    /// The order's status.
    pub status: OrderStatus,
    /// When the server will stop considering the order (required for pending and valid
    /// orders by RFC 8555, but not always sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<UnixTime>,
    /// What the certificate is for.
    pub identifiers: Vec<Identifier>,
    /// The requested start of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<UnixTime>,
    /// The requested end of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<UnixTime>,
    /// Why the order failed, when its status is `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
    /// The authorizations to complete before finalizing.
    pub authorizations: Vec<Url>,
    /// Where to send the CSR once the order is `ready` (RFC 8555 §7.4).
    pub finalize: Url,
    /// Where to download the certificate once the order is `valid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Url>,
    /// The certificate profile asked for or chosen (draft-ietf-acme-profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The ARI certificate identifier of the certificate this order replaces (RFC 9773 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

impl Resource for Order {
    const NAME: &'static str = "order";
}
