//! The embedding programs of `examples/` against real Pebble, run as a user would run
//! them: each issues a certificate over real http-01 validation with half of the nonces
//! rejected, and the chain verifies to Pebble's root.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use acme_proto_tests::{Pebble, PebbleOptions, program_binary, start_or_skip, verify_chain};

/// Pebble for these programs: real http-01 validation, half of the nonces rejected.
fn pebble() -> Option<Pebble> {
    start_or_skip(PebbleOptions::default().nonce_reject_percent(50))
}

/// Waits for `child` at most `limit` (killing it then), and gives its output.
fn wait_within(child: Child, limit: Duration) -> Output {
    wait_counting_threads(child, limit).0
}

/// A program of `examples/` ready to run against a Pebble of its own: its binary, a
/// temporary directory holding Pebble's root, and Pebble's http-01 port, left free for
/// the program to bind.
struct Setup {
    pebble: Pebble,
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Setup {
    fn new(program: &str) -> Option<Self> {
        let mut pebble = pebble()?;
        let binary = program_binary("acme-proto-examples", program).expect("it builds");
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("root.pem"), pebble.root_pem()).expect("root written");
        let port = pebble.http01_port();
        drop(pebble.take_http01_listener());
        Some(Self {
            pebble,
            binary,
            dir,
            port,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The program with `--directory`, `--ca-cert` and `--http-port` given.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(["--directory", &self.pebble.directory_url()])
            .arg("--ca-cert")
            .arg(self.path("root.pem"))
            .args(["--http-port", &self.port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

#[test]
fn smol_issue() {
    let Some(setup) = Setup::new("smol-issue") else {
        return;
    };
    let child = setup
        .command()
        .arg("--account")
        .arg(setup.path("account.json"))
        .args(["--domain", "smol.example.org"])
        .args(["--domain", "www.smol.example.org"])
        .args(["--challenge", "http-01", "--listen", "127.0.0.1"])
        .arg("--out")
        .arg(setup.path("chain.pem"))
        .arg("--key-out")
        .arg(setup.path("key.pem"))
        .spawn()
        .expect("it runs");
    let output = wait_within(child, Duration::from_secs(120));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let chain = std::fs::read_to_string(setup.path("chain.pem")).expect("chain written");
    let roots = setup.pebble.issuer_roots().expect("roots");
    verify_chain(
        &chain,
        &roots[0],
        &["smol.example.org", "www.smol.example.org"],
    )
    .expect("the chain verifies to Pebble's root");
    let key = std::fs::read_to_string(setup.path("key.pem")).expect("key written");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(setup.path("account.json").exists(), "account saved");
}

/// The most threads `pid` had, sampled every 10 ms until `child` exits (or `limit`).
fn wait_counting_threads(mut child: Child, limit: Duration) -> (Output, usize) {
    let status = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut most = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(threads) = text
                .lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<usize>().ok())
        {
            most = most.max(threads);
        }
        if child.try_wait().expect("waiting").is_some() {
            return (child.wait_with_output().expect("its output"), most);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("its output");
            panic!(
                "still running after {limit:?}, killed; stderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Twenty orders at once on one thread: every certificate issued and verified, the
/// requests of different orders interleaved on the loop, one thread all along.
#[test]
fn event_loop_twenty_orders_on_one_thread() {
    const ORDERS: usize = 20;
    let Some(setup) = Setup::new("event-loop") else {
        return;
    };
    let domains: Vec<String> = (0..ORDERS)
        .map(|i| format!("loop{i:02}.example.org"))
        .collect();
    let out = setup.path("certs");
    let mut command = setup.command();
    command.arg("--log").arg("--out-dir").arg(&out);
    for domain in &domains {
        command.args(["--domain", domain]);
    }
    let child = command.spawn().expect("it runs");
    let (output, threads) = wait_counting_threads(child, Duration::from_secs(180));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(threads, 1, "the event loop ran on {threads} threads");
    let roots = setup.pebble.issuer_roots().expect("roots");
    for domain in &domains {
        let chain = std::fs::read_to_string(out.join(format!("{domain}.pem")))
            .unwrap_or_else(|e| panic!("{domain}'s chain: {e}"));
        verify_chain(&chain, &roots[0], &[domain]).expect("the chain verifies to Pebble's root");
        assert!(out.join(format!("{domain}.key.pem")).exists());
    }
    // The log names the order of each request as it is sent ("loop03.example.org: POST
    // …"). Interleaved: every order's requests span those of every other order (all
    // were created before any finished), and the order changes from one request to the
    // next far more often than once per order.
    let sequence: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once(": ").map(|(name, _)| name))
        .filter(|name| name.starts_with("loop"))
        .collect();
    let span = |name: &str| {
        let first = sequence.iter().position(|n| *n == name).expect("requests");
        let last = sequence.iter().rposition(|n| *n == name).expect("requests");
        (first, last)
    };
    let spans: Vec<(usize, usize)> = domains.iter().map(|d| span(d)).collect();
    let latest_start = spans.iter().map(|s| s.0).max().expect("orders");
    let earliest_end = spans.iter().map(|s| s.1).min().expect("orders");
    assert!(
        latest_start < earliest_end,
        "some order finished its requests before another sent its first:\n{stdout}"
    );
    let changes = sequence.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        changes >= 3 * ORDERS,
        "only {changes} changes of order in {} requests:\n{stdout}",
        sequence.len()
    );
    eprintln!(
        "{ORDERS} orders: {} requests, the order changing {changes} times, on {threads} thread",
        sequence.len()
    );
}

/// The blocking driver from smol: several orders at once on smol's blocking pool, each
/// certificate issued and verified.
#[test]
fn smol_blocking_several_orders_at_once() {
    let Some(setup) = Setup::new("smol-blocking") else {
        return;
    };
    let domains = [
        "b1.example.org",
        "b2.example.org",
        "b3.example.org",
        "b4.example.org",
    ];
    let out = setup.path("certs");
    let mut command = setup.command();
    command.arg("--out-dir").arg(&out);
    for domain in domains {
        command.args(["--domain", domain]);
    }
    let child = command.spawn().expect("it runs");
    let output = wait_within(child, Duration::from_secs(120));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let roots = setup.pebble.issuer_roots().expect("roots");
    for domain in domains {
        let chain = std::fs::read_to_string(out.join(format!("{domain}.pem")))
            .unwrap_or_else(|e| panic!("{domain}'s chain: {e}"));
        verify_chain(&chain, &roots[0], &[domain]).expect("the chain verifies to Pebble's root");
    }
}
