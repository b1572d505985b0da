//! What an order tells the caller, and what it produces.

use alloc::string::String;
use alloc::vec::Vec;

use url::Url;

use crate::certificate::CertificateChain;
use crate::client::offer::ChallengeOffer;
use crate::identifier::Identifier;
use crate::problem::Problem;

/// What the order flow tells the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderEvent {
    /// The server created the order. Save a [`snapshot`](super::OrderFlow::snapshot) now to
    /// resume it after a restart without creating a second one.
    Created {
        /// The order URL.
        url: Url,
    },
    /// The server refused `replaces` (`alreadyReplaced`): the order was sent again
    /// without it.
    ReplacesDropped {
        /// The certID that was dropped.
        cert_id: String,
        /// The server's problem.
        problem: Problem,
    },
    /// Prove control of an identifier: put one of the offers in place, then call
    /// [`OrderFlow::challenge_ready`](super::OrderFlow::challenge_ready) with its URL.
    Authorize {
        /// The authorization URL.
        authorization: Url,
        /// What it authorizes (for a wildcard, the name without `*.`).
        identifier: Identifier,
        /// Whether it is for a wildcard name.
        wildcard: bool,
        /// The challenges this client can answer for it, in the server's order.
        offers: Vec<ChallengeOffer>,
    },
    /// A challenge put in place is no longer needed: remove it.
    Cleanup(ChallengeOffer),
    /// The order is ready: call [`OrderFlow::provide_csr`](super::OrderFlow::provide_csr) with a CSR (DER) for exactly
    /// these identifiers.
    NeedCsr {
        /// The identifiers the CSR must name.
        identifiers: Vec<Identifier>,
    },
}

/// The certificate an order produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issued {
    /// The order URL.
    pub order_url: Url,
    /// The certificate URL.
    pub certificate_url: Url,
    /// The default chain, end-entity first; [`CertificateChain::pem`] gives the text
    /// exactly as the server sent it.
    pub chain: CertificateChain,
    /// Alternate chains (`Link: rel="alternate"`), with their URLs.
    pub alternates: Vec<(Url, CertificateChain)>,
    /// Names in the certificate the order did not ask for (DNS names, then IP
    /// addresses, as the certificate lists them): some CAs add one. Every identifier of
    /// the order is in the certificate, and its key is the CSR's; these are extra, to be
    /// logged.
    pub unrequested_names: Vec<String>,
}

impl Issued {
    /// The chain leading to the root named `root` (the issuer common name of the chain's
    /// last certificate), or the default chain when none does: certbot's and lego's
    /// `--preferred-chain` rule, see [`select_chain`](crate::certificate::select_chain).
    pub fn preferred_chain(&self, root: &str) -> &CertificateChain {
        crate::certificate::select_chain(&self.chain, self.alternates.iter().map(|(_, c)| c), root)
    }
}
