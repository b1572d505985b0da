//! The DNS hook solver, running a real command as an operator's hook would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use acme_proto::Identifier;
use acme_proto::client::NewAccount;
use acme_proto_fake_ca::hook::{lines, remove, script};
use acme_proto_tokio::{AcmeClient, DnsHook, DriverError};

async fn client(server: &common::CaServer) -> AcmeClient {
    let client = AcmeClient::new(
        server.directory_url.clone(),
        common::key(common::keys::P256),
        server.transport(),
    )
    .unwrap();
    client
        .create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]))
        .await
        .unwrap();
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presents_and_cleans_up_each_record() {
    let server = common::CaServer::start().await;
    let client = client(&server).await;
    let (hook, log) = script("exit 0");
    let names = [
        Identifier::dns("example.org").unwrap(),
        Identifier::dns("*.example.org").unwrap(),
    ];
    client.issue(names, &DnsHook::new(&hook)).await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hook_fails_the_order_with_what_it_said() {
    let server = common::CaServer::start().await;
    let client = client(&server).await;
    let (hook, log) = script("echo 'zone not found' >&2; exit 3");
    let outcome = client
        .issue(
            [Identifier::dns("fail.example.org").unwrap()],
            &DnsHook::new(&hook),
        )
        .await;
    match outcome {
        Err(DriverError::Solver { identifier, source }) => {
            assert_eq!(identifier, Identifier::dns("fail.example.org").unwrap());
            let text = source.to_string();
            assert!(
                text.contains("zone not found") && text.contains("present"),
                "{text}"
            );
        }
        other => panic!("{other:?}"),
    }
    remove(&log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_hook_is_stopped_at_its_timeout() {
    let server = common::CaServer::start().await;
    let client = client(&server).await;
    // `exec`: the hook is the process killed at the timeout, with nothing left behind.
    let (hook, log) = script("exec sleep 30");
    let started = std::time::Instant::now();
    let solver = DnsHook::new(&hook).timeout(Duration::from_millis(300));
    let outcome = client
        .issue([Identifier::dns("slow.example.org").unwrap()], &solver)
        .await;
    assert!(
        matches!(outcome, Err(DriverError::Solver { .. })),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The hook (exec'd into `sleep`, so its PID is the sleep's) was killed at the timeout.
    let pid: u32 = lines(&log)[0].split(' ').next().unwrap().parse().unwrap();
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    };
    for _ in 0..100 {
        if gone() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone(), "the hook process {pid} is still running");
    remove(&log);
}
