//! The drivers' `issue` examples and the embedding programs, built and run as a user
//! would run them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::HarnessError;

/// Builds `package`'s `issue` example (the test profile, all features, so most of the
/// build is shared with `cargo test`'s) and returns the path of a copy of its
/// executable named after the package.
///
/// Both drivers' examples are called `issue`, and cargo puts each at the same path
/// (`target/debug/examples/issue`): builds are serialized within the process and the
/// executable copied away before the next build can replace it. Each package is built
/// and copied once per process: a second copy over the first would fail ("text file
/// busy") while another test runs it.
pub fn example_binary(package: &str) -> Result<PathBuf, HarnessError> {
    static BUILT: std::sync::Mutex<BTreeMap<String, PathBuf>> =
        std::sync::Mutex::new(BTreeMap::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(copy) = built.get(package) {
        return Ok(copy.clone());
    }
    let executable = build(package, "--example", "issue")?;
    let copy = executable.with_file_name(format!("issue-of-{package}"));
    std::fs::copy(&executable, &copy).map_err(HarnessError::io(format!(
        "copying {} to {}",
        executable.display(),
        copy.display()
    )))?;
    built.insert(package.to_owned(), copy.clone());
    Ok(copy)
}

/// Builds the binary `name` of `package` (the test profile, all features) and returns
/// its path: the embedding programs of `examples/`, whose names are unique.
pub fn program_binary(package: &str, name: &str) -> Result<PathBuf, HarnessError> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    build(package, "--bin", name)
}

fn build(package: &str, kind: &str, name: &str) -> Result<PathBuf, HarnessError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| HarnessError::request("finding the workspace", "no parent directory"))?;
    let mut command = Command::new(cargo);
    // Run as from a shell: what `cargo test` set for this process (the package's
    // variables, a library path) would otherwise make the nested build see a changed
    // environment and rebuild dependencies whose build scripts watch it.
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("CARGO_PKG_")
            || name_text.starts_with("CARGO_MANIFEST_")
            || name_text == "LD_LIBRARY_PATH"
        {
            command.env_remove(&name);
        }
    }
    let output = command
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            "test",
            "--all-features",
            "-p",
            package,
            // The crash tests' switch (ACME_PROTO_EXAMPLE_KILL_AT), off in users' builds.
            "--features",
            "acme-proto-examples-support/kill-at",
        ])
        .args([kind, name, "--message-format", "json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(HarnessError::io("running cargo build for the example"))?;
    if !output.status.success() {
        return Err(HarnessError::request(
            format!("building {package}'s issue example"),
            output.status,
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message.get("reason").and_then(|r| r.as_str()) == Some("compiler-artifact")
                && message.pointer("/target/name").and_then(|n| n.as_str()) == Some(name)
        })
        .find_map(|message| {
            message
                .get("executable")
                .and_then(|e| e.as_str())
                .map(PathBuf::from)
        })
        .ok_or_else(|| {
            HarnessError::request(
                format!("building {package}'s {name}"),
                "cargo named no executable",
            )
        })
}
