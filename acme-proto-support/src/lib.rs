//! What the [`acme_proto`] drivers (`acme-proto-tokio`, `acme-proto-blocking`) share,
//! so that both behave the same. **Not a public API of its own: use a driver.** Every
//! item a user calls is re-exported by both drivers and documented here: the driver
//! error, the solver's and the saver's types, `Certificate`, the signers, the CSR
//! helpers, the transport's builder and error, the DNS hook. Everything else (the run
//! loop's runtime-free half, the account a client holds, the responders' bookkeeping,
//! the operations macro) is the drivers' insides: hidden from these docs, and free to
//! change in any release.
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
#[doc(hidden)]
pub mod drive;
mod error;
mod issue;
mod keys;
mod operations;
mod presented;
mod responder_limits;
mod rsa_key;
mod saved;
mod signer;
mod tls_alpn;
mod transport;
mod trusted_file;

pub use dns_hook::DnsHook;
pub use error::{CsrError, DriverError, KeyChangeError, SolverError};
pub use issue::{Certificate, certificate_request, csr_for_key};
pub use keys::generate_account_key;
pub use responder_limits::ResponderLimits;
pub use rsa_key::{RsaSigner, account_signer};
pub use saved::{SaveError, SaveOrder, SavedOrder};
pub use signer::RingSigner;
pub use tls_alpn::ACME_TLS_ALPN;
pub use transport::{Roots, TransportBuilder, TransportError, TransportErrorKind};
pub use trusted_file::read_trusted_file;

// The drivers' insides: public for them, not for users (no promise across releases).
#[doc(hidden)]
pub use account::Account;
#[doc(hidden)]
pub use issue::{Action, action, copy_key, report_unrequested_names};
#[doc(hidden)]
pub use presented::{Http01Tokens, Presented, first_offer};
#[doc(hidden)]
pub use responder_limits::{Admission, ConnectionLimiter};
#[doc(hidden)]
pub use saved::SavingOrder;
#[doc(hidden)]
pub use tls_alpn::TlsAlpnCertificates;
#[doc(hidden)]
pub use transport::{
    BuildTransport, Observer, TransportSettings, attempt_limit, caused_by_timeout, caused_by_tls,
    debug_transport,
};
