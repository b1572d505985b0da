//! The tokio driver for [`acme_proto`] (being built): the HTTPS transport so far.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod transport;

pub use acme_proto;
pub use transport::{
    Roots, Transport, TransportBuilder, TransportError, TransportErrorKind, USER_AGENT,
};
