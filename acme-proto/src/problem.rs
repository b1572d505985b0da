//! Problem documents: how an ACME server says no (RFC 8555 §6.7, RFC 7807).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::identifier::{Identifier, WireIn};
use crate::text::ServerText;
use crate::time::UnixTime;

/// The prefix of every ACME error type (RFC 8555 §6.7).
const ACME_URN: &str = "urn:ietf:params:acme:error:";

macro_rules! problem_types {
    ($( $(#[$meta:meta])* $variant:ident = $short:literal, )+) => {
        /// The `type` of a problem document (RFC 8555 §6.7): the ACME error URNs, and
        /// anything else a server sends kept as [`ProblemType::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        #[non_exhaustive]
        pub enum ProblemType {
            $( $(#[$meta])* $variant, )+
            /// `about:blank`, which an absent `type` means (RFC 7807 §4.2): the HTTP
            /// status says it all.
            #[default]
            AboutBlank,
            /// Any other type, kept as sent.
            Other(String),
        }

        impl ProblemType {
            /// The short name after `urn:ietf:params:acme:error:` for ACME types
            /// (`"badNonce"`); the whole type otherwise.
            pub fn short_name(&self) -> &str {
                match self {
                    $( Self::$variant => $short, )+
                    Self::AboutBlank => "about:blank",
                    Self::Other(other) => other,
                }
            }

            /// The type as a URI: `urn:ietf:params:acme:error:badNonce`.
            pub fn urn(&self) -> Cow<'_, str> {
                match self {
                    Self::AboutBlank | Self::Other(_) => Cow::Borrowed(self.short_name()),
                    _ => {
                        let mut urn = String::from(ACME_URN);
                        urn.push_str(self.short_name());
                        Cow::Owned(urn)
                    }
                }
            }

            /// The type of a URI; never fails, unknown types become [`ProblemType::Other`].
            pub fn from_urn(urn: &str) -> Self {
                if urn == "about:blank" {
                    return Self::AboutBlank;
                }
                match urn.strip_prefix(ACME_URN) {
                    $( Some($short) => Self::$variant, )+
                    _ => Self::Other(String::from(urn)),
                }
            }
        }
    };
}

problem_types! {
    /// The request specified an account that does not exist.
    AccountDoesNotExist = "accountDoesNotExist",
    /// The request specified a certificate to be revoked that has already been revoked.
    AlreadyRevoked = "alreadyRevoked",
    /// The certificate named in `replaces` was already replaced by another order (RFC 9773 §5).
    AlreadyReplaced = "alreadyReplaced",
    /// The CSR is unacceptable (e.g., due to a short key).
    BadCsr = "badCSR",
    /// The client sent an unacceptable anti-replay nonce.
    BadNonce = "badNonce",
    /// The JWS was signed by a public key the server does not support.
    BadPublicKey = "badPublicKey",
    /// The revocation reason provided is not allowed by the server.
    BadRevocationReason = "badRevocationReason",
    /// The JWS was signed with an algorithm the server does not support; see `algorithms`.
    BadSignatureAlgorithm = "badSignatureAlgorithm",
    /// Certification Authority Authorization (CAA) records forbid the CA from issuing.
    Caa = "caa",
    /// Specific error conditions are indicated in the `subproblems` array.
    Compound = "compound",
    /// The server could not connect to the validation target.
    Connection = "connection",
    /// There was a problem with a DNS query during identifier validation.
    Dns = "dns",
    /// The request must include a value for the `externalAccountBinding` field.
    ExternalAccountRequired = "externalAccountRequired",
    /// Response received didn't match the challenge's requirements.
    IncorrectResponse = "incorrectResponse",
    /// A contact URL for an account was invalid.
    InvalidContact = "invalidContact",
    /// The profile named in the new-order request is not one the server offers
    /// (draft-ietf-acme-profiles).
    InvalidProfile = "invalidProfile",
    /// The request message was malformed.
    Malformed = "malformed",
    /// The request attempted to finalize an order that is not ready to be finalized.
    OrderNotReady = "orderNotReady",
    /// The request exceeds a rate limit.
    RateLimited = "rateLimited",
    /// The server will not issue certificates for the identifier.
    RejectedIdentifier = "rejectedIdentifier",
    /// The server experienced an internal error.
    ServerInternal = "serverInternal",
    /// The server received a TLS error during validation.
    Tls = "tls",
    /// The client lacks sufficient authorization.
    Unauthorized = "unauthorized",
    /// A contact URL for an account used an unsupported protocol scheme.
    UnsupportedContact = "unsupportedContact",
    /// An identifier is of an unsupported type.
    UnsupportedIdentifier = "unsupportedIdentifier",
    /// Visit the `instance` URL and take actions specified there.
    UserActionRequired = "userActionRequired",
}

impl fmt::Display for ProblemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl Serialize for ProblemType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.urn())
    }
}

impl<'de> Deserialize<'de> for ProblemType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let urn = Cow::<'de, str>::deserialize(d)?;
        Ok(Self::from_urn(&urn))
    }
}

/// A problem document (RFC 8555 §6.7, RFC 7807): the server's reason for refusing.
///
/// Every member is optional, as in RFC 7807; an absent `type` is `about:blank`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Problem {
    /// What kind of problem this is (`type`).
    #[serde(
        rename = "type",
        default,
        deserialize_with = "null_as_blank",
        skip_serializing_if = "is_blank"
    )]
    pub kind: ProblemType,
    /// A short summary of the problem type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// A human-readable explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The HTTP status code the server gave with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// A URI for this occurrence; for `userActionRequired`, the page to visit (RFC 8555 §7.3.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The identifier the problem is about (RFC 8555 §6.7.1).
    #[serde(
        default,
        deserialize_with = "lenient_identifier",
        skip_serializing_if = "Option::is_none"
    )]
    pub identifier: Option<Identifier>,
    /// The problems with individual identifiers, for a `compound` problem (RFC 8555 §6.7.1).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub subproblems: Vec<Subproblem>,
    /// The JWS algorithms the server accepts, with `badSignatureAlgorithm` (RFC 8555 §6.2).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub algorithms: Vec<String>,
    /// When to try again, from the response's `Retry-After` header (RFC 8555 §6.6);
    /// not part of the JSON, filled in by the response layer.
    #[serde(skip)]
    pub retry_after: Option<UnixTime>,
}

/// A problem with one identifier of a request (RFC 8555 §6.7.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subproblem {
    /// What kind of problem this is (`type`).
    #[serde(
        rename = "type",
        default,
        deserialize_with = "null_as_blank",
        skip_serializing_if = "is_blank"
    )]
    pub kind: ProblemType,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The identifier that caused it.
    #[serde(
        default,
        deserialize_with = "lenient_identifier",
        skip_serializing_if = "Option::is_none"
    )]
    pub identifier: Option<Identifier>,
    /// An HTTP status code for this part of the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// A `null` type is as absent: `about:blank`.
fn null_as_blank<'de, D: Deserializer<'de>>(d: D) -> Result<ProblemType, D::Error> {
    Ok(Option::<ProblemType>::deserialize(d)?.unwrap_or_default())
}

fn is_blank(kind: &ProblemType) -> bool {
    *kind == ProblemType::AboutBlank
}

/// An identifier in a problem that does not validate is kept as [`Identifier::Other`]
/// rather than failing: the server may be naming the invalid identifier it refuses, and
/// the problem is the error to report.
fn lenient_identifier<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Identifier>, D::Error> {
    let wire = Option::<WireIn<'de>>::deserialize(d)?;
    Ok(wire.map(WireIn::into_identifier_or_other))
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Problem {
    /// A problem of `kind` with nothing else set.
    pub fn new(kind: ProblemType) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// The same problem with a `detail`.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The same problem with an HTTP `status`.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
}

impl Subproblem {
    /// A subproblem of `kind` about `identifier`.
    pub fn new(kind: ProblemType, identifier: Option<Identifier>) -> Self {
        Self {
            kind,
            identifier,
            ..Self::default()
        }
    }
}

/// Most characters of server text shown in a one-line summary.
const MAX_SHOWN: usize = 200;
/// Most subproblems named in a one-line summary.
const MAX_SUBPROBLEMS_SHOWN: usize = 5;

/// Writes server text on one line, bounded, with control characters escaped.
fn write_bounded(f: &mut fmt::Formatter<'_>, text: &str, max: usize) -> fmt::Result {
    write!(f, "{}", ServerText::bounded(text, max))
}

impl fmt::Display for Problem {
    /// One line, bounded in length: `rateLimited: too many orders (caa: a.example, …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_bounded(f, self.kind.short_name(), MAX_SHOWN)?;
        if let Some(detail) = &self.detail {
            f.write_str(": ")?;
            write_bounded(f, detail, MAX_SHOWN)?;
        }
        if let Some(id) = &self.identifier {
            f.write_str(" [")?;
            write_bounded(f, &alloc::format!("{id}"), MAX_SHOWN)?;
            f.write_str("]")?;
        }
        if !self.subproblems.is_empty() {
            f.write_str(" (")?;
            for (i, sub) in self
                .subproblems
                .iter()
                .take(MAX_SUBPROBLEMS_SHOWN)
                .enumerate()
            {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_bounded(f, sub.kind.short_name(), MAX_SHOWN)?;
                if let Some(id) = &sub.identifier {
                    f.write_str(": ")?;
                    write_bounded(f, &alloc::format!("{id}"), MAX_SHOWN)?;
                }
            }
            let more = self.subproblems.len().saturating_sub(MAX_SUBPROBLEMS_SHOWN);
            if more > 0 {
                write!(f, ", and {more} more")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn urns_round_trip() {
        for kind in [
            ProblemType::BadNonce,
            ProblemType::BadCsr,
            ProblemType::AlreadyReplaced,
            ProblemType::InvalidProfile,
            ProblemType::UserActionRequired,
        ] {
            assert_eq!(ProblemType::from_urn(&kind.urn()), kind);
        }
        assert_eq!(
            ProblemType::BadCsr.urn(),
            "urn:ietf:params:acme:error:badCSR"
        );
        assert_eq!(
            ProblemType::from_urn("urn:ietf:params:acme:error:somethingNew"),
            ProblemType::Other("urn:ietf:params:acme:error:somethingNew".into())
        );
        assert_eq!(
            ProblemType::from_urn("about:blank"),
            ProblemType::AboutBlank
        );
        assert_eq!(
            ProblemType::from_urn("urn:ietf:params:acme:error:badcsr"),
            ProblemType::Other("urn:ietf:params:acme:error:badcsr".into())
        );
    }

    #[test]
    fn empty_problem_is_about_blank() {
        let p: Problem = serde_json::from_str("{}").unwrap();
        assert_eq!(p, Problem::default());
        assert_eq!(p.kind, ProblemType::AboutBlank);
        assert_eq!(serde_json::to_string(&p).unwrap(), "{}");
    }

    #[test]
    fn display_is_one_bounded_line() {
        let mut p = Problem::new(ProblemType::RateLimited).with_detail("too\nmany\x1b[31m");
        assert_eq!(p.to_string(), "rateLimited: too\\nmany\\u{1b}[31m");
        p.detail = Some("x".repeat(10_000));
        p.subproblems = (0..1000)
            .map(|i| {
                Subproblem::new(
                    ProblemType::Caa,
                    Some(Identifier::dns(&alloc::format!("a{i}.example")).unwrap()),
                )
            })
            .collect();
        let line = p.to_string();
        assert!(line.len() < 2_000, "{}", line.len());
        assert!(line.contains("caa: a0.example, caa: a1.example"));
        assert!(line.ends_with(", and 995 more)"));
        assert!(!line.contains('\n'));
    }

    #[test]
    fn invalid_identifier_in_problem_is_kept_as_sent() {
        let p: Problem = serde_json::from_str(
            r#"{"type":"urn:ietf:params:acme:error:rejectedIdentifier",
                "identifier":{"type":"dns","value":"bad..name"}}"#,
        )
        .unwrap();
        assert_eq!(p.kind, ProblemType::RejectedIdentifier);
        assert_eq!(
            p.identifier,
            Some(Identifier::Other {
                kind: "dns".into(),
                value: "bad..name".into()
            })
        );
        assert!(serde_json::from_str::<Problem>(r#"{"identifier":"x"}"#).is_err());
    }
}
