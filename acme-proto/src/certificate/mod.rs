//! Issued certificates: the downloaded chain, the facts in each certificate, ARI
//! (RFC 9773) identifiers and renewal times, and preferred-chain selection.
//!
//! A certificate download (RFC 8555 §7.4.2) is PEM text, checked by
//! [`Response::pem_chain`](crate::Response::pem_chain) and read here into a
//! [`CertificateChain`]: the end-entity certificate first, then its issuers, each
//! certificate's DER read once into a [`CertificateInfo`]. The PEM text is kept as
//! received, for the caller to save. A chain holds at most
//! [`CertificateChain::MAX_CERTIFICATES`] certificates.
//!
//! ```
//! use acme_proto::CertificateChain;
//!
//! // RFC 9773, Appendix A.
//! let pem = "-----BEGIN CERTIFICATE-----
//! MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt
//! cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS
//! BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu
//! 7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf
//! qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B
//! yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb
//! +FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK
//! -----END CERTIFICATE-----
//! ";
//! let chain = CertificateChain::from_pem(pem)?;
//! assert_eq!(chain.end_entity().subject_common_name(), Some("example.com"));
//! assert_eq!(chain.end_entity().issuer_common_name(), Some("Example CA"));
//! let id = chain.cert_id()?;
//! assert_eq!(id.as_str(), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
//!
//! let base = url::Url::parse("https://example.com/acme/renewal-info").unwrap();
//! let url = acme_proto::certificate::renewal_info_url(&base, &id)?;
//! assert_eq!(
//!     url.as_str(),
//!     "https://example.com/acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
//! );
//! # Ok::<(), acme_proto::Malformed>(())
//! ```

mod ari;
mod csr;
mod info;
mod pem;

use alloc::string::String;
use alloc::vec::Vec;

pub use ari::{CertId, renewal_info_url, renewal_time};
pub use info::CertificateInfo;

pub(crate) use csr::{check_issued, csr_public_key};

use crate::error::Error;

use crate::fault::Malformed;
use crate::limits::Limits;
use crate::time::UnixTime;
use crate::wire::Response;

/// A certificate chain as downloaded (`application/pem-certificate-chain`): the
/// end-entity certificate, then the certificates that issued it, in the server's order.
///
/// RFC 8555 §9.1 puts the end-entity certificate first and has each following
/// certificate certify the one before (a SHOULD, not checked here). Nothing here
/// verifies signatures: the chain is what the server sent, read and described.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CertificateChain {
    pem: String,
    end_entity: CertificateInfo,
    issuers: Vec<CertificateInfo>,
}

impl CertificateChain {
    /// The most certificates a chain may hold: a longer one is refused, so a hostile
    /// download cannot make the client read and keep without bound. Real chains
    /// have two to four.
    pub const MAX_CERTIFICATES: usize = pem::MAX_CERTIFICATES;

    /// Reads a PEM certificate chain, such as the text
    /// [`Response::pem_chain`](crate::Response::pem_chain) returns.
    ///
    /// Accepts RFC 7468's strict form, which RFC 8555 requires of servers, and its lax
    /// form: text between the blocks is ignored, line breaks may be CRLF, LF or CR, and
    /// whitespace may appear inside a block's base64.
    ///
    /// # Errors
    ///
    /// [`Malformed`] (context `"certificate chain"`) when the text is not ASCII, has no
    /// `CERTIFICATE` block, has a block with another label, a block without its `END`
    /// line, an `END` line without its block, base64 that is not canonical standard
    /// base64 with padding, or more than [`MAX_CERTIFICATES`](Self::MAX_CERTIFICATES)
    /// blocks; [`Malformed`] (context `"certificate"`) when a block is not one DER X.509
    /// certificate (see [`CertificateInfo::from_der`]).
    pub fn from_pem(pem: &str) -> Result<Self, Malformed> {
        let mut certificates = pem::certificate_blocks(pem)?
            .into_iter()
            .map(|der| CertificateInfo::from_der(&der));
        let end_entity = match certificates.next() {
            Some(first) => first?,
            // `certificate_blocks` returns at least one block; kept as an error anyway.
            None => {
                return Err(Malformed::new(
                    pem::CONTEXT,
                    crate::MalformedKind::Invalid("no CERTIFICATE block"),
                ));
            }
        };
        Ok(Self {
            pem: String::from(pem),
            end_entity,
            issuers: certificates.collect::<Result<_, _>>()?,
        })
    }

    /// Reads the chain of a certificate download: [`Response::pem_chain`], then
    /// [`from_pem`](Self::from_pem).
    ///
    /// # Errors
    ///
    /// The server's problem document, or [`Malformed`], as those two return.
    ///
    /// [`Response::pem_chain`]: crate::Response::pem_chain
    pub fn from_response(
        response: &Response,
        limits: &Limits,
        now: UnixTime,
    ) -> Result<Self, Error> {
        Ok(Self::from_pem(response.pem_chain(limits, now)?)?)
    }

    /// The PEM text exactly as received, to save as the certificate file.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The PEM text exactly as received, without copying it.
    pub fn into_pem(self) -> String {
        self.pem
    }

    /// The end-entity certificate: the one issued for the order.
    pub fn end_entity(&self) -> &CertificateInfo {
        &self.end_entity
    }

    /// The certificates after the end-entity one, in the server's order (possibly none).
    pub fn issuers(&self) -> &[CertificateInfo] {
        &self.issuers
    }

    /// The last certificate of the chain: the one closest to the root (the end-entity
    /// certificate when the chain has nothing else).
    pub fn top(&self) -> &CertificateInfo {
        self.issuers.last().unwrap_or(&self.end_entity)
    }

    /// The common name of the root the chain leads to: the issuer CN of its
    /// [`top`](Self::top) certificate. When the chain ends with a self-signed root,
    /// that is the root's own CN, as its issuer is itself.
    pub fn root_name(&self) -> Option<&str> {
        self.top().issuer_common_name()
    }

    /// How many certificates the chain holds (at least one).
    pub fn len(&self) -> usize {
        1 + self.issuers.len()
    }

    /// Always `false`: a chain holds at least one certificate.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every certificate, the end-entity one first.
    pub fn iter(&self) -> ChainIter<'_> {
        ChainIter {
            first: Some(&self.end_entity),
            rest: self.issuers.iter(),
        }
    }

    /// Every certificate's DER, the end-entity one first (as a TLS library takes them).
    pub fn der(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.iter().map(CertificateInfo::der)
    }

    /// The end-entity certificate's ARI identifier (RFC 9773 §4.1).
    ///
    /// # Errors
    ///
    /// As [`CertificateInfo::cert_id`]: the certificate has no Authority Key
    /// Identifier `keyIdentifier`.
    pub fn cert_id(&self) -> Result<CertId, Malformed> {
        self.end_entity.cert_id()
    }
}

impl<'a> IntoIterator for &'a CertificateChain {
    type Item = &'a CertificateInfo;
    type IntoIter = ChainIter<'a>;

    fn into_iter(self) -> ChainIter<'a> {
        self.iter()
    }
}

/// The certificates of a [`CertificateChain`], the end-entity one first.
#[derive(Clone, Debug)]
pub struct ChainIter<'a> {
    first: Option<&'a CertificateInfo>,
    rest: core::slice::Iter<'a, CertificateInfo>,
}

impl<'a> Iterator for ChainIter<'a> {
    type Item = &'a CertificateInfo;

    fn next(&mut self) -> Option<&'a CertificateInfo> {
        self.first.take().or_else(|| self.rest.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.first.is_some()) + self.rest.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for ChainIter<'_> {}

/// Picks the chain that leads to the root named `preferred_root`, or `default`.
///
/// The rule of certbot's and lego's `--preferred-chain`: the first chain, looking at
/// `default` first and then `alternates` in order, whose [`top`](CertificateChain::top)
/// certificate's issuer common name equals `preferred_root` exactly (case-sensitive);
/// `default` when none does. That issuer is the root the chain leads to whether or not
/// the server included the root itself: a self-signed root's issuer is its own
/// subject. Names of certificates lower in a chain do not count, so a chain that only
/// passes through a cross-signed `preferred_root` on its way to another root is not
/// picked (Let's Encrypt's "ISRG Root X1" cross-signed by "DST Root CA X3", for one).
///
/// `alternates` are the chains at the `Link: rel="alternate"` URLs of the certificate
/// download (RFC 8555 §7.4.2), each read with [`CertificateChain::from_pem`].
pub fn select_chain<'a>(
    default: &'a CertificateChain,
    alternates: impl IntoIterator<Item = &'a CertificateChain>,
    preferred_root: &str,
) -> &'a CertificateChain {
    core::iter::once(default)
        .chain(alternates)
        .find(|chain| chain.root_name() == Some(preferred_root))
        .unwrap_or(default)
}
