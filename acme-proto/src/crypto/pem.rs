//! PEM unwrapping for key import: one block, with its label.

use alloc::string::String;
use alloc::vec::Vec;

use zeroize::Zeroizing;

use crate::crypto::invalid_key;

/// The label and DER contents of the first private-key PEM block in `text`.
///
/// Skips an `EC PARAMETERS` block before the key (as `openssl ecparam -genkey` writes,
/// and acme.sh keeps) and any text around the block.
pub(crate) fn decode(text: &[u8]) -> Result<(String, Zeroizing<Vec<u8>>), crate::Error> {
    const BEGIN: &str = "-----BEGIN ";
    let text = core::str::from_utf8(text).map_err(|_| invalid_key("PEM is not UTF-8 text"))?;
    let mut from = 0;
    loop {
        let start = text
            .get(from..)
            .and_then(|t| t.find(BEGIN))
            .map(|i| i + from)
            .ok_or(invalid_key("no PEM private key block found"))?;
        let after = text.get(start + BEGIN.len()..).unwrap_or_default();
        let label = after
            .find("-----")
            .and_then(|i| after.get(..i))
            .ok_or(invalid_key("PEM BEGIN line is not terminated"))?;
        let end_marker = alloc::format!("-----END {label}-----");
        let end = text
            .get(start..)
            .and_then(|t| t.find(&end_marker))
            .map(|i| start + i + end_marker.len())
            .ok_or(invalid_key("PEM block has no matching END line"))?;
        if label == "EC PARAMETERS" {
            from = end;
            continue;
        }
        let block = text.get(start..end).unwrap_or_default();
        let (label, der) = pkcs8::der::pem::decode_vec(block.as_bytes())
            .map_err(|_| invalid_key("PEM block is not valid base64 or has a bad label"))?;
        return Ok((String::from(label), Zeroizing::new(der)));
    }
}

/// PEM text for `der` under `label`, with LF line endings.
pub(crate) fn encode(label: &str, der: &[u8]) -> Result<Zeroizing<String>, crate::Error> {
    pkcs8::der::pem::encode_string(label, pkcs8::der::pem::LineEnding::LF, der)
        .map(Zeroizing::new)
        .map_err(|_| crate::crypto::crypto("PEM encoding failed"))
}
