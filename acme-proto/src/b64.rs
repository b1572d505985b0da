//! base64url without padding (RFC 7515 §2), the base64 of ACME's JSON, and the
//! standard alphabet with padding for PEM bodies (RFC 7468).

use alloc::string::String;
use alloc::vec::Vec;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Encodes `bytes` as base64url without padding.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes strict base64url: no padding, no whitespace, canonical trailing bits.
pub(crate) fn decode(text: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Decodes strict standard base64 (RFC 4648 §4), as in PEM bodies: `+` and `/`,
/// canonical `=` padding, no whitespace (the caller strips line breaks first),
/// canonical trailing bits.
pub(crate) fn decode_standard(text: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Whether every byte is in the base64url alphabet (`A-Z a-z 0-9 - _`).
pub(crate) fn is_alphabet(text: &[u8]) -> bool {
    text.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
