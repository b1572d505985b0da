//! The JSON objects an ACME server sends (RFC 8555 §7.1), checked as they are read.
//!
//! Every URL is a [`Url`](url::Url), every timestamp a [`UnixTime`](crate::UnixTime),
//! every status an enum and every challenge token a
//! [`ChallengeToken`](crate::ChallengeToken): a value that does not fit its type makes
//! the whole object [`Malformed`], with [`Resource::NAME`] as its context. Members this
//! crate does not know are ignored, and unknown challenge types are kept whole
//! ([`Challenge::Unknown`]). Whether a URL is acceptable (https, same origin) is the
//! state machine's decision, not the parser's.
//!
//! Size is bounded before parsing (the response layer's limits) and nesting by
//! `serde_json`'s recursion limit, so no body can make parsing panic or run away.

use alloc::vec::Vec;

use serde::Serialize;
use serde::de::{Deserialize, DeserializeOwned, Deserializer};

use crate::fault::{Malformed, MalformedKind};
use crate::problem::Problem;

mod account;
mod authorization;
mod challenge;
mod directory;
mod order;
mod renewal_info;

pub use account::{Account, OrderList};
pub use authorization::Authorization;
pub use challenge::{Challenge, ChallengeKind, KnownChallenge, UnknownChallenge};
pub use directory::{Directory, Meta};
pub use order::Order;
pub use renewal_info::{RenewalInfo, SuggestedWindow};

/// A JSON object read from (or, in tests and snapshots, written as) a server's response.
pub trait Resource: Serialize + DeserializeOwned {
    /// What it is called in errors: `"directory"`, `"order"`, …
    const NAME: &'static str;

    /// Parses a response body.
    fn from_json(body: &[u8]) -> Result<Self, Malformed> {
        serde_json::from_slice(body)
            .map_err(|e| Malformed::new(Self::NAME, MalformedKind::json(&e)))
    }

    /// The object as compact JSON.
    fn to_json(&self) -> Vec<u8> {
        // Cannot fail: every resource is made of strings, numbers, booleans, sequences
        // and maps keyed by strings.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl Resource for Problem {
    const NAME: &'static str = "problem document";
}

/// Reads JSON saved by this crate (snapshots, credentials): refused unread when larger
/// than `max` bytes, then parsed, errors naming `context`.
pub(crate) fn bounded_json<T: DeserializeOwned>(
    context: &'static str,
    bytes: &[u8],
    max: usize,
) -> Result<T, Malformed> {
    if bytes.len() > max {
        return Err(Malformed::new(
            context,
            MalformedKind::TooLarge {
                limit: max,
                actual: bytes.len(),
            },
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| Malformed::new(context, MalformedKind::json(&e)))
}

/// Reads `null` as the default value: servers written in Go send `null` for an empty
/// list, and an empty list is what it means.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
