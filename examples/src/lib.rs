//! What the embedding programs share, none of it ACME: the client's side of one HTTP/1.1
//! exchange framed by [ureq-proto](https://docs.rs/ureq-proto) over any byte stream
//! ([`http1_exchange`]), the TLS client configuration ([`tls`]), the keys and the CSR
//! ([`csr`]), the http-01 challenge's tokens and its answer to the CA
//! ([`http01_challenge`]), and the flags of the programs that run one order per domain
//! ([`many`]).
//!
//! The programs themselves are in `src/bin/`: `smol-issue` (the core on smol),
//! `event-loop` (many orders on one thread, no async) and `smol-blocking` (the blocking
//! driver from smol). Each is meant to be read, and copied, on its own.

pub mod csr;
pub mod http01_challenge;
pub mod http1_exchange;
pub mod many;
pub mod tls;
