//! The `application/pem-certificate-chain` reader (RFC 8555 §9.1, RFC 7468).
//!
//! RFC 8555 asks servers for RFC 7468's strict form with no explanatory text; this
//! reader takes the lax form too, as RFC 7468 §2 asks of parsers: text outside the
//! blocks is ignored, and whitespace (spaces, tabs, CR, LF, VT, FF) may appear anywhere
//! in a block's base64. What it refuses: a block labelled anything but `CERTIFICATE`,
//! an `END` line that does not close a `CERTIFICATE` block, a block without an `END`
//! line, any character outside the base64 alphabet inside a block, base64 that is not
//! canonical, non-ASCII text, and more than [`MAX_CERTIFICATES`] blocks.
//!
//! The work is one pass over the text and the memory at most the decoded size.

use alloc::string::String;
use alloc::vec::Vec;

use crate::b64;
use crate::fault::{Malformed, MalformedKind};

/// The most certificates one chain may hold; a longer chain is refused.
pub(crate) const MAX_CERTIFICATES: usize = 16;

pub(crate) const CONTEXT: &str = "certificate chain";

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const BEGIN_CERTIFICATE: &str = "-----BEGIN CERTIFICATE-----";
const END_CERTIFICATE: &str = "-----END CERTIFICATE-----";

fn invalid(why: &'static str) -> Malformed {
    Malformed::new(CONTEXT, MalformedKind::Invalid(why))
}

/// Whitespace RFC 7468's lax form allows (`W` in its ABNF), besides line breaks.
const SPACES: [char; 4] = [' ', '\t', '\x0b', '\x0c'];

fn is_space(b: u8) -> bool {
    SPACES.contains(&char::from(b))
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// The DER contents of every `CERTIFICATE` block of `text`, in order.
pub(crate) fn certificate_blocks(text: &str) -> Result<Vec<Vec<u8>>, Malformed> {
    if !text.is_ascii() {
        return Err(invalid("not ASCII PEM text"));
    }
    let mut blocks = Vec::new();
    // The base64 of the block being read, or `None` between blocks.
    let mut body: Option<String> = None;
    // CR, LF and CRLF all end a line (RFC 7468 `eol`); empty lines are whitespace.
    for line in text.split(['\r', '\n']) {
        let line = line.trim_matches(SPACES);
        match body.as_mut() {
            None => {
                if line.starts_with(BEGIN) {
                    if line != BEGIN_CERTIFICATE {
                        return Err(invalid("a PEM block is not a CERTIFICATE"));
                    }
                    if blocks.len() == MAX_CERTIFICATES {
                        return Err(invalid("more than 16 certificates in the chain"));
                    }
                    body = Some(String::new());
                } else if line.starts_with(END) {
                    return Err(invalid("a PEM END line without its BEGIN line"));
                }
                // Anything else between blocks is explanatory text.
            }
            Some(base64) => {
                if line == END_CERTIFICATE {
                    let der = b64::decode_standard(base64.as_bytes())
                        .ok_or(invalid("a CERTIFICATE block is not canonical base64"))?;
                    if der.is_empty() {
                        return Err(invalid("an empty CERTIFICATE block"));
                    }
                    blocks.push(der);
                    body = None;
                } else if line.starts_with("-----") {
                    return Err(invalid(
                        "a CERTIFICATE block does not end with its END line",
                    ));
                } else {
                    for b in line.bytes().filter(|&b| !is_space(b)) {
                        if !is_base64(b) {
                            return Err(invalid(
                                "a character outside base64 in a CERTIFICATE block",
                            ));
                        }
                        base64.push(char::from(b));
                    }
                }
            }
        }
    }
    if body.is_some() {
        return Err(invalid("a CERTIFICATE block has no END line"));
    }
    if blocks.is_empty() {
        return Err(invalid("no CERTIFICATE block"));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, vec};

    fn kind(text: &str) -> &'static str {
        match certificate_blocks(text) {
            Err(Malformed {
                kind: MalformedKind::Invalid(why),
                context,
            }) => {
                assert_eq!(context, CONTEXT);
                why
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn blocks_in_order_with_text_and_crlf_around() {
        let text = "leaf:\r\n-----BEGIN CERTIFICATE-----\r\nAQID\r\n-----END CERTIFICATE-----\r\n\r\n\
                    issuer\n  -----BEGIN CERTIFICATE-----  \n BA U\tG \n\n-----END CERTIFICATE-----";
        assert_eq!(
            certificate_blocks(text).unwrap(),
            [vec![1, 2, 3], vec![4, 5, 6]]
        );
    }

    #[test]
    fn lone_cr_ends_lines() {
        let text = "-----BEGIN CERTIFICATE-----\rAQID\r-----END CERTIFICATE-----\r";
        assert_eq!(certificate_blocks(text).unwrap(), [vec![1, 2, 3]]);
    }

    #[test]
    fn padding_is_required_and_canonical() {
        let pem = |b: &str| format!("{BEGIN_CERTIFICATE}\n{b}\n{END_CERTIFICATE}\n");
        assert_eq!(certificate_blocks(&pem("AQI=")).unwrap(), [vec![1, 2]]);
        assert!(certificate_blocks(&pem("AQI")).is_err());
        assert!(certificate_blocks(&pem("AQJ=")).is_err());
        assert!(certificate_blocks(&pem("AQ==AQ==")).is_err());
        assert!(certificate_blocks(&pem("AQ-_")).is_err());
    }

    #[test]
    fn refusals() {
        assert_eq!(kind(""), "no CERTIFICATE block");
        assert_eq!(kind("just text\n"), "no CERTIFICATE block");
        assert_eq!(
            kind("-----BEGIN CERTIFICATE-----\nAQID\n"),
            "a CERTIFICATE block has no END line"
        );
        assert_eq!(
            kind("-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n"),
            "a PEM block is not a CERTIFICATE"
        );
        assert_eq!(
            kind("-----BEGIN CERTIFICATE-----\nAQID\n-----END PRIVATE KEY-----\n"),
            "a CERTIFICATE block does not end with its END line"
        );
        assert_eq!(
            kind("-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n"),
            "a CERTIFICATE block does not end with its END line"
        );
        assert_eq!(
            kind("-----END CERTIFICATE-----\n"),
            "a PEM END line without its BEGIN line"
        );
        assert_eq!(
            kind(
                "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n-----END CERTIFICATE-----\n"
            ),
            "a character outside base64 in a CERTIFICATE block"
        );
        assert_eq!(
            kind("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
            "an empty CERTIFICATE block"
        );
        assert_eq!(kind("é"), "not ASCII PEM text");
        assert_eq!(
            kind("-----BEGIN CERTIFICATE-----x\nAQID\n-----END CERTIFICATE-----\n"),
            "a PEM block is not a CERTIFICATE"
        );
    }

    #[test]
    fn at_most_sixteen_blocks() {
        let one = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificate_blocks(&one.repeat(MAX_CERTIFICATES))
                .unwrap()
                .len(),
            MAX_CERTIFICATES
        );
        assert_eq!(
            kind(&one.repeat(MAX_CERTIFICATES + 1)),
            "more than 16 certificates in the chain"
        );
    }
}
