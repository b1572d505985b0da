//! DER ECDSA signatures (what HSMs and KMSs return) to the JWS `r || s` form.

use alloc::vec::Vec;

use crate::crypto::SignatureAlgorithm;
use crate::fault::CryptoError;

/// Converts a DER `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`, RFC 3279) to
/// the JWS encoding of RFC 7518 §3.4: `r` and `s` as fixed-width big-endian integers,
/// concatenated (64 bytes for ES256, 96 for ES384, 132 for ES512).
///
/// Strict DER only: definite minimal lengths, minimal positive non-zero integers that fit
/// the curve's width, and nothing after the sequence. Anything else is an error, never
/// a panic.
pub fn ecdsa_der_to_jws(algorithm: SignatureAlgorithm, der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let width = match algorithm {
        SignatureAlgorithm::Es256 => 32,
        SignatureAlgorithm::Es384 => 48,
        SignatureAlgorithm::Es512 => 66,
        _ => return Err(CryptoError::new("DER signatures exist only for ECDSA")),
    };
    let bad = || CryptoError::new("malformed DER ECDSA signature");
    let (tag, body, rest) = read_tlv(der).ok_or_else(bad)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad());
    }
    let (tag, r, body) = read_tlv(body).ok_or_else(bad)?;
    if tag != 0x02 {
        return Err(bad());
    }
    let (tag, s, body) = read_tlv(body).ok_or_else(bad)?;
    if tag != 0x02 || !body.is_empty() {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(2 * width);
    for int in [r, s] {
        let magnitude = positive_integer(int).ok_or_else(bad)?;
        let pad = width.checked_sub(magnitude.len()).ok_or_else(bad)?;
        out.resize(out.len() + pad, 0);
        out.extend_from_slice(magnitude);
    }
    Ok(out)
}

/// Splits one tag-length-value off `input`: `(tag, value, rest)`.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, input) = input.split_first()?;
    let (&first, input) = input.split_first()?;
    let (len, input) = match first {
        0..=0x7f => (usize::from(first), input),
        0x81 => {
            let (&len, input) = input.split_first()?;
            // DER: the long form only for lengths that need it.
            if len < 0x80 {
                return None;
            }
            (usize::from(len), input)
        }
        // No ECDSA signature of a supported curve is 256 bytes or longer.
        _ => return None,
    };
    if input.len() < len {
        return None;
    }
    let (value, rest) = input.split_at(len);
    Some((tag, value, rest))
}

/// The magnitude of a DER INTEGER that must be positive and non-zero, without the
/// sign byte; `None` if it is negative, zero or not minimally encoded.
fn positive_integer(int: &[u8]) -> Option<&[u8]> {
    match int {
        [] => None,
        [0, rest @ ..] => match rest.first() {
            // A leading zero is only allowed before a byte with the high bit set.
            Some(&b) if b >= 0x80 => Some(rest),
            _ => None,
        },
        [first, ..] if *first >= 0x80 => None,
        _ => Some(int),
    }
}
