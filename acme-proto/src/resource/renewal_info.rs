//! ACME Renewal Information (RFC 9773 §4.2).

use core::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::Resource;
use crate::time::UnixTime;

/// A renewalInfo object: when the CA suggests renewing a certificate (RFC 9773 §4.2).
///
/// The `Retry-After` header that comes with it says when to ask again; the response
/// layer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RenewalInfo {
    /// The window in which to renew.
    pub suggested_window: SuggestedWindow,
    /// A page explaining the suggestion, for a human (e.g. about a mass revocation).
    #[serde(
        rename = "explanationURL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub explanation_url: Option<Url>,
}

/// The `suggestedWindow` of a renewalInfo object (RFC 9773 §4.2).
///
/// A window whose end is before its start is refused when it is read: RFC 9773 §4.2
/// has the client treat such a response as invalid, so the caller falls back to its
/// own schedule and asks again later, as after any failed renewalInfo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
#[non_exhaustive]
pub struct SuggestedWindow {
    /// The start of the window.
    pub start: UnixTime,
    /// The end of the window, not before its start.
    pub end: UnixTime,
}

#[derive(Deserialize)]
struct RawWindow {
    start: UnixTime,
    end: UnixTime,
}

impl TryFrom<RawWindow> for SuggestedWindow {
    type Error = &'static str;

    fn try_from(raw: RawWindow) -> Result<Self, Self::Error> {
        Self::new(raw.start, raw.end)
    }
}

impl SuggestedWindow {
    /// A window from `start` to `end`; an error if `end` is before `start`.
    pub fn new(start: UnixTime, end: UnixTime) -> Result<Self, &'static str> {
        if end < start {
            return Err("suggestedWindow ends before it starts");
        }
        Ok(Self { start, end })
    }

    /// The length of the window.
    pub fn duration(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }

    /// Whether `now` is inside the window (both ends included).
    pub fn contains(&self, now: UnixTime) -> bool {
        self.start <= now && now <= self.end
    }

    /// The point of the window at `random / 2^64` of its length: with a uniformly random
    /// `random`, the uniformly random renewal time RFC 9773 §4.2 recommends.
    pub fn pick(&self, random: u64) -> UnixTime {
        let width = self.duration();
        // Both products are below 2^128: u64 by u64.
        let offset = match u64::try_from(width.as_nanos()) {
            Ok(nanos) => Duration::from_nanos(scale(nanos, random)),
            // Windows over 584 years: second precision is plenty.
            Err(_) => Duration::from_secs(scale(width.as_secs(), random)),
        };
        self.start.saturating_add(offset).min(self.end)
    }
}

/// `value * random / 2^64`, which is below `value`.
fn scale(value: u64, random: u64) -> u64 {
    let product = u128::from(value) * u128::from(random);
    u64::try_from(product >> 64).unwrap_or(value)
}

impl Resource for RenewalInfo {
    const NAME: &'static str = "renewal info";
}
