//! Accounts and their order lists (RFC 8555 §7.1.2, §7.1.2.1).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{Resource, null_as_default};
use crate::status::AccountStatus;

/// An account object (RFC 8555 §7.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Account {
    /// The account's status.
    pub status: AccountStatus,
    /// Contact URLs, such as `mailto:admin@example.org`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub contact: Vec<String>,
    /// Whether the client agreed to the terms of service, as the server records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_of_service_agreed: Option<bool>,
    /// The External Account Binding the account was created with (RFC 8555 §7.3.4), as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_account_binding: Option<serde_json::Value>,
    /// Where the account's orders are listed (RFC 8555 §7.1.2.1). Required by RFC 8555
    /// but not sent by every server (Boulder omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<Url>,
}

impl Resource for Account {
    const NAME: &'static str = "account";
}

/// One page of an account's orders (RFC 8555 §7.1.2.1); the next page, if any, is in
/// the response's `Link: rel="next"` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderList {
    /// The URLs of the orders.
    pub orders: Vec<Url>,
}

impl Resource for OrderList {
    const NAME: &'static str = "order list";
}
