//! The tokio driver for [`acme_proto`] (being built): the HTTPS transport and the ring
//! signer so far.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod signer;
mod transport;

pub use acme_proto;
pub use signer::RingSigner;
pub use transport::{
    Roots, Transport, TransportBuilder, TransportError, TransportErrorKind, USER_AGENT,
};
