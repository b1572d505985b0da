//! Challenges (RFC 8555 §7.1.5, §8), of the types this crate knows and of any other.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use url::Url;

use super::Resource;
use crate::identifier::DnsName;
use crate::problem::Problem;
use crate::status::ChallengeStatus;
use crate::time::UnixTime;
use crate::token::ChallengeToken;

/// A challenge object: one way to prove control of an identifier (RFC 8555 §7.1.5, §8).
///
/// Two shapes, because RFC 8555 §8 lets servers offer types a client does not know,
/// and a client must simply not choose them:
///
/// * [`Challenge::Known`]: a type this crate can answer, read strictly. `url` and the
///   type's own members (its token, …) are required and validated (an absent `status`
///   is read as `pending`, as in RFC 8555 §7.5's example), so a
///   [`KnownChallenge`] can be acted on without further checks.
/// * [`Challenge::Unknown`]: any other type, kept as its whole JSON object. Nothing but
///   a string `type` is required of it (not even `url` or `status`), so a new or odd
///   challenge type never makes an authorization unreadable.
///
/// Matching on the kind reads like this:
///
/// ```
/// # use acme_proto::resource::{Challenge, ChallengeKind, KnownChallenge};
/// fn http01_token(c: &Challenge) -> Option<&str> {
///     match c {
///         Challenge::Known(KnownChallenge { kind: ChallengeKind::Http01 { token }, .. }) => {
///             Some(token.as_str())
///         }
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "known challenges are the common case, and a Box would make them awkward to match"
)]
pub enum Challenge {
    /// A challenge of a type this crate knows.
    Known(KnownChallenge),
    /// A challenge of a type this crate does not know.
    Unknown(UnknownChallenge),
}

/// A challenge of a type this crate knows, with its members validated.
///
/// Members the server adds beyond those below (such as Boulder's `validationRecord`)
/// are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KnownChallenge {
    /// Where to respond to the challenge, and to poll it.
    pub url: Url,
    /// The challenge's status.
    pub status: ChallengeStatus,
    /// When the server validated it.
    pub validated: Option<UnixTime>,
    /// Why validation failed, when the status is `invalid`.
    pub error: Option<Problem>,
    /// The type, with its type-specific members.
    pub kind: ChallengeKind,
}

/// The type of a known challenge, with the members only that type has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeKind {
    /// `http-01`: serve the key authorization at
    /// `/.well-known/acme-challenge/{token}` (RFC 8555 §8.3).
    Http01 {
        /// The challenge token.
        token: ChallengeToken,
    },
    /// `dns-01`: publish the key authorization's digest in a TXT record at
    /// `_acme-challenge.{domain}` (RFC 8555 §8.4).
    Dns01 {
        /// The challenge token.
        token: ChallengeToken,
    },
    /// `tls-alpn-01`: answer TLS with ALPN `acme-tls/1` and a certificate carrying the
    /// key authorization's digest (RFC 8737 §3).
    TlsAlpn01 {
        /// The challenge token.
        token: ChallengeToken,
    },
    /// `dns-account-01`: like dns-01, at a name labelled with a hash of the account URL
    /// (draft-ietf-acme-dns-account-label).
    DnsAccount01 {
        /// The challenge token.
        token: ChallengeToken,
    },
    /// `dns-persist-01`: a long-lived TXT record at `_validation-persist.{domain}` naming
    /// the CA and the account (draft-ietf-acme-dns-persist). It has no token.
    ///
    /// Both members are the server's word, kept as sent: the record the client offers
    /// ([`DnsPersistRecord`](crate::client::DnsPersistRecord)) names the client's own
    /// account URL and an issuer domain name the caller allows, never these alone.
    DnsPersist01 {
        /// The CA's issuer domain names, one of which the record must name
        /// (`issuer-domain-names`; one to ten valid DNS names, no wildcard).
        issuer_domain_names: Vec<DnsName>,
        /// The account URI the server says the record must name (`accounturi`), when it
        /// gives one. The client refuses a challenge whose `accounturi` is not its own
        /// account URL.
        account_uri: Option<Url>,
    },
}

/// A challenge of a type this crate does not know, kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownChallenge {
    /// The challenge's `type`.
    pub type_name: String,
    /// The whole challenge object, `type` included.
    pub raw: Map<String, Value>,
}

/// Most issuer domain names a dns-persist-01 challenge may list (draft-ietf-acme-dns-persist).
const MAX_ISSUER_DOMAIN_NAMES: usize = 10;

const HTTP_01: &str = "http-01";
const DNS_01: &str = "dns-01";
const TLS_ALPN_01: &str = "tls-alpn-01";
const DNS_ACCOUNT_01: &str = "dns-account-01";
const DNS_PERSIST_01: &str = "dns-persist-01";

impl ChallengeKind {
    /// The type names this crate knows.
    pub const KNOWN_TYPES: [&'static str; 5] =
        [HTTP_01, DNS_01, TLS_ALPN_01, DNS_ACCOUNT_01, DNS_PERSIST_01];

    /// The challenge `type` on the wire: `"http-01"`, …
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Http01 { .. } => HTTP_01,
            Self::Dns01 { .. } => DNS_01,
            Self::TlsAlpn01 { .. } => TLS_ALPN_01,
            Self::DnsAccount01 { .. } => DNS_ACCOUNT_01,
            Self::DnsPersist01 { .. } => DNS_PERSIST_01,
        }
    }

    /// The token, for the types that have one.
    pub fn token(&self) -> Option<&ChallengeToken> {
        match self {
            Self::Http01 { token }
            | Self::Dns01 { token }
            | Self::TlsAlpn01 { token }
            | Self::DnsAccount01 { token } => Some(token),
            Self::DnsPersist01 { .. } => None,
        }
    }
}

impl Challenge {
    /// The challenge's `type`.
    pub fn type_name(&self) -> &str {
        match self {
            Self::Known(c) => c.kind.type_name(),
            Self::Unknown(c) => &c.type_name,
        }
    }

    /// The challenge's status; `None` for an unknown type without a recognizable one.
    pub fn status(&self) -> Option<ChallengeStatus> {
        match self {
            Self::Known(c) => Some(c.status),
            Self::Unknown(c) => c
                .raw
                .get("status")
                .and_then(|s| ChallengeStatus::deserialize(s).ok()),
        }
    }

    /// The challenge, if its type is one this crate knows.
    pub fn known(&self) -> Option<&KnownChallenge> {
        match self {
            Self::Known(c) => Some(c),
            Self::Unknown(_) => None,
        }
    }
}

/// The members of a known challenge, as read.
#[derive(Deserialize)]
struct WireIn {
    #[serde(rename = "type")]
    type_name: String,
    url: Url,
    // RFC 8555 §8 requires `status`, but the RFC's own §7.5 example omits it. Absent is
    // read as `pending`, where every challenge starts: at worst the client responds
    // to a challenge that needed no response.
    #[serde(default = "pending")]
    status: ChallengeStatus,
    #[serde(default)]
    validated: Option<UnixTime>,
    #[serde(default)]
    error: Option<Problem>,
    #[serde(default)]
    token: Option<ChallengeToken>,
    #[serde(rename = "issuer-domain-names", default)]
    issuer_domain_names: Option<Vec<DnsName>>,
    #[serde(default)]
    accounturi: Option<Url>,
}

#[derive(Serialize)]
struct WireOut<'a> {
    #[serde(rename = "type")]
    type_name: &'a str,
    url: &'a Url,
    status: ChallengeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    validated: Option<UnixTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a ChallengeToken>,
    #[serde(
        rename = "issuer-domain-names",
        skip_serializing_if = "Option::is_none"
    )]
    issuer_domain_names: Option<&'a [DnsName]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accounturi: Option<&'a Url>,
}

impl KnownChallenge {
    fn from_wire(wire: WireIn) -> Result<Self, &'static str> {
        let WireIn {
            type_name,
            url,
            status,
            validated,
            error,
            token,
            issuer_domain_names,
            accounturi,
        } = wire;
        let token = || token.ok_or("challenge without a token");
        let kind = match type_name.as_str() {
            HTTP_01 => ChallengeKind::Http01 { token: token()? },
            DNS_01 => ChallengeKind::Dns01 { token: token()? },
            TLS_ALPN_01 => ChallengeKind::TlsAlpn01 { token: token()? },
            DNS_ACCOUNT_01 => ChallengeKind::DnsAccount01 { token: token()? },
            DNS_PERSIST_01 => {
                let names = issuer_domain_names
                    .ok_or("dns-persist-01 challenge without issuer-domain-names")?;
                if names.is_empty() {
                    return Err("dns-persist-01 challenge with no issuer domain name");
                }
                if names.len() > MAX_ISSUER_DOMAIN_NAMES {
                    return Err("dns-persist-01 challenge with more than ten issuer domain names");
                }
                if names.iter().any(DnsName::is_wildcard) {
                    return Err("dns-persist-01 issuer domain name is a wildcard");
                }
                ChallengeKind::DnsPersist01 {
                    issuer_domain_names: names,
                    account_uri: accounturi,
                }
            }
            _ => return Err("unknown challenge type"),
        };
        Ok(Self {
            url,
            status,
            validated,
            error,
            kind,
        })
    }

    fn to_wire(&self) -> WireOut<'_> {
        let (issuer_domain_names, accounturi) = match &self.kind {
            ChallengeKind::DnsPersist01 {
                issuer_domain_names,
                account_uri,
            } => (Some(issuer_domain_names.as_slice()), account_uri.as_ref()),
            _ => (None, None),
        };
        WireOut {
            type_name: self.kind.type_name(),
            url: &self.url,
            status: self.status,
            validated: self.validated,
            error: self.error.as_ref(),
            token: self.kind.token(),
            issuer_domain_names,
            accounturi,
        }
    }
}

fn pending() -> ChallengeStatus {
    ChallengeStatus::Pending
}

/// The `type` of a challenge object, which must be a string.
fn type_of<E: serde::de::Error>(map: &Map<String, Value>) -> Result<String, E> {
    match map.get("type") {
        Some(Value::String(t)) => Ok(t.clone()),
        Some(_) => Err(E::custom("challenge type is not a string")),
        None => Err(E::missing_field("type")),
    }
}

fn known_from_map<E: serde::de::Error>(map: Map<String, Value>) -> Result<KnownChallenge, E> {
    let wire: WireIn = serde_json::from_value(Value::Object(map)).map_err(E::custom)?;
    KnownChallenge::from_wire(wire).map_err(E::custom)
}

impl Serialize for KnownChallenge {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for KnownChallenge {
    /// Strict: a challenge of an unknown type is an error here.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::<String, Value>::deserialize(d)?;
        known_from_map(map)
    }
}

impl Serialize for Challenge {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Known(c) => c.serialize(s),
            Self::Unknown(c) => c.raw.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Challenge {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read as a map first (still under serde_json's recursion limit), so an unknown
        // type can be kept whole and a known one read strictly from the same members.
        let map = Map::<String, Value>::deserialize(d)?;
        let type_name = type_of::<D::Error>(&map)?;
        if ChallengeKind::KNOWN_TYPES.contains(&type_name.as_str()) {
            known_from_map(map).map(Self::Known)
        } else {
            Ok(Self::Unknown(UnknownChallenge {
                type_name,
                raw: map,
            }))
        }
    }
}

impl Resource for Challenge {
    const NAME: &'static str = "challenge";
}
