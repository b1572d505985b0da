//! The driver's error: the core's, plus what only the driver knows (the transport's
//! causes, the solver's failures, the CSR). Shared with the tokio driver through
//! `acme-proto-support`, with this driver's [`TransportError`].

use crate::transport::TransportError;

/// Everything an operation driven by this crate can end with; see
/// [`acme_proto_support::DriverError`] for the variants.
pub type DriverError = acme_proto_support::DriverError<TransportError>;

/// A key rollover that did not end with the new key in use, with the key given back; see
/// [`acme_proto_support::KeyChangeError`].
pub type KeyChangeError<K> = acme_proto_support::KeyChangeError<K, TransportError>;
