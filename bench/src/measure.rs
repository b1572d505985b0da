//! What a run counts: requests by endpoint (Pebble's paths), `badNonce` answers, and
//! the process's own CPU time and peak RSS.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The ACME resources, as Pebble (2.4.0 and 2.10.3) names their paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Directory,
    NewNonce,
    NewAccount,
    Account,
    NewOrder,
    Authz,
    Challenge,
    Finalize,
    Order,
    Certificate,
    Other,
}

impl Endpoint {
    pub const ALL: [Self; 11] = [
        Self::Directory,
        Self::NewNonce,
        Self::NewAccount,
        Self::Account,
        Self::NewOrder,
        Self::Authz,
        Self::Challenge,
        Self::Finalize,
        Self::Order,
        Self::Certificate,
        Self::Other,
    ];

    /// The endpoint of a URL path on Pebble.
    pub fn of_path(path: &str) -> Self {
        const PREFIXES: [(&str, Endpoint); 10] = [
            ("/dir", Endpoint::Directory),
            ("/nonce-plz", Endpoint::NewNonce),
            ("/sign-me-up", Endpoint::NewAccount),
            ("/my-account/", Endpoint::Account),
            ("/order-plz", Endpoint::NewOrder),
            ("/authZ/", Endpoint::Authz),
            ("/chalZ/", Endpoint::Challenge),
            ("/finalize-order/", Endpoint::Finalize),
            ("/my-order/", Endpoint::Order),
            ("/certZ/", Endpoint::Certificate),
        ];
        PREFIXES
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map_or(Self::Other, |&(_, endpoint)| endpoint)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::NewNonce => "newNonce",
            Self::NewAccount => "newAccount",
            Self::Account => "account",
            Self::NewOrder => "newOrder",
            Self::Authz => "authz",
            Self::Challenge => "challenge",
            Self::Finalize => "finalize",
            Self::Order => "order",
            Self::Certificate => "certificate",
            Self::Other => "other",
        }
    }
}

/// Requests by endpoint, and `badNonce` answers: shared by a run's tasks or threads.
#[derive(Debug, Default)]
pub struct Counts {
    by_endpoint: [AtomicU64; Endpoint::ALL.len()],
    bad_nonce: AtomicU64,
}

impl Counts {
    /// Counts one request to `path` and its answer.
    pub fn record(&self, path: &str, status: u16, body: &[u8]) {
        let endpoint = Endpoint::of_path(path);
        self.by_endpoint[endpoint as usize].fetch_add(1, Ordering::Relaxed);
        if status == 400 && is_bad_nonce(body) {
            self.bad_nonce.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> Tally {
        Tally {
            by_endpoint: Endpoint::ALL
                .iter()
                .map(|&e| {
                    (
                        e.name().to_owned(),
                        self.by_endpoint[e as usize].load(Ordering::Relaxed),
                    )
                })
                .collect(),
            bad_nonce: self.bad_nonce.load(Ordering::Relaxed),
        }
    }
}

/// A `badNonce` problem document.
pub fn is_bad_nonce(body: &[u8]) -> bool {
    body.windows(8).any(|w| w == b"badNonce")
}

/// Counts at one moment, or between two.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub by_endpoint: BTreeMap<String, u64>,
    pub bad_nonce: u64,
}

impl Tally {
    /// What was counted since `earlier`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            by_endpoint: self
                .by_endpoint
                .iter()
                .map(|(k, v)| {
                    let before = earlier.by_endpoint.get(k).copied().unwrap_or(0);
                    (k.clone(), v.saturating_sub(before))
                })
                .collect(),
            bad_nonce: self.bad_nonce.saturating_sub(earlier.bad_nonce),
        }
    }

    pub fn total(&self) -> u64 {
        self.by_endpoint.values().sum()
    }

    pub fn get(&self, endpoint: Endpoint) -> u64 {
        self.by_endpoint.get(endpoint.name()).copied().unwrap_or(0)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "by_endpoint": self.by_endpoint, "bad_nonce": self.bad_nonce })
    }

    pub fn from_json(value: &serde_json::Value) -> Self {
        let by_endpoint = value["by_endpoint"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            by_endpoint,
            bad_nonce: value["bad_nonce"].as_u64().unwrap_or(0),
        }
    }
}

/// This process's CPU time (user + system, all threads) and peak RSS so far.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub cpu: Duration,
    pub max_rss_kib: u64,
}

impl Usage {
    pub fn now() -> Self {
        // SAFETY: `rusage` is plain data, zeroed is a valid value, and getrusage only
        // writes into the struct it is given.
        #[allow(unsafe_code)]
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let status = libc::getrusage(libc::RUSAGE_SELF, &raw mut usage);
            assert_eq!(status, 0, "getrusage(RUSAGE_SELF)");
            usage
        };
        let time = |t: libc::timeval| {
            Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
        };
        Self {
            cpu: time(usage.ru_utime) + time(usage.ru_stime),
            max_rss_kib: peak_rss_kib(),
        }
    }
}

/// This process's peak RSS in KiB: `VmHWM` in `/proc/self/status`, the high-water mark
/// of the memory it has now. Not `ru_maxrss`, which Linux carries over fork and exec:
/// a child started after the parent parked 100,000 orders reported the parent's peak.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The `q`-quantile (0..=1) of `sorted` by nearest rank; 0 for no sample.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_this_process_own() {
        let before = Usage::now().max_rss_kib;
        assert!(before > 0, "no VmHWM in /proc/self/status");
        // 64 MiB touched raise it by about that much.
        let block = vec![1u8; 64 << 20];
        let after = Usage::now().max_rss_kib;
        assert!(
            after >= before + (60 << 10),
            "{before} KiB, then {after} KiB"
        );
        drop(block);
    }

    #[test]
    fn pebble_paths() {
        assert_eq!(Endpoint::of_path("/nonce-plz"), Endpoint::NewNonce);
        assert_eq!(Endpoint::of_path("/my-order/abc"), Endpoint::Order);
        assert_eq!(Endpoint::of_path("/finalize-order/abc"), Endpoint::Finalize);
        assert_eq!(Endpoint::of_path("/roots/0"), Endpoint::Other);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let s = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((quantile(&s, 0.5) - 5.0).abs() < f64::EPSILON);
        assert!((quantile(&s, 0.9) - 9.0).abs() < f64::EPSILON);
        assert!((quantile(&[3.0], 0.9) - 3.0).abs() < f64::EPSILON);
    }
}
