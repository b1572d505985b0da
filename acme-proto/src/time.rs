//! Wall-clock time as a value: the core never reads a clock, the caller passes `now`.
//!
//! [`UnixTime`] is a point in time since the Unix epoch, with nanosecond precision.
//! Wall-clock time (rather than a monotonic instant) because ACME speaks in wall-clock
//! terms (`Retry-After` as an HTTP-date, `expires`, ARI windows) and because deadlines
//! must survive being saved and resumed in another process.

use core::time::Duration;

/// A point in time, as the duration since 1970-01-01T00:00:00Z (leap seconds ignored).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(Duration);

impl UnixTime {
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(Duration::ZERO);
    /// The latest representable time; used for saturation, never as a real deadline.
    pub const MAX: Self = Self(Duration::MAX);

    /// The time `since_epoch` after the Unix epoch.
    pub const fn new(since_epoch: Duration) -> Self {
        Self(since_epoch)
    }

    /// The time `secs` seconds after the Unix epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// The time `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    /// The duration since the Unix epoch.
    pub const fn since_epoch(self) -> Duration {
        self.0
    }

    /// Whole seconds since the Unix epoch.
    pub const fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    /// This time plus `d`, saturating at [`UnixTime::MAX`].
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d))
    }

    /// This time minus `d`, saturating at the epoch.
    #[must_use]
    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d))
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

#[cfg(feature = "std")]
impl From<std::time::SystemTime> for UnixTime {
    /// A time before the epoch becomes the epoch.
    fn from(t: std::time::SystemTime) -> Self {
        Self(
            t.duration_since(std::time::UNIX_EPOCH)
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// 9999-12-31T23:59:59Z, a `SystemTime` every platform can hold.
#[cfg(feature = "std")]
const MAX_YEAR_9999: u64 = 253_402_300_799;

#[cfg(feature = "std")]
impl From<UnixTime> for std::time::SystemTime {
    /// Saturates at the latest `SystemTime` the platform can hold.
    fn from(t: UnixTime) -> Self {
        std::time::UNIX_EPOCH
            .checked_add(t.0)
            .or_else(|| std::time::UNIX_EPOCH.checked_add(Duration::from_secs(MAX_YEAR_9999)))
            .unwrap_or(std::time::UNIX_EPOCH)
    }
}
