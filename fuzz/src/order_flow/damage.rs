//! The fake CA's honest answer damaged (a status, a header or a JSON member changed, the
//! identifiers swapped, the body cut or replaced), or an answer made up entirely.

use acme_proto::{Headers, Response, UnixTime};
use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};
use serde_json::{Value, json};

use super::lies::wire_identifier;
use super::server::Memory;
use super::setup::NAMES;
use super::wire_values::{CONTENT_TYPES, MEMBERS, nonce, problem, retry_after, status, url, value};
use super::{one_in, pick};

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

pub(super) fn mutate(
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
        _ => u.choose(&NAMES)?,
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
pub(super) fn forge(
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
