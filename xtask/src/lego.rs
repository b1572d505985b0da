//! lego's side of the benchmark: the Go program in `bench/lego/`, built with `go build`
//! from the Go module proxy (`-mod=readonly`: the committed `go.sum` pins every module)
//! into `.tools/bench-lego-VERSION/bench-lego`, VERSION being the lego its `go.mod`
//! requires. Nothing happens when the program is there and built from the sources as they
//! are (a stamp beside it records them).

use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module whose version names the directory.
const LEGO_MODULE: &str = "github.com/go-acme/lego/v5";

/// The program's name in its directory (the bench looks for it there).
const PROGRAM: &str = "bench-lego";

/// The workspace's root (this crate lives in `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The lego version `bench/lego/go.mod` requires.
fn lego_version(go_mod: &str) -> Option<&str> {
    go_mod.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        // `require MODULE VERSION` or, in a block, `MODULE VERSION`.
        let first = words.next()?;
        let module = if first == "require" {
            words.next()?
        } else {
            first
        };
        (module == LEGO_MODULE).then(|| words.next()).flatten()
    })
}

/// The sources the program is built from: `go.mod`, `go.sum` and every `.go` file.
fn sources(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n == "go.mod" || n == "go.sum" || n.ends_with(".go"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// A digest of the sources' names and contents, and of the Go in use.
fn stamp(files: &[PathBuf], go_version: &str) -> Result<String, String> {
    let mut hasher = std::hash::DefaultHasher::new();
    go_version.hash(&mut hasher);
    for file in files {
        let text =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        file.file_name().hash(&mut hasher);
        text.hash(&mut hasher);
    }
    Ok(format!("{:016x}", hasher.finish()))
}

/// Builds the program unless it is there, built from these sources.
pub(crate) fn build() -> Result<(), String> {
    let dir = root().join("bench").join("lego");
    let go_mod_path = dir.join("go.mod");
    let go_mod = std::fs::read_to_string(&go_mod_path)
        .map_err(|e| format!("cannot read {}: {e}", go_mod_path.display()))?;
    let version = lego_version(&go_mod)
        .ok_or_else(|| format!("{} requires no {LEGO_MODULE}", go_mod_path.display()))?;
    let out = root().join(".tools").join(format!("bench-lego-{version}"));
    let program = out.join(PROGRAM);
    let stamp_path = out.join("sources.stamp");
    let go = Command::new("go").arg("version").output().map_err(|e| {
        format!(
            "cannot build lego {version}'s bench program: `go` does not run ({e}); Go 1.26 or \
             later builds it"
        )
    })?;
    let go_version = String::from_utf8_lossy(&go.stdout).trim().to_owned();
    let stamp = stamp(&sources(&dir)?, &go_version)?;
    let built = std::fs::read_to_string(&stamp_path).is_ok_and(|s| s.trim() == stamp);
    if built && program.is_file() {
        return Ok(());
    }
    println!(
        "xtask: building lego {version}'s bench program (go build -mod=readonly in bench/lego, \
         modules from the Go module proxy as bench/lego/go.sum pins them) into {}",
        out.display()
    );
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    // The stamp goes first: a build that fails leaves none.
    let _ = std::fs::remove_file(&stamp_path);
    let started = std::time::Instant::now();
    let status = Command::new("go")
        .args(["build", "-mod=readonly", "-trimpath", "-o"])
        .arg(&program)
        .arg(".")
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("cannot run go: {e}"))?;
    if !status.success() {
        return Err(format!(
            "go build of lego {version}'s bench program failed ({status})"
        ));
    }
    std::fs::write(&stamp_path, format!("{stamp}\n"))
        .map_err(|e| format!("cannot write {}: {e}", stamp_path.display()))?;
    println!(
        "xtask: built {} in {:.1?}",
        program.display(),
        started.elapsed()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lego_version_in_go_mod() {
        let block = "module m\n\ngo 1.26.0\n\nrequire (\n\tgithub.com/cenkalti/backoff/v5 v5.0.3\n\tgithub.com/go-acme/lego/v5 v5.6.0\n)\n";
        assert_eq!(lego_version(block), Some("v5.6.0"));
        let single = "module m\nrequire github.com/go-acme/lego/v5 v5.7.0\n";
        assert_eq!(lego_version(single), Some("v5.7.0"));
        assert_eq!(lego_version("module m\n"), None);
    }

    #[test]
    fn the_committed_go_mod_names_a_version() {
        let go_mod = std::fs::read_to_string(root().join("bench/lego/go.mod"));
        assert!(
            go_mod
                .as_deref()
                .is_ok_and(|m| lego_version(m).is_some_and(|v| v.starts_with("v5."))),
            "{go_mod:?}"
        );
    }
}
