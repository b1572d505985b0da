#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod b64;
pub mod certificate;
pub mod client;
pub mod crypto;
mod error;
mod fault;
pub mod headers;
mod identifier;
mod limits;
mod problem;
pub mod resource;
mod response;
mod status;
mod text;
mod time;
mod time_format;
mod token;
mod wire;

pub use certificate::{CertId, CertificateChain, CertificateInfo};
pub use client::{Client, NoEvent, Policy, Polled, Step, Wait, WaitReason};
pub use crypto::{
    AccountKey, EabAlgorithm, ExternalAccountBinding, Jwk, KeyAuthorization, KeyId,
    SignatureAlgorithm, Signer, Thumbprint,
};
pub use error::Error;
pub use fault::{CryptoError, Malformed, MalformedKind, Misuse};
pub use headers::Nonce;
pub use identifier::{DnsName, Identifier};
pub use limits::{Limits, ResponseKind};
pub use problem::{Problem, ProblemType, Subproblem};
pub use status::{AccountStatus, AuthorizationStatus, ChallengeStatus, OrderStatus};
pub use text::ServerText;
pub use time::UnixTime;
pub use token::ChallengeToken;
pub use wire::{Headers, Method, Request, RequestId, Response, TransportFailure};

// The root README's examples use the drivers too: they are doctests of the `tests`
// crate, which depends on all the crates.
