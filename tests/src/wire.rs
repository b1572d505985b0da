//! What a test reads out of a request or writes into Pebble's management API: a JWS
//! body's payload, and RFC 3339 times.

use acme_proto::UnixTime;

/// The payload of a flattened JWS request body (`{"protected":…,"payload":…,
/// "signature":…}`), decoded from base64url and parsed as JSON: `None` when the body is
/// not such a JWS, or its payload is empty (a POST-as-GET) or not JSON.
pub fn jws_payload(body: &[u8]) -> Option<serde_json::Value> {
    let jws: serde_json::Value = serde_json::from_slice(body).ok()?;
    let payload = base64url(jws.get("payload")?.as_str()?)?;
    serde_json::from_slice(&payload).ok()
}

/// Unpadded base64url, as JWS uses it.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0_u32, 0_u32);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push(u8::try_from((bits >> count) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// `time` as an RFC 3339 UTC timestamp, `2026-12-08T01:02:03Z` (whole seconds).
pub fn rfc3339(time: UnixTime) -> String {
    let secs = time.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_times() {
        assert_eq!(rfc3339(UnixTime::from_secs(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UnixTime::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UnixTime::from_secs(1_796_691_723)),
            "2026-12-08T01:02:03Z"
        );
    }

    #[test]
    fn payload_of_a_jws() {
        // {"replaces":"a.b"} and "" in base64url.
        let body = br#"{"protected":"e30","payload":"eyJyZXBsYWNlcyI6ImEuYiJ9","signature":"AA"}"#;
        assert_eq!(
            jws_payload(body).unwrap(),
            serde_json::json!({"replaces": "a.b"})
        );
        let empty = br#"{"protected":"e30","payload":"","signature":"AA"}"#;
        assert_eq!(jws_payload(empty), None);
        assert_eq!(jws_payload(b"not json"), None);
    }
}
