//! The header fields ACME reads: `Replay-Nonce`, `Location`, `Link` and `Retry-After`,
//! each parsed from arbitrary bytes as a field value, written back and parsed again.

use core::time::Duration;

use acme_proto::UnixTime;
use acme_proto::headers::{
    Link, LinkRelation, parse_links, parse_location, parse_replay_nonce, parse_retry_after,
};
use url::Url;

use crate::NOW;

/// The request URL relative references resolve against.
fn base() -> Url {
    // A literal that parses: this cannot fail.
    Url::parse("https://ca.example/acme/order/7?page=2").unwrap_or_else(|_| unreachable!())
}

/// `Replay-Nonce`: a valid nonce is the field value without its surrounding white
/// space, and reads back as itself.
pub fn replay_nonce(data: &[u8]) {
    let Ok(nonce) = parse_replay_nonce(data) else {
        return;
    };
    let text = nonce.as_str();
    assert!(!text.is_empty() && text.len() <= acme_proto::Nonce::MAX_LEN);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "a nonce outside the base64url alphabet: {text:?}"
    );
    let trimmed = data.trim_ascii_start().trim_ascii_end();
    assert_eq!(text.as_bytes(), trimmed, "the nonce is not the field value");
    assert_eq!(parse_replay_nonce(text.as_bytes()).ok(), Some(nonce));
}

/// Whether the client could ever request `url`: http(s) only.
///
/// The round trips below hold only for those. The `url` crate's serialization is not
/// idempotent for every other scheme (WHATWG URL): `file://0.0.0.17/e://x` reads back
/// without its host, as a path starting with a drive letter drops it. The client
/// refuses such URLs before any request, so for them "no panic" is what is checked.
fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// `Location`: the resolved URL, written as an absolute URL, resolves to itself.
pub fn location(data: &[u8]) {
    let base = base();
    let Ok(url) = parse_location(data, &base) else {
        return;
    };
    if !is_web(&url) {
        return;
    }
    let again = parse_location(url.as_str().as_bytes(), &base);
    assert_eq!(again.as_ref().ok(), Some(&url), "{url} resolves elsewhere");
    // Against another base, an absolute URL stays the same.
    let other = Url::parse("http://127.0.0.1:14000/dir").unwrap_or_else(|_| unreachable!());
    assert_eq!(
        parse_location(url.as_str().as_bytes(), &other).ok(),
        Some(url)
    );
}

/// A relation type as it is written in a `rel` parameter.
fn relation_name(relation: &LinkRelation) -> &str {
    match relation {
        LinkRelation::Next => "next",
        LinkRelation::Alternate => "alternate",
        LinkRelation::Up => "up",
        LinkRelation::Index => "index",
        LinkRelation::TermsOfService => "terms-of-service",
        LinkRelation::Other(name) => name,
        _ => unreachable!("a relation this target does not know: {relation:?}"),
    }
}

/// Links written back as one `Link` field value, quoting and escaping as RFC 9110
/// §5.6.4 asks.
fn write_links(links: &[Link]) -> String {
    let mut out = String::new();
    for (i, link) in links.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('<');
        out.push_str(link.target.as_str());
        out.push('>');
        if !link.relations.is_empty() {
            out.push_str("; rel=\"");
            for (j, relation) in link.relations.iter().enumerate() {
                if j > 0 {
                    out.push(' ');
                }
                for c in relation_name(relation).chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            out.push('"');
        }
    }
    out
}

/// `Link` (RFC 8288): the input is split at line feeds into several field values; the
/// links read are written back as one value and read again as the same links.
pub fn link(data: &[u8]) {
    let base = base();
    let values = data.split(|&b| b == b'\n');
    let Ok(links) = parse_links(values, &base) else {
        return;
    };
    if !links.iter().all(|l| is_web(&l.target)) {
        return;
    }
    let written = write_links(&links);
    let reread = parse_links([written.as_bytes()], &base);
    assert_eq!(
        reread.as_ref().ok(),
        Some(&links),
        "links written as {written:?} read back differently"
    );
    for link in &links {
        for relation in &link.relations {
            assert!(link.has(relation));
            if let LinkRelation::Other(name) = relation {
                assert_eq!(
                    name,
                    &name.to_ascii_lowercase(),
                    "a relation not lowercased"
                );
            }
        }
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds move with `now`, an HTTP-date does
/// not; a date reads back from its IMF-fixdate form.
pub fn retry_after(data: &[u8]) {
    let later = NOW.saturating_add(Duration::from_secs(86_400));
    let (Ok(at), Ok(at_later)) = (parse_retry_after(data, NOW), parse_retry_after(data, later))
    else {
        assert!(
            parse_retry_after(data, NOW).is_err() && parse_retry_after(data, later).is_err(),
            "Retry-After {:?} reads at one time and not another",
            String::from_utf8_lossy(data)
        );
        return;
    };
    let text = core::str::from_utf8(data).unwrap_or_default();
    let text = text.trim_matches([' ', '\t']);
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let secs = text.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(at, NOW.saturating_add(Duration::from_secs(secs)));
        assert_eq!(at_later, later.saturating_add(Duration::from_secs(secs)));
    } else {
        assert_eq!(at, at_later, "an HTTP-date depends on now");
        assert_eq!(at.since_epoch().subsec_nanos(), 0);
        let written = at.http_date().to_string();
        assert_eq!(
            parse_retry_after(written.as_bytes(), NOW).ok(),
            Some(at),
            "{written:?} does not read back"
        );
        // The same instant, as RFC 3339 text, reads back too.
        let rfc3339 = at.to_string();
        assert_eq!(
            UnixTime::parse_rfc3339(&rfc3339).ok(),
            Some(at),
            "{rfc3339}"
        );
    }
}
