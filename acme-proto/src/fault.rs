//! The leaf error kinds: what went wrong, without the top-level [`Error`](crate::Error)
//! that wraps them (which also wraps [`Problem`](crate::Problem), and so depends on the
//! protocol types; these depend on nothing of the crate's).

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;

/// A response that could not be accepted, and what was being read when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// What was being read: `"directory"`, `"order"`, `"Replay-Nonce header"`, …
    pub context: &'static str,
    /// What was wrong with it.
    pub kind: MalformedKind,
}

impl Malformed {
    /// A malformed-response error reading `context`.
    pub fn new(context: &'static str, kind: MalformedKind) -> Self {
        Self { context, kind }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.kind)
    }
}

/// What was wrong with a server's response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedKind {
    /// The body was larger than the configured limit; it was not parsed.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The body's size in bytes.
        actual: usize,
    },
    /// The `Content-Type` was not the one this response must have.
    ContentType {
        /// The media type expected.
        expected: &'static str,
        /// The media type received, if any (truncated to 64 bytes).
        found: Option<String>,
    },
    /// The body was not the JSON this response must have.
    Json {
        /// The parser's message (bounded in length).
        message: String,
        /// Line of the error, 1-based (0 when unknown).
        line: usize,
        /// Column of the error, 1-based (0 when unknown).
        column: usize,
    },
    /// A required header was missing.
    MissingHeader(&'static str),
    /// A header was present but its value is not valid.
    InvalidHeader(&'static str),
    /// A value was well-formed JSON but not acceptable, with the reason.
    Invalid(&'static str),
    /// The HTTP status was not one this request can answer with.
    UnexpectedStatus(u16),
    /// The server's value does not match what the client asked for (the order's
    /// identifiers, an authorization's identifier, the certificate's key or names):
    /// acting on it would go beyond the caller's request.
    Mismatch {
        /// The field that does not match, for example `"identifiers"`.
        field: &'static str,
        /// What was found instead (truncated to 256 bytes; shown escaped).
        found: String,
    },
}

impl fmt::Display for MalformedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit, actual } => {
                write!(
                    f,
                    "body of {actual} bytes exceeds the limit of {limit} bytes"
                )
            }
            Self::ContentType {
                expected,
                found: Some(found),
            } => {
                write!(f, "content type {found:?}, expected {expected:?}")
            }
            Self::ContentType {
                expected,
                found: None,
            } => {
                write!(f, "no content type, expected {expected:?}")
            }
            Self::Json {
                message,
                line,
                column,
            } => {
                write!(f, "invalid JSON at line {line} column {column}: {message}")
            }
            Self::MissingHeader(h) => write!(f, "missing {h} header"),
            Self::InvalidHeader(h) => write!(f, "invalid {h} header"),
            Self::Invalid(why) => f.write_str(why),
            Self::UnexpectedStatus(s) => write!(f, "unexpected HTTP status {s}"),
            // Debug formatting escapes control characters: a server's text is never
            // printed raw.
            Self::Mismatch { field, found } => {
                write!(f, "{field} not as requested: {found:?}")
            }
        }
    }
}

impl MalformedKind {
    /// Longest parser message kept, so a hostile body cannot grow an error without bound.
    const MAX_MESSAGE: usize = 200;
    /// Longest server value kept in a [`MalformedKind::Mismatch`].
    const MAX_FOUND: usize = 256;

    /// A mismatch of `field`, keeping at most 256 bytes of what was found.
    pub(crate) fn mismatch(field: &'static str, found: impl fmt::Display) -> Self {
        use core::fmt::Write as _;
        let mut text = String::new();
        let _ = write!(text, "{found}");
        truncate_on_char_boundary(&mut text, Self::MAX_FOUND);
        Self::Mismatch { field, found: text }
    }

    /// Describes a `serde_json` failure, keeping at most a bounded part of its message.
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        use core::fmt::Write as _;
        let mut message = String::new();
        let _ = write!(message, "{err}");
        // serde_json appends " at line L column C"; the numbers are kept separately.
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        truncate_on_char_boundary(&mut message, Self::MAX_MESSAGE);
        Self::Json {
            message,
            line: err.line(),
            column: err.column(),
        }
    }
}

/// Truncates `s` to at most `max` bytes without splitting a character.
pub(crate) fn truncate_on_char_boundary(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

/// Something the caller asked for that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misuse {
    /// An identifier the caller gave is not valid for its type.
    InvalidIdentifier {
        /// The value given (truncated to 256 bytes).
        value: String,
        /// Why it is not valid.
        reason: &'static str,
    },
    /// A key could not be imported or used, with the reason.
    InvalidKey(&'static str),
    /// The External Account Binding key or key identifier is not valid, with the reason.
    InvalidEab(&'static str),
    /// A URL the caller gave is not acceptable, with the reason.
    InvalidUrl(&'static str),
    /// A feature the caller asked for is not available (for example RS256 without the `rsa` feature).
    Unsupported(&'static str),
    /// Any other invalid argument, with the reason.
    InvalidArgument(&'static str),
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidIdentifier { value, reason } => {
                write!(f, "invalid identifier {value:?}: {reason}")
            }
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::InvalidEab(why) => write!(f, "invalid external account binding: {why}"),
            Self::InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::InvalidArgument(why) => f.write_str(why),
        }
    }
}

/// A key or signature operation failed.
#[derive(Debug)]
pub struct CryptoError {
    /// What failed.
    pub reason: &'static str,
    /// The underlying error, for example from an HSM or KMS behind a [`Signer`](crate::Signer).
    pub source: Option<Box<dyn core::error::Error + Send + Sync>>,
}

impl CryptoError {
    /// A failure with a reason and no underlying error.
    pub fn new(reason: &'static str) -> Self {
        Self {
            reason,
            source: None,
        }
    }

    /// A failure with a reason and the underlying error.
    pub fn with_source(
        reason: &'static str,
        source: impl Into<Box<dyn core::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            reason,
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{}: {s}", self.reason),
            None => f.write_str(self.reason),
        }
    }
}

impl core::error::Error for CryptoError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}

impl core::error::Error for Malformed {}
impl core::error::Error for Misuse {}
