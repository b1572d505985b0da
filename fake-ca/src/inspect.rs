//! What a test can look at: the transcript, and the CA's objects as plain values.

use acme_proto::{Method, UnixTime};

use crate::script::{Fault, RequestKind};

/// One request and the response the CA gave.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Exchange {
    /// The request method.
    pub method: Method,
    /// The request URL.
    pub url: String,
    /// What the request was.
    pub kind: RequestKind,
    /// The response status.
    pub status: u16,
    /// The problem type (full URN) when the response was a problem document.
    pub problem: Option<String>,
    /// The scripted faults that fired on this request.
    pub faults: Vec<Fault>,
}

/// An account, as a test sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccountView {
    /// The account URL (the `kid`).
    pub url: String,
    /// `valid` or `deactivated`.
    pub status: &'static str,
    /// The contact URLs.
    pub contact: Vec<String>,
    /// Whether the account agreed to the terms of service.
    pub terms_agreed: bool,
    /// The RFC 7638 thumbprint of the current account key.
    pub thumbprint: String,
    /// The URLs of the account's orders, oldest first.
    pub orders: Vec<String>,
}

/// An order, as a test sees it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OrderView {
    /// The order URL.
    pub url: String,
    /// The URL of the account that placed it.
    pub account: String,
    /// `pending`, `ready`, `processing`, `valid` or `invalid`.
    pub status: &'static str,
    /// `(type, value)` of each identifier, as ordered.
    pub identifiers: Vec<(String, String)>,
    /// The authorization URLs.
    pub authorizations: Vec<String>,
    /// The certificate URL, once issued.
    pub certificate: Option<String>,
    /// The profile the order asked for.
    pub profile: Option<String>,
    /// The ARI certID the order replaces.
    pub replaces: Option<String>,
}

/// A certificate the CA issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedCertificate {
    /// The certificate URL (the primary chain).
    pub url: String,
    /// The URL of the order it was issued for.
    pub order: String,
    /// The URL of the account that ordered it.
    pub account: String,
    /// The leaf certificate, DER.
    pub der: Vec<u8>,
    /// Each chain as served, PEM (leaf first, no root): index 0 is the primary chain,
    /// `k` the `k`-th alternate.
    pub chains: Vec<String>,
    /// The serial number's bytes (positive, big-endian).
    pub serial: Vec<u8>,
    /// The ARI certID: base64url(authority key identifier) `.` base64url(serial).
    pub cert_id: String,
    /// Start of validity.
    pub not_before: UnixTime,
    /// End of validity.
    pub not_after: UnixTime,
    /// Set once the certificate is revoked.
    pub revocation: Option<Revocation>,
    /// The URL of the order that replaced it (ARI `replaces`).
    pub replaced_by: Option<String>,
}

/// How and when a certificate was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Revocation {
    /// The CRL reason code the client gave, if any.
    pub reason: Option<u8>,
    /// When.
    pub at: UnixTime,
    /// Whether the request was signed by the certificate's key (`jwk`) rather than an
    /// account (`kid`).
    pub by_certificate_key: bool,
}
