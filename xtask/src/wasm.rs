//! `cargo xtask wasm`: the WebAssembly example (`examples/wasm/`) built for
//! `wasm32-unknown-unknown` in release, run through wasm-bindgen for Node.js into
//! `examples/wasm/pkg/`, and its size printed. Idempotent: a second run rebuilds
//! nothing and writes the same files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::setup;

/// The target the example is built for: no operating system, no clock, no randomness.
pub(crate) const TARGET: &str = "wasm32-unknown-unknown";

/// The example's manifest, from the repository root.
fn manifest() -> String {
    root()
        .join("examples/wasm/Cargo.toml")
        .to_string_lossy()
        .into_owned()
}

/// The repository root (xtask's parent).
fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// The wasm-bindgen version the example's lockfile pins: the CLI must be the same
/// version, or the generated glue refuses the module.
pub(crate) fn bindgen_version() -> Result<String, String> {
    let path = root().join("examples/wasm/Cargo.lock");
    let lock = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "wasm-bindgen""# {
            let version = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'));
            if let Some(version) = version {
                return Ok(version.to_owned());
            }
        }
    }
    Err(format!("{} names no wasm-bindgen version", path.display()))
}

/// Where the example is built: the workspace's target directory (one place to clean),
/// unless `CARGO_TARGET_DIR` says otherwise.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// `cargo xtask wasm`: the tools (installed if missing), the build, wasm-bindgen, the
/// sizes.
pub(crate) fn command(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("usage: cargo xtask wasm, not {args:?}"));
    }
    let started = Instant::now();
    setup::wasm_tools()?;
    build()?;
    println!("xtask: wasm ready in {:.1?}", started.elapsed());
    Ok(())
}

/// Builds the module and its Node.js glue into `examples/wasm/pkg/` (the tools must be
/// there: [`setup::wasm_tools`]).
pub(crate) fn build() -> Result<(), String> {
    let target_dir = target_dir();
    let target_dir_text = target_dir.to_string_lossy();
    crate::cargo(
        "build (wasm example, release, wasm32-unknown-unknown)",
        &[
            "build",
            "--release",
            "--manifest-path",
            &manifest(),
            "--target",
            TARGET,
        ],
        &[("CARGO_TARGET_DIR", &target_dir_text)],
    )?;
    let module = target_dir.join(TARGET).join("release/acme_proto_wasm.wasm");
    let out_dir = root().join("examples/wasm/pkg");
    println!(
        "xtask: == wasm-bindgen --target nodejs --out-dir examples/wasm/pkg {}",
        module.display()
    );
    let status = Command::new("wasm-bindgen")
        .args(["--target", "nodejs", "--out-dir"])
        .arg(&out_dir)
        .arg(&module)
        .status()
        .map_err(|e| format!("cannot run wasm-bindgen: {e}"))?;
    if !status.success() {
        return Err(format!("wasm-bindgen failed ({status})"));
    }
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let raw = size(&module)?;
    let bound = size(&out_dir.join("acme_proto_wasm_bg.wasm"))?;
    println!(
        "xtask: wasm module: {raw} bytes as built ({:.0} KiB), {bound} bytes after \
         wasm-bindgen ({:.0} KiB): examples/wasm/pkg/acme_proto_wasm_bg.wasm",
        raw as f64 / 1024.0,
        bound as f64 / 1024.0
    );
    Ok(())
}

/// The example's format and clippy checks (clippy for wasm32, where it is built), as
/// `cargo xtask test` runs them.
pub(crate) fn lint() -> Result<(), String> {
    let manifest = manifest();
    let manifest = ["--manifest-path", manifest.as_str()];
    crate::cargo(
        "format (wasm example)",
        &[&["fmt"][..], &manifest, &["--", "--check"]].concat(),
        &[],
    )?;
    let target_dir = target_dir();
    let target_dir = target_dir.to_string_lossy();
    crate::cargo(
        "clippy (wasm example, wasm32-unknown-unknown)",
        &[
            &["clippy"][..],
            &manifest,
            &["--target", TARGET, "--", "-D", "warnings"],
        ]
        .concat(),
        &[("CARGO_TARGET_DIR", &target_dir)],
    )
}
