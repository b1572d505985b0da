//! The WebAssembly example (`examples/wasm/`) in Node.js against real Pebble: the core
//! built for wasm32-unknown-unknown, its requests sent by `fetch`, its time `Date.now()`,
//! its random bytes `crypto.getRandomValues`, http-01 answered by `node:http`. It issues
//! a certificate with half of the nonces rejected, and the chain verifies to Pebble's
//! root.
//!
//! `cargo xtask wasm` (run by `cargo xtask test` before these tests) builds the module
//! into `examples/wasm/pkg/`. Without it, or without `node`, the tests fail in CI and
//! are skipped elsewhere, saying so on stderr (the convention of `start_or_skip`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use acme_proto_tests::{Pebble, PebbleOptions, start_or_skip, verify_chain};

/// The longest one run of the program may take before it is killed.
const LIMIT: Duration = Duration::from_secs(120);

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `issue.mjs`, once the module is built and `node` runs; `None` (said on stderr) when
/// either is missing outside CI.
fn program() -> Option<PathBuf> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .join("examples/wasm");
    let missing = if !examples.join("pkg/acme_proto_wasm.js").is_file() {
        Some(format!(
            "{} is missing: run `cargo xtask wasm`",
            examples.join("pkg").display()
        ))
    } else if !Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        Some("node is not installed (Node.js 20 or later)".to_owned())
    } else {
        None
    };
    match missing {
        None => Some(examples.join("issue.mjs")),
        Some(why) if ci() => panic!("{why} (CI is set: this fails the test)"),
        Some(why) => {
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// Waits for `child` at most [`LIMIT`] (killing it then), and gives its output.
fn wait_within(mut child: Child, pebble: &Pebble) -> Output {
    let started = Instant::now();
    loop {
        match child.try_wait().expect("waiting for node") {
            Some(_) => return child.wait_with_output().expect("its output"),
            None if started.elapsed() > LIMIT => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("its output");
                panic!(
                    "node still running after {LIMIT:?}, killed; stdout:\n{}\nstderr:\n{}\n\
                     pebble:\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr),
                    pebble.log_tail()
                );
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// `node issue.mjs` for `domains` against `pebble`, answering http-01 on the port
/// Pebble validates on, trusting `ca` (a PEM file) when given, with `extra` arguments.
fn run(
    program: &Path,
    pebble: &mut Pebble,
    domains: &[&str],
    dir: &Path,
    ca: Option<&Path>,
    extra: &[&str],
) -> Output {
    // The program binds Pebble's http-01 port itself.
    let port = pebble.http01_port();
    drop(pebble.take_http01_listener());
    let mut command = Command::new("node");
    command
        .arg(program)
        .args(["--directory", &pebble.directory_url()])
        .args(["--http-port", &port.to_string()])
        .arg("--out")
        .arg(dir.join("chain.pem"))
        .arg("--key-out")
        .arg(dir.join("key.pem"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Only the CA this test says, whatever the environment has.
        .env_remove("NODE_EXTRA_CA_CERTS")
        .env_remove("NODE_OPTIONS");
    for domain in domains {
        command.args(["--domain", domain]);
    }
    command.args(extra);
    if let Some(ca) = ca {
        command.env("NODE_EXTRA_CA_CERTS", ca);
    }
    let child = command.spawn().expect("node starts");
    wait_within(child, pebble)
}

#[test]
fn node_issues_a_certificate_with_half_of_the_nonces_rejected() {
    let Some(program) = program() else {
        return;
    };
    let Some(mut pebble) = start_or_skip(PebbleOptions::default().nonce_reject_percent(50)) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = dir.path().join("root.pem");
    std::fs::write(&ca, pebble.root_pem()).expect("root written");
    let domains = ["wasm.example.org", "www.wasm.example.org"];
    let started = Instant::now();
    let output = run(
        &program,
        &mut pebble,
        &domains,
        dir.path(),
        Some(&ca),
        &["--verbose"],
    );
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}\npebble:\n{}",
        output.status,
        pebble.log_tail()
    );
    // `--verbose`: one line on stderr per exchange.
    let exchanges = stderr.lines().count();
    let bad_nonces = stderr.lines().filter(|l| l.contains(":badNonce")).count();
    eprintln!("node issued in {took:.1?}: {exchanges} exchanges, {bad_nonces} badNonce");
    for domain in domains {
        // Validated for real: Pebble fetched the key authorization from node:http.
        assert!(
            stdout.contains(&format!("presenting http-01 for {domain}\n")),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("issued for wasm.example.org, www.wasm.example.org"),
        "{stdout}"
    );
    let chain = std::fs::read_to_string(dir.path().join("chain.pem")).expect("chain written");
    let roots = pebble.issuer_roots().expect("Pebble's roots");
    verify_chain(&chain, &roots[0], &domains).expect("the chain verifies to Pebble's root");
    let key = std::fs::read_to_string(dir.path().join("key.pem")).expect("key written");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{key}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("key.pem"))
            .expect("key written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by others: {mode:o}");
    }
    // Only the two files: no temporary file left behind.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["chain.pem", "key.pem", "root.pem"]);
}

#[test]
fn an_untrusted_ca_fails_with_one_line_and_frees_the_port() {
    let Some(program) = program() else {
        return;
    };
    let Some(mut pebble) = start_or_skip(PebbleOptions::default()) else {
        return;
    };
    let port = pebble.http01_port();
    let dir = tempfile::tempdir().expect("temporary directory");
    // Pebble's root not trusted: the directory's TLS fails, and is not resent.
    let output = run(
        &program,
        &mut pebble,
        &["wasm.example.org"],
        dir.path(),
        None,
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("issue.mjs: error: the request failed in transport (last: GET https://"),
        "{stderr}"
    );
    assert!(stderr.contains("certificate"), "{stderr}");
    assert!(!dir.path().join("chain.pem").exists());
    // The HTTP server was stopped: the port can be bound again.
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the http-01 port is free");
}
