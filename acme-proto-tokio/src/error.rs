//! The driver's error: the core's, plus what only the driver knows (the transport's
//! causes, the solver's failures, the CSR). Shared with the blocking driver through
//! `acme-proto-support` (its transport failures: [`TransportError`](crate::TransportError)).

pub use acme_proto_support::{DriverError, KeyChangeError};
