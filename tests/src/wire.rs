//! What a test reads out of a request: a JWS body's payload.

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
