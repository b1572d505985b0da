//! The blocking driver for [`acme_proto`]: HTTPS with ureq and rustls (ring), an
//! account signer on ring, the drive loop on the calling thread, and http-01,
//! tls-alpn-01 and DNS-hook solvers. No async, no runtime.
//!
//! ```no_run
//! use acme_proto::client::NewAccount;
//! use acme_proto::crypto::{AccountKey, SignatureAlgorithm};
//! use acme_proto::Identifier;
//! use acme_proto_blocking::{AcmeClient, Http01Responder, Transport};
//!
//! # fn run(key: AccountKey) -> Result<(), Box<dyn std::error::Error>> {
//! // The key: `AccountKey::generate(SignatureAlgorithm::Es256, &mut rng)`, or loaded.
//! let client = AcmeClient::new(
//!     "https://acme-staging-v02.api.letsencrypt.org/directory".parse()?,
//!     key,
//!     Transport::builder().build()?,
//! )?;
//! client.create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"]))?;
//! let saved = client.credentials().ok_or("no account")?.to_json()?; // keep it secret
//!
//! let responder = Http01Responder::bind("[::]:80".parse()?)?;
//! let certificate = client.issue([Identifier::dns("www.example.org")?], &responder)?;
//! println!("{}", certificate.issued.chain.pem());
//! # let _ = (saved, SignatureAlgorithm::Es256); Ok(()) }
//! ```
//!
//! # What lives where
//!
//! * [`Transport`] moves one request: HTTP/1.1 on ureq, TLS always verified (Mozilla's
//!   roots, the system's, and/or roots you add), `TCP_NODELAY`, connect / read / total
//!   timeouts, the body cap enforced while reading, no redirects followed, 4xx/5xx
//!   handed back as responses (their problem documents intact).
//! * [`drive()`] runs any [`Operation`](acme_proto::client::Operation): it sends, sleeps
//!   until the core's `Wait`, and hands events to a callback. Retries, backoff, nonces
//!   and polling are all the core's.
//! * [`Solver`] puts challenges in place; [`Http01Responder`], [`TlsAlpn01Responder`]
//!   and [`DnsHook`] are the built-in ones.
//! * [`ResponderLimits`]: how many connections the built-in responders serve (from one
//!   address, in all) and how long a request head may take, so that a flood of
//!   connections cannot keep the validation server out (`bind_with`).
//! * [`AcmeClient`] ties them together: accounts, [`issue`](AcmeClient::issue),
//!   revocation, renewal information. It is `Send + Sync`: many threads may order at
//!   once over one client, sharing one nonce pool and one connection pool (the core
//!   [`Client`](acme_proto::Client) sits behind a `std::sync::Mutex`, locked for one
//!   step at a time, never while a request is out).
//! * [`RingSigner`] signs with ring (ES256, ES384, EdDSA), five times faster than the
//!   core's pure-Rust ECDSA; its ECDSA is randomized, so golden tests use the core's key.
//!
//! The API is the tokio driver's (`acme-proto-tokio`) without `async`: the same names,
//! arguments and errors, and the same behaviour, since both drivers share
//! `acme-proto-support` and leave every protocol decision to the core.
//!
//! What is logged, at which level, and what never is: [`TransportBuilder`'s
//! docs](TransportBuilder#logs).

mod accept;
mod client;
mod dns_hook;
mod drive;
mod error;
mod http01;
mod solver;
mod tlsalpn01;
mod transport;

pub use acme_proto;
pub use acme_proto_support::ResponderLimits;
pub use acme_proto_support::{
    Certificate, CsrError, RingSigner, RsaSigner, SaveError, SaveOrder, SavedOrder, account_signer,
    certificate_request, csr_for_key, generate_account_key, read_trusted_file,
};
pub use client::AcmeClient;
pub use dns_hook::DnsHook;
pub use drive::drive;
pub use error::{DriverError, KeyChangeError};
pub use http01::Http01Responder;
pub use solver::{Solver, SolverError};
pub use tlsalpn01::{ACME_TLS_ALPN, TlsAlpn01Responder};
pub use transport::{
    Roots, Transport, TransportBuilder, TransportError, TransportErrorKind, USER_AGENT,
};

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
