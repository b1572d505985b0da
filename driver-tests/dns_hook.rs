//! The DNS hook solver, running a real command as an operator's hook would.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto_fake_ca::hook::{lines, remove, script};

use super::support::{CaServer, keys, quick_account};
use crate::driver::{DnsHook, DriverError};

driver_tests!(
    presents_and_cleans_up_each_record,
    a_failing_hook_fails_the_order_with_what_it_said,
    a_hanging_hook_is_stopped_at_its_timeout,
    a_hanging_hook_is_stopped_with_what_it_started,
    a_missing_hook_is_a_solver_error,
    the_hook_gets_the_record_after_dashes_and_in_its_environment_and_no_secret,
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
        assert_eq!(fields[4], "--", "{line}");
        assert_eq!(fields[5], "_acme-challenge.example.org");
        assert_eq!(fields[6].len(), 43, "the TXT value: {line}");
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

pub async fn a_hanging_hook_is_stopped_with_what_it_started() {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    // Two children of the hook (one in the background, one it waits for), both holding
    // its standard error; each run adds their PIDs to `started`.
    let (hook, log) = script(
        r#"d=$(dirname "$0")
sleep 30 & echo $! >> "$d/started"
sleep 30 & echo $! >> "$d/started"
wait"#,
    );
    let solver = DnsHook::new(&hook).timeout(Duration::from_millis(500));
    let outcome = aw!(client.issue([Identifier::dns("tree.example.org").unwrap()], &solver));
    match &outcome {
        Err(DriverError::Solver { source, .. }) => {
            assert!(source.to_string().contains("did not finish"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    let started = log.with_file_name("started");
    let pids: Vec<u32> = std::fs::read_to_string(&started)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    // Present and cleanup, two each (if the hook got that far within its 500 ms).
    assert!(!pids.is_empty() && pids.len() <= 4, "{pids:?}");
    // The hook's whole process group was killed: none of what it started is running
    // (a moment given for the signal; a zombie waiting for its new parent counts as
    // gone).
    let running = || -> Vec<u32> { pids.iter().copied().filter(|p| !dead(*p)).collect() };
    for _ in 0..150 {
        if running().is_empty() {
            break;
        }
        aw!(crate::pause(Duration::from_millis(20)));
    }
    assert_eq!(
        running(),
        Vec::<u32>::new(),
        "what the hook started outlived it"
    );
    remove(&log);
}

/// Whether the process `pid` has ended (no such process, or a zombie).
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// The variable the examples take the EAB MAC key from: a hook must never see it.
const SECRET: &str = "ACME_EAB_HMAC_KEY";
/// Set in the run of this test binary that has the secret in its environment.
const IN_CHILD: &str = "ACME_PROTO_TEST_HOOK_ENVIRONMENT";

pub async fn the_hook_gets_the_record_after_dashes_and_in_its_environment_and_no_secret() {
    // The hook inherits this process's environment, which a test cannot change
    // (`set_var` is unsafe): this test runs again in a child of this test binary, with
    // the secret in its environment, and the hook is checked there.
    if std::env::var_os(IN_CHILD).is_none() {
        let module = module_path!().split_once("::").unwrap().1;
        let test = format!(
            "{module}::run::the_hook_gets_the_record_after_dashes_and_in_its_environment_and_no_secret"
        );
        let output = Command::new(std::env::current_exe().unwrap())
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(IN_CHILD, "1")
            .env(SECRET, "c2VjcmV0IGtleQ")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    assert_eq!(std::env::var(SECRET).as_deref(), Ok("c2VjcmV0IGtleQ"));
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    // Each run writes its arguments, its environment and its PID and process group.
    let (hook, log) = script(
        r#"d=$(dirname "$0")
printf '%s\n' "$@" > "$d/argv-$3"
env > "$d/env-$3"
echo "$$ $(cut -d' ' -f5 /proc/$$/stat)" > "$d/group-$3""#,
    );
    let solver = DnsHook::new(&hook).args(["--zone", "example.org"]);
    aw!(client.issue([Identifier::dns("env.example.org").unwrap()], &solver)).unwrap();
    let read = |name: &str| -> Vec<String> {
        let text = std::fs::read_to_string(log.with_file_name(name)).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    };
    let mut problems = Vec::new();
    let record = "_acme-challenge.env.example.org";
    let present = read("argv-present");
    let value = present.last().cloned().unwrap_or_default();
    for step in ["present", "cleanup"] {
        let argv = read(&format!("argv-{step}"));
        let wanted = ["--zone", "example.org", step, "--", record, value.as_str()];
        if argv != wanted || value.len() != 43 {
            problems.push(format!("{step}: arguments {argv:?}, not {wanted:?}"));
        }
        let env = read(&format!("env-{step}"));
        for wanted in [
            format!("ACME_RECORD_NAME={record}"),
            format!("ACME_RECORD_VALUE={value}"),
            "ACME_CHALLENGE_TYPE=dns-01".to_owned(),
            "ACME_IDENTIFIER=env.example.org".to_owned(),
            // The rest of the environment is inherited.
            format!("{IN_CHILD}=1"),
        ] {
            if !env.contains(&wanted) {
                problems.push(format!("{step}: no {wanted} in the environment"));
            }
        }
        if let Some(line) = env.iter().find(|l| l.starts_with(&format!("{SECRET}="))) {
            problems.push(format!("{step}: the hook was given {line}"));
        }
        // The hook leads a process group of its own (what a timeout kills).
        let group = read(&format!("group-{step}"));
        let ids: Vec<&str> = group.first().map_or(vec![], |l| l.split(' ').collect());
        if ids.len() != 2 || ids[0] != ids[1] {
            problems.push(format!("{step}: PID and process group {group:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    remove(&log);
}
