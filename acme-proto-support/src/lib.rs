//! The pieces the [`acme_proto`] drivers (`acme-proto-tokio`, `acme-proto-blocking`)
//! share, so that both behave the same: the driver error, the account a client holds
//! and its ring signer, the runtime-free half of the run loop, the certificate key and
//! CSR an `issue()` makes, the bookkeeping of challenges an order presented, what the
//! built-in responders serve (http-01 tokens, tls-alpn-01 certificates) and the DNS
//! hook's command line.
//!
//! Nothing here does I/O on its own: the drivers bring the sockets, the runtime and
//! the processes. Use the drivers; this crate's API follows theirs.
//!
//! ```
//! use acme_proto::Identifier;
//! use acme_proto_support::certificate_request;
//!
//! let (csr_der, key_pem) = certificate_request(&[
//!     Identifier::dns("www.example.org")?,
//! ])?;
//! assert!(csr_der.len() > 100 && key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod account;
mod dns_hook;
pub mod drive;
mod error;
mod issue;
mod keys;
mod operations;
mod presented;
mod rsa_key;
mod saved;
mod signer;
mod tls_alpn;
mod transport;

pub use account::Account;
pub use dns_hook::DnsHook;
pub use error::{CsrError, DriverError, KeyChangeError, SolverError};
pub use issue::{
    Action, Certificate, action, certificate_request, copy_key, csr_for_key,
    report_unrequested_names,
};
pub use keys::generate_account_key;
pub use presented::{Http01Tokens, Presented, first_offer};
pub use rsa_key::{RsaSigner, account_signer};
pub use saved::{SaveError, SaveOrder, SavedOrder, SavingOrder};
pub use signer::RingSigner;
pub use tls_alpn::{ACME_TLS_ALPN, TlsAlpnCertificates};
pub use transport::{
    BuildTransport, Observer, Roots, TransportBuilder, TransportError, TransportErrorKind,
    TransportSettings, attempt_limit, caused_by_timeout, caused_by_tls,
};
