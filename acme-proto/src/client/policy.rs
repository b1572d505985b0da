//! The retry and polling policy: every bound the core keeps on waits, retries and time.
//!
//! All of it is configuration with defaults, so that every driver behaves the same and a
//! server can never make the client loop without bound: every retry is counted, every
//! wait is capped, and every operation has a deadline.
//!
//! With the defaults, one sentence per bound:
//!
//! * One request, with all its resends after transport failures, ends within 30 s of
//!   its first send ([`Policy::request_timeout`]).
//! * A request is resent at most 4 times after transport failures
//!   ([`Policy::max_transport_retries`]), after backoffs of 1, 2, 4 and 8 s.
//! * A request that timed out is resent at most once ([`Policy::max_timeout_retries`]),
//!   and one whose response was too large or whose TLS failed is never resent.
//! * A request is resent at most 16 times after `badNonce`, without waiting.
//! * A request is resent at most 3 times after 429 or 503, each wait at most 120 s.
//! * A wait on an order or authorization polls first after 25 ms, then after 500 ms,
//!   each interval half as long again as the one before, up to 10 s; a `Retry-After`
//!   is honoured, never sooner than 1 s.
//! * One wait on an order or authorization that stays `pending` or `processing` ends
//!   within 40 s unless the server asks for more time with `Retry-After`
//!   ([`Policy::poll_patience`]); a `Retry-After` is honoured up to 120 s.
//! * One operation (an order, an account change, …) ends within 600 s of its first
//!   step ([`Policy::operation_timeout`]).
//!
//! Why the polling starts at 25 ms and then at 500 ms: a server either has the answer
//! at once (it validates or signs in process, as Pebble does, or the authorization was
//! already valid), or it is doing real work on the network (DNS lookups, HTTP or TLS
//! fetches from several vantage points, submissions to CT logs), which takes seconds
//! at Let's Encrypt. The first look after 25 ms finds the fast server done, so an order
//! against it costs round trips and two 25 ms waits instead of seconds; for a slow
//! server it costs one request. After it, the intervals start at 500 ms and grow by
//! half each time: the time lost past the moment the server is done stays under half
//! the time already waited, and a whole wait of 40 s costs 11 polls, one every 3.6 s
//! on average. Let's Encrypt's integration
//! guide asks clients to honour `Retry-After`, which every poll does, and to back off
//! rather than hammer; its request limits on the ACME endpoints are counted per second
//! in the hundreds, far above what one wait sends. With a server that validates after
//! a random 0 to 3 s, the schedule sends about 3.6 polls per wait and finds the
//! validation about 0.6 s after it happened, where a schedule of 250 ms doubling
//! (instant-acme's) sends 3.1 and finds it 0.8 s after; one that validates after 2 s
//! is found at 2.4 s with four polls (at 3.75 s with four by instant-acme's).
//!
//! Why 30 s and one resend after a timeout: each attempt carries what is left of its
//! request's 30 s ([`Request::time_limit`](crate::Request::time_limit)), which both
//! drivers enforce as the attempt's deadline (besides their own timeouts: connect 10 s,
//! read 15 s, total 30 s), and no resend starts past it. A server that accepts the
//! connection and never answers (before TLS, after TLS, or one byte every 2 s) then
//! costs a first attempt of 10 to 30 s and at most one resend cut off at 30 s, so the
//! request ends with a transport error about 30 s after its first send: well within
//! 45 s, with room for a slow machine. A live ACME server answers in seconds.

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
    /// Resends of a request after the transport failed, whatever the failure: a
    /// connection that could not be made (the request was not sent), or, for a request
    /// safe to repeat, a broken connection or a timeout. A body too large, a TLS
    /// failure or another failure is never resent (see
    /// [`TransportFailure`](crate::TransportFailure)).
    pub max_transport_retries: u32,
    /// Of those, resends after a timeout: a server that did not answer in time once
    /// seldom does the next time, and each try costs up to the driver's timeouts.
    pub max_timeout_retries: u32,
    /// The time one request may take, with all its resends after transport failures,
    /// from its first send: each attempt carries what is left as its
    /// [`Request::time_limit`](crate::Request::time_limit), and no resend starts past
    /// it. The directory and `newNonce` requests it needs count within it. A response
    /// to the request itself (any status) ends it; a resend after `badNonce` or a
    /// 429/503 wait is a new request with a new budget.
    pub request_timeout: Duration,
    /// The first backoff after a transport failure; doubled at each further failure.
    pub transport_backoff: Duration,
    /// The longest backoff after transport failures.
    pub max_transport_backoff: Duration,
    /// The first wait of a wait on an order or authorization: the quick look that finds
    /// a server which does its work at once already done.
    pub poll_initial: Duration,
    /// The wait before the second poll of a wait; each later interval is half as long
    /// again as the one before (see the module docs for why), up to
    /// [`poll_max`](Self::poll_max).
    pub poll_interval: Duration,
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
    /// How long a downloaded certificate must still be valid: one whose `notAfter` is
    /// sooner than this after the caller's clock is refused (as
    /// [`Error::Malformed`](crate::Error::Malformed)), not handed over to be installed.
    /// It matters for a resumed order, whose certificate may have been issued long ago
    /// (or planted in an old saved order); raise it to what you would accept to install.
    pub min_certificate_validity: Duration,
    /// The most requests one operation has out at once, when its requests of the moment
    /// are independent: an order fetches its authorizations together, and answers
    /// their chosen challenges together, so that an order for K names takes about as
    /// many round trips as one for a single name. Each such request needs a nonce of
    /// its own: while the `newOrder` is out, the nonces its authorizations' fetches will
    /// need beyond the pool's are fetched beside it (`HEAD newNonce`, at most `K - 1`
    /// for `K` names, and only by an order whose requests go together); every answer
    /// brings one back, so later requests find them in the pool. A driver that sends one request at a time (hands back
    /// each response before polling again) never has more than one out, whatever this
    /// says; `1` makes every driver send one at a time.
    pub max_requests_in_flight: usize,
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
            // One more try after a timeout: a second silence is the answer. With the
            // drivers' read timeout of 15 s, the silent server's first try ends at 15 s,
            // the resend at the request timeout.
            max_timeout_retries: 1,
            // Well within 45 s even with one resend (see the module docs).
            request_timeout: Duration::from_secs(30),
            transport_backoff: Duration::from_secs(1),
            max_transport_backoff: Duration::from_secs(30),
            // Fast when the server is fast, polite when it is slow: see the module docs.
            poll_initial: Duration::from_millis(25),
            poll_interval: Duration::from_millis(500),
            poll_max: Duration::from_secs(10),
            // certbot gives up after 90 s, instant-acme after 30 s. Real validations
            // take seconds (Pebble without PEBBLE_VA_NOSLEEP sleeps up to 15 s first);
            // 40 s is 11 polls at the default intervals.
            poll_patience: Duration::from_secs(40),
            operation_timeout: Duration::from_secs(600),
            // One round for an order of up to 32 names (Let's Encrypt allows 100 names
            // per certificate: four rounds), without opening hundreds of connections.
            max_requests_in_flight: 32,
            // Expired, or about to: an hour is no certificate to install.
            min_certificate_validity: Duration::from_secs(3600),
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

    /// The wait before poll number `poll` (1-based) of one wait, when the server gave
    /// no `Retry-After`: `poll_initial`, then `poll_interval` growing by half each
    /// time, each capped at `poll_max`.
    pub(crate) fn poll_wait(&self, poll: u32) -> Duration {
        if poll <= 1 {
            return self.poll_initial.min(self.poll_max);
        }
        let mut interval = self.poll_interval;
        for _ in 2..poll.min(64) {
            if interval >= self.poll_max {
                break;
            }
            interval = interval.saturating_add(interval / 2);
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
    fn polling_looks_quickly_then_grows_to_its_cap() {
        let p = Policy::default();
        let ms: alloc::vec::Vec<u128> = (1..=12).map(|n| p.poll_wait(n).as_millis()).collect();
        assert_eq!(
            ms,
            [
                25, 500, 750, 1125, 1687, 2531, 3796, 5695, 8542, 10000, 10000, 10000
            ]
        );
        assert_eq!(p.poll_wait(0), Duration::from_millis(25));
        assert_eq!(p.poll_wait(u32::MAX), Duration::from_secs(10));
        assert!(ms.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn polling_never_exceeds_a_small_cap() {
        let p = Policy {
            poll_max: Duration::from_millis(10),
            ..Policy::default()
        };
        assert!((0..100).all(|n| p.poll_wait(n) <= p.poll_max));
    }
}
