//! The examples' `--order-state`, against real Pebble: the process is killed (SIGKILL)
//! at each quiescent point of a two-name order, then run again with the same state
//! file; every run must end with a verified chain, one new-order request per
//! certificate, and every challenge a killed run presented cleaned up by the run that
//! resumed it.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acme_proto_tests::{PebbleOptions, start_or_skip, verify_chain};

/// Where a run is killed: the example kills itself (SIGKILL) right after printing
/// its `at`-th progress line containing one of the texts, given to it in the variable
/// below as `TEXT[|TEXT…]#N`. Killing it from here on reading the line would race with
/// what the run does next: a challenge answered and validated at once by Pebble while
/// no process serves it any more.
struct KillPoint {
    name: &'static str,
    at: &'static str,
}

/// The variable `examples-support/src/order_state.rs` reads (`KILL_AT` there).
const KILL_AT: &str = "ACME_PROTO_EXAMPLE_KILL_AT";

const SAVED: &str = "issue: order state saved: ";
const PRESENTED: &str = "issue: challenge presented: ";
const CLEANED: &str = "issue: challenge cleaned up: ";

const KILL_POINTS: [KillPoint; 4] = [
    KillPoint {
        name: "after creation",
        at: "order state saved: #1",
    },
    KillPoint {
        name: "after the first challenge is presented",
        at: "challenge presented: #1",
    },
    KillPoint {
        name: "after the second challenge is presented",
        at: "challenge presented: #2",
    },
    KillPoint {
        name: "after finalize",
        at: "saved: status processing|saved: status valid#1",
    },
];

/// A whole run can take this long on a loaded machine; the example's own deadlines are
/// shorter.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One run of the example: its standard error's lines, and whether it was killed.
struct Run {
    lines: Vec<String>,
    killed: bool,
    success: bool,
}

impl Run {
    fn urls(&self, prefix: &str) -> BTreeSet<String> {
        self.lines
            .iter()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(str::to_owned)
            .collect()
    }
}

/// Runs `command` to its end (killed at `kill_at`, when given), collecting its standard
/// error's lines.
fn run(mut command: Command, kill_at: Option<&str>) -> Run {
    if let Some(at) = kill_at {
        command.env(KILL_AT, at);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let stderr = child.stderr.take().expect("piped");
    let (send, receive) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut lines = Vec::new();
    loop {
        let left = RUN_LIMIT.saturating_sub(started.elapsed());
        match receive.recv_timeout(left) {
            Ok(line) => lines.push(line),
            // Standard error closed: the process ended.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the example ran for over {RUN_LIMIT:?}: {lines:#?}");
            }
        }
    }
    let status = child.wait().expect("wait");
    drop(receive);
    reader.join().expect("the reader ends");
    #[cfg(unix)]
    let killed = {
        use std::os::unix::process::ExitStatusExt as _;
        status.signal() == Some(9)
    };
    #[cfg(not(unix))]
    let killed = false;
    Run {
        lines,
        killed,
        success: status.success(),
    }
}

/// New-order requests in Pebble's log.
fn new_orders(log: &str) -> usize {
    log.lines()
        .filter(|line| line.contains("POST /order-plz"))
        .count()
}

pub fn crash_and_resume(package: &str) {
    let Some(mut pebble) = start_or_skip(PebbleOptions::default()) else {
        return;
    };
    let binary = acme_proto_tests::example_binary(package).expect("the example builds");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("root.pem"), pebble.root_pem()).expect("root");
    let port = pebble.http01_port();
    drop(pebble.take_http01_listener());
    let roots = pebble.issuer_roots().expect("roots");
    let orders_before = new_orders(&pebble.log());

    let mut kills = 0;
    let mut resumes = 0;
    for (i, point) in KILL_POINTS.iter().enumerate() {
        let names = [
            format!("crash{i}-a.example.org"),
            format!("crash{i}-b.example.org"),
        ];
        let state = path(&format!("order-{i}.json"));
        let (chain, key) = (
            path(&format!("chain-{i}.pem")),
            path(&format!("key-{i}.pem")),
        );
        let command = || {
            let mut command = Command::new(&binary);
            command
                .args([
                    "--directory",
                    &pebble.directory_url(),
                    "--ca-cert",
                    &path("root.pem"),
                ])
                .args(["--account", &path("account.json")])
                .args(["--domain", &names[0], "--domain", &names[1]])
                .args(["--http-port", &port.to_string(), "--listen", "127.0.0.1"])
                .args(["--out", &chain, "--key-out", &key])
                .args(["--order-state", &state, "--verbose"]);
            command
        };

        let killed = run(command(), Some(point.at));
        assert!(
            killed.killed,
            "{package}, {}: never reached: {:#?}",
            point.name, killed.lines
        );
        // Killed at the line asked for, and not later.
        let last = killed.lines.last().map_or("", String::as_str);
        let texts = point
            .at
            .rsplit_once('#')
            .map_or(point.at, |(texts, _)| texts);
        assert!(
            (last.starts_with(SAVED) || last.starts_with(PRESENTED))
                && texts.split('|').any(|text| last.contains(text)),
            "{package}, {}: killed after {last:?}",
            point.name
        );
        kills += 1;
        assert!(
            Path::new(&state).exists(),
            "{package}, {}: no order state saved: {:#?}",
            point.name,
            killed.lines
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&state)
                .expect("state")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the state holds the certificate key");
        }
        assert!(
            !Path::new(&chain).exists(),
            "killed before the chain was written"
        );

        let resumed = run(command(), None);
        resumes += 1;
        assert!(
            resumed.success,
            "{package}, resumed {}: {:#?}",
            point.name, resumed.lines
        );
        let pem = std::fs::read_to_string(&chain).expect("chain written");
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        verify_chain(&pem, &roots[0], &names).expect("the chain validates");
        assert!(
            !Path::new(&state).exists(),
            "the state is removed once the certificate is written"
        );
        // The key written is the one the certificate is for: the one saved with the
        // state before the CSR was sent, when the crash came after finalize.
        let key_pem = std::fs::read_to_string(&key).expect("key written");
        let pair = rcgen::KeyPair::from_pem(&key_pem).expect("the key reads back");
        let issued = acme_proto::CertificateChain::from_pem(&pem).expect("the chain reads");
        assert_eq!(
            issued.end_entity().public_key(),
            rcgen::PublicKeyData::subject_public_key_info(&pair),
            "{package}, {}: the certificate is for the key written",
            point.name
        );

        // Every challenge the killed run presented was cleaned up: by that run, before
        // it was killed, or by the run that resumed its order. And the resumed run's own.
        let presented = killed.urls(PRESENTED);
        let cleaned: BTreeSet<String> = killed
            .urls(CLEANED)
            .union(&resumed.urls(CLEANED))
            .cloned()
            .collect();
        assert!(
            presented.is_subset(&cleaned) && resumed.urls(PRESENTED).is_subset(&cleaned),
            "{package}, {}: presented {presented:?} then {:?}, cleaned up {cleaned:?}",
            point.name,
            resumed.urls(PRESENTED)
        );
    }
    let orders = new_orders(&pebble.log()) - orders_before;
    eprintln!(
        "{package}: {kills} kills, {resumes} resumes, {orders} new-order requests for {} certificates",
        KILL_POINTS.len()
    );
    assert_eq!(
        orders,
        KILL_POINTS.len(),
        "{package}: one new-order request per certificate:\n{}",
        pebble.log_tail()
    );
}
