//! The Pebble scenarios: acme-proto's two drivers, instant-acme 0.8 and lego v5 against
//! a real local Pebble, each run with a fresh Pebble and in a child process of its own
//! (this binary's `__run`, or lego's Go program in `bench/lego/`).
//!
//! The parent starts Pebble (the integration tests' harness), hands the child the
//! directory, Pebble's root and the http-01 port, and watches the child's progress: a
//! run in which no certificate comes for [`STALL`] while orders are in flight is taken for
//! Pebble's occasional deadlock under concurrent orders (seen on 2.4.0; 2.10's code has
//! the same locks), and both processes are killed and the run tried again with a fresh
//! Pebble, at most twice, saying so. Pebble 2.10.3, the harness's default, is the one run.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use acme_proto_tests::{HarnessError, Pebble, PebbleOptions};
use serde_json::Value;

use crate::child::{Library, Polling, SUBCOMMAND, Spec};
use crate::measure::{Endpoint, Tally, quantile};
use crate::{peers, report};

/// No certificate for this long while orders were in flight (and no order ended but by
/// a timeout): Pebble is taken to be stuck.
const STALL: Duration = Duration::from_secs(20);
/// What lego with its defaults adds to that per name: it polls each authorization of an
/// order in turn, the first wait 5 s ± 50 % after an immediate poll (Pebble sends no
/// Retry-After), then 7.5 s ± 50 %: a certificate of K names may take K × 7.5 s or more.
const LEGO_STALL_PER_NAME: Duration = Duration::from_secs(12);
/// From the child's start to its account on Pebble.
const SETUP_LIMIT: Duration = Duration::from_secs(30);
/// The most one run may take, whatever its progress.
const RUN_LIMIT: Duration = Duration::from_secs(600);
/// Tries of one run: the first and two more after a stall or a crash.
const ATTEMPTS: u32 = 3;

/// What Pebble is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `PEBBLE_VA_NOSLEEP=1 PEBBLE_VA_ALWAYS_VALID=1`: challenges pass at once, unchecked.
    Instant,
    /// `PEBBLE_VA_NOSLEEP=1`: each challenge really validated over http-01, at once.
    Http01,
    /// `PEBBLE_WFE_NONCEREJECT=50` (challenges instant, as in [`Mode::Instant`]).
    NonceReject,
    /// `PEBBLE_VA_SLEEPTIME=S`, no NOSLEEP: real validation after a random 0 to S s.
    Slow(u32),
    /// As [`Mode::Http01`], every connection (the client's to Pebble, Pebble's to the
    /// responder) crossing a proxy that adds this many milliseconds of round trip
    /// ([`crate::latency`]).
    Latency(u32),
}

impl Mode {
    pub fn name(self) -> String {
        match self {
            Self::Instant => "instant validation".into(),
            Self::Http01 => "real http-01".into(),
            Self::NonceReject => "50 % badNonce".into(),
            Self::Slow(s) => format!("slow CA (SLEEPTIME={s})"),
            Self::Latency(ms) => format!("{ms} ms RTT, real http-01"),
        }
    }

    fn options(self) -> PebbleOptions {
        // No authorization reused: every certificate validates each of its names.
        let options = PebbleOptions::default().authz_reuse_percent(0);
        match self {
            Self::Instant => options.always_valid(true),
            Self::Http01 | Self::Latency(_) => options,
            Self::NonceReject => options.always_valid(true).nonce_reject_percent(50),
            Self::Slow(seconds) => options.no_sleep(false).va_sleep_time(seconds),
        }
    }
}

/// One run to make.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub mode: Mode,
    pub library: Library,
    pub polling: Polling,
    pub concurrency: usize,
    pub names: usize,
    pub certificates: usize,
}

impl Plan {
    fn describe(&self) -> String {
        format!(
            "{} | {} ({}) | c = {} | K = {} | {} certificates",
            self.mode.name(),
            self.library.name(),
            self.polling.name(),
            self.concurrency,
            self.names,
            self.certificates
        )
    }
}

/// A run's figures (or why there are none).
#[derive(Debug, Clone)]
pub struct Run {
    pub plan: Plan,
    pub attempts: u32,
    pub notes: Vec<String>,
    /// The child's report; `None` if every attempt failed.
    pub report: Option<Report>,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// Issued certificates' latencies, in ms, sorted.
    pub latencies_ms: Vec<f64>,
    pub failures: usize,
    pub failure_examples: Vec<String>,
    /// Requests of the timed part (from order start to certificate), seen by the client.
    pub timed: Tally,
    /// All the client's requests, account creation included.
    pub total: Tally,
    /// The same, from Pebble's log.
    pub pebble_log: Tally,
    pub wall: Duration,
    pub cpu: Duration,
    pub max_rss_kib: u64,
    /// The peak before the timed part began.
    pub ready_rss_kib: u64,
    /// acme-proto's round trips on the critical path per certificate, from its
    /// transport log (latency runs of its drivers; meaningful at c = 1).
    pub rounds_per_cert: Option<f64>,
}

impl Report {
    pub fn issued(&self) -> usize {
        self.latencies_ms.len()
    }

    pub fn per_cert(&self, value: f64) -> f64 {
        if self.issued() == 0 {
            f64::NAN
        } else {
            value / self.issued() as f64
        }
    }

    pub fn certs_per_sec(&self) -> f64 {
        self.issued() as f64 / self.wall.as_secs_f64()
    }

    pub fn p(&self, q: f64) -> f64 {
        quantile(&self.latencies_ms, q)
    }

    /// Requests per certificate, aside from the ones answered `badNonce` (and resent)
    /// and the newNonce requests that fill the pool while the first orders start.
    pub fn requests_per_cert_in_steady_state(&self) -> f64 {
        let aside = self.timed.bad_nonce + self.timed.get(Endpoint::NewNonce);
        self.per_cert(self.timed.total().saturating_sub(aside) as f64)
    }

    /// Whether the client's counts, account creation included, are Pebble's, endpoint by
    /// endpoint (the directory aside: the harness reads it too, to see Pebble up).
    pub fn agrees_with_pebble_log(&self) -> bool {
        Endpoint::ALL
            .iter()
            .filter(|&&e| e != Endpoint::Directory)
            .all(|&e| self.total.get(e) == self.pebble_log.get(e))
    }

    fn from_child(value: &Value, pebble_log: Tally) -> Self {
        let mut latencies_ms: Vec<f64> = value["latencies_us"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_f64)
                    .map(|us| us / 1e3)
                    .collect()
            })
            .unwrap_or_default();
        latencies_ms.sort_by(f64::total_cmp);
        let micros = |key: &str| Duration::from_micros(value[key].as_u64().unwrap_or(0));
        Self {
            latencies_ms,
            failures: value["failures"].as_u64().unwrap_or(0) as usize,
            failure_examples: value["failure_examples"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            timed: Tally::from_json(&value["timed"]),
            total: Tally::from_json(&value["total"]),
            pebble_log,
            wall: micros("wall_us"),
            cpu: micros("cpu_us"),
            max_rss_kib: value["max_rss_kib"].as_u64().unwrap_or(0),
            ready_rss_kib: value["ready_rss_kib"].as_u64().unwrap_or(0),
            rounds_per_cert: value["rounds_per_cert"].as_f64(),
        }
    }
}

/// The side-by-side runs: every mode, library, polling and shape. Quick: every mode and
/// library at one small shape with the defaults, and acme-proto's tokio driver tuned
/// (a Pebble starts per run, and the start is most of a small run's time).
fn side_by_side(quick: bool) -> Vec<Plan> {
    // (c, K, certificates)
    let shapes: &[(usize, usize, usize)] = if quick {
        &[(3, 2, 3)]
    } else {
        &[(1, 1, 10), (1, 5, 10), (32, 1, 96), (32, 5, 64)]
    };
    let mut plans = Vec::new();
    for mode in [Mode::Instant, Mode::Http01, Mode::NonceReject] {
        for &(concurrency, names, certificates) in shapes {
            for polling in [Polling::Defaults, Polling::Tuned] {
                for library in [
                    Library::Tokio,
                    Library::Blocking,
                    Library::Instant,
                    Library::Lego,
                ] {
                    if quick && polling == Polling::Tuned && library != Library::Tokio {
                        continue;
                    }
                    plans.push(Plan {
                        mode,
                        library,
                        polling,
                        concurrency,
                        names,
                        certificates,
                    });
                }
            }
        }
    }
    plans
}

/// The slow CA's runs: each library's defaults, and acme-proto polling every 5-20 ms
/// for what the server needed; c = 1, K = 1.
fn slow_ca(quick: bool) -> Vec<Plan> {
    // Pebble sleeps a whole number of seconds below the setting: 0 or 1 s with 2.
    let (seconds, certificates) = if quick { (2, 3) } else { (3, 20) };
    [
        (Library::Tokio, Polling::Defaults),
        (Library::Blocking, Polling::Defaults),
        (Library::Instant, Polling::Defaults),
        (Library::Lego, Polling::Defaults),
        (Library::Tokio, Polling::Reference),
    ]
    .into_iter()
    .map(|(library, polling)| Plan {
        mode: Mode::Slow(seconds),
        library,
        polling,
        concurrency: 1,
        names: 1,
        certificates,
    })
    .collect()
}

/// The runs across a network with latency: every library with its defaults, at 50 and
/// 150 ms of round trip, K = 1 and 10, c = 1 and 8. Quick: acme-proto's two drivers at
/// 50 ms, c = 1, K = 3 (lego's 5 s polls and instant-acme's one name after another
/// make theirs a long run: the full run has them).
fn latency(quick: bool) -> Vec<Plan> {
    let mut plans = Vec::new();
    if quick {
        for library in [Library::Tokio, Library::Blocking] {
            plans.push(Plan {
                mode: Mode::Latency(50),
                library,
                polling: Polling::Defaults,
                concurrency: 1,
                names: 3,
                certificates: 2,
            });
        }
        return plans;
    }
    for rtt in [50, 150] {
        // (c, K, certificates)
        for (concurrency, names, certificates) in [(1, 1, 4), (1, 10, 3), (8, 1, 16), (8, 10, 8)] {
            for library in [
                Library::Tokio,
                Library::Blocking,
                Library::Instant,
                Library::Lego,
            ] {
                plans.push(Plan {
                    mode: Mode::Latency(rtt),
                    library,
                    polling: Polling::Defaults,
                    concurrency,
                    names,
                    certificates,
                });
            }
        }
    }
    plans
}

/// Runs every Pebble scenario, prints the tables, writes `pebble.json` (or
/// `pebble-quick.json`) to `out`; with `quick`, asserts what must hold.
pub fn run(quick: bool, filters: &[String], out: &Path) {
    let started = Instant::now();
    let mut runs = Vec::new();
    for (i, plan) in side_by_side(quick).into_iter().enumerate() {
        if wanted(&plan, filters) {
            runs.push(run_with_retries(plan, &format!("r{i}")));
        }
    }
    for (i, plan) in latency(quick).into_iter().enumerate() {
        if wanted(&plan, filters) {
            runs.push(run_with_retries(plan, &format!("l{i}")));
        }
    }
    // The slow CA's runs wait on Pebble's sleeps, not on a core: run side by side, each
    // with its own Pebble.
    let slow: Vec<Run> = std::thread::scope(|scope| {
        let threads: Vec<_> = slow_ca(quick)
            .into_iter()
            .enumerate()
            .filter(|(_, plan)| wanted(plan, filters))
            .map(|(i, plan)| scope.spawn(move || run_with_retries(plan, &format!("s{i}"))))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a slow-CA run panicked"))
            .collect()
    });
    runs.extend(slow);
    let elapsed = started.elapsed();
    report::pebble_tables(&runs);
    println!("\nPebble scenarios: {} runs in {elapsed:.1?}", runs.len());
    report::write_json(
        out,
        if quick {
            "pebble-quick.json"
        } else {
            "pebble.json"
        },
        &runs.iter().map(report::run_json).collect::<Vec<_>>(),
    );
    check(&runs, quick);
}

/// What must hold whatever the machine: asserted in the quick run, warned about in the
/// full one (whose tables already show it).
fn check(runs: &[Run], quick: bool) {
    let mut problems = Vec::new();
    for run in runs {
        let plan = &run.plan;
        let what = plan.describe();
        let Some(report) = &run.report else {
            problems.push(format!("{what}: no attempt completed ({:?})", run.notes));
            continue;
        };
        if matches!(plan.library, Library::Instant | Library::Lego) {
            continue;
        }
        if report.failures > 0 || report.issued() != plan.certificates {
            problems.push(format!(
                "{what}: {} of {} issued, failures: {:?}",
                report.issued(),
                plan.certificates,
                report.failure_examples
            ));
        }
        // The bound is the default schedule's against a server that is done at the first
        // poll: 5 ms polls trade requests for latency, a slow CA or one across latency costs polls, and so
        // does a Pebble saturated by 32 orders at once (it validates and issues in the
        // background, and may still be at it 25 ms later): asserted where Pebble keeps
        // up, at c = 1 and in the quick run's c = 3.
        let bound = (2 * plan.names + 5) as f64;
        let requests = report.requests_per_cert_in_steady_state();
        let bounded = plan.polling == Polling::Defaults
            && !matches!(plan.mode, Mode::Slow(_) | Mode::Latency(_))
            && (quick || plan.concurrency == 1);
        if bounded && requests > bound {
            problems.push(format!(
                "{what}: {requests:.2} requests per certificate (newNonce and badNonce resends aside), bound 2K + 5 = {bound}"
            ));
        }
        // One nonce is left in the pool by the account's creation; each order started
        // beside the first may need one of its own, and each of the first c orders one
        // for each of its K - 1 requests sent beside another (its authorizations
        // fetched together): the answers fill the pool, and no more are needed.
        let new_nonce = report.timed.get(Endpoint::NewNonce);
        let nonce_bound = (plan.concurrency * plan.names) as u64 - 1;
        if new_nonce > nonce_bound {
            problems.push(format!(
                "{what}: {new_nonce} newNonce requests after the account was created, at most cK - 1 = {nonce_bound} expected",
            ));
        }
        // The requests of an order out together: a few round trips, whatever K.
        if let (Mode::Latency(_), 1, Some(rounds)) =
            (plan.mode, plan.concurrency, report.rounds_per_cert)
            && rounds > 9.0
        {
            problems.push(format!(
                "{what}: {rounds:.1} round trips on the critical path per certificate, at most 9 expected"
            ));
        }
        if !report.agrees_with_pebble_log() {
            problems.push(format!(
                "{what}: the observer counted {:?}, Pebble's log {:?}",
                report.total.by_endpoint, report.pebble_log.by_endpoint
            ));
        }
    }
    if problems.is_empty() {
        println!(
            "checks: every run complete; acme-proto within 2K + 5 requests per certificate where Pebble keeps up, at most cK - 1 newNonce, at most 9 round trips on the critical path at c = 1 across latency, its counts the same as Pebble's log"
        );
        return;
    }
    let text = problems.join("\n  ");
    if quick {
        panic!("Pebble scenarios:\n  {text}");
    }
    println!("\nWARNING, what should hold did not:\n  {text}");
}

fn run_with_retries(plan: Plan, label: &str) -> Run {
    eprintln!("bench: {}", plan.describe());
    let mut notes = Vec::new();
    for attempt in 1..=ATTEMPTS {
        match run_once(&plan, &format!("{label}a{attempt}")) {
            Ok(report) => {
                return Run {
                    plan,
                    attempts: attempt,
                    notes,
                    report: Some(report),
                };
            }
            Err(why) => {
                let note = format!("attempt {attempt} of {ATTEMPTS}: {why}");
                eprintln!("bench:   {note}");
                notes.push(note);
            }
        }
    }
    Run {
        plan,
        attempts: ATTEMPTS,
        notes,
        report: None,
    }
}

/// The child process, killed and reaped when dropped.
struct ChildProcess(Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        // An error means it has exited already; `wait` reaps it either way.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Fails at once, naming `cargo xtask setup`, when Pebble is not installed, and naming
/// `cargo xtask bench` when lego's program is missing and a run wanted needs it: before
/// the core scenario runs, so that a missing tool costs nothing.
pub fn require(quick: bool, filters: &[String]) {
    if let Err(error) = start(PebbleOptions::default()) {
        panic!("{error}");
    }
    let lego_wanted = side_by_side(quick)
        .iter()
        .chain(&slow_ca(quick))
        .any(|plan| plan.library == Library::Lego && wanted(plan, filters));
    if lego_wanted {
        peers::lego::require();
    }
}

/// Whether `plan`'s description holds every filter.
fn wanted(plan: &Plan, filters: &[String]) -> bool {
    let text = plan.describe();
    filters.iter().all(|f| text.contains(f.as_str()))
}

/// How long the run may go without a certificate before Pebble is taken to be stuck.
fn stall_limit(plan: &Plan) -> Duration {
    if plan.library == Library::Lego && plan.polling == Polling::Defaults {
        STALL + LEGO_STALL_PER_NAME * u32::try_from(plan.names).unwrap_or(u32::MAX)
    } else {
        STALL
    }
}

/// A Pebble, or why not; a missing one panics: the bench never skips silently.
fn start(options: PebbleOptions) -> Result<Pebble, String> {
    match Pebble::start(options) {
        Ok(pebble) => Ok(pebble),
        Err(error @ HarnessError::NotInstalled { .. }) => panic!(
            "{error}: the Pebble scenarios need pebble and pebble-challtestsrv; install them with `cargo xtask setup`"
        ),
        Err(error) => Err(format!("Pebble did not start: {error}")),
    }
}

fn run_once(plan: &Plan, label: &str) -> Result<Report, String> {
    let mut pebble = start(plan.mode.options())?;
    let mut directory = pebble.directory_url();
    let mut http01_port = pebble.http01_port();
    // With latency: a proxy to Pebble, whose address the client is given, and one on
    // the port Pebble validates, to the child's responder on a port of its own.
    let mut _proxies = Vec::new();
    if let Mode::Latency(ms) = plan.mode {
        let rtt = Duration::from_millis(u64::from(ms));
        let to_pebble = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let api = crate::latency::Proxy::start(to_pebble, pebble.listen_addr(), rtt);
        directory = format!("https://{}/dir", api.addr());
        let responder = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let responder_addr = responder.local_addr().map_err(|e| e.to_string())?;
        // Released for the child to bind (a race with other programs, retried like a
        // stall if lost).
        drop(responder);
        http01_port = responder_addr.port();
        let validation = pebble
            .take_http01_listener()
            .ok_or("Pebble's http-01 port")?;
        _proxies.push(crate::latency::Proxy::start(
            validation,
            responder_addr,
            rtt,
        ));
        _proxies.push(api);
    } else {
        // The child binds the port itself; the harness's listener is closed first.
        drop(pebble.take_http01_listener());
    }
    let spec = Spec {
        library: plan.library,
        polling: plan.polling,
        directory,
        root_pem: pebble.root_pem().to_owned(),
        http01_port,
        rounds: matches!(plan.mode, Mode::Latency(_))
            && matches!(plan.library, Library::Tokio | Library::Blocking),
        certificates: plan.certificates,
        concurrency: plan.concurrency,
        names: plan.names,
        label: label.to_owned(),
    };
    let spec_json = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
    // lego's Go program takes the spec as this binary's `__run` does.
    let mut command = if plan.library == Library::Lego {
        Command::new(peers::lego::program())
    } else {
        let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
        let mut command = Command::new(exe);
        command.arg(SUBCOMMAND);
        command
    };
    let mut child = ChildProcess(
        command
            .arg(&spec_json)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the child: {e}"))?,
    );
    let stdout = child.0.stdout.take().ok_or("the child's stdout")?;
    let (lines, from_child) = mpsc::channel();
    // Ends when the child's stdout closes: when it exits or is killed.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let began = Instant::now();
    let mut last = Instant::now();
    let mut ready = false;
    let mut ended = 0usize;
    let stall = stall_limit(plan);
    let result = loop {
        let limit = if ready { stall } else { SETUP_LIMIT };
        let wait = limit
            .saturating_sub(last.elapsed())
            .min(RUN_LIMIT.saturating_sub(began.elapsed()));
        match from_child.recv_timeout(wait) {
            Ok(line) => {
                if line == "ready" {
                    ready = true;
                    last = Instant::now();
                } else if line.starts_with("cert ") {
                    ended += 1;
                    last = Instant::now();
                } else if let Some(error) = line.strip_prefix("fail ") {
                    // A client that times out against a deadlocked Pebble fails its orders
                    // one by one: that is no progress. Other failures are (instant-acme
                    // gives up after two badNonce resends).
                    ended += 1;
                    if !is_timeout(error) {
                        last = Instant::now();
                    }
                } else if let Some(json) = line.strip_prefix("result ") {
                    break serde_json::from_str::<Value>(json)
                        .map_err(|e| format!("the child's result: {e}"))?;
                }
            }
            Err(RecvTimeoutError::Timeout) if !ready => {
                return Err(format!(
                    "no account within {SETUP_LIMIT:?}; Pebble's log ends: {}",
                    tail(&pebble.log_tail())
                ));
            }
            Err(RecvTimeoutError::Timeout) if began.elapsed() >= RUN_LIMIT => {
                return Err(format!("the run took over {RUN_LIMIT:?}"));
            }
            Err(RecvTimeoutError::Timeout) => {
                // Dropping both kills them: the child first, then Pebble.
                return Err(format!(
                    "stalled: no certificate for {stall:?} (nor any order ended but by a timeout) with {} in flight ({ended} of {} ended); Pebble deadlocked? both killed",
                    plan.concurrency.min(plan.certificates - ended),
                    plan.certificates
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = child.0.wait().map_err(|e| e.to_string())?;
                return Err(format!("the child exited ({status}) without a result"));
            }
        }
    };
    let _ = child.0.wait();
    let log = Tally::from_pebble_log(&pebble.log());
    Ok(Report::from_child(&result, log))
}

/// A failure that says the server did not answer in time (acme-proto's transports).
fn is_timeout(error: &str) -> bool {
    [
        "no complete response within",
        "the server sent nothing for",
        "no connection within",
        "timed out",
    ]
    .iter()
    .any(|sign| error.contains(sign))
}

/// The last line or so of a log, for a note.
fn tail(log: &str) -> String {
    let start = log.len().saturating_sub(300);
    log.get(start..).unwrap_or(log).replace('\n', " | ")
}

impl Tally {
    /// Requests by endpoint as Pebble (2.4.0 and 2.10.3 alike) logs them, one line per request handled:
    /// `… METHOD /path -> calling handler()`.
    fn from_pebble_log(log: &str) -> Self {
        let mut tally = Self::default();
        for endpoint in Endpoint::ALL {
            tally.by_endpoint.insert(endpoint.name().to_owned(), 0);
        }
        for line in log.lines() {
            let Some((before, _)) = line.split_once(" -> calling handler()") else {
                continue;
            };
            let path = before.rsplit(' ').next().unwrap_or_default();
            let endpoint = Endpoint::of_path(path);
            *tally
                .by_endpoint
                .entry(endpoint.name().to_owned())
                .or_insert(0) += 1;
        }
        tally
    }
}
