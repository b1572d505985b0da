//! `cargo xtask fuzz [TARGET] [--seconds N]`, and the fuzz checks of `cargo xtask test`.
//!
//! Each target runs under libFuzzer with AddressSanitizer, on the stable toolchain
//! (`RUSTC_BOOTSTRAP=1 cargo fuzz run …`: `--sanitizer none` was found to miss easy
//! bugs). libFuzzer's output goes to `fuzz/target/xtask-fuzz/TARGET.log`; what is
//! printed is read from it: executions, executions per second, corpus size and how
//! far coverage grew. A crash, leak or timeout fails the run, with the input's path.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The repository root (this crate lives in `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

const USAGE: &str = "usage: cargo xtask fuzz [TARGET] [--seconds N] [--jobs J]
       cargo xtask fuzz --smoke

  Runs every fuzz target (or TARGET) for N seconds each (default 60) with
  AddressSanitizer, J targets at a time (default 1), adding what it finds to
  fuzz/corpus/TARGET/. Installs cargo-fuzz when missing. Minimize a corpus before
  committing it: see fuzz/README.md.

  --smoke runs exactly what `cargo xtask test` runs last: every target for
  ACME_PROTO_FUZZ_SMOKE_SECONDS (15), one per core, new inputs kept out of the corpus.";

/// `cargo xtask fuzz …`.
pub(crate) fn command(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut seconds = 60;
    let mut jobs = 1;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("--seconds takes a number\n\n{USAGE}"))?;
            }
            "--jobs" => {
                jobs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--jobs takes a positive number\n\n{USAGE}"))?;
            }
            "--smoke" => {
                crate::setup::cargo_fuzz()?;
                return smoke(smoke_seconds()?);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            name if !name.starts_with('-') && target.is_none() => target = Some(name.to_owned()),
            other => return Err(format!("unexpected argument {other:?}\n\n{USAGE}")),
        }
    }
    crate::setup::cargo_fuzz()?;
    let all = targets()?;
    let chosen = match target {
        Some(name) if all.contains(&name) => vec![name],
        Some(name) => {
            return Err(format!(
                "no fuzz target {name:?}; there are: {}",
                all.join(", ")
            ));
        }
        None => all,
    };
    run(&chosen, seconds, Corpus::Grow, jobs)
}

/// The smoke run of `cargo xtask test`: every target for `seconds`, as many at a time
/// as there are cores (libFuzzer uses one), new inputs kept out of the committed
/// corpora.
pub(crate) fn smoke(seconds: u64) -> Result<(), String> {
    let targets = targets()?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    run(&targets, seconds, Corpus::Scratch, jobs)
}

/// Where libFuzzer writes the inputs it finds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Corpus {
    /// Into `fuzz/corpus/TARGET/` (a campaign).
    Grow,
    /// Into a scratch directory, the committed corpus read only (CI: the work tree
    /// stays clean).
    Scratch,
}

/// The fuzz targets, as cargo-fuzz lists them.
fn targets() -> Result<Vec<String>, String> {
    let out = Command::new(cargo())
        .args(["fuzz", "list"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let list: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        return Err("cargo fuzz list printed no target".into());
    }
    Ok(list)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// `cargo fuzz` with the sanitizer build on stable.
fn cargo_fuzz(args: &[&str]) -> Command {
    let mut command = Command::new(cargo());
    command
        .arg("fuzz")
        .args(args)
        .current_dir(root())
        // The sanitizer flags need nightly features; this lets stable accept them.
        .env("RUSTC_BOOTSTRAP", "1");
    // `cargo run` describes xtask's own package in the environment; build scripts that
    // watch those variables (ring's do) would then rebuild everything a plain
    // `cargo fuzz build` had built.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                &*name,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            )
        {
            command.env_remove(&*name);
        }
    }
    command
}

fn run(targets: &[String], seconds: u64, corpus: Corpus, jobs: usize) -> Result<(), String> {
    let started = Instant::now();
    println!(
        "xtask: == fuzz build (AddressSanitizer, debug assertions): RUSTC_BOOTSTRAP=1 cargo fuzz build"
    );
    let status = cargo_fuzz(&["build", "--sanitizer", "address"])
        .status()
        .map_err(|e| format!("cannot run cargo fuzz build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo fuzz build failed ({status})"));
    }
    println!("xtask: == fuzz build: ok in {:.1?}", started.elapsed());
    let logs = root().join("fuzz/target/xtask-fuzz");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    println!(
        "xtask: {:<15} {:>10} {:>8} {:>13} {:>16} {:>9}",
        "target", "execs", "exec/s", "corpus", "cov (ft)", "new"
    );
    let fuzzing = Instant::now();
    let queue = std::sync::Mutex::new(targets.iter());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, targets.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.next());
                    let Some(target) = next else { break };
                    match run_one(target, seconds, corpus, &logs) {
                        Ok(stats) => println!("xtask: {target:<15} {stats}"),
                        Err(failure) => {
                            println!("xtask: {target:<15} FAILED: {failure}");
                            if let Ok(mut f) = failures.lock() {
                                f.push(format!("{target}: {failure}"));
                            }
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_default();
    println!(
        "xtask: == fuzzing {} target(s) for {seconds} s each, {jobs} at a time: {:.1?} \
         (with the build: {:.1?})",
        targets.len(),
        fuzzing.elapsed(),
        started.elapsed()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found problems:\n  {}",
            failures.join("\n  ")
        ))
    }
}

fn run_one(target: &str, seconds: u64, corpus: Corpus, logs: &Path) -> Result<Stats, String> {
    let log_path = logs.join(format!("{target}.log"));
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let err_log = log
        .try_clone()
        .map_err(|e| format!("cannot share the log file: {e}"))?;
    let committed = root().join("fuzz/corpus").join(target);
    let scratch = logs.join("scratch").join(target);
    let mut args = vec![
        "run".to_owned(),
        target.to_owned(),
        "--sanitizer".to_owned(),
        "address".to_owned(),
    ];
    if corpus == Corpus::Scratch {
        // libFuzzer adds what it finds to the first directory only.
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        args.push(scratch.display().to_string());
        args.push(committed.display().to_string());
    }
    args.extend([
        "--".to_owned(),
        format!("-max_total_time={seconds}"),
        // One input taking longer than this is a finding (a hang).
        "-timeout=10".to_owned(),
        "-rss_limit_mb=2048".to_owned(),
        "-print_final_stats=1".to_owned(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let status = cargo_fuzz(&args)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .status()
        .map_err(|e| format!("cannot run cargo fuzz run: {e}"))?;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let stats = Stats::read(&output);
    if status.success() {
        return stats.ok_or_else(|| format!("no libFuzzer statistics in {}", log_path.display()));
    }
    let tail: Vec<&str> = output.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    eprintln!(
        "--- the end of {} ---\n{}\n---",
        log_path.display(),
        tail.join("\n")
    );
    let artifact = artifact(&output).unwrap_or_else(|| "no input written".into());
    let kind = if output.contains("LeakSanitizer") {
        "a leak"
    } else if output.contains("ERROR: libFuzzer: timeout") {
        "a timeout"
    } else if output.contains("out-of-memory") {
        "out of memory"
    } else if output.contains("ERROR: AddressSanitizer") {
        "a memory error"
    } else if output.contains("panicked") || output.contains("deadly signal") {
        "a crash"
    } else {
        "a failure"
    };
    Err(format!(
        "{kind} ({status}); input: {artifact}; log: {}",
        log_path.display()
    ))
}

/// The path libFuzzer wrote the failing input to.
fn artifact(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        line.split_once("Test unit written to ")
            .map(|(_, path)| path.trim().to_owned())
    })
}

/// What one run did, from libFuzzer's status lines and final statistics.
struct Stats {
    executions: u64,
    per_second: u64,
    corpus_units: u64,
    corpus_size: String,
    cov: (u64, u64),
    features: (u64, u64),
    new_units: u64,
}

impl Stats {
    fn read(output: &str) -> Option<Self> {
        // `#2	INITED cov: 143 ft: 151 corp: 4/84b exec/s: 0 rss: 31Mb`
        let field = |line: &str, name: &str| -> Option<String> {
            let mut words = line.split_whitespace();
            words.find(|w| *w == name)?;
            words.next().map(str::to_owned)
        };
        let number = |text: Option<String>| text.and_then(|t| t.parse::<u64>().ok());
        let status_lines: Vec<&str> = output
            .lines()
            .filter(|l| l.starts_with('#') && l.contains("cov:"))
            .collect();
        let first = status_lines.first()?;
        let last = status_lines.last()?;
        let stat = |name: &str| {
            output.lines().find_map(|l| {
                l.strip_prefix(&format!("stat::{name}:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            })
        };
        let corp = field(last, "corp:").unwrap_or_default();
        let (units, size) = corp.split_once('/').unwrap_or(("0", "?"));
        Some(Self {
            executions: stat("number_of_executed_units")?,
            per_second: stat("average_exec_per_sec").unwrap_or(0),
            corpus_units: units.parse().unwrap_or(0),
            corpus_size: size.to_owned(),
            cov: (
                number(field(first, "cov:")).unwrap_or(0),
                number(field(last, "cov:")).unwrap_or(0),
            ),
            features: (
                number(field(first, "ft:")).unwrap_or(0),
                number(field(last, "ft:")).unwrap_or(0),
            ),
            new_units: stat("new_units_added").unwrap_or(0),
        })
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let grew = |(from, to): (u64, u64)| to.saturating_sub(from);
        write!(
            f,
            "{:>10} {:>8} {:>13} {:>16} {:>9}",
            self.executions,
            self.per_second,
            format!("{}/{}", self.corpus_units, self.corpus_size),
            format!(
                "{} +{} ({} +{})",
                self.cov.1,
                grew(self.cov),
                self.features.1,
                grew(self.features)
            ),
            format!("+{}", self.new_units),
        )
    }
}

/// The smoke run's seconds per target: `ACME_PROTO_FUZZ_SMOKE_SECONDS`, 15 by default.
pub(crate) fn smoke_seconds() -> Result<u64, String> {
    match std::env::var("ACME_PROTO_FUZZ_SMOKE_SECONDS") {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("ACME_PROTO_FUZZ_SMOKE_SECONDS={text:?} is not a number")),
        Err(_) => Ok(15),
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    const OUTPUT: &str = "INFO: Seed: 1
#2	INITED cov: 143 ft: 151 corp: 4/84b exec/s: 0 rss: 31Mb
#1024	NEW    cov: 150 ft: 170 corp: 5/90b lim: 4 exec/s: 512 rss: 32Mb L: 3/4 MS: 1 ChangeBit-
#9000	DONE   cov: 160 ft: 190 corp: 9/1Kb lim: 8 exec/s: 4500 rss: 40Mb
Done 9000 runs in 2 second(s)
stat::number_of_executed_units: 9000
stat::average_exec_per_sec:     4500
stat::new_units_added:          5
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              40
";

    #[test]
    fn reads_libfuzzer_statistics() {
        let stats = Stats::read(OUTPUT).unwrap_or_else(|| panic!("no statistics"));
        assert_eq!(stats.executions, 9000);
        assert_eq!(stats.per_second, 4500);
        assert_eq!((stats.corpus_units, stats.corpus_size.as_str()), (9, "1Kb"));
        assert_eq!(stats.cov, (143, 160));
        assert_eq!(stats.features, (151, 190));
        assert_eq!(stats.new_units, 5);
        assert!(stats.to_string().contains("160 +17 (190 +39)"));
    }

    #[test]
    fn finds_the_artifact() {
        let out = "==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='fuzz/artifacts/x/'; Test unit written to fuzz/artifacts/x/crash-abc\n";
        assert_eq!(artifact(out).as_deref(), Some("fuzz/artifacts/x/crash-abc"));
    }
}
