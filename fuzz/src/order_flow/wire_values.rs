//! What a hostile answer is made of: statuses, nonces, URLs, `Retry-After` values, JSON
//! values and members, problems; some honest, some remembered, most wrong.

use acme_proto::UnixTime;
use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};
use serde_json::{Value, json};

use super::pick;
use super::server::Memory;

const STATUSES: [u16; 14] = [
    200, 201, 204, 400, 403, 404, 409, 429, 500, 503, 302, 100, 599, 0,
];

pub(super) fn status(u: &mut Unstructured<'_>) -> Result<u16> {
    Ok(match u.choose(&STATUSES) {
        Ok(&s) if s != 0 => s,
        _ => u.arbitrary()?,
    })
}

pub(super) fn nonce(u: &mut Unstructured<'_>, memory: &mut Memory) -> Result<String> {
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

pub(super) fn url(u: &mut Unstructured<'_>, memory: &Memory, ca: &FakeCa) -> Result<String> {
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

pub(super) fn retry_after(u: &mut Unstructured<'_>, now: UnixTime) -> Result<String> {
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

pub(super) const CONTENT_TYPES: [&str; 7] = [
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

pub(super) const MEMBERS: [&str; 20] = [
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

pub(super) fn problem(u: &mut Unstructured<'_>) -> Result<Value> {
    let kind = u.choose(&PROBLEMS)?;
    Ok(json!({
        "type": format!("urn:ietf:params:acme:error:{kind}"),
        "detail": "fuzz",
    }))
}

pub(super) fn value(u: &mut Unstructured<'_>, memory: &Memory, ca: &FakeCa) -> Result<Value> {
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
