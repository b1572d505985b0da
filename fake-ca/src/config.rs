//! What a [`FakeCa`](crate::FakeCa) offers and requires: fixed for its lifetime.

use std::time::Duration;

use acme_proto::{EabAlgorithm, UnixTime};

/// The fake CA's configuration. Start from [`Config::new`] and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The base URL every resource lives under, without a trailing slash
    /// (for example `https://ca.test`); the directory is `{base}/directory`.
    pub base_url: String,
    /// Seed of everything derived (CA keys, nonces, tokens, serials): the same seed and
    /// the same requests give the same responses, byte for byte.
    pub seed: u64,
    /// `meta.termsOfService` in the directory.
    pub terms_of_service: Option<String>,
    /// Refuse newAccount without `termsOfServiceAgreed: true` (needs `terms_of_service`).
    pub require_terms_agreement: bool,
    /// `meta.website` in the directory.
    pub website: Option<String>,
    /// `meta.caaIdentities` in the directory (left out when empty).
    pub caa_identities: Vec<String>,
    /// Require External Account Binding on newAccount with this key.
    pub eab: Option<EabConfig>,
    /// Certificate profiles `(name, description)`, advertised as `meta.profiles`; an
    /// order naming any other profile is refused with `invalidProfile`.
    pub profiles: Vec<(String, String)>,
    /// How many alternate chains (each under its own root) certificates come with.
    pub alternate_chains: usize,
    /// Reuse an account's valid authorization for the same identifier in a new order.
    pub authz_reuse: bool,
    /// Offer `newAuthz` (pre-authorization) in the directory.
    pub new_authz: bool,
    /// Offer ARI (`renewalInfo`, RFC 9773); `None` leaves it out of the directory.
    pub ari: Option<AriConfig>,
    /// Orders per page of an account's orders list.
    pub orders_page_size: usize,
    /// Polls an authorization stays `pending` (challenge `processing`) after the
    /// challenge response, unless a script says otherwise.
    pub validation_polls: u32,
    /// Polls an order stays `processing` after finalize, unless a script says otherwise.
    pub issuance_polls: u32,
    /// `Retry-After` seconds on responses for objects still being worked on.
    pub poll_retry_after: Option<u64>,
    /// `Retry-After` seconds on the response to a challenge (RFC 8555 §8.2), when its
    /// validation has started.
    pub challenge_retry_after: Option<u64>,
    /// Certificate lifetime when the order asks for no `notAfter`.
    pub certificate_validity: Duration,
    /// How long a new order stays usable (its `expires`).
    pub order_lifetime: Duration,
    /// How long a new authorization stays usable (its `expires`).
    pub authz_lifetime: Duration,
    /// Offer dns-persist-01 (draft-ietf-acme-dns-persist) for DNS names, with these
    /// `issuer-domain-names`; empty (the default): not offered.
    pub dns_persist_issuers: Vec<String>,
}

impl Config {
    /// Defaults: no ToS, no EAB, no profiles, no alternate chains, authorization reuse
    /// and newAuthz on, ARI on with windows derived from each certificate's lifetime,
    /// validation and issuance immediate, 90-day certificates, 10 orders per page.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            seed: 0,
            terms_of_service: None,
            require_terms_agreement: false,
            website: None,
            caa_identities: Vec::new(),
            eab: None,
            profiles: Vec::new(),
            alternate_chains: 0,
            authz_reuse: true,
            new_authz: true,
            ari: Some(AriConfig::default()),
            orders_page_size: 10,
            validation_polls: 0,
            issuance_polls: 0,
            poll_retry_after: Some(1),
            challenge_retry_after: None,
            certificate_validity: Duration::from_secs(90 * 86_400),
            order_lifetime: Duration::from_secs(7 * 86_400),
            authz_lifetime: Duration::from_secs(30 * 86_400),
            dns_persist_issuers: Vec::new(),
        }
    }
}

/// The External Account Binding a CA requires (RFC 8555 §7.3.4).
#[derive(Clone)]
#[non_exhaustive]
pub struct EabConfig {
    /// The key identifier the binding must name.
    pub key_id: String,
    /// The MAC key (raw bytes, not base64).
    pub mac_key: Vec<u8>,
    /// The MAC algorithm the binding must use.
    pub algorithm: EabAlgorithm,
}

impl EabConfig {
    /// A binding requirement from its three parts.
    pub fn new(key_id: &str, mac_key: &[u8], algorithm: EabAlgorithm) -> Self {
        Self {
            key_id: key_id.to_owned(),
            mac_key: mac_key.to_vec(),
            algorithm,
        }
    }
}

impl std::fmt::Debug for EabConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EabConfig")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// ARI (RFC 9773) settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AriConfig {
    /// A fixed suggested window for every certificate; `None` derives it from each
    /// certificate's lifetime: from two thirds to five sixths of the way through. A
    /// revoked certificate's window is always in the past.
    pub window: Option<(UnixTime, UnixTime)>,
    /// `Retry-After` seconds on renewalInfo responses (0 leaves the header out).
    pub retry_after: u64,
    /// `explanationURL` in renewalInfo responses.
    pub explanation_url: Option<String>,
}

impl Default for AriConfig {
    /// Windows derived from each certificate, `Retry-After: 21600` (six hours), no
    /// explanation URL.
    fn default() -> Self {
        Self {
            window: None,
            retry_after: 21_600,
            explanation_url: None,
        }
    }
}
