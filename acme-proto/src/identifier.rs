//! Identifiers: what a certificate is for (RFC 8555 §7.1.3, §9.7.7; RFC 8738).

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::fmt::{self, Write as _};
use core::net::IpAddr;
use core::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fault::{Misuse, truncate_on_char_boundary};

/// An identifier object: `{"type": "dns", "value": "www.example.org"}` (RFC 8555 §7.1.3).
///
/// Values of the known types are validated, whether the caller builds them
/// ([`Identifier::dns`], [`Identifier::ip`]) or a server sends them, so a `Dns`
/// identifier always holds a valid name and an `Ip` one a valid address. Types this
/// crate does not know are kept as [`Identifier::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Identifier {
    /// A fully qualified domain name, or a wildcard `*.example.org` (type `dns`, RFC 8555 §7.1.3).
    Dns(DnsName),
    /// An IPv4 or IPv6 address (type `ip`, RFC 8738 §3).
    Ip(IpAddr),
    /// An identifier of a type this crate does not know, kept as sent.
    ///
    /// Never has type `dns` or `ip` when read from a server, except in a problem
    /// document, where a server may echo the very identifier it refuses as invalid
    /// (RFC 8555 §6.7.1's example: `_example.org`).
    Other {
        /// The identifier's `type`.
        kind: String,
        /// The identifier's `value`.
        value: String,
    },
}

impl Identifier {
    /// A `dns` identifier, after checking that `name` is an ASCII host name: LDH labels of
    /// 1–63 characters, at most 253 in all, A-labels (`xn--…`) for international names, and
    /// optionally `*.` as the whole first label for a wildcard. Upper case is lowered.
    pub fn dns(name: &str) -> Result<Self, Misuse> {
        DnsName::new(name).map(Self::Dns).map_err(|reason| {
            let mut value = String::from(name);
            truncate_on_char_boundary(&mut value, 256);
            Misuse::InvalidIdentifier { value, reason }
        })
    }

    /// An `ip` identifier (RFC 8738 §3).
    pub fn ip(addr: IpAddr) -> Self {
        Self::Ip(addr)
    }

    /// The identifier's `type` on the wire: `"dns"`, `"ip"`, or the unknown type.
    pub fn kind(&self) -> &str {
        match self {
            Self::Dns(_) => "dns",
            Self::Ip(_) => "ip",
            Self::Other { kind, .. } => kind,
        }
    }

    /// Whether this is a wildcard domain name, `*.example.org` (RFC 8555 §7.1.3).
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Self::Dns(name) if name.is_wildcard())
    }

    /// The domain name, if this is a `dns` identifier.
    pub fn dns_name(&self) -> Option<&DnsName> {
        match self {
            Self::Dns(name) => Some(name),
            _ => None,
        }
    }

    /// The reverse-DNS name of an `ip` identifier (RFC 8738 §6): the name a
    /// tls-alpn-01 validation sends as its SNI, `4.3.2.1.in-addr.arpa` or the nibble
    /// form under `ip6.arpa`. `None` for other identifiers.
    pub fn reverse_dns_name(&self) -> Option<String> {
        let Self::Ip(addr) = self else { return None };
        let mut name = String::new();
        // Writing to a String cannot fail.
        match addr {
            IpAddr::V4(v4) => {
                for octet in v4.octets().iter().rev() {
                    let _ = write!(name, "{octet}.");
                }
                name.push_str("in-addr.arpa");
            }
            IpAddr::V6(v6) => {
                for byte in v6.octets().iter().rev() {
                    let _ = write!(name, "{:x}.{:x}.", byte & 0x0f, byte >> 4);
                }
                name.push_str("ip6.arpa");
            }
        }
        Some(name)
    }
}

impl fmt::Display for Identifier {
    /// The value alone for `dns` and `ip`; `type:value` for other types.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name.as_str()),
            Self::Ip(addr) => write!(f, "{addr}"),
            Self::Other { kind, value } => write!(f, "{kind}:{value}"),
        }
    }
}

impl From<IpAddr> for Identifier {
    fn from(addr: IpAddr) -> Self {
        Self::Ip(addr)
    }
}

impl From<DnsName> for Identifier {
    fn from(name: DnsName) -> Self {
        Self::Dns(name)
    }
}

#[derive(Serialize)]
struct WireOut<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    value: Cow<'a, str>,
}

#[derive(Clone, Deserialize)]
pub(crate) struct WireIn<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

impl WireIn<'_> {
    /// Validates the value of a known type.
    pub(crate) fn into_identifier(self) -> Result<Identifier, &'static str> {
        match &*self.kind {
            "dns" => DnsName::new(&self.value).map(Identifier::Dns),
            // RFC 8738 §3: dotted-decimal IPv4 or RFC 5952 IPv6; no zones, no brackets.
            "ip" => IpAddr::from_str(&self.value)
                .map(Identifier::Ip)
                .map_err(|_| "ip identifier is not an IP address"),
            _ => Ok(Identifier::Other {
                kind: self.kind.into_owned(),
                value: self.value.into_owned(),
            }),
        }
    }

    /// Like [`into_identifier`](Self::into_identifier), but a value that does not
    /// validate is kept as [`Identifier::Other`] with its type as sent.
    pub(crate) fn into_identifier_or_other(self) -> Identifier {
        match self.clone().into_identifier() {
            Ok(id) => id,
            Err(_) => Identifier::Other {
                kind: self.kind.into_owned(),
                value: self.value.into_owned(),
            },
        }
    }
}

impl Serialize for Identifier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = match self {
            Self::Dns(name) => Cow::Borrowed(name.as_str()),
            Self::Ip(addr) => Cow::Owned(addr.to_string()),
            Self::Other { value, .. } => Cow::Borrowed(value.as_str()),
        };
        WireOut {
            kind: self.kind(),
            value,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Identifier {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        WireIn::deserialize(d)?
            .into_identifier()
            .map_err(D::Error::custom)
    }
}

/// A validated, lower-case ASCII domain name, possibly a wildcard `*.example.org`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsName(String);

impl DnsName {
    /// Longest name in text form (RFC 1035 §2.3.4 allows 255 octets on the wire).
    pub const MAX_LEN: usize = 253;

    /// Validates and lower-cases a domain name; the reason is given on failure.
    pub fn new(name: &str) -> Result<Self, &'static str> {
        if name.is_empty() {
            return Err("empty name");
        }
        if name.len() > Self::MAX_LEN {
            return Err("longer than 253 characters");
        }
        if !name.is_ascii() {
            return Err("not ASCII: use the A-label (xn--) form");
        }
        if name.ends_with('.') {
            return Err("trailing dot");
        }
        if core::net::Ipv4Addr::from_str(name).is_ok() {
            return Err("an IP address: use an ip identifier");
        }
        let base = match name.strip_prefix("*.") {
            Some(rest) => rest,
            None => name,
        };
        for label in base.split('.') {
            check_label(label)?;
        }
        Ok(Self(name.to_ascii_lowercase()))
    }

    /// The name as text, lower case, with `*.` if it is a wildcard.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the name starts with the wildcard label `*.`.
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// The name without a leading `*.`: the domain a wildcard authorization is for
    /// (RFC 8555 §7.1.4).
    pub fn without_wildcard(&self) -> &str {
        self.0.strip_prefix("*.").unwrap_or(&self.0)
    }
}

fn check_label(label: &str) -> Result<(), &'static str> {
    let bytes = label.as_bytes();
    if bytes.is_empty() {
        return Err("empty label");
    }
    if bytes.len() > 63 {
        return Err("label longer than 63 characters");
    }
    if label.contains('*') {
        return Err("a wildcard is only allowed as the whole first label");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return Err("label not made of letters, digits and hyphens");
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("label starts or ends with a hyphen");
    }
    // RFC 5891 §4.2.3.1: "??--" is reserved, and only "xn--" (an A-label) is in use.
    if bytes.get(2..4) == Some(b"--")
        && !bytes
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn"))
    {
        return Err("label has hyphens in the third and fourth positions");
    }
    Ok(())
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsName({:?})", self.0)
    }
}

impl AsRef<str> for DnsName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for DnsName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DnsName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        Self::new(&text).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use core::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn accepts_and_lowercases_names() {
        let id = Identifier::dns("WWW.Example.ORG").unwrap();
        assert_eq!(id.to_string(), "www.example.org");
        assert!(!id.is_wildcard());
        let id = Identifier::dns("*.example.org").unwrap();
        assert!(id.is_wildcard());
        assert_eq!(id.dns_name().unwrap().without_wildcard(), "example.org");
        assert_eq!(id.dns_name().unwrap().as_str(), "*.example.org");
        assert!(Identifier::dns("xn--bcher-kva.example").is_ok());
        assert!(Identifier::dns("localhost").is_ok());
        assert!(Identifier::dns("a-b.c1.example").is_ok());
        assert!(Identifier::dns("1.2.3.4.example").is_ok());
        let label63 = "a".repeat(63);
        let name253 = format!("{label63}.{label63}.{label63}.{}", "a".repeat(61));
        assert_eq!(name253.len(), 253);
        assert!(Identifier::dns(&name253).is_ok());
    }

    #[test]
    fn rejects_invalid_names() {
        let label64 = "a".repeat(64);
        let name254 = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "a".repeat(62));
        for (bad, why) in [
            ("", "empty name"),
            (".", "trailing dot"),
            ("example.org.", "trailing dot"),
            ("a..b", "empty label"),
            (".example.org", "empty label"),
            (label64.as_str(), "label longer than 63 characters"),
            (name254.as_str(), "longer than 253 characters"),
            ("bücher.example", "not ASCII: use the A-label (xn--) form"),
            (
                "exa_mple.org",
                "label not made of letters, digits and hyphens",
            ),
            (
                "exa mple.org",
                "label not made of letters, digits and hyphens",
            ),
            ("../etc/passwd", "empty label"),
            ("-a.example", "label starts or ends with a hyphen"),
            ("a-.example", "label starts or ends with a hyphen"),
            (
                "ab--c.example",
                "label has hyphens in the third and fourth positions",
            ),
            ("*", "a wildcard is only allowed as the whole first label"),
            (
                "*.*.example",
                "a wildcard is only allowed as the whole first label",
            ),
            (
                "a.*.example",
                "a wildcard is only allowed as the whole first label",
            ),
            (
                "*a.example",
                "a wildcard is only allowed as the whole first label",
            ),
            ("127.0.0.1", "an IP address: use an ip identifier"),
        ] {
            match Identifier::dns(bad) {
                Err(Misuse::InvalidIdentifier { reason, .. }) => assert_eq!(reason, why, "{bad:?}"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let huge = "a".repeat(10_000);
        let Err(Misuse::InvalidIdentifier { value, .. }) = Identifier::dns(&huge) else {
            panic!("huge name accepted")
        };
        assert_eq!(value.len(), 256);
    }

    #[test]
    fn reverse_dns_names() {
        let v4 = Identifier::ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v4.reverse_dns_name().unwrap(), "1.2.0.192.in-addr.arpa");
        let v6 = Identifier::ip(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
        assert_eq!(
            v6.reverse_dns_name().unwrap(),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
        assert_eq!(
            Identifier::dns("example.org").unwrap().reverse_dns_name(),
            None
        );
    }

    #[test]
    fn serde_validates_and_round_trips() {
        let id: Identifier =
            serde_json::from_str(r#"{"type":"dns","value":"Example.ORG"}"#).unwrap();
        assert_eq!(id, Identifier::dns("example.org").unwrap());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"type":"dns","value":"example.org"}"#
        );
        let id: Identifier =
            serde_json::from_str(r#"{"type":"ip","value":"2001:db8::1"}"#).unwrap();
        assert_eq!(id.to_string(), "2001:db8::1");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"type":"ip","value":"2001:db8::1"}"#
        );
        let id: Identifier = serde_json::from_str(r#"{"type":"email","value":"a@b"}"#).unwrap();
        assert_eq!(
            id,
            Identifier::Other {
                kind: "email".into(),
                value: "a@b".into()
            }
        );
        assert_eq!(id.to_string(), "email:a@b");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"type":"email","value":"a@b"}"#
        );
        for bad in [
            r#"{"type":"dns","value":"a..b"}"#,
            r#"{"type":"dns","value":""}"#,
            r#"{"type":"ip","value":"300.1.1.1"}"#,
            r#"{"type":"ip","value":"[::1]"}"#,
            r#"{"type":"ip","value":"fe80::1%eth0"}"#,
            r#"{"type":"ip","value":"example.org"}"#,
            r#"{"type":"dns"}"#,
            r#"{"value":"example.org"}"#,
            r#"{"type":"dns","value":7}"#,
            r#"{"type":null,"value":"example.org"}"#,
            r#""example.org""#,
        ] {
            assert!(
                serde_json::from_str::<Identifier>(bad).is_err(),
                "{bad} accepted"
            );
        }
    }
}
