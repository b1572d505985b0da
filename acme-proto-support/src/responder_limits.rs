//! The built-in responders' limits on connections (how many from one source, how many
//! in all, how long a request head may take), and their bookkeeping, shared by both
//! drivers' accept loops.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How much of itself a built-in responder (`Http01Responder`, `TlsAlpn01Responder`)
/// gives to connections, so that a flood of them cannot keep a validation server out.
/// Give it to `bind_with` or `from_listener_with`; `bind` uses [`Default`].
///
/// # The policy
///
/// Every connection is accepted at once, always: the listener's backlog never fills,
/// so a validation server's connection is never left waiting behind a flood. A
/// connection is then served if the responder holds fewer than [`total`](Self::total)
/// in all (default 256), and either
///
/// * fewer than half the total, whatever its source (a CA validating a 100-name order
///   may open 100 connections at once from one address), or
/// * its source holds fewer than [`per_source`](Self::per_source) connections open
///   (default 8);
///
/// otherwise it is closed at once. A source is an IPv4 address, or the /64 prefix of an
/// IPv6 address (a single host is commonly given a whole /64, and could otherwise open
/// connections from as many addresses as it likes); an IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`, what a dual-stack `[::]` listener sees) is its IPv4 address.
///
/// So one source can take at most half the total (or `per_source`, if larger), and the
/// other half is kept for sources under their share: with the defaults, a new source
/// (the validation server's, each of its vantage points being one) is served as long as
/// fewer than 16 sources flood it at once, however fast each opens connections. Each served connection has [`head_timeout`](Self::head_timeout)
/// (default 3 s) for its whole request head (http-01) or its whole TLS handshake
/// (tls-alpn-01), and is then dropped, so an idle one is not held longer; past the head,
/// the answer has a few more seconds to be written. http-01 answers one request per
/// connection (no keep-alive).
///
/// Closed connections are logged at warn, at most once a minute (with their number):
/// raise `total` (and `per_source`) if that warning comes with failed validations, as
/// when one responder serves many concurrent orders of many names each (a load test:
/// give it `per_source` equal to `total`).
///
/// # Behind a load balancer or a proxy
///
/// Every connection then comes from the balancer's address (or a few of them), so the
/// per-source limit applies to all of them together: raise `per_source` to `total`
/// (`ResponderLimits::default().per_source(256)`) and let the balancer limit each
/// client, or better, expose the responder's port directly (the responders do not read
/// the PROXY protocol or `X-Forwarded-For`).
///
/// ```
/// use std::time::Duration;
/// use acme_proto_support::ResponderLimits;
///
/// let limits = ResponderLimits::default()
///     .per_source(4)
///     .total(64)
///     .head_timeout(Duration::from_secs(5));
/// assert_eq!((limits.per_source, limits.total), (4, 64));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponderLimits {
    /// The most connections served at once from one source (an IPv4 address, an IPv6
    /// /64); 0 is taken as 1.
    pub per_source: usize,
    /// The most connections served at once in all; 0 is taken as 1.
    pub total: usize,
    /// How long a connection has for its whole request head (http-01) or TLS handshake
    /// (tls-alpn-01) before it is dropped. A validation server sends it at once: a few
    /// seconds is plenty. At most an hour (longer is taken as an hour).
    pub head_timeout: Duration,
}

impl ResponderLimits {
    /// The default [`per_source`](Self::per_source): 8.
    pub const DEFAULT_PER_SOURCE: usize = 8;
    /// The default [`total`](Self::total): 256.
    pub const DEFAULT_TOTAL: usize = 256;
    /// The default [`head_timeout`](Self::head_timeout): 3 s.
    pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(3);

    /// Sets [`per_source`](Self::per_source) (0 is taken as 1).
    #[must_use]
    pub fn per_source(mut self, connections: usize) -> Self {
        self.per_source = connections.max(1);
        self
    }

    /// Sets [`total`](Self::total) (0 is taken as 1).
    #[must_use]
    pub fn total(mut self, connections: usize) -> Self {
        self.total = connections.max(1);
        self
    }

    /// Sets [`head_timeout`](Self::head_timeout).
    #[must_use]
    pub fn head_timeout(mut self, timeout: Duration) -> Self {
        self.head_timeout = timeout;
        self
    }
}

impl Default for ResponderLimits {
    fn default() -> Self {
        Self {
            per_source: Self::DEFAULT_PER_SOURCE,
            total: Self::DEFAULT_TOTAL,
            head_timeout: Self::DEFAULT_HEAD_TIMEOUT,
        }
    }
}

/// The longest head timeout (a deadline past it would overflow a clock's `Instant`).
const MAX_HEAD_TIMEOUT: Duration = Duration::from_secs(3600);

/// How often refusals are logged (a flood must not flood the log too).
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// A responder's count of open connections, by source and in all: [`admit`](Self::admit)
/// says whether an accepted connection is served, and the [`Admission`] it hands out
/// counts it until dropped. Cloned, it is the same count.
#[derive(Clone, Debug)]
pub struct ConnectionLimiter {
    what: &'static str,
    limits: ResponderLimits,
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
    /// Refusals not yet logged, and when they last were.
    refused: u64,
    reported: Option<Instant>,
}

impl ConnectionLimiter {
    /// The limiter of the responder named `what` (for its logs).
    pub fn new(what: &'static str, limits: ResponderLimits) -> Self {
        let limits = ResponderLimits {
            per_source: limits.per_source.max(1),
            total: limits.total.max(1),
            head_timeout: limits.head_timeout.min(MAX_HEAD_TIMEOUT),
        };
        Self {
            what,
            limits,
            counts: Arc::default(),
        }
    }

    /// The responder's name, for its logs (`http-01`, `tls-alpn-01`).
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The limits it enforces (0 taken as 1, the head timeout at most an hour).
    pub fn limits(&self) -> ResponderLimits {
        self.limits
    }

    /// A connection just accepted from `peer`: counted and served (`Some`, for as long
    /// as the admission lives), or over a limit (`None`: close it at once). Refusals are
    /// logged at warn, at most once a minute with their number.
    pub fn admit(&self, peer: IpAddr) -> Option<Admission> {
        let source = source_of(peer);
        let mut counts = self.lock();
        let held = counts.by_source.get(&source).copied().unwrap_or(0);
        // Below half the total, any source gets in (a CA validating a 100-name order
        // opens that many connections at once from one address); past it, only a source
        // under its share, so that one source can never take the other half.
        let under_pressure = counts.total >= self.limits.total / 2;
        if counts.total < self.limits.total && (held < self.limits.per_source || !under_pressure) {
            counts.total += 1;
            counts.by_source.insert(source, held + 1);
            return Some(Admission {
                counts: Arc::clone(&self.counts),
                source,
            });
        }
        counts.refused += 1;
        let now = Instant::now();
        if counts
            .reported
            .is_none_or(|at| now.duration_since(at) >= REPORT_EVERY)
        {
            tracing::warn!(
                refused = counts.refused,
                %source,
                source_held = held,
                total_held = counts.total,
                per_source = self.limits.per_source,
                total = self.limits.total,
                "{} responder: connections closed over its limits (logged at most once a minute)",
                self.what,
            );
            counts.refused = 0;
            counts.reported = Some(now);
        }
        None
    }

    /// How many connections are open, in all and from `peer`'s source.
    pub fn open(&self, peer: IpAddr) -> (usize, usize) {
        let counts = self.lock();
        let from = counts.by_source.get(&source_of(peer)).copied();
        (counts.total, from.unwrap_or(0))
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        lock(&self.counts)
    }
}

/// A connection counted by a [`ConnectionLimiter`] until this is dropped (with the
/// connection's task or thread).
#[derive(Debug)]
#[must_use = "the connection is counted only while its admission lives"]
pub struct Admission {
    counts: Arc<Mutex<Counts>>,
    source: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(held) = counts.by_source.get_mut(&self.source) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                counts.by_source.remove(&self.source);
            }
        }
    }
}

/// The counts stay right even if a holder panicked (every update is one step).
fn lock(counts: &Mutex<Counts>) -> MutexGuard<'_, Counts> {
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The source a connection is counted under: an IPv4 address (IPv4-mapped IPv6
/// included), or an IPv6 address's /64 prefix.
fn source_of(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// `n` connections from `n` sources (198.18.x.y) of their own.
    fn fill(limiter: &ConnectionLimiter, n: u16) -> Vec<Admission> {
        (0..n)
            .map(|i| {
                let [hi, lo] = i.to_be_bytes();
                limiter.admit(IpAddr::from([198, 18, hi, lo])).unwrap()
            })
            .collect()
    }

    #[test]
    fn one_source_takes_half_the_total_then_only_its_share() {
        let limiter =
            ConnectionLimiter::new("test", ResponderLimits::default().per_source(2).total(10));
        let burst: Vec<_> = (0..6).map(|_| limiter.admit(ip("192.0.2.1"))).collect();
        let admitted = burst.iter().filter(|a| a.is_some()).count();
        assert_eq!(admitted, 5, "half the total, from one source");
        // The other half is for sources under their share.
        let others: Vec<_> = (2..=6)
            .map(|i| limiter.admit(IpAddr::from([192, 0, 2, i])))
            .collect();
        assert!(others.iter().all(Option::is_some));
        assert!(limiter.admit(ip("192.0.2.7")).is_none(), "full");
    }

    #[test]
    fn one_source_is_held_to_its_limit_and_others_still_get_in() {
        let limiter =
            ConnectionLimiter::new("test", ResponderLimits::default().per_source(2).total(5));
        let a: Vec<_> = (0..3).map(|_| limiter.admit(ip("192.0.2.1"))).collect();
        assert!(a[0].is_some() && a[1].is_some() && a[2].is_none());
        assert!(limiter.admit(ip("192.0.2.2")).is_some(), "dropped at once");
        let b = limiter.admit(ip("192.0.2.2"));
        let c = limiter.admit(ip("192.0.2.3"));
        let d = limiter.admit(ip("192.0.2.3"));
        assert!(b.is_some() && c.is_some() && d.is_some());
        assert_eq!(limiter.open(ip("192.0.2.3")), (5, 2));
        // Full: a new source is refused too, until a connection ends.
        assert!(limiter.admit(ip("192.0.2.4")).is_none());
        drop(b);
        assert!(limiter.admit(ip("192.0.2.4")).is_some());
        drop(a);
        assert_eq!(limiter.open(ip("192.0.2.1")), (2, 0));
        drop((c, d));
        assert_eq!(limiter.open(ip("192.0.2.3")), (0, 0));
        assert!(
            lock(&limiter.counts).by_source.is_empty(),
            "no source left behind"
        );
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let limiter =
            ConnectionLimiter::new("test", ResponderLimits::default().per_source(1).total(8));
        let _pressure = fill(&limiter, 4);
        let _a = limiter.admit(ip("2001:db8:1:2::1")).unwrap();
        assert!(
            limiter.admit(ip("2001:db8:1:2:ffff::9")).is_none(),
            "same /64"
        );
        assert!(
            limiter.admit(ip("2001:db8:1:3::1")).is_some(),
            "another /64"
        );
        let _v4 = limiter.admit(ip("192.0.2.1")).unwrap();
        assert!(
            limiter.admit(ip("::ffff:192.0.2.1")).is_none(),
            "the same IPv4 source"
        );
    }

    #[test]
    fn zero_limits_are_taken_as_one() {
        let limits = ResponderLimits::default().per_source(0).total(0);
        assert_eq!((limits.per_source, limits.total), (1, 1));
        let raw = ResponderLimits {
            per_source: 0,
            ..ResponderLimits::default()
        };
        let limiter = ConnectionLimiter::new("test", raw);
        let _pressure = fill(&limiter, 128);
        let _one = limiter.admit(ip("192.0.2.1")).unwrap();
        assert!(limiter.admit(ip("192.0.2.1")).is_none());
    }
}
