//! The blocking driver for [`acme_proto`]: not written yet (see the project's issue on the
//! drivers). Until then, drive [`acme_proto`] from your own code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use acme_proto;
