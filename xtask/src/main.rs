//! Project automation: `cargo xtask <command>`.
//!
//! * `test`  — install what a fresh machine lacks, then every check CI runs.
//! * `setup` — only the installs.
//! * `demo`  — a real certificate from a local Pebble, with the tokio driver's example.
//! * `fuzz`  — run the fuzz targets (all, or one) for a while each, with AddressSanitizer.
//! * `bench` — the benchmarks (`bench/`), or `--quick`, the smoke `test` runs.
//! * `wasm`  — the WebAssembly example (`examples/wasm/`) built for Node.js into its `pkg/`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod fuzz;
mod lego;
mod setup;
mod wasm;

use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <test|setup|demo|fuzz|bench|wasm>

  test    install what is missing (Pebble and pebble-challtestsrv v2.10.3 by go install
          into .tools/, Debian's pebble 2.4.0, the thumbv7em-none-eabihf and
          wasm32-unknown-unknown targets, Python's cryptography, cargo-fuzz,
          wasm-bindgen-cli), then run fmt, clippy, the WebAssembly example's checks and
          build, the workspace's tests, docs, the no_std check, the fuzz replay, the bench
          smoke (lego's Go program in bench/lego built first) and the fuzz smoke: exactly
          what CI runs
  setup   only the installs
  demo    start a local Pebble 2.10.3 and challtestsrv, issue a certificate with the tokio
          driver's `issue` example over http-01, print it, stop both servers
  fuzz [TARGET] [--seconds N] [--jobs J] | fuzz --smoke
          run every fuzz target (or TARGET) N seconds each (default 60), J at a time, with
          AddressSanitizer, printing executions, exec/s, corpus size and coverage;
          --smoke: the short run `test` ends with
  bench [--quick]
          the benchmarks in release (the core alone; both drivers, instant-acme and
          lego against a local Pebble 2.10.3, installed first if missing, lego's Go
          program in bench/lego built by go build if missing), printing markdown
          tables and writing the raw figures to target/bench/; --quick: the small run
          `test` makes, asserting that every scenario completes and the request counts,
          never a time
  wasm    install the wasm32-unknown-unknown target and wasm-bindgen-cli (the version
          examples/wasm/Cargo.lock pins) if missing, build the WebAssembly example in
          release and run wasm-bindgen into examples/wasm/pkg/, printing the module's size";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => setup::all().and_then(|()| test()),
        Some("setup") => setup::all(),
        Some("demo") => setup::pebble().and_then(|()| demo()),
        Some("fuzz") => fuzz::command(args.get(1..).unwrap_or_default()),
        // Pebble for the Pebble scenarios, installed first if missing (saying so), and
        // lego's bench program, built if missing or stale.
        Some("bench") => setup::pebble()
            .and_then(|()| lego::build())
            .and_then(|()| bench(args.get(1..).unwrap_or_default())),
        Some("wasm") => wasm::command(args.get(1..).unwrap_or_default()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Every check CI runs, in order of how fast they fail.
fn test() -> Result<(), String> {
    let started = Instant::now();
    let core = ["-p", "acme-proto"];
    lockfiles()?;
    cargo("format", &["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        "clippy (workspace, all features)",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // The WebAssembly example: its own checks, then its build, which the workspace's
    // tests need (tests/tests/wasm.rs runs it in Node.js against Pebble).
    wasm::lint()?;
    wasm::build()?;
    cargo(
        "tests (workspace, all features)",
        // Not the examples: both drivers' are called `issue` and would be built to one
        // path; the Pebble tests build and run each as a user would.
        &[
            "test",
            "--workspace",
            "--all-features",
            "--lib",
            "--bins",
            "--tests",
        ],
        // Pebble and Node were installed above: a test that cannot find them fails
        // here rather than skipping, as it would in a developer's plain `cargo test`.
        &[("CI", "true")],
    )?;
    cargo(
        "doctests (workspace, all features)",
        &["test", "--workspace", "--all-features", "--doc"],
        &[],
    )?;
    // The paths compiled only without `rsa` (RS256 refused with a typed error): the
    // unit tests and the key tests, not every suite again.
    cargo(
        "tests (core, default features)",
        &[&["test"][..], &core, &["--lib", "--test", "crypto_vectors"]].concat(),
        &[],
    )?;
    cargo(
        "docs",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // Clippy on a target without `std`: the no_std check and the lints of the code
    // compiled only without `std`, in one pass (an rlib links nothing, so a build would
    // only add code generation).
    for features in [&[][..], &["--features", "rsa"]] {
        cargo(
            "no_std clippy (core, thumbv7em-none-eabihf)",
            &[
                &["clippy"][..],
                &core,
                &["--no-default-features", "--target", setup::NO_STD_TARGET],
                features,
                &["--", "-D", "warnings"],
            ]
            .concat(),
            &[],
        )?;
    }
    let fuzz = ["--manifest-path", "fuzz/Cargo.toml"];
    // The fuzz crate's dependencies are the workspace's, at the same versions and with
    // the same profiles: in the workspace's target directory, most are already built
    // (the replay's build takes 1¼ min there instead of 3).
    let shared = std::env::var_os("CARGO_TARGET_DIR").is_none();
    let target_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let target_dir = target_dir.to_string_lossy();
    let fuzz_env: &[(&str, &str)] = if shared {
        &[("CARGO_TARGET_DIR", &target_dir)]
    } else {
        &[]
    };
    cargo(
        "format (fuzz crate)",
        &[&["fmt"][..], &fuzz, &["--", "--check"]].concat(),
        &[],
    )?;
    // Without default features: libFuzzer is needed by the target binaries only.
    cargo(
        "clippy (fuzz crate)",
        &[
            &["clippy"][..],
            &fuzz,
            &[
                "--all-targets",
                "--no-default-features",
                "--",
                "-D",
                "warnings",
            ],
        ]
        .concat(),
        fuzz_env,
    )?;
    cargo(
        "fuzz corpus replay",
        &[&["test"][..], &fuzz, &["--no-default-features"]].concat(),
        fuzz_env,
    )?;
    // The benchmarks' smoke: every scenario completes and the request counts hold (no
    // time is asserted); in the shared target directory, where the fuzz crate's build
    // already made most of what it needs.
    let bench = ["--manifest-path", "bench/Cargo.toml"];
    cargo(
        "format (bench crate)",
        &[&["fmt"][..], &bench, &["--", "--check"]].concat(),
        &[],
    )?;
    cargo(
        "clippy (bench crate)",
        &[
            &["clippy"][..],
            &bench,
            &["--all-targets", "--", "-D", "warnings"],
        ]
        .concat(),
        fuzz_env,
    )?;
    lego::build()?;
    cargo(
        "bench --quick",
        &[&["run", "-q"][..], &bench, &["--", "--quick"]].concat(),
        fuzz_env,
    )?;
    // Last: the slowest check, and the one that needs the most CPU.
    fuzz::smoke(fuzz::smoke_seconds()?)?;
    println!("xtask: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The workspaces' lockfiles are checked before anything builds: a build would rewrite a
/// stale one and leave CI building what no one reviewed (`bench/Cargo.lock` once missed
/// the support crate's new dependencies). `cargo xtask` itself runs `--locked` (the alias
/// in `.cargo/config.toml`), for the root workspace.
const WORKSPACES: [&str; 4] = [
    "Cargo.toml",
    "fuzz/Cargo.toml",
    "bench/Cargo.toml",
    "examples/wasm/Cargo.toml",
];

fn lockfiles() -> Result<(), String> {
    for manifest in WORKSPACES {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(manifest);
        let what = format!("lockfile of {manifest} up to date");
        println!("xtask: == {what}: cargo metadata --locked");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "metadata",
                "--locked",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("{what}: could not run cargo: {e}"))?;
        if !out.success() {
            return Err(format!(
                "{what}: no; run `cargo update --workspace --manifest-path {manifest}` and \
                 commit the lockfile"
            ));
        }
    }
    Ok(())
}

/// The benchmarks (`bench/`): in release, or `--quick` (the smoke `test` runs).
fn bench(args: &[String]) -> Result<(), String> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err(format!("usage: cargo xtask bench [--quick], not {args:?}")),
    };
    let target_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let target_dir = target_dir.to_string_lossy();
    let env: &[(&str, &str)] = if std::env::var_os("CARGO_TARGET_DIR").is_none() {
        &[("CARGO_TARGET_DIR", &target_dir)]
    } else {
        &[]
    };
    let bench = ["run", "-q", "--manifest-path", "bench/Cargo.toml"];
    if quick {
        cargo(
            "bench --quick",
            &[&bench[..], &["--", "--quick"]].concat(),
            env,
        )
    } else {
        cargo("bench", &[&bench[..], &["--release"]].concat(), env)
    }
}

/// A real certificate from a local Pebble (`tests/src/bin/demo.rs`).
fn demo() -> Result<(), String> {
    cargo(
        "demo",
        &["run", "-q", "-p", "acme-proto-tests", "--bin", "demo"],
        &[],
    )
}

/// Runs `cargo <args>`, saying what and how long.
fn cargo(what: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    println!("xtask: == {what}: cargo {}", args.join(" "));
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // Incremental caches serve an edit-and-rebuild loop, not a run of every check: in a
    // CI build they were 3 GiB of the target directory. A caller's own setting wins.
    if std::env::var_os("CARGO_INCREMENTAL").is_none() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    let status = command
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("{what}: could not run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("{what} failed ({status})"));
    }
    println!("xtask: == {what}: ok in {:.1?}", started.elapsed());
    Ok(())
}
