//! What a tls-alpn-01 responder (RFC 8737) serves: for each challenge presented, a
//! self-signed certificate for the identifier carrying the critical `acmeIdentifier`
//! extension, given only to handshakes that name it (SNI) and offer `acme-tls/1`.

use std::sync::Arc;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::PrivateKeyDer;

use crate::error::SolverError;
use crate::presented::{Presented, first_offer};

/// The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Server name (lowercase SNI) → challenge certificate, for every order that shares a
/// responder. Cloning shares the map.
#[derive(Debug, Clone, Default)]
pub struct TlsAlpnCertificates(Arc<Presented<Arc<CertifiedKey>>>);

impl TlsAlpnCertificates {
    /// Picks the tls-alpn-01 offer.
    pub fn choose(offers: &[ChallengeOffer]) -> Option<&ChallengeOffer> {
        first_offer(offers, |s| matches!(s, Solution::TlsAlpn01 { .. }))
    }

    /// Makes and serves `offer`'s certificate. Concurrent orders for one identifier
    /// share the certificate already served.
    pub fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        let Solution::TlsAlpn01 {
            server_name,
            digest,
            ..
        } = &offer.solution
        else {
            return Err(format!("not a tls-alpn-01 challenge: {}", offer.type_name()).into());
        };
        self.0.add_with(server_name.to_ascii_lowercase(), || {
            challenge_certificate(&offer.identifier, digest).map(Arc::new)
        })
    }

    /// Stops serving `offer`'s certificate (once every order that presented it
    /// cleaned up).
    pub fn cleanup(&self, offer: &ChallengeOffer) {
        if let Solution::TlsAlpn01 { server_name, .. } = &offer.solution {
            self.0.remove(&server_name.to_ascii_lowercase());
        }
    }

    /// How many certificates are served.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is served.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A rustls server configuration (ring) that offers only `acme-tls/1` and answers
    /// with these certificates; any other handshake is refused.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(BySni(self.clone())));
        config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
        Ok(config)
    }
}

#[derive(Debug)]
struct BySni(TlsAlpnCertificates);

impl ResolvesServerCert for BySni {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if !acme {
            return None;
        }
        (self.0).0.get(&hello.server_name()?.to_ascii_lowercase())
    }
}

/// The self-signed challenge certificate of RFC 8737 §3: the identifier as its only
/// subjectAltName, and the critical `acmeIdentifier` extension with the digest.
fn challenge_certificate(
    identifier: &Identifier,
    digest: &[u8; 32],
) -> Result<CertifiedKey, SolverError> {
    let san = match identifier {
        Identifier::Dns(name) => rcgen::SanType::DnsName(name.without_wildcard().try_into()?),
        Identifier::Ip(ip) => rcgen::SanType::IpAddress(*ip),
        other => return Err(format!("tls-alpn-01 cannot prove {other}").into()),
    };
    // The key's PKCS#8 copies (rcgen's, and the one rustls reads) are wiped on drop;
    // the signing key ring makes of it is not (ring does not zeroize).
    let key = zeroize::Zeroizing::new(rcgen::KeyPair::generate()?);
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.subject_alt_names = vec![san];
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let certificate = params.self_signed(&*key)?;
    let private_key = zeroize::Zeroizing::new(PrivateKeyDer::Pkcs8(key.serialize_der().into()));
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&private_key)?;
    Ok(CertifiedKey::new(
        vec![certificate.der().clone()],
        signing_key,
    ))
}
