//! The child side of a Pebble run: `acme-proto-bench __run SPEC` runs one library's
//! orders against the Pebble the parent started, and reports on stdout, one line each:
//! `ready` once its account exists (the timed part starts), `cert MICROS` or
//! `fail MESSAGE` as each order ends (the parent's watchdog sees progress), and last
//! `result JSON` with its counts, its CPU time over the timed part and its peak RSS.

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::measure::{Counts, Usage};
use crate::peers;

/// The hidden subcommand.
pub const SUBCOMMAND: &str = "__run";

/// The contact every account is created with.
pub const CONTACT: &str = "mailto:bench@example.org";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Library {
    /// acme-proto's tokio driver, `AcmeClient::issue` in a task per order.
    Tokio,
    /// acme-proto's blocking driver, a thread per order in flight.
    Blocking,
    /// instant-acme 0.8, a task per order.
    Instant,
    /// lego v5 (Go), a goroutine per order in flight: the Go program in `bench/lego/`,
    /// run by the parent in place of `__run` (see [`crate::peers::lego`]).
    Lego,
}

impl Library {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tokio => "acme-proto tokio",
            Self::Blocking => "acme-proto blocking",
            Self::Instant => "instant-acme 0.8",
            Self::Lego => "lego v5.6.0",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Polling {
    /// The library's own defaults.
    Defaults,
    /// Polls from 5 ms, ×1.5 (acme-proto: `Policy::poll_initial` and `poll_interval`;
    /// instant-acme: a `RetryPolicy` from 5 ms, ×1.5, and TCP_NODELAY on its connections;
    /// lego: authorizations polled from 5 ms, ×1.5, and the order every 5 ms, see
    /// `bench/lego/main.go`).
    Tuned,
    /// acme-proto polling every 5 to 20 ms: sees an authorization valid within 20 ms
    /// of the server making it so (the slow CA's measure of what the server needed).
    Reference,
}

impl Polling {
    pub fn name(self) -> &'static str {
        match self {
            Self::Defaults => "defaults",
            Self::Tuned => "5 ms polls",
            Self::Reference => "5-20 ms polls",
        }
    }
}

/// One run, as the parent asks it of the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub library: Library,
    pub polling: Polling,
    pub directory: String,
    pub root_pem: String,
    /// Where Pebble validates http-01: the child's responder binds 127.0.0.1 there.
    pub http01_port: u16,
    pub certificates: usize,
    pub concurrency: usize,
    /// Names per certificate (K).
    pub names: usize,
    /// Unique to the run, so that no authorization could be reused.
    pub label: String,
    /// Whether to count the round trips on the critical path from acme-proto's
    /// transport log ([`crate::rounds`]): the latency runs of its two drivers.
    #[serde(default)]
    pub rounds: bool,
}

/// The transport log, in a run that counts round trips.
static ROUNDS: std::sync::OnceLock<crate::rounds::TransportLog> = std::sync::OnceLock::new();

impl Spec {
    /// The DNS names of order `order`.
    pub fn names_of(&self, order: usize) -> Vec<String> {
        (0..self.names)
            .map(|i| format!("n{i}.o{order}.{}.example.org", self.label))
            .collect()
    }
}

/// The child's reports to the parent, one line at a time.
#[derive(Debug, Default)]
pub struct Progress {
    lock: Mutex<()>,
}

impl Progress {
    fn line(&self, line: &str) {
        let _held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = std::io::stdout().lock();
        // The parent reads these; a closed pipe means it has gone, and so may we.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    pub fn ready(&self) {
        self.line("ready");
    }

    fn order_done(&self, result: &Result<Duration, String>) {
        match result {
            Ok(latency) => self.line(&format!("cert {}", latency.as_micros())),
            Err(error) => self.line(&format!("fail {}", error.replace('\n', " "))),
        }
    }
}

/// The start of the timed part: counts, CPU time and the clock, taken together.
pub struct Timed {
    tally: crate::measure::Tally,
    usage: Usage,
    started: Instant,
}

impl Timed {
    pub fn start(counts: &Counts) -> Self {
        Self {
            tally: counts.snapshot(),
            usage: Usage::now(),
            started: Instant::now(),
        }
    }

    /// The run's report, from each order's result.
    pub fn finish(self, counts: &Counts, results: Vec<Result<Duration, String>>) -> String {
        let wall = self.started.elapsed();
        let usage = Usage::now();
        let total = counts.snapshot();
        let timed = total.since(&self.tally);
        let latencies: Vec<u128> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().map(Duration::as_micros))
            .collect();
        let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        // Orders one after another (c = 1): the critical path over the timed part is the
        // sum of theirs.
        let rounds_per_cert = ROUNDS.get().filter(|_| !latencies.is_empty()).map(|log| {
            log.critical_path(self.started, Instant::now()) as f64 / latencies.len() as f64
        });
        serde_json::json!({
            "latencies_us": latencies,
            "failures": failures.len(),
            "failure_examples": failures.iter().take(3).collect::<Vec<_>>(),
            "timed": timed.to_json(),
            "total": total.to_json(),
            "wall_us": wall.as_micros(),
            "cpu_us": usage.cpu.saturating_sub(self.usage.cpu).as_micros(),
            "max_rss_kib": usage.max_rss_kib,
            // The peak before the timed part (the runtime, the TLS roots, the account):
            // what the orders in flight added is the difference.
            "ready_rss_kib": self.usage.max_rss_kib,
            "rounds_per_cert": rounds_per_cert,
        })
        .to_string()
    }
}

/// Runs `spec.certificates` orders, `spec.concurrency` at a time, each in a tokio task
/// of its own calling `issue(context, order)`.
pub async fn in_tasks<C, F, Fut>(
    context: Arc<C>,
    spec: &Spec,
    progress: &Arc<Progress>,
    issue: F,
) -> Vec<Result<Duration, String>>
where
    C: Send + Sync + 'static,
    F: Fn(Arc<C>, usize) -> Fut + Send + Copy + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let n = spec.certificates;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..spec.concurrency.clamp(1, n.max(1)) {
        let (context, next, progress) = (context.clone(), next.clone(), progress.clone());
        workers.spawn(async move {
            let mut results = Vec::new();
            loop {
                let order = next.fetch_add(1, Ordering::Relaxed);
                if order >= n {
                    break results;
                }
                let started = Instant::now();
                let result = issue(context.clone(), order)
                    .await
                    .map(|()| started.elapsed());
                progress.order_done(&result);
                results.push(result);
            }
        });
    }
    let mut results = Vec::with_capacity(n);
    while let Some(done) = workers.join_next().await {
        results.extend(done.expect("a worker task panicked"));
    }
    results
}

/// As [`in_tasks`], with a thread per order in flight.
pub fn in_threads<C: Sync>(
    context: &C,
    spec: &Spec,
    progress: &Progress,
    issue: impl Fn(&C, usize) -> Result<(), String> + Sync,
) -> Vec<Result<Duration, String>> {
    let next = AtomicUsize::new(0);
    let n = spec.certificates;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..spec.concurrency.clamp(1, n.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut results = Vec::new();
                    loop {
                        let order = next.fetch_add(1, Ordering::Relaxed);
                        if order >= n {
                            break results;
                        }
                        let started = Instant::now();
                        let result = issue(context, order).map(|()| started.elapsed());
                        progress.order_done(&result);
                        results.push(result);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// The child's entry point.
pub fn main(spec_json: &str) {
    let spec: Spec = serde_json::from_str(spec_json).expect("the parent's spec");
    if spec.rounds {
        let _ = ROUNDS.set(crate::rounds::TransportLog::install());
    }
    let progress = Arc::new(Progress::default());
    let report = match spec.library {
        Library::Tokio => peers::acme_tokio::run(&spec, &progress),
        Library::Blocking => peers::acme_blocking::run(&spec, &progress),
        Library::Instant => peers::instant::run(&spec, &progress),
        Library::Lego => panic!("lego runs as its own program, not as `__run`"),
    };
    progress.line(&format!("result {report}"));
}
