//! The DNS hook solver, running a real command as an operator's hook would.

use std::path::Path;
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto_fake_ca::hook::{lines, remove, script};

use super::support::{CaServer, keys, quick_account};
use crate::driver::{DnsHook, DriverError};

driver_tests!(
    presents_and_cleans_up_each_record,
    a_failing_hook_fails_the_order_with_what_it_said,
    a_hanging_hook_is_stopped_at_its_timeout,
    a_missing_hook_is_a_solver_error,
);

pub async fn presents_and_cleans_up_each_record() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let (hook, log) = script("exit 0");
    let names = [
        Identifier::dns("example.org").unwrap(),
        Identifier::dns("*.example.org").unwrap(),
    ];
    aw!(client.issue(names, &DnsHook::new(&hook))).unwrap();
    let lines = lines(&log);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let presents: Vec<_> = lines.iter().filter(|l| l.contains(" present ")).collect();
    assert_eq!(presents.len(), 2);
    for line in &presents {
        let fields: Vec<_> = line.split(' ').collect();
        assert_eq!(fields[1], "dns-01");
        assert_eq!(fields[4], "_acme-challenge.example.org");
        assert_eq!(fields[5].len(), 43, "the TXT value: {line}");
    }
    // Every record presented is cleaned up with the same name and value.
    // (Compared without the hook's PID, the first field.)
    let without_pid = |l: &String| l.split_once(' ').map(|(_, rest)| rest.to_owned()).unwrap();
    let all: Vec<String> = lines.iter().map(without_pid).collect();
    for line in presents {
        let cleanup = without_pid(line).replace(" present ", " cleanup ");
        assert!(all.contains(&cleanup), "{lines:?}");
    }
    assert!(server.violations().is_empty());
    remove(&log);
}

pub async fn a_failing_hook_fails_the_order_with_what_it_said() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    // More than the 4 KiB kept: the rest is drained, and the hook is not blocked by it.
    let (hook, log) =
        script("echo 'zone not found' >&2; head -c 200000 /dev/zero | tr '\\0' x >&2; exit 3");
    let outcome = aw!(client.issue(
        [Identifier::dns("fail.example.org").unwrap()],
        &DnsHook::new(&hook).timeout(Duration::from_secs(20)),
    ));
    match outcome {
        Err(DriverError::Solver { identifier, source }) => {
            assert_eq!(identifier, Identifier::dns("fail.example.org").unwrap());
            let text = source.to_string();
            assert!(
                text.contains("zone not found") && text.contains("present") && text.len() < 5000,
                "{}",
                &text[..text.len().min(300)]
            );
        }
        other => panic!("{other:?}"),
    }
    // One present, one cleanup: cleanup runs after a failed present too.
    let lines = lines(&log);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains(" cleanup "), "{lines:?}");
    remove(&log);
}

pub async fn a_hanging_hook_is_stopped_at_its_timeout() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    // `exec`: the hook is the process killed at the timeout, with nothing left behind.
    let (hook, log) = script("exec sleep 30");
    let started = Instant::now();
    let solver = DnsHook::new(&hook).timeout(Duration::from_millis(300));
    let outcome = aw!(client.issue([Identifier::dns("slow.example.org").unwrap()], &solver));
    match &outcome {
        Err(DriverError::Solver { source, .. }) => {
            assert!(source.to_string().contains("did not finish"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    // Present and cleanup each ran into the 300 ms limit; nothing waited for the sleep.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The hook (exec'd into `sleep`, so its PID is the sleep's) was killed and reaped:
    // no process, not even a zombie (a driver that reaps in the background gets a
    // moment).
    let pid: u32 = lines(&log)[0].split(' ').next().unwrap().parse().unwrap();
    let gone = || !Path::new(&format!("/proc/{pid}")).exists();
    for _ in 0..100 {
        if gone() {
            break;
        }
        aw!(crate::pause(Duration::from_millis(20)));
    }
    assert!(gone(), "the hook process {pid} is still there");
    remove(&log);
}

pub async fn a_missing_hook_is_a_solver_error() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let outcome = aw!(client.issue(
        [Identifier::dns("none.example.org").unwrap()],
        &DnsHook::new("/nonexistent/acme-hook"),
    ));
    match outcome {
        Err(DriverError::Solver { source, .. }) => {
            assert!(source.to_string().contains("cannot run"), "{source}");
        }
        other => panic!("{other:?}"),
    }
}
