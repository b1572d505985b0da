//! The hostile server: the fake CA's honest answer, passed through, damaged, replaced
//! or lost, as the fuzzer's bytes decide.

use acme_proto::{Headers, Request, Response, TransportFailure, UnixTime};
use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};
use serde_json::{Value, json};

use super::one_in;

/// What the server remembers to be hostile with: URLs and bodies it has seen, nonces
/// it handed out and nonces the client used.
#[derive(Default)]
pub(super) struct Memory {
    /// A standing misbehaviour, kept for every response (see [`Standing`]).
    pub(super) standing: Standing,
    pub(super) urls: Vec<String>,
    pub(super) bodies: Vec<Vec<u8>>,
    pub(super) nonces: Vec<String>,
    pub(super) used_nonces: Vec<String>,
    pub(super) fresh: u64,
}

impl Memory {
    const KEEP: usize = 64;

    fn remember<T>(list: &mut Vec<T>, item: T) {
        if list.len() == Self::KEEP {
            list.remove(0);
        }
        list.push(item);
    }

    pub(super) fn saw_request(&mut self, request: &Request, nonce: Option<String>) {
        Self::remember(&mut self.urls, request.url.as_str().to_owned());
        if let Some(nonce) = nonce {
            Self::remember(&mut self.used_nonces, nonce);
        }
    }

    fn saw_response(&mut self, response: &Response) {
        if !response.body.is_empty() {
            Self::remember(&mut self.bodies, response.body.clone());
        }
        for nonce in response.headers.get_all("replay-nonce") {
            Self::remember(
                &mut self.nonces,
                String::from_utf8_lossy(nonce).into_owned(),
            );
        }
    }
}

/// Misbehaviours a server keeps up, which one-off damage rarely strings together.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// None.
    #[default]
    Honest,
    /// Only newNonce answers carry a `Replay-Nonce`, and it is one the client already
    /// used.
    RepeatsUsedNonces,
    /// Every answer carries `Retry-After: 0`.
    RetryNow,
    /// Every answer lacks `Replay-Nonce`.
    NoNonces,
}

impl Standing {
    pub(super) fn draw(u: &mut Unstructured<'_>) -> Result<Self> {
        Ok(match u.int_in_range(0..=7u8)? {
            5 => Self::RepeatsUsedNonces,
            6 => Self::RetryNow,
            7 => Self::NoNonces,
            _ => Self::Honest,
        })
    }

    fn apply(self, memory: &Memory, request: &Request, response: &mut Response) {
        let keep = |response: &Response, name: &str| -> Headers {
            let mut headers = Headers::new();
            for (n, v) in response.headers.iter() {
                if !n.eq_ignore_ascii_case(name) {
                    headers.append(n, v.to_vec());
                }
            }
            headers
        };
        match self {
            Self::Honest => {}
            Self::RepeatsUsedNonces => {
                let mut headers = keep(response, "Replay-Nonce");
                if request.method == acme_proto::Method::Head
                    && let Some(used) = memory.used_nonces.last()
                {
                    headers.append("Replay-Nonce", used.as_str());
                }
                response.headers = headers;
            }
            Self::RetryNow => response.headers.append("Retry-After", "0"),
            Self::NoNonces => response.headers = keep(response, "Replay-Nonce"),
        }
    }
}

/// What happens to one request.
pub(super) enum Reply {
    Respond(Response),
    /// The transport failed (after the CA processed the request, or before), as the
    /// driver reports it.
    Lost(TransportFailure),
}

/// Answers `request` as the input says.
pub(super) fn reply(
    u: &mut Unstructured<'_>,
    ca: &mut FakeCa,
    memory: &mut Memory,
    request: &Request,
    now: UnixTime,
) -> Result<Reply> {
    let reply = match u.int_in_range(0..=9u8)? {
        // The honest answer most often: the input's end reads as zeros.
        0..=4 => Reply::Respond(ca.handle(request, now)),
        5..=6 => {
            let mut response = ca.handle(request, now);
            for _ in 0..u.int_in_range(1..=3u8)? {
                mutate(u, memory, ca, &mut response, now)?;
            }
            Reply::Respond(response)
        }
        7 => {
            // Lost on the way back: the CA acted on it.
            let _ = ca.handle(request, now);
            // Never `Connect`: that says nothing was sent, and the core may resend what
            // is not safe to repeat. The first (the input's end) is the old default.
            Reply::Lost(*u.choose(&[
                TransportFailure::Reset,
                TransportFailure::TimedOut,
                TransportFailure::TooLarge,
                TransportFailure::Other,
            ])?)
        }
        8 => Reply::Lost(*u.choose(&[
            TransportFailure::Reset,
            TransportFailure::Connect,
            TransportFailure::TimedOut,
            TransportFailure::Tls,
            TransportFailure::Other,
        ])?),
        _ => Reply::Respond(forge(u, memory, ca, now)?),
    };
    let mut reply = reply;
    if let Reply::Respond(response) = &mut reply {
        memory.standing.apply(memory, request, response);
        memory.saw_response(response);
    }
    Ok(reply)
}

const STATUSES: [u16; 14] = [
    200, 201, 204, 400, 403, 404, 409, 429, 500, 503, 302, 100, 599, 0,
];

fn status(u: &mut Unstructured<'_>) -> Result<u16> {
    Ok(match u.choose(&STATUSES) {
        Ok(&s) if s != 0 => s,
        _ => u.arbitrary()?,
    })
}

fn nonce(u: &mut Unstructured<'_>, memory: &mut Memory) -> Result<String> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => {
            memory.fresh += 1;
            format!("fuzz{}", memory.fresh)
        }
        1 => pick(u, &memory.used_nonces)?.unwrap_or_default(),
        2 => pick(u, &memory.nonces)?.unwrap_or_default(),
        3 => "bad nonce!".to_owned(),
        4 => "a".repeat(600),
        _ => String::new(),
    })
}

fn pick<T: Clone>(u: &mut Unstructured<'_>, list: &[T]) -> Result<Option<T>> {
    if list.is_empty() {
        return Ok(None);
    }
    Ok(u.choose(list).ok().cloned())
}

fn url(u: &mut Unstructured<'_>, memory: &Memory, ca: &FakeCa) -> Result<String> {
    let base = ca.config().base_url.clone();
    Ok(match u.int_in_range(0..=11u8)? {
        0..=2 => pick(u, &memory.urls)?.unwrap_or_else(|| ca.directory_url()),
        3 => format!("{base}/acme/order/{}", u.int_in_range(0..=3u8)?),
        4 => format!("{base}/acme/authz/{}", u.int_in_range(0..=3u8)?),
        5 => format!("{base}/nowhere"),
        6 => "http://127.0.0.1:1/loopback".to_owned(),
        7 => "http://ca.example/not-https".to_owned(),
        8 => "/acme/relative".to_owned(),
        9 => "data:,x".to_owned(),
        10 => format!("{base}/{}", "a".repeat(70_000)),
        _ => u.arbitrary::<String>()?,
    })
}

const RETRY_AFTERS: [&str; 8] = [
    "0",
    "1",
    "30",
    "86400",
    "18446744073709551615",
    "soon",
    "-1",
    "",
];

fn retry_after(u: &mut Unstructured<'_>, now: UnixTime) -> Result<String> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => u.choose(&RETRY_AFTERS)?.to_string(),
        1 => {
            let secs = u.int_in_range(0..=100_000u64)?;
            let at = if u.arbitrary()? {
                now.saturating_add(core::time::Duration::from_secs(secs))
            } else {
                now.saturating_sub(core::time::Duration::from_secs(secs))
            };
            at.http_date().to_string()
        }
        _ => u.arbitrary::<String>()?,
    })
}

const CONTENT_TYPES: [&str; 7] = [
    "application/json",
    "application/problem+json",
    "application/pem-certificate-chain",
    "text/html",
    "application/json; charset=utf-8",
    "",
    "application/jose+json",
];

const PROBLEMS: [&str; 9] = [
    "badNonce",
    "rateLimited",
    "orderNotReady",
    "alreadyReplaced",
    "serverInternal",
    "malformed",
    "unauthorized",
    "badCSR",
    "userActionRequired",
];

const STATUS_NAMES: [&str; 9] = [
    "pending",
    "ready",
    "processing",
    "valid",
    "invalid",
    "deactivated",
    "expired",
    "revoked",
    "bogus",
];

const MEMBERS: [&str; 20] = [
    "status",
    "authorizations",
    "finalize",
    "certificate",
    "challenges",
    "identifier",
    "identifiers",
    "url",
    "token",
    "error",
    "expires",
    "wildcard",
    "type",
    "newNonce",
    "newOrder",
    "meta",
    "validated",
    "notAfter",
    "issuer-domain-names",
    "profile",
];

fn problem(u: &mut Unstructured<'_>) -> Result<Value> {
    let kind = u.choose(&PROBLEMS)?;
    Ok(json!({
        "type": format!("urn:ietf:params:acme:error:{kind}"),
        "detail": "fuzz",
    }))
}

fn value(u: &mut Unstructured<'_>, memory: &Memory, ca: &FakeCa) -> Result<Value> {
    Ok(match u.int_in_range(0..=13u8)? {
        0..=2 => json!(u.choose(&STATUS_NAMES)?),
        3 => json!(url(u, memory, ca)?),
        4 => {
            let n = u.int_in_range(0..=40usize)?;
            let one = url(u, memory, ca)?;
            json!(vec![one; n])
        }
        5 => Value::Null,
        6 => json!(u.arbitrary::<bool>()?),
        7 => json!(u.arbitrary::<i64>()?),
        8 => json!(u.arbitrary::<String>()?),
        9 => problem(u)?,
        10 => json!([]),
        11 => json!({}),
        12 => json!("9999-12-31T23:59:60Z"),
        _ => {
            // Deeper than serde_json's recursion limit.
            let deep = "[".repeat(300);
            Value::String(deep)
        }
    })
}

/// Sets (or removes) a member of `object` as the input says.
fn patch(
    u: &mut Unstructured<'_>,
    memory: &Memory,
    ca: &FakeCa,
    object: &mut serde_json::Map<String, Value>,
) -> Result<()> {
    let member = u.choose(&MEMBERS)?.to_string();
    if one_in(u, 4)? {
        object.remove(&member);
    } else {
        object.insert(member, value(u, memory, ca)?);
    }
    Ok(())
}

fn mutate(
    u: &mut Unstructured<'_>,
    memory: &mut Memory,
    ca: &FakeCa,
    response: &mut Response,
    now: UnixTime,
) -> Result<()> {
    let set = |response: &mut Response, name: &str, value: Option<Vec<u8>>| {
        let mut headers = Headers::new();
        for (n, v) in response.headers.iter() {
            if !n.eq_ignore_ascii_case(name) {
                headers.append(n, v.to_vec());
            }
        }
        if let Some(value) = value {
            headers.append(name, value);
        }
        response.headers = headers;
    };
    match u.int_in_range(0..=13u8)? {
        0 => response.status = status(u)?,
        1 => {
            let name = u.choose(&[
                "Replay-Nonce",
                "Location",
                "Link",
                "Content-Type",
                "Retry-After",
            ])?;
            set(response, name, None);
        }
        2 => {
            let nonce = nonce(u, memory)?;
            set(response, "Replay-Nonce", Some(nonce.into_bytes()));
        }
        3 => set(
            response,
            "Retry-After",
            Some(retry_after(u, now)?.into_bytes()),
        ),
        4 => set(response, "Location", Some(url(u, memory, ca)?.into_bytes())),
        5 => {
            let target = url(u, memory, ca)?;
            let rel = u.choose(&["alternate", "next", "up", "index", "alternate next"])?;
            response
                .headers
                .append("Link", format!("<{target}>;rel=\"{rel}\""));
        }
        6 => {
            let content_type = u.choose(&CONTENT_TYPES)?;
            set(
                response,
                "Content-Type",
                Some(content_type.as_bytes().to_vec()),
            );
        }
        7..=9 => {
            if let Ok(Value::Object(mut object)) = serde_json::from_slice(&response.body) {
                let nested = u.int_in_range(0..=2u8)?;
                let challenge = object
                    .get_mut("challenges")
                    .and_then(Value::as_array_mut)
                    .filter(|c| !c.is_empty() && nested == 0);
                match challenge {
                    Some(challenges) => {
                        let i = u.choose_index(challenges.len())?;
                        if let Some(Value::Object(c)) = challenges.get_mut(i) {
                            patch(u, memory, ca, c)?;
                        }
                    }
                    None => patch(u, memory, ca, &mut object)?,
                }
                response.body = serde_json::to_vec(&Value::Object(object)).unwrap_or_default();
            }
        }
        10 => {
            let keep = u.choose_index(response.body.len().max(1))?;
            response.body.truncate(keep);
        }
        11 => response.body = u.arbitrary::<Vec<u8>>()?,
        12 => swap_identifiers(u, response)?,
        _ => {
            // Just over any body cap the client keeps.
            response.body = vec![b' '; 1 << 20];
        }
    }
    Ok(())
}

/// An identifier object as the wire has it, for one of `NAMES` or a foreign name.
fn identifier_json(u: &mut Unstructured<'_>) -> Result<Value> {
    let name = match u.int_in_range(0..=3u8)? {
        0 => "foreign.example",
        1 => "C.Example.Org",
        _ => u.choose(&super::NAMES)?,
    };
    let (kind, value) = wire_identifier(name);
    Ok(json!({"type": kind, "value": value}))
}

/// An order's `identifiers` or an authorization's `identifier` (and `wildcard`)
/// replaced by others: another requested name, a foreign one, the same one with
/// another case or wildcard flag.
fn swap_identifiers(u: &mut Unstructured<'_>, response: &mut Response) -> Result<()> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice(&response.body) else {
        return Ok(());
    };
    if object.contains_key("identifiers") {
        let mut list = Vec::new();
        for _ in 0..u.int_in_range(0..=3u8)? {
            list.push(identifier_json(u)?);
        }
        object.insert("identifiers".into(), Value::Array(list));
    }
    if object.contains_key("identifier") {
        object.insert("identifier".into(), identifier_json(u)?);
        if u.arbitrary()? {
            object.insert("wildcard".into(), json!(u.arbitrary::<bool>()?));
        }
    }
    response.body = serde_json::to_vec(&Value::Object(object)).unwrap_or_default();
    Ok(())
}

/// A response made up entirely: a problem, an old body, or noise.
fn forge(
    u: &mut Unstructured<'_>,
    memory: &mut Memory,
    ca: &FakeCa,
    now: UnixTime,
) -> Result<Response> {
    let status = status(u)?;
    let mut headers = Headers::new();
    if !one_in(u, 4)? {
        headers.append("Replay-Nonce", nonce(u, memory)?);
    }
    if u.arbitrary()? {
        headers.append("Content-Type", *u.choose(&CONTENT_TYPES)?);
    }
    if u.arbitrary()? {
        headers.append("Retry-After", retry_after(u, now)?);
    }
    if u.arbitrary()? {
        headers.append("Location", url(u, memory, ca)?);
    }
    let body = match u.int_in_range(0..=3u8)? {
        0 => serde_json::to_vec(&problem(u)?).unwrap_or_default(),
        1 => pick(u, &memory.bodies)?.unwrap_or_default(),
        2 => u.arbitrary::<Vec<u8>>()?,
        _ => Vec::new(),
    };
    Ok(Response::new(status, headers, body))
}

/// Lies about what was ordered, installed on the fake CA before the order (each is
/// refused by the core: see `checks.rs` for what must then never be presented or
/// issued). `requested` are the order's names as `NAMES` spells them. The input's
/// end reads as no lie.
pub(super) fn install_lies(
    u: &mut Unstructured<'_>,
    ca: &mut FakeCa,
    requested: &[&str],
) -> Result<()> {
    use acme_proto_fake_ca::{Fault, RequestKind};
    for _ in 0..2 {
        let times = u.int_in_range(1..=3usize)?;
        let (kind, fault) = match u.int_in_range(0..=11u8)? {
            // No lie (most often on the first draw's zero, always on the second's).
            0..=4 => break,
            5 => (
                RequestKind::NewOrder,
                Fault::OrderIdentifiers(lied_identifiers(u, requested)?),
            ),
            6 => (
                RequestKind::NewOrder,
                Fault::ForeignAuthorizations(u.int_in_range(1..=2)?),
            ),
            7 | 8 => (
                RequestKind::NewOrder,
                Fault::AuthorizationFor(lied_name(u, requested)?),
            ),
            9 => (RequestKind::Finalize, Fault::CertificateForOtherKey),
            _ => (
                RequestKind::Finalize,
                Fault::CertificateNames(lied_names(u, requested)?),
            ),
        };
        trace!("lie on {kind:?} ({times}×): {fault:?}");
        ca.script(kind, fault, times);
    }
    Ok(())
}

/// A name not requested: foreign, another requested one (two authorizations for one
/// identifier), the first one upper-cased (the same name), or a wildcard's base.
fn lied_name(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => "foreign.example".to_owned(),
        1 => pick(u, requested)?.unwrap_or_default().to_owned(),
        2 => requested
            .first()
            .copied()
            .unwrap_or_default()
            .to_ascii_uppercase(),
        3 => "c.example.org".to_owned(),
        _ => (*u.choose(&super::NAMES)?).to_owned(),
    })
}

/// `(type, value)` as the wire has them.
fn wire_identifier(name: &str) -> (String, String) {
    let kind = if name.parse::<std::net::IpAddr>().is_ok() {
        "ip"
    } else {
        "dns"
    };
    (kind.to_owned(), name.to_owned())
}

/// The order's identifiers, lied about: one dropped, one added, one replaced, or the
/// same set reordered, duplicated or upper-cased (which the core must accept).
fn lied_identifiers(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<Vec<(String, String)>> {
    let mut names: Vec<String> = requested.iter().map(|n| (*n).to_owned()).collect();
    match u.int_in_range(0..=6u8)? {
        0 => {
            let at = u.choose_index(names.len().max(1))?;
            if at < names.len() {
                names.remove(at);
            }
        }
        1 => names.push(lied_name(u, requested)?),
        2 => {
            let at = u.choose_index(names.len().max(1))?;
            let other = lied_name(u, requested)?;
            if let Some(name) = names.get_mut(at) {
                *name = other;
            }
        }
        3 => names.reverse(),
        4 => {
            if let Some(first) = names.first().cloned() {
                names.push(first);
            }
        }
        5 => names = names.iter().map(|n| n.to_ascii_uppercase()).collect(),
        _ => names.clear(),
    }
    Ok(names.iter().map(|n| wire_identifier(n)).collect())
}

/// The certificate's DNS names, lied about: one requested name missing, a name added
/// (accepted, reported as unrequested), or only foreign names.
fn lied_names(u: &mut Unstructured<'_>, requested: &[&str]) -> Result<Vec<String>> {
    let mut names: Vec<String> = requested.iter().map(|n| (*n).to_owned()).collect();
    match u.int_in_range(0..=3u8)? {
        0 => {
            let at = u.choose_index(names.len().max(1))?;
            if at < names.len() {
                names.remove(at);
            }
        }
        1 => names.push("extra.example".to_owned()),
        2 => names = vec!["foreign.example".to_owned()],
        _ => names = names.iter().map(|n| n.to_ascii_uppercase()).collect(),
    }
    Ok(names)
}
