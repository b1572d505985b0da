//! The retry and polling policy: every bound the core keeps on waits, retries and time.
//!
//! All of it is configuration with defaults, so that every driver behaves the same and a
//! server can never make the client loop without bound: every retry is counted, every
//! wait is capped, and every operation has a deadline.

use core::time::Duration;

/// How the core retries and polls. Every number is a bound, never a target.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Resends of one request after `badNonce`, each with a fresh nonce (no wait).
    pub max_bad_nonce_retries: u32,
    /// Resends of one request after 429 `rateLimited` or 503, waiting as the server asks.
    pub max_unavailable_retries: u32,
    /// The longest single wait a server may ask for with `Retry-After` on 429/503; a
    /// longer one ends the operation with the server's problem, so the caller can decide.
    pub max_retry_after: Duration,
    /// Wait after a 429/503 without `Retry-After`.
    pub default_retry_after: Duration,
    /// Resends of a request that is safe to repeat, after the transport failed.
    pub max_transport_retries: u32,
    /// The first backoff after a transport failure; doubled at each further failure.
    pub transport_backoff: Duration,
    /// The longest backoff after transport failures.
    pub max_transport_backoff: Duration,
    /// The first wait between polls of an order or authorization.
    pub poll_initial: Duration,
    /// The longest wait between polls when the server gives no `Retry-After`.
    pub poll_max: Duration,
    /// How long one wait on an order or authorization (for its challenges to be
    /// validated, for the certificate to be issued) may see it stay `pending` or
    /// `processing` without the server asking for more time with `Retry-After`; then
    /// the operation ends with [`Error::Timeout`](crate::Error::Timeout). A `Retry-After`
    /// is honoured up to [`max_retry_after`](Self::max_retry_after) and starts the
    /// patience again from the time it named.
    pub poll_patience: Duration,
    /// The total time one operation may take, from its first output to its outcome.
    pub operation_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            // At Pebble's 50 % nonce rejection, 16 resends leave a 1 in 130 000 chance
            // that one request fails; each resend costs one round trip and no wait.
            max_bad_nonce_retries: 16,
            max_unavailable_retries: 3,
            max_retry_after: Duration::from_secs(120),
            default_retry_after: Duration::from_secs(5),
            max_transport_retries: 4,
            transport_backoff: Duration::from_secs(1),
            max_transport_backoff: Duration::from_secs(30),
            poll_initial: Duration::from_secs(1),
            poll_max: Duration::from_secs(15),
            // certbot gives up after 90 s, instant-acme after 30 s. Real validations
            // take seconds (Pebble without PEBBLE_VA_NOSLEEP sleeps up to 15 s first);
            // 40 s is seven polls at the default intervals.
            poll_patience: Duration::from_secs(40),
            operation_timeout: Duration::from_secs(600),
        }
    }
}

impl Policy {
    /// The backoff before resend number `attempt` (1-based) after transport failures.
    pub(crate) fn transport_backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.transport_backoff
            .saturating_mul(factor)
            .min(self.max_transport_backoff)
    }

    /// The wait before poll number `poll` (1-based) when the server gave no
    /// `Retry-After`: starts at `poll_initial`, grows by half each time, capped at `poll_max`.
    pub(crate) fn poll_interval(&self, poll: u32) -> Duration {
        let mut interval = self.poll_initial;
        for _ in 1..poll.min(64) {
            interval = interval.saturating_add(interval / 2);
            if interval >= self.poll_max {
                break;
            }
        }
        interval.min(self.poll_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_backoff_doubles_to_its_cap() {
        let p = Policy::default();
        let secs: alloc::vec::Vec<u64> =
            (1..=8).map(|a| p.transport_backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.transport_backoff(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn polling_grows_and_never_exceeds_the_cap() {
        let p = Policy::default();
        let ms: alloc::vec::Vec<u128> = (1..=9).map(|n| p.poll_interval(n).as_millis()).collect();
        assert_eq!(
            ms,
            [1000, 1500, 2250, 3375, 5062, 7593, 11390, 15000, 15000]
        );
        assert_eq!(p.poll_interval(u32::MAX), Duration::from_secs(15));
        assert!(ms.windows(2).all(|w| w[0] <= w[1]));
    }
}
