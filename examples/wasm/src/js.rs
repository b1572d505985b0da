//! Conversions between the core's values and plain JavaScript values.

use core::fmt::Display;
use core::time::Duration;

use acme_proto::{Headers, Request, TransportFailure, UnixTime, Wait, WaitReason};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;

/// A JavaScript `Error` with `message` and a `kind` property saying whose fault it is
/// (`problem`, `malformed`, `misuse`, `crypto`, `timeout`, `transport`, `abandoned`,
/// `bug`, `other`), so that the host can add what it knows (for `transport`, its last
/// failure).
pub(crate) fn error(kind: &str, message: impl Display) -> JsValue {
    let error = js_sys::Error::new(&message.to_string());
    // Setting a property on a fresh object cannot fail; if it did, the message stays.
    let _ = Reflect::set(&error, &"kind".into(), &kind.into());
    error.into()
}

/// The core's error as a JavaScript `Error`, its message the core's own text.
pub(crate) fn core_error(error: &acme_proto::Error) -> JsValue {
    use acme_proto::Error as E;
    let kind = match error {
        E::Problem(_) => "problem",
        E::Malformed(_) => "malformed",
        E::Misuse(_) => "misuse",
        E::Crypto(_) => "crypto",
        E::Timeout { .. } => "timeout",
        E::Transport { .. } => "transport",
        E::Abandoned => "abandoned",
        E::Bug(_) => "bug",
        _ => "other",
    };
    self::error(kind, error)
}

/// A misuse by the host (a wrong argument, a call at the wrong time).
pub(crate) fn misuse(message: impl Display) -> JsValue {
    error("misuse", message)
}

/// A plain object, filled with [`set`].
pub(crate) fn object(kind: &str) -> Result<Object, JsValue> {
    let object = Object::new();
    set(&object, "kind", kind)?;
    Ok(object)
}

/// `object[name] = value`.
pub(crate) fn set(object: &Object, name: &str, value: impl Into<JsValue>) -> Result<(), JsValue> {
    Reflect::set(object, &name.into(), &value.into()).map(drop)
}

/// `Date.now()` (milliseconds since the Unix epoch) as the core's time.
pub(crate) fn time(now_ms: f64) -> Result<UnixTime, JsValue> {
    if !now_ms.is_finite() || now_ms < 0.0 {
        return Err(misuse(format!(
            "the time must be Date.now(), milliseconds since 1970, not {now_ms}"
        )));
    }
    // Whole milliseconds: what Date.now() gives.
    Ok(UnixTime::from_millis(now_ms as u64))
}

/// Milliseconds, rounded up, so that a host waiting this long never comes back early.
fn millis(duration: Duration) -> f64 {
    duration.as_nanos().div_ceil(1_000_000) as f64
}

/// `{ kind: "send", id, method, url, headers, body, maxResponseBody, timeLimitMs }`.
///
/// Header values are the core's bytes as a JavaScript string of one character per byte
/// (what `fetch` calls a ByteString); the body is a `Uint8Array`, `null` when there is
/// none (GET and HEAD).
pub(crate) fn send(request: &Request) -> Result<JsValue, JsValue> {
    let step = object("send")?;
    set(&step, "id", request.id.get() as f64)?;
    set(&step, "method", request.method.as_str())?;
    set(&step, "url", request.url.as_str())?;
    let headers = Array::new();
    for (name, value) in request.headers.iter() {
        let pair = Array::of2(&name.into(), &latin1(value).into());
        headers.push(&pair);
    }
    set(&step, "headers", headers)?;
    let body = if request.body.is_empty() {
        JsValue::NULL
    } else {
        Uint8Array::from(request.body.as_slice()).into()
    };
    set(&step, "body", body)?;
    set(&step, "maxResponseBody", request.max_response_body as f64)?;
    let limit = request
        .time_limit
        .map_or(JsValue::NULL, |d| millis(d).into());
    set(&step, "timeLimitMs", limit)?;
    Ok(step.into())
}

/// `{ kind: "wait", untilMs, reason }`.
pub(crate) fn wait(wait: &Wait) -> Result<JsValue, JsValue> {
    let step = object("wait")?;
    set(&step, "untilMs", millis(wait.until.since_epoch()))?;
    let reason = match wait.reason {
        WaitReason::Unavailable { status } => format!("the server answered {status}"),
        WaitReason::TransportBackoff { attempt } => {
            format!("backing off before resend {attempt}")
        }
        WaitReason::Poll { resource } => format!("polling {resource:?}").to_lowercase(),
        other => format!("{other:?}"),
    };
    set(&step, "reason", reason)?;
    Ok(step.into())
}

/// Each byte as the character of that code point (ISO-8859-1), as `fetch` takes
/// header values.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().copied().map(char::from).collect()
}

/// A header value from `fetch`: one character per byte when every character is below
/// U+0100 (what `fetch` gives), UTF-8 otherwise.
fn value_bytes(value: &str) -> Vec<u8> {
    let bytes: Option<Vec<u8>> = value.chars().map(|c| u8::try_from(c).ok()).collect();
    bytes.unwrap_or_else(|| value.as_bytes().to_vec())
}

/// The core's headers from an iterable of `[name, value]` pairs of strings, as
/// `[...response.headers]` gives them.
pub(crate) fn headers(pairs: &JsValue) -> Result<Headers, JsValue> {
    let not_pairs = || misuse("headers must be an iterable of [name, value] pairs of strings");
    let iter = js_sys::try_iter(pairs)?.ok_or_else(not_pairs)?;
    let mut headers = Headers::new();
    for pair in iter {
        let pair = Array::from(&pair?);
        let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) else {
            return Err(not_pairs());
        };
        headers.append(&name, value_bytes(&value));
    }
    Ok(headers)
}

/// The core's [`TransportFailure`] from the host's word for it.
pub(crate) fn transport_failure(kind: &str) -> Result<TransportFailure, JsValue> {
    Ok(match kind {
        "connect" => TransportFailure::Connect,
        "reset" => TransportFailure::Reset,
        "timeout" => TransportFailure::TimedOut,
        "too-large" => TransportFailure::TooLarge,
        "tls" => TransportFailure::Tls,
        "other" => TransportFailure::Other,
        _ => {
            return Err(misuse(format!(
                "unknown transport failure {kind:?}: one of connect, reset, timeout, \
                 too-large, tls, other"
            )));
        }
    })
}
