//! tls-alpn-01 (RFC 8737) answered by your own rustls server: [`TlsAlpnResolver`] wraps
//! the server's certificate resolver, answers `acme-tls/1` handshakes for the
//! challenges presented to it and hands every other handshake to the wrapped resolver;
//! [`CertificateSlot`] is a resolver whose certificate is swapped when an order
//! completes.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use acme_proto::Identifier;
//! use acme_proto_tokio::rustls::ServerConfig;
//! use acme_proto_tokio::{AcmeClient, CertificateSlot, TlsAlpnResolver};
//!
//! # async fn run(client: AcmeClient) -> Result<(), Box<dyn std::error::Error>> {
//! let slot = CertificateSlot::new();
//! let resolver = TlsAlpnResolver::new(slot.clone())?;
//! let mut config = ServerConfig::builder()
//!     .with_no_client_auth()
//!     .with_cert_resolver(Arc::new(slot.clone())); // replaced just below
//! config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
//! resolver.configure(&mut config); // the resolver, and acme-tls/1 first in ALPN
//! let acceptor = acme_proto_tokio::tokio_rustls::TlsAcceptor::from(Arc::new(config));
//! // … serve port 443 with `acceptor` …
//!
//! let certificate = client.issue([Identifier::dns("www.example.org")?], &resolver).await?;
//! slot.install(&certificate)?; // every new handshake now gets it
//! # let _ = acceptor; Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use acme_proto::client::ChallengeOffer;
use acme_proto::{CertificateChain, Malformed};
use acme_proto_support::{ACME_TLS_ALPN, Certificate, TlsAlpnCertificates};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, ServerConfig};

use crate::solver::{Solver, SolverError};

/// The protocol [`TlsAlpnResolver::add_alpn`] lists after `acme-tls/1` when the
/// configuration listed none: what a server without ALPN speaks to HTTPS clients.
const HTTP_1_1: &[u8] = b"http/1.1";

/// A certificate resolver for a rustls server that also answers tls-alpn-01 (RFC
/// 8737): a handshake offering the ALPN protocol `acme-tls/1` gets the challenge
/// certificate presented for its SNI name, or is refused when there is none (it never
/// gets the wrapped resolver's certificate); every other handshake goes to the wrapped
/// resolver.
///
/// It is also the [`Solver`] to issue with (it picks the tls-alpn-01 offers), so the
/// server that answers the validation is the one already running on port 443. Clones
/// share the presented challenges: give one to the [`ServerConfig`] and issue with
/// another.
///
/// The server must *negotiate* `acme-tls/1` as well (the validation server checks it):
/// [`configure`](Self::configure) or [`add_alpn`](Self::add_alpn) put it first in
/// [`ServerConfig::alpn_protocols`], before your own protocols. rustls picks the first
/// of the server's protocols the client offers and refuses a client that offers
/// protocols none of which is listed, so your protocols (`h2`, `http/1.1`) must stay in
/// the list; clients that do not offer `acme-tls/1` (every ordinary client) negotiate
/// them as before.
///
/// ```
/// use std::sync::Arc;
///
/// use acme_proto_tokio::rustls::ServerConfig;
/// use acme_proto_tokio::{ACME_TLS_ALPN, CertificateSlot, TlsAlpnResolver};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let slot = CertificateSlot::new(); // or your own `ResolvesServerCert`
/// let resolver = TlsAlpnResolver::new(slot.clone())?;
/// let mut config = ServerConfig::builder()
///     .with_no_client_auth()
///     .with_cert_resolver(Arc::new(resolver.clone()));
/// config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
/// TlsAlpnResolver::add_alpn(&mut config);
/// assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"h2", b"http/1.1"]);
/// // `client.issue(identifiers, &resolver).await?`, then `slot.install(&certificate)?`.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsAlpnResolver {
    certificates: TlsAlpnCertificates,
    /// The presented certificates by SNI (the support crate's resolver, which answers
    /// `acme-tls/1` handshakes only).
    challenges: Arc<dyn ResolvesServerCert>,
    inner: Arc<dyn ResolvesServerCert>,
}

impl TlsAlpnResolver {
    /// Wraps `inner`, the resolver of every handshake that does not offer `acme-tls/1`
    /// (a [`CertificateSlot`], or any resolver of yours).
    ///
    /// # Errors
    ///
    /// Only if rustls' ring provider refused its own safe default protocol versions,
    /// which it does not.
    ///
    /// ```
    /// use acme_proto_tokio::{CertificateSlot, TlsAlpnResolver};
    ///
    /// # fn main() -> Result<(), acme_proto_tokio::rustls::Error> {
    /// let resolver = TlsAlpnResolver::new(CertificateSlot::new())?;
    /// assert!(resolver.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn new(inner: impl ResolvesServerCert + 'static) -> Result<Self, rustls::Error> {
        Self::from_shared(Arc::new(inner))
    }

    /// Wraps a resolver already shared, such as the `cert_resolver` of an existing
    /// [`ServerConfig`] (one built with `with_single_cert`, say).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use acme_proto_tokio::TlsAlpnResolver;
    /// use acme_proto_tokio::rustls::ServerConfig;
    ///
    /// # fn wrap(mut config: ServerConfig) -> Result<ServerConfig, acme_proto_tokio::rustls::Error> {
    /// // `config` was built with your certificate (`with_single_cert`, …).
    /// let resolver = TlsAlpnResolver::from_shared(Arc::clone(&config.cert_resolver))?;
    /// resolver.configure(&mut config);
    /// # Ok(config) }
    /// ```
    pub fn from_shared(inner: Arc<dyn ResolvesServerCert>) -> Result<Self, rustls::Error> {
        let certificates = TlsAlpnCertificates::default();
        let challenges = certificates.server_config()?.cert_resolver;
        Ok(Self {
            certificates,
            challenges,
            inner,
        })
    }

    /// Makes `config` answer with this resolver (a clone sharing its challenges) and
    /// negotiate `acme-tls/1` ([`add_alpn`](Self::add_alpn)).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use acme_proto_tokio::rustls::ServerConfig;
    /// use acme_proto_tokio::{ACME_TLS_ALPN, CertificateSlot, TlsAlpnResolver};
    ///
    /// # fn main() -> Result<(), acme_proto_tokio::rustls::Error> {
    /// let slot = CertificateSlot::new();
    /// let mut config = ServerConfig::builder()
    ///     .with_no_client_auth()
    ///     .with_cert_resolver(Arc::new(slot.clone()));
    /// config.alpn_protocols = vec![b"http/1.1".to_vec()];
    /// TlsAlpnResolver::new(slot)?.configure(&mut config);
    /// assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"http/1.1"]);
    /// # Ok(()) }
    /// ```
    pub fn configure(&self, config: &mut ServerConfig) {
        config.cert_resolver = Arc::new(self.clone());
        Self::add_alpn(config);
    }

    /// Puts `acme-tls/1` first in `config.alpn_protocols`, your protocols after it in
    /// their order. First, so that a handshake offering it (a validation server's)
    /// negotiates it, whatever else it offers; the others are kept, so that ordinary
    /// clients still negotiate them.
    ///
    /// A list that was empty (no ALPN) becomes `acme-tls/1`, `http/1.1`: with
    /// `acme-tls/1` alone, rustls would refuse every client offering other protocols.
    /// If your server speaks something other than HTTP/1.1 to clients that offer ALPN,
    /// list its protocols before calling this.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use acme_proto_tokio::rustls::ServerConfig;
    /// use acme_proto_tokio::{ACME_TLS_ALPN, CertificateSlot, TlsAlpnResolver};
    ///
    /// let mut config = ServerConfig::builder()
    ///     .with_no_client_auth()
    ///     .with_cert_resolver(Arc::new(CertificateSlot::new()));
    /// TlsAlpnResolver::add_alpn(&mut config);
    /// assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"http/1.1"]);
    /// ```
    pub fn add_alpn(config: &mut ServerConfig) {
        let protocols = &mut config.alpn_protocols;
        protocols.retain(|protocol| protocol.as_slice() != ACME_TLS_ALPN);
        if protocols.is_empty() {
            protocols.push(HTTP_1_1.to_vec());
        }
        protocols.insert(0, ACME_TLS_ALPN.to_vec());
    }

    /// How many challenge certificates are presented.
    ///
    /// ```
    /// # fn main() -> Result<(), acme_proto_tokio::rustls::Error> {
    /// let resolver = acme_proto_tokio::TlsAlpnResolver::new(acme_proto_tokio::CertificateSlot::new())?;
    /// assert_eq!(resolver.len(), 0);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether no challenge certificate is presented (as after every order's cleanup).
    ///
    /// ```
    /// # fn main() -> Result<(), acme_proto_tokio::rustls::Error> {
    /// let resolver = acme_proto_tokio::TlsAlpnResolver::new(acme_proto_tokio::CertificateSlot::new())?;
    /// assert!(resolver.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

/// Whether the client offers `acme-tls/1`: a validation server's handshake (RFC 8737
/// §3), never an ordinary client's.
fn offers_acme_tls(hello: &ClientHello<'_>) -> bool {
    hello
        .alpn()
        .is_some_and(|mut protocols| protocols.any(|protocol| protocol == ACME_TLS_ALPN))
}

impl ResolvesServerCert for TlsAlpnResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if offers_acme_tls(&hello) {
            // A presented challenge's certificate, or a refusal: never the wrapped
            // resolver's certificate.
            let found = self.challenges.resolve(hello);
            tracing::debug!(found = found.is_some(), "acme-tls/1 handshake");
            found
        } else {
            self.inner.resolve(hello)
        }
    }

    fn only_raw_public_keys(&self) -> bool {
        // The wrapped resolver's handshakes are the ones that matter to clients.
        self.inner.only_raw_public_keys()
    }
}

impl Solver for TlsAlpnResolver {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        TlsAlpnCertificates::choose(offers)
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.present(offer)
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.certificates.cleanup(offer);
        Ok(())
    }
}

impl fmt::Debug for TlsAlpnResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wrapped resolver is the user's: its Debug may say more than it should.
        f.debug_struct("TlsAlpnResolver")
            .field("presented", &self.certificates.len())
            .finish_non_exhaustive()
    }
}

/// The certificate a server hands to every handshake, swapped atomically when a new
/// one is issued: a [`ResolvesServerCert`] that answers with whatever it holds, to use
/// as is or wrapped in a [`TlsAlpnResolver`]. Clones share the slot.
///
/// Empty at first (handshakes are refused) unless made
/// [`with_fallback`](Self::with_fallback). Handshakes take a read lock for the time of
/// an `Arc` clone; each sees the old certificate or the new one, never a mix.
///
/// ```
/// use std::sync::Arc;
///
/// use acme_proto_tokio::CertificateSlot;
/// use acme_proto_tokio::rustls::ServerConfig;
///
/// let slot = CertificateSlot::new();
/// let config = ServerConfig::builder()
///     .with_no_client_auth()
///     .with_cert_resolver(Arc::new(slot.clone()));
/// assert!(slot.current().is_none());
/// // Once issued: `slot.install(&certificate)?`.
/// # let _ = config;
/// ```
#[derive(Clone, Default)]
pub struct CertificateSlot {
    current: Arc<RwLock<Option<Arc<CertifiedKey>>>>,
}

impl CertificateSlot {
    /// An empty slot: handshakes are refused until a certificate is installed.
    ///
    /// ```
    /// assert!(acme_proto_tokio::CertificateSlot::new().current().is_none());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A slot serving `fallback` (a self-signed certificate, or the one from disk) until
    /// another is installed.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use acme_proto_tokio::CertificateSlot;
    /// use acme_proto_tokio::rustls::sign::CertifiedKey;
    ///
    /// fn serve_old(old: Arc<CertifiedKey>) -> CertificateSlot {
    ///     CertificateSlot::with_fallback(old)
    /// }
    /// ```
    pub fn with_fallback(fallback: Arc<CertifiedKey>) -> Self {
        Self {
            current: Arc::new(RwLock::new(Some(fallback))),
        }
    }

    /// The certificate served now.
    ///
    /// ```
    /// let slot = acme_proto_tokio::CertificateSlot::new();
    /// assert!(slot.current().is_none());
    /// ```
    pub fn current(&self) -> Option<Arc<CertifiedKey>> {
        // Every write is one assignment: poisoning carries no meaning.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Serves `key` from the next handshake on; returns the one it replaces.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use acme_proto_tokio::CertificateSlot;
    /// use acme_proto_tokio::rustls::sign::CertifiedKey;
    ///
    /// fn swap(slot: &CertificateSlot, new: Arc<CertifiedKey>) {
    ///     let _old = slot.set(new);
    /// }
    /// ```
    pub fn set(&self, key: Arc<CertifiedKey>) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        current.replace(key)
    }

    /// Serves an issued certificate (its default chain and its key) from the next
    /// handshake on. On an error, the slot is left as it was.
    ///
    /// # Errors
    ///
    /// [`CertificateError`]: the key is not PEM, not a kind ring signs with, or not the
    /// end-entity certificate's.
    ///
    /// ```no_run
    /// use acme_proto::Identifier;
    /// use acme_proto_tokio::{AcmeClient, CertificateSlot, TlsAlpnResolver};
    ///
    /// # async fn renew(client: &AcmeClient, slot: &CertificateSlot, resolver: &TlsAlpnResolver)
    /// #     -> Result<(), Box<dyn std::error::Error>> {
    /// let certificate = client.issue([Identifier::dns("www.example.org")?], resolver).await?;
    /// slot.install(&certificate)?;
    /// # Ok(()) }
    /// ```
    pub fn install(&self, certificate: &Certificate) -> Result<(), CertificateError> {
        let key = certified_key(&certificate.issued.chain, &certificate.private_key_pem)?;
        self.set(Arc::new(key));
        Ok(())
    }

    /// Serves a chain read from PEM (the end-entity certificate first, as issued) with
    /// its private key (PEM: PKCS#8, as [`Certificate::private_key_pem`], or SEC1 or
    /// PKCS#1) from the next handshake on: a certificate saved to disk. On an error, the
    /// slot is left as it was.
    ///
    /// # Errors
    ///
    /// [`CertificateError`]: the chain or the key does not parse, ring does not sign
    /// with the key, or the key is not the end-entity certificate's.
    ///
    /// ```
    /// use acme_proto_tokio::{CertificateError, CertificateSlot};
    ///
    /// let slot = CertificateSlot::new();
    /// let error = slot.install_pem("not a chain", "not a key").unwrap_err();
    /// assert!(matches!(error, CertificateError::Chain(_)));
    /// assert!(slot.current().is_none());
    /// ```
    pub fn install_pem(&self, chain_pem: &str, key_pem: &str) -> Result<(), CertificateError> {
        let chain = CertificateChain::from_pem(chain_pem).map_err(CertificateError::Chain)?;
        self.set(Arc::new(certified_key(&chain, key_pem)?));
        Ok(())
    }
}

/// `chain` and the PEM private key as rustls serves them, checked to belong together.
fn certified_key(
    chain: &CertificateChain,
    key_pem: &str,
) -> Result<CertifiedKey, CertificateError> {
    // This DER copy of the key is not wiped on drop (this crate has no zeroize), nor is
    // the signing key ring makes of it.
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(CertificateError::Key)?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(CertificateError::UnsupportedKey)?;
    drop(key);
    let certificates = chain
        .der()
        .map(|der| CertificateDer::from(der.to_vec()))
        .collect();
    let certified = CertifiedKey::new(certificates, signing_key);
    match certified.keys_match() {
        // ring's keys all know their public key; `Unknown` is accepted as rustls does.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(CertificateError::KeyMismatch)
        }
        Err(error) => Err(CertificateError::EndEntity(error)),
    }
}

impl ResolvesServerCert for CertificateSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

impl fmt::Debug for CertificateSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // How many certificates, never the key.
        let chain_len = self.current().map(|key| key.cert.len());
        f.debug_struct("CertificateSlot")
            .field("chain_len", &chain_len)
            .finish()
    }
}

/// Why a certificate could not be installed in a [`CertificateSlot`].
///
/// ```
/// use acme_proto_tokio::{CertificateError, CertificateSlot};
///
/// let error = CertificateSlot::new().install_pem("", "").unwrap_err();
/// match error {
///     CertificateError::Chain(malformed) => eprintln!("the chain: {malformed}"),
///     other => eprintln!("{other}"),
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum CertificateError {
    /// The chain is not a PEM certificate chain.
    Chain(Malformed),
    /// The private key is not a PEM private key (PKCS#8, SEC1 or PKCS#1).
    Key(rustls::pki_types::pem::Error),
    /// ring does not sign with this key (its algorithm or curve).
    UnsupportedKey(rustls::Error),
    /// The key is not the end-entity certificate's.
    KeyMismatch,
    /// rustls cannot read the end-entity certificate.
    EndEntity(rustls::Error),
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Chain(_) => f.write_str("the certificate chain does not parse"),
            Self::Key(_) => f.write_str("the private key is not a PEM private key"),
            Self::UnsupportedKey(_) => f.write_str("the private key is not one ring signs with"),
            Self::KeyMismatch => f.write_str("the private key is not the end-entity certificate's"),
            Self::EndEntity(_) => f.write_str("the end-entity certificate cannot be read"),
        }
    }
}

impl std::error::Error for CertificateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Chain(error) => Some(error),
            Self::Key(error) => Some(error),
            Self::UnsupportedKey(error) | Self::EndEntity(error) => Some(error),
            Self::KeyMismatch => None,
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    //! Routing over real rustls handshakes, in memory: a `ClientConnection` and a
    //! `ServerConnection` pumping bytes to each other. Certificates are issued by the
    //! fake CA (over TLS on 127.0.0.1), with the resolver as the solver.

    use std::sync::Mutex;

    use acme_proto::Identifier;
    use acme_proto::client::{NewAccount, Solution};
    use acme_proto::crypto::AccountKey;
    use acme_proto_fake_ca::server::{CaServer, test_pki};
    use acme_proto_fake_ca::test_keys;
    use acme_proto_fake_ca::validation::{check_challenge_certificate, validation_client_config};
    use rustls::pki_types::ServerName;
    use rustls::{ClientConfig, ClientConnection, ServerConnection};

    use super::*;
    use crate::{AcmeClient, Roots, Transport};

    /// What a finished handshake gave the client: the end-entity certificate's DER and
    /// the protocol negotiated.
    #[derive(Debug, PartialEq, Eq)]
    struct Handshake {
        certificate: Vec<u8>,
        alpn: Option<Vec<u8>>,
    }

    /// One handshake between `client` and `server` for `sni`, in memory; `Err` when
    /// either side fails (a refused handshake).
    fn handshake(
        server: &Arc<ServerConfig>,
        client: ClientConfig,
        sni: &str,
    ) -> Result<Handshake, rustls::Error> {
        let name = ServerName::try_from(sni.to_owned()).unwrap();
        let mut client = ClientConnection::new(Arc::new(client), name)?;
        let mut server = ServerConnection::new(Arc::clone(server))?;
        for _ in 0..20 {
            let mut bytes = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut bytes).unwrap();
            }
            let mut read = bytes.as_slice();
            while !read.is_empty() {
                server.read_tls(&mut read).unwrap();
                server.process_new_packets()?;
            }
            let mut bytes = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut bytes).unwrap();
            }
            let mut read = bytes.as_slice();
            while !read.is_empty() {
                client.read_tls(&mut read).unwrap();
                client.process_new_packets()?;
            }
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(Handshake {
                    certificate: client.peer_certificates().unwrap()[0].to_vec(),
                    alpn: client.alpn_protocol().map(<[u8]>::to_vec),
                });
            }
        }
        panic!("the handshake did not finish in 20 rounds");
    }

    /// Panics unless the server refused the handshake for want of a certificate.
    fn refused(result: Result<Handshake, rustls::Error>) {
        match result {
            Err(rustls::Error::General(message))
                if message == "no server certificate chain resolved" => {}
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// A validation server's handshake: `acme-tls/1` only, any certificate accepted.
    fn acme(server: &Arc<ServerConfig>, sni: &str) -> Result<Handshake, rustls::Error> {
        handshake(server, validation_client_config(ACME_TLS_ALPN), sni)
    }

    /// An ordinary client's handshake: `http/1.1`, any certificate accepted (the DER is
    /// compared instead).
    fn ordinary(server: &Arc<ServerConfig>, sni: &str) -> Result<Handshake, rustls::Error> {
        handshake(server, validation_client_config(b"http/1.1"), sni)
    }

    /// The test PKI's server configuration (h2, http/1.1) answering with `resolver`.
    fn server_config(resolver: &TlsAlpnResolver) -> Arc<ServerConfig> {
        let mut config = test_pki().server;
        resolver.configure(&mut config);
        Arc::new(config)
    }

    /// Checks, while each challenge is presented, what both kinds of handshake get.
    struct Checking<'a> {
        resolver: &'a TlsAlpnResolver,
        server: &'a Arc<ServerConfig>,
        /// What an ordinary handshake must get meanwhile: the slot's certificate.
        ordinary: Option<Vec<u8>>,
        checked: Mutex<usize>,
    }

    impl Solver for Checking<'_> {
        fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
            let chosen = self.resolver.choose(offers);
            assert!(matches!(
                chosen.map(|o| &o.solution),
                Some(Solution::TlsAlpn01 { .. })
            ));
            chosen
        }

        async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            self.resolver.present(offer).await?;
            let Solution::TlsAlpn01 { server_name, .. } = &offer.solution else {
                panic!("chose {}", offer.type_name());
            };
            let answer = acme(self.server, server_name).unwrap();
            assert_eq!(answer.alpn.as_deref(), Some(ACME_TLS_ALPN));
            check_challenge_certificate(&answer.certificate, offer);
            // Upper case SNI is the same name.
            let upper = acme(self.server, &server_name.to_ascii_uppercase()).unwrap();
            assert_eq!(upper.certificate, answer.certificate);
            refused(acme(self.server, "other.example.org"));
            // An ordinary handshake for the same name gets the slot's certificate.
            match (&self.ordinary, ordinary(self.server, server_name)) {
                (Some(expected), Ok(got)) => {
                    assert_eq!(&got.certificate, expected);
                    assert_eq!(got.alpn.as_deref(), Some(&b"http/1.1"[..]));
                }
                (None, got) => refused(got),
                (Some(_), got) => panic!("expected the slot's certificate, got {got:?}"),
            }
            *self.checked.lock().unwrap() += 1;
            Ok(())
        }

        async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
            self.resolver.cleanup(offer).await
        }
    }

    async fn account(server: &CaServer) -> AcmeClient {
        let transport = Transport::builder()
            .roots(Roots::None)
            .add_root_pem(&server.root_pem)
            .build()
            .unwrap();
        let key = AccountKey::from_pem(test_keys::P256).unwrap();
        let client = AcmeClient::new(server.directory_url.clone(), key, transport).unwrap();
        client
            .create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]))
            .await
            .unwrap();
        client
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resolver_routes_acme_tls_hellos_to_challenges_and_others_to_the_slot() {
        let ca = CaServer::start();
        let client = account(&ca).await;
        let slot = CertificateSlot::new();
        let resolver = TlsAlpnResolver::new(slot.clone()).unwrap();
        let server = server_config(&resolver);
        let name = "www.example.org";

        // Nothing installed, nothing presented: both refused.
        refused(ordinary(&server, name));
        refused(acme(&server, name));

        let solver = Checking {
            resolver: &resolver,
            server: &server,
            ordinary: None,
            checked: Mutex::new(0),
        };
        let first = client
            .issue([Identifier::dns(name).unwrap()], &solver)
            .await
            .unwrap();
        assert_eq!(*solver.checked.lock().unwrap(), 1);
        assert!(resolver.is_empty(), "cleaned up");
        slot.install(&first).unwrap();
        let first_der = first.issued.chain.end_entity().der().to_vec();

        let served = ordinary(&server, name).unwrap();
        assert_eq!(served.certificate, first_der);
        // Another slot with it as its fallback serves it from the start.
        let fallback = CertificateSlot::with_fallback(slot.current().unwrap());
        let fallback_server = server_config(&TlsAlpnResolver::new(fallback).unwrap());
        assert_eq!(
            ordinary(&fallback_server, name).unwrap().certificate,
            first_der
        );
        assert_eq!(served.alpn.as_deref(), Some(&b"http/1.1"[..]));
        // h2 clients still negotiate h2.
        let h2 = handshake(&server, validation_client_config(b"h2"), name).unwrap();
        assert_eq!(h2.alpn.as_deref(), Some(&b"h2"[..]));
        assert_eq!(h2.certificate, first_der);
        // An acme-tls/1 hello with nothing presented for it never gets the certificate.
        refused(acme(&server, name));

        // Renewal: while presented, ordinary handshakes still get the first certificate.
        let solver = Checking {
            ordinary: Some(first_der.clone()),
            ..solver
        };
        // (Another name: the fake CA reuses the first one's valid authorization.)
        let second = client
            .issue([Identifier::dns("renew.example.org").unwrap()], &solver)
            .await
            .unwrap();
        assert_eq!(*solver.checked.lock().unwrap(), 2);
        slot.install(&second).unwrap();
        let second_der = second.issued.chain.end_entity().der().to_vec();
        assert_ne!(first_der, second_der);
        assert_eq!(ordinary(&server, name).unwrap().certificate, second_der);
        let current = slot.current().unwrap();
        assert_eq!(
            current.cert.iter().map(|c| c.to_vec()).collect::<Vec<_>>(),
            second
                .issued
                .chain
                .der()
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>(),
            "the whole chain is served"
        );

        // A key that is not the certificate's is refused, and the slot kept.
        let mismatch = slot.install_pem(first.issued.chain.pem(), &second.private_key_pem);
        assert!(
            matches!(mismatch, Err(CertificateError::KeyMismatch)),
            "{mismatch:?}"
        );
        let bad_key = slot.install_pem(first.issued.chain.pem(), "-----BEGIN NOTHING-----");
        assert!(
            matches!(bad_key, Err(CertificateError::Key(_))),
            "{bad_key:?}"
        );
        let bad_chain = slot.install_pem("garbage", &first.private_key_pem);
        assert!(
            matches!(bad_chain, Err(CertificateError::Chain(_))),
            "{bad_chain:?}"
        );
        assert_eq!(ordinary(&server, name).unwrap().certificate, second_der);
        // From PEM, as saved to disk.
        slot.install_pem(first.issued.chain.pem(), &first.private_key_pem)
            .unwrap();
        assert_eq!(ordinary(&server, name).unwrap().certificate, first_der);

        // No Debug says anything of a key.
        let debug = format!("{slot:?} {resolver:?} {mismatch:?} {bad_key:?} {bad_chain:?}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        assert_eq!(
            format!("{slot:?}"),
            "CertificateSlot { chain_len: Some(2) }"
        );
        assert!(ca.violations().is_empty(), "{:?}", ca.violations());
    }

    #[test]
    fn acme_tls_goes_first_and_the_servers_protocols_stay() {
        let mut config = test_pki().server;
        config.alpn_protocols = vec![b"h2".to_vec(), ACME_TLS_ALPN.to_vec(), b"x".to_vec()];
        TlsAlpnResolver::add_alpn(&mut config);
        assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"h2", b"x"]);
        TlsAlpnResolver::add_alpn(&mut config);
        assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, b"h2", b"x"]);
        config.alpn_protocols.clear();
        TlsAlpnResolver::add_alpn(&mut config);
        assert_eq!(config.alpn_protocols, [ACME_TLS_ALPN, HTTP_1_1]);
    }

    #[test]
    fn an_ordinary_hello_goes_to_the_wrapped_resolver_and_acme_tls_never_does() {
        // The test PKI's own resolver as the user's: an ordinary hello gets its
        // certificate, an acme-tls/1 hello for the same name is refused.
        let pki = test_pki();
        let resolver = TlsAlpnResolver::from_shared(Arc::clone(&pki.server.cert_resolver)).unwrap();
        let server = server_config(&resolver);
        let served = ordinary(&server, "localhost").unwrap();
        let info = acme_proto::CertificateInfo::from_der(&served.certificate).unwrap();
        assert!(info.dns_names().iter().any(|n| n == "localhost"));
        refused(acme(&server, "localhost"));
    }
}
