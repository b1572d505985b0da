//! The tokio driver for [`acme_proto`]: HTTPS with hyper and rustls (ring), an account
//! signer on ring, the drive loop, and http-01 and tls-alpn-01 responders.
//!
//! ```no_run
//! use acme_proto::client::NewAccount;
//! use acme_proto::crypto::{AccountKey, SignatureAlgorithm};
//! use acme_proto::Identifier;
//! use acme_proto_tokio::{AcmeClient, Http01Responder, Transport};
//!
//! # async fn run(key: AccountKey) -> Result<(), Box<dyn std::error::Error>> {
//! // The key: `AccountKey::generate(SignatureAlgorithm::Es256, &mut rng)`, or loaded.
//! let client = AcmeClient::new(
//!     "https://acme-staging-v02.api.letsencrypt.org/directory".parse()?,
//!     key,
//!     Transport::builder().build()?,
//! )?;
//! client.create_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"])).await?;
//! let saved = client.credentials().ok_or("no account")?.to_json()?; // keep it secret
//!
//! let responder = Http01Responder::bind("[::]:80".parse()?).await?;
//! let certificate = client.issue([Identifier::dns("www.example.org")?], &responder).await?;
//! println!("{}", certificate.issued.chain.pem());
//! # let _ = (saved, SignatureAlgorithm::Es256); Ok(()) }
//! ```
//!
//! # What lives where
//!
//! * [`Transport`] moves one request: HTTP/1.1 or HTTP/2, TLS always verified (Mozilla's
//!   roots, the system's, and/or roots you add), `TCP_NODELAY`, connect / read / total
//!   timeouts, the body cap enforced while reading, no redirects followed.
//! * [`drive()`] runs any [`Operation`](acme_proto::client::Operation): it sends, sleeps
//!   until the core's `Wait`, and hands events to a callback. Retries, backoff, nonces
//!   and polling are all the core's. Many operations run at once over one
//!   [`Client`](acme_proto::Client) behind a `std::sync::Mutex`, locked only between
//!   awaits.
//! * [`Solver`] puts challenges in place. Built in: [`Http01Responder`] (http-01),
//!   [`TlsAlpn01Responder`] (tls-alpn-01 on a port of its own), [`TlsAlpnResolver`]
//!   (tls-alpn-01 inside your own rustls server, with [`CertificateSlot`] to swap its
//!   certificate when an order completes), and [`DnsHook`] (the DNS challenges through
//!   your command).
//! * [`ResponderLimits`]: how many connections the built-in responders serve (from one
//!   address, in all) and how long a request head may take, so that a flood of
//!   connections cannot keep the validation server out (`bind_with`).
//! * [`AcmeClient`] ties them together: accounts, and [`issue`](AcmeClient::issue).
//! * [`RingSigner`] signs with ring (ES256, ES384, EdDSA), five times faster than the
//!   core's pure-Rust ECDSA; its ECDSA is randomized, so golden tests use the core's key.
//!
//! What is logged, at which level, and what never is: [`TransportBuilder`'s
//! docs](TransportBuilder#logs).

mod accept;
mod client;
mod dns_hook;
mod drive;
mod error;
mod http01;
mod resolver;
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
pub use drive::{EventHandler, drive};
pub use error::{DriverError, KeyChangeError};
pub use http01::Http01Responder;
pub use resolver::{CertificateError, CertificateSlot, TlsAlpnResolver};
/// The rustls the resolvers and the transport are built on, to build a server's
/// `ServerConfig` with the same version.
pub use rustls;
pub use solver::{Solver, SolverError};
pub use tlsalpn01::{ACME_TLS_ALPN, TlsAlpn01Responder};
/// The tokio-rustls of [`TlsAlpnResolver`]'s servers (`TlsAcceptor`).
pub use tokio_rustls;
pub use transport::{
    Roots, Transport, TransportBuilder, TransportError, TransportErrorKind, USER_AGENT,
};

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
