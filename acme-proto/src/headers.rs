//! Parsers for the HTTP header fields ACME relies on, as pure functions.
//!
//! Each takes the raw field value (bytes, as received) and returns a typed value or a
//! [`Malformed`] error naming the header; none reads a clock (`Retry-After` takes `now`),
//! none allocates more than its input, none can panic.
//!
//! | header | RFC | parser |
//! |---|---|---|
//! | `Replay-Nonce` | 8555 §6.5.1 | [`parse_replay_nonce`] |
//! | `Location` | 9110 §10.2.2 | [`parse_location`] |
//! | `Link` | 8288 | [`parse_links`] |
//! | `Retry-After` | 9110 §10.2.3 | [`parse_retry_after`] |
//! | `Content-Type` | 9110 §8.3 | [`parse_content_type`] |

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use url::Url;

use crate::b64;
use crate::fault::{Malformed, MalformedKind};
use crate::time::UnixTime;

fn invalid(header: &'static str) -> Malformed {
    Malformed::new(header, MalformedKind::InvalidHeader(header))
}

/// The field value as text, without leading and trailing optional white space.
fn field_text<'a>(value: &'a [u8], header: &'static str) -> Result<&'a str, Malformed> {
    let text = core::str::from_utf8(value).map_err(|_| invalid(header))?;
    Ok(text.trim_matches([' ', '\t']))
}

/// An anti-replay nonce from the server (RFC 8555 §6.5): base64url, used at most once.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nonce(String);

impl Nonce {
    /// Longest nonce accepted. Real servers send 22 to 50 characters.
    pub const MAX_LEN: usize = 512;

    /// Validates a nonce: non-empty, base64url without padding, at most [`Nonce::MAX_LEN`].
    pub fn new(text: &str) -> Result<Self, Malformed> {
        let bytes = text.as_bytes();
        // A base64url text of length 4k+1 cannot encode whole octets.
        let decodable = bytes.len() % 4 != 1;
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN || !decodable || !b64::is_alphabet(bytes)
        {
            return Err(invalid("Replay-Nonce"));
        }
        Ok(Self(String::from(text)))
    }

    /// The nonce as sent in a JWS protected header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.0)
    }
}

/// Parses a `Replay-Nonce` value. RFC 8555 §6.5.1: a client must ignore an invalid one,
/// so callers treat the error as "no nonce here", never as a failed response.
pub fn parse_replay_nonce(value: &[u8]) -> Result<Nonce, Malformed> {
    Nonce::new(field_text(value, "Replay-Nonce")?)
}

/// Parses a `Location` value, resolving a relative reference against the request's URL.
pub fn parse_location(value: &[u8], base: &Url) -> Result<Url, Malformed> {
    let text = field_text(value, "Location")?;
    if text.is_empty() {
        return Err(invalid("Location"));
    }
    base.join(text).map_err(|_| invalid("Location"))
}

/// A link relation type that ACME uses (RFC 8555 §7.1, RFC 8288).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkRelation {
    /// `next`: the next page of a paginated list (orders of an account).
    Next,
    /// `alternate`: another certificate chain for the same certificate.
    Alternate,
    /// `up`: the issuer certificate or the parent resource (authorization to order).
    Up,
    /// `index`: the directory.
    Index,
    /// `terms-of-service`: terms to agree to, with a `userActionRequired` problem.
    TermsOfService,
    /// Any other relation type, lowercased.
    Other(String),
}

impl LinkRelation {
    fn from_name(name: &str) -> Self {
        // Relation types compare case-insensitively (RFC 8288 §2.1.1).
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("next") {
            Self::Next
        } else if is("alternate") {
            Self::Alternate
        } else if is("up") {
            Self::Up
        } else if is("index") {
            Self::Index
        } else if is("terms-of-service") {
            Self::TermsOfService
        } else {
            Self::Other(name.to_ascii_lowercase())
        }
    }
}

/// One link of a `Link` header: a target and its relation types.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The target, resolved against the request's URL.
    pub target: Url,
    /// The relation types of the first `rel` parameter (later ones are ignored, RFC 8288 §3.3).
    pub relations: Vec<LinkRelation>,
}

impl Link {
    /// Whether this link has relation type `rel`.
    pub fn has(&self, rel: &LinkRelation) -> bool {
        self.relations.contains(rel)
    }
}

/// Parses every value of the `Link` field (RFC 8288 §3), resolving targets against `base`.
///
/// Each value may hold several comma-separated links; parameters other than `rel` are
/// skipped, quoted strings (which may hold commas and semicolons) are understood.
pub fn parse_links<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    base: &Url,
) -> Result<Vec<Link>, Malformed> {
    let mut links = Vec::new();
    for value in values {
        let text = core::str::from_utf8(value).map_err(|_| invalid("Link"))?;
        LinkParser { rest: text, base }.parse_into(&mut links)?;
    }
    Ok(links)
}

/// The targets of every link with relation `rel`, in order.
pub fn links_with<'a>(links: &'a [Link], rel: &'a LinkRelation) -> impl Iterator<Item = &'a Url> {
    links.iter().filter(move |l| l.has(rel)).map(|l| &l.target)
}

struct LinkParser<'a, 'b> {
    rest: &'a str,
    base: &'b Url,
}

impl<'a> LinkParser<'a, '_> {
    fn skip_ows(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn token(&mut self) -> Result<&'a str, Malformed> {
        let end = self
            .rest
            .find(|c: char| !is_tchar(c))
            .unwrap_or(self.rest.len());
        let (token, rest) = self
            .rest
            .split_at_checked(end)
            .ok_or_else(|| invalid("Link"))?;
        if token.is_empty() {
            return Err(invalid("Link"));
        }
        self.rest = rest;
        Ok(token)
    }

    /// A quoted-string (RFC 9110 §5.6.4), unescaped.
    fn quoted(&mut self) -> Result<String, Malformed> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = self.rest.get(i + 1..).ok_or_else(|| invalid("Link"))?;
                    return Ok(out);
                }
                // A quoted-pair escapes HTAB, SP, VCHAR or obs-text, never a control
                // character, which would then reach a relation type (found by fuzzing).
                '\\' => match chars.next() {
                    Some((_, escaped)) if !escaped.is_control() || escaped == '\t' => {
                        out.push(escaped);
                    }
                    _ => break,
                },
                c if c.is_control() && c != '\t' => break,
                c => out.push(c),
            }
        }
        Err(invalid("Link"))
    }

    fn parse_into(mut self, links: &mut Vec<Link>) -> Result<(), Malformed> {
        loop {
            // Empty list elements are allowed (RFC 9110 §5.6.1).
            self.skip_ows();
            while self.eat(',') {
                self.skip_ows();
            }
            if self.rest.is_empty() {
                return Ok(());
            }
            if !self.eat('<') {
                return Err(invalid("Link"));
            }
            let end = self.rest.find('>').ok_or_else(|| invalid("Link"))?;
            let (target, rest) = self
                .rest
                .split_at_checked(end)
                .ok_or_else(|| invalid("Link"))?;
            self.rest = rest.get(1..).ok_or_else(|| invalid("Link"))?;
            let target = self.base.join(target.trim()).map_err(|_| invalid("Link"))?;
            let mut relations = None;
            loop {
                self.skip_ows();
                if !self.eat(';') {
                    break;
                }
                self.skip_ows();
                let name = self.token()?;
                self.skip_ows();
                let value = if self.eat('=') {
                    self.skip_ows();
                    if self.eat('"') {
                        Some(self.quoted()?)
                    } else {
                        Some(String::from(self.token()?))
                    }
                } else {
                    None
                };
                if name.eq_ignore_ascii_case("rel") && relations.is_none() {
                    let value = value.ok_or_else(|| invalid("Link"))?;
                    relations = Some(
                        value
                            .split([' ', '\t'])
                            .filter(|r| !r.is_empty())
                            .map(LinkRelation::from_name)
                            .collect::<Vec<_>>(),
                    );
                }
            }
            links.push(Link {
                target,
                relations: relations.unwrap_or_default(),
            });
            self.skip_ows();
            if !self.rest.is_empty() && !self.eat(',') {
                return Err(invalid("Link"));
            }
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses `Retry-After` (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date.
///
/// Returns the absolute time to retry at: `now` plus the delay, or the date itself (which
/// may be earlier than `now`, meaning "retry now"). A delay too large for the clock
/// saturates at [`UnixTime::MAX`]; callers cap waits by their own policy.
pub fn parse_retry_after(value: &[u8], now: UnixTime) -> Result<UnixTime, Malformed> {
    let text = field_text(value, "Retry-After")?;
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let secs = text.parse::<u64>().unwrap_or(u64::MAX);
        return Ok(now.saturating_add(Duration::from_secs(secs)));
    }
    UnixTime::parse_http_date(text).map_err(|_| invalid("Retry-After"))
}

/// The media types ACME responses come in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentType {
    /// `application/json`: resources.
    Json,
    /// `application/problem+json`: errors (RFC 7807).
    ProblemJson,
    /// `application/pem-certificate-chain`: certificates (RFC 8555 §9.1).
    PemCertificateChain,
    /// `application/jose+json`: signed requests.
    JoseJson,
    /// Anything else: the media type (`type/subtype`), lowercased, without parameters.
    Other(String),
}

impl ContentType {
    /// The media type as written in a header.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => known.static_name().unwrap_or_default(),
        }
    }

    /// The media type of a known variant, `None` for [`ContentType::Other`].
    pub(crate) const fn static_name(&self) -> Option<&'static str> {
        match self {
            Self::Json => Some("application/json"),
            Self::ProblemJson => Some("application/problem+json"),
            Self::PemCertificateChain => Some("application/pem-certificate-chain"),
            Self::JoseJson => Some("application/jose+json"),
            Self::Other(_) => None,
        }
    }
}

/// Parses a `Content-Type` value to its media type; parameters (such as `charset`) are
/// ignored, matching is case-insensitive.
pub fn parse_content_type(value: &[u8]) -> Result<ContentType, Malformed> {
    let text = field_text(value, "Content-Type")?;
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches([' ', '\t']);
    let (kind, subtype) = essence
        .split_once('/')
        .ok_or_else(|| invalid("Content-Type"))?;
    let valid = |s: &str| !s.is_empty() && s.chars().all(is_tchar);
    if !valid(kind) || !valid(subtype) {
        return Err(invalid("Content-Type"));
    }
    let mut lower = String::from(essence);
    lower.make_ascii_lowercase();
    Ok(match lower.as_str() {
        "application/json" => ContentType::Json,
        "application/problem+json" => ContentType::ProblemJson,
        "application/pem-certificate-chain" => ContentType::PemCertificateChain,
        "application/jose+json" => ContentType::JoseJson,
        _ => ContentType::Other(lower),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn base() -> Url {
        Url::parse("https://ca.example/acme/order/1").unwrap()
    }

    #[test]
    fn nonce_valid_odd_and_hostile() {
        for good in [
            "oFvnlFP1wIhRlYS2jTaXbA",
            "a-_b",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "ab",
        ] {
            assert_eq!(parse_replay_nonce(good.as_bytes()).unwrap().as_str(), good);
        }
        assert_eq!(parse_replay_nonce(b" \tabcd \t").unwrap().as_str(), "abcd");
        for bad in [
            &b""[..],
            b"   ",
            b"abc=",
            b"ab+/",
            b"a",
            b"abcde",
            b"ab cd",
            b"\xff\xfe",
            b"abc\n",
        ] {
            assert!(parse_replay_nonce(bad).is_err(), "{bad:?}");
        }
        assert!(parse_replay_nonce("a".repeat(513).as_bytes()).is_err());
        assert!(parse_replay_nonce("a".repeat(512).as_bytes()).is_ok());
    }

    #[test]
    fn location_resolves_relative_and_rejects_junk() {
        let abs = parse_location(b"https://ca.example/acme/acct/7", &base()).unwrap();
        assert_eq!(abs.as_str(), "https://ca.example/acme/acct/7");
        let rel = parse_location(b"/acme/acct/8", &base()).unwrap();
        assert_eq!(rel.as_str(), "https://ca.example/acme/acct/8");
        assert!(parse_location(b"", &base()).is_err());
        assert!(parse_location(b"\xc3\x28", &base()).is_err());
        assert!(parse_location(b"http://[::1", &base()).is_err());
    }

    #[test]
    fn links_real_world_forms() {
        let values: [&[u8]; 3] = [
            b"<https://ca.example/acme/directory>;rel=\"index\"",
            b"<https://ca.example/cert/1/1>;rel=\"alternate\", </cert/1/2>; rel=alternate",
            b"<https://ca.example/acct/1/orders?cursor=2>; title=\"a, b; c\"; rel=\"next\"",
        ];
        let links = parse_links(values, &base()).unwrap();
        assert_eq!(links.len(), 4);
        assert_eq!(links[0].relations, vec![LinkRelation::Index]);
        let alternates: Vec<_> = links_with(&links, &LinkRelation::Alternate)
            .map(Url::as_str)
            .collect();
        assert_eq!(
            alternates,
            ["https://ca.example/cert/1/1", "https://ca.example/cert/1/2"]
        );
        assert_eq!(
            links_with(&links, &LinkRelation::Next)
                .next()
                .unwrap()
                .as_str(),
            "https://ca.example/acct/1/orders?cursor=2"
        );
    }

    #[test]
    fn links_odd_but_legal() {
        let links = parse_links(
            [&b" , <a>;REL=\"UP Next\";rel=index;x;y=\"\\\"q\\\"\" ,, <b>"[..]],
            &base(),
        )
        .unwrap();
        assert_eq!(links.len(), 2);
        // Only the first rel counts; case-insensitive; several types in one rel.
        assert_eq!(
            links[0].relations,
            vec![LinkRelation::Up, LinkRelation::Next]
        );
        assert!(links[1].relations.is_empty());
        assert_eq!(links[0].target.as_str(), "https://ca.example/acme/order/a");
        let tos = parse_links(
            [&b"<https://ca.example/tos>;rel=\"terms-of-service\""[..]],
            &base(),
        )
        .unwrap();
        assert!(tos[0].has(&LinkRelation::TermsOfService));
        let other = parse_links([&b"<x>;rel=Custom-Rel"[..]], &base()).unwrap();
        assert_eq!(
            other[0].relations,
            vec![LinkRelation::Other("custom-rel".into())]
        );
    }

    #[test]
    fn links_hostile() {
        for bad in [
            &b"https://no-brackets;rel=next"[..],
            b"<unterminated;rel=next",
            b"<a>;rel=\"unterminated",
            b"<a>;rel",
            b"<a>;=next",
            b"<a> junk",
            b"<a>;rel=\"x\\",
            b"<a>;rel=\"x\\\x06y\"",
            b"<a>;rel=\"x\\\ny\"",
            b"\xff<a>",
            b"<http://[::1>;rel=next",
        ] {
            assert!(parse_links([bad], &base()).is_err(), "{bad:?}");
        }
        // A huge header is parsed in linear time without error.
        let many = "<a>;rel=next,".repeat(10_000);
        assert_eq!(
            parse_links([many.as_bytes()], &base()).unwrap().len(),
            10_000
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UnixTime::from_secs(1_000_000);
        assert_eq!(
            parse_retry_after(b"120", now).unwrap(),
            UnixTime::from_secs(1_000_120)
        );
        assert_eq!(parse_retry_after(b" 0 ", now).unwrap(), now);
        assert_eq!(
            parse_retry_after(b"99999999999999999999999999", now).unwrap(),
            UnixTime::MAX
        );
        assert_eq!(
            parse_retry_after(b"Sun, 06 Nov 1994 08:49:37 GMT", now).unwrap(),
            UnixTime::from_secs(784_111_777)
        );
        for bad in [&b""[..], b"-5", b"1.5", b"soon", b"\xff", b"12 34"] {
            assert!(parse_retry_after(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(
            parse_content_type(b"application/json").unwrap(),
            ContentType::Json
        );
        assert_eq!(
            parse_content_type(b"Application/Problem+JSON; charset=utf-8").unwrap(),
            ContentType::ProblemJson
        );
        assert_eq!(
            parse_content_type(b"application/pem-certificate-chain").unwrap(),
            ContentType::PemCertificateChain
        );
        assert_eq!(
            parse_content_type(b"text/html;charset=x").unwrap(),
            ContentType::Other("text/html".into())
        );
        for bad in [
            &b""[..],
            b"json",
            b"/json",
            b"application/",
            b"a b/c",
            b"\xff/x",
        ] {
            assert!(parse_content_type(bad).is_err(), "{bad:?}");
        }
    }
}
