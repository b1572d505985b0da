//! Challenge tokens, validated so that a server's token can never become a path.

use alloc::boxed::Box;
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::b64;
use crate::fault::{Malformed, MalformedKind};

/// A challenge token (RFC 8555 §8.3, §8.4): base64url characters only, at least 128 bits.
///
/// Only `A-Z a-z 0-9 - _` can appear, so a token can be joined to a path or a URL
/// (`/.well-known/acme-challenge/{token}`) without escaping and without traversal.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChallengeToken(Box<str>);

impl ChallengeToken {
    /// Fewest characters: 128 bits of entropy are 22 base64url characters (RFC 8555 §8.1).
    pub const MIN_LEN: usize = 22;
    /// Most characters accepted; real CAs send 43.
    pub const MAX_LEN: usize = 256;

    /// Validates a token received from a server.
    pub fn new(token: &str) -> Result<Self, Malformed> {
        let invalid = |why| Malformed::new("challenge token", MalformedKind::Invalid(why));
        if token.len() < Self::MIN_LEN {
            return Err(invalid("shorter than 128 bits"));
        }
        if token.len() > Self::MAX_LEN {
            return Err(invalid("longer than 256 characters"));
        }
        if !b64::is_alphabet(token.as_bytes()) {
            return Err(invalid("not in the base64url alphabet"));
        }
        Ok(Self(Box::from(token)))
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChallengeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChallengeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChallengeToken({:?})", self.0)
    }
}

impl AsRef<str> for ChallengeToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for ChallengeToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChallengeToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = alloc::borrow::Cow::<'de, str>::deserialize(d)?;
        Self::new(&text).map_err(|e| serde::de::Error::custom(e.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_tokens() {
        let t = ChallengeToken::new("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA").unwrap();
        assert_eq!(t.as_str(), "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA");
        assert!(ChallengeToken::new(&"a".repeat(22)).is_ok());
    }

    #[test]
    fn rejects_paths_short_long_and_padding() {
        for bad in [
            "../../../../etc/passwd/aaaaaaaaaa",
            "aaaaaaaaaaaaaaaaaaaaa/",
            "aaaaaaaaaaaaaaaaaaaaaaa=",
            "aaaaaaaaaaaaaaaaaaaa.aaa",
            "aaaaaaaaaaaaaaaaaaaa aaa",
            "aaaaaaaaaaaaaaaaaaaa\0aaa",
            "aaaaaaaaaaaaaaaaaaaaaaé",
            "aaaaaaaaaaaaaaaaaaaaa",
            "",
        ] {
            assert!(ChallengeToken::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(ChallengeToken::new(&"a".repeat(257)).is_err());
        assert!(ChallengeToken::new(&"a".repeat(256)).is_ok());
    }

    #[test]
    fn deserializes_with_validation() {
        let t: ChallengeToken = serde_json::from_str("\"AAAAAAAAAAAAAAAAAAAAAAAA\"").unwrap();
        assert_eq!(t.as_str().len(), 24);
        assert!(serde_json::from_str::<ChallengeToken>("\"../x\"").is_err());
        assert!(serde_json::from_str::<ChallengeToken>("17").is_err());
    }
}
