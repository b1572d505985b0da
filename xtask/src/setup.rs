//! Installs what the checks need on a fresh machine, idempotently: nothing happens when a
//! tool is already there, and every install says what it is doing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Pebble the tests run by default, pinned once in the tests' harness.
#[allow(unreachable_pub, dead_code)]
mod pinned {
    include!("../../tests/src/pebble_version.rs");
}

/// The acme2certifier the tests run, pinned once in the tests' harness.
#[allow(unreachable_pub, dead_code)]
mod pinned_a2c {
    include!("../../tests/src/acme2certifier_version.rs");
}

/// The target the core's no_std build is checked on.
pub(crate) const NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

/// Every install the checks need.
pub(crate) fn all() -> Result<(), String> {
    rust_target()?;
    pebble()?;
    acme2certifier()?;
    python_cryptography()?;
    cargo_fuzz()?;
    wasm_tools()
}

/// What the WebAssembly example needs: the Rust target wasm32-unknown-unknown and the
/// wasm-bindgen CLI at the version the example's lockfile pins.
pub(crate) fn wasm_tools() -> Result<(), String> {
    wasm_target()?;
    wasm_bindgen_cli(&crate::wasm::bindgen_version()?)
}

fn wasm_target() -> Result<(), String> {
    let target = crate::wasm::TARGET;
    let installed = output("rustup", &["target", "list", "--installed"])
        .map_err(|e| format!("cannot ask rustup for installed targets: {e}"))?;
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    println!("xtask: installing the Rust target {target} (for the WebAssembly example)");
    run("rustup", &["target", "add", target])
        .map_err(|e| format!("could not install the Rust target {target}: {e}"))
}

/// wasm-bindgen-cli at exactly `version`: its glue and the module's `wasm-bindgen`
/// crate must agree. Another version already installed is replaced.
fn wasm_bindgen_cli(version: &str) -> Result<(), String> {
    let installed = output("wasm-bindgen", &["--version"]).ok();
    // It prints `wasm-bindgen 0.2.130`.
    let installed = installed.as_deref().map(|v| v.split_whitespace().nth(1));
    if installed == Some(Some(version)) {
        return Ok(());
    }
    let replacing = match installed {
        Some(Some(other)) => format!(", replacing {other}"),
        _ => String::new(),
    };
    println!(
        "xtask: installing wasm-bindgen-cli {version} from crates.io (cargo install \
         wasm-bindgen-cli --version {version} --locked{replacing}), for the WebAssembly \
         example's glue"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(
        &cargo,
        &[
            "install",
            "wasm-bindgen-cli",
            "--version",
            version,
            "--locked",
            "--force",
        ],
    )
    .map_err(|e| format!("could not install wasm-bindgen-cli {version}: {e}"))
}

/// cargo-fuzz, which builds the fuzz targets with libFuzzer and AddressSanitizer.
pub(crate) fn cargo_fuzz() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return Ok(());
    }
    println!(
        "xtask: installing cargo-fuzz from crates.io (cargo install cargo-fuzz --locked), \
         to build and run the fuzz targets"
    );
    run(&cargo, &["install", "cargo-fuzz", "--locked"])
        .map_err(|e| format!("could not install cargo-fuzz: {e}"))
}

fn rust_target() -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"])
        .map_err(|e| format!("cannot ask rustup for installed targets: {e}"))?;
    if installed.lines().any(|l| l.trim() == NO_STD_TARGET) {
        return Ok(());
    }
    println!("xtask: installing the Rust target {NO_STD_TARGET} (for the core's no_std build)");
    run("rustup", &["target", "add", NO_STD_TARGET])
        .map_err(|e| format!("could not install the Rust target {NO_STD_TARGET}: {e}"))
}

/// Both Pebbles the tests run: Pebble and pebble-challtestsrv at the pinned version, built
/// from the Go module proxy into the workspace's `.tools/` (the main test server), and
/// Debian's package (2.4.0, on PATH: the older server a few scenarios still run against).
pub(crate) fn pebble() -> Result<(), String> {
    go_pebble()?;
    debian_pebble()
}

/// The workspace's root (this crate lives in `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `go install` of Pebble's two commands at [`pinned::PEBBLE_VERSION`] into
/// `.tools/pebble-VERSION/bin` (GOBIN), unless both are there already.
fn go_pebble() -> Result<(), String> {
    let version = pinned::PEBBLE_VERSION;
    let bin = pinned::pebble_bin_dir(&root());
    let programs = ["pebble", "pebble-challtestsrv"];
    if programs.iter().all(|p| is_executable(&bin.join(p))) {
        return Ok(());
    }
    if !on_path("go") {
        return Err(format!(
            "cannot install Pebble {version}: `go` is not on PATH (Go 1.24 or later builds it)"
        ));
    }
    let module = "github.com/letsencrypt/pebble/v2/cmd";
    let packages: Vec<String> = programs
        .iter()
        .map(|p| format!("{module}/{p}@{version}"))
        .collect();
    println!(
        "xtask: installing Pebble and pebble-challtestsrv {version} from the Go module proxy \
         (go install {}) into {}, the tests' main ACME server",
        packages.join(" "),
        bin.display()
    );
    std::fs::create_dir_all(&bin).map_err(|e| format!("cannot create {}: {e}", bin.display()))?;
    let status = Command::new("go")
        .arg("install")
        .args(&packages)
        .env("GOBIN", &bin)
        .status()
        .map_err(|e| format!("cannot run go: {e}"))?;
    if !status.success() {
        return Err(format!("go install of Pebble {version} failed ({status})"));
    }
    match programs.iter().find(|p| !is_executable(&bin.join(p))) {
        Some(missing) => Err(format!(
            "go install succeeded, but {} is missing",
            bin.join(missing).display()
        )),
        None => Ok(()),
    }
}

/// Debian's `pebble` package (2.4.0) brings `pebble` and `pebble-challtestsrv` on PATH.
fn debian_pebble() -> Result<(), String> {
    if on_path("pebble") && on_path("pebble-challtestsrv") {
        return Ok(());
    }
    println!(
        "xtask: installing Debian's package `pebble` (Pebble 2.4.0 and pebble-challtestsrv, \
         the older server some integration tests run against)"
    );
    apt_install(&["pebble"])?;
    if !(on_path("pebble") && on_path("pebble-challtestsrv")) {
        return Err(
            "the pebble package installed, but `pebble` or `pebble-challtestsrv` \
                    is not on PATH"
                .into(),
        );
    }
    Ok(())
}

/// acme2certifier at [`pinned_a2c::ACME2CERTIFIER_VERSION`] from PyPI, with every
/// dependency at the version `tests/acme2certifier/requirements.txt` pins, in a venv of
/// its own: `.tools/acme2certifier-VERSION/venv`. Nothing happens when that venv imports
/// that version; a venv that does not is made again.
fn acme2certifier() -> Result<(), String> {
    let version = pinned_a2c::ACME2CERTIFIER_VERSION;
    let root = root();
    let venv = pinned_a2c::acme2certifier_venv_dir(&root);
    let requirements = pinned_a2c::acme2certifier_requirements(&root);
    let python = venv.join("bin").join("python3");
    // The modules the harness's configuration loads, at the pinned version.
    let probe = || {
        Command::new(&python)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m, sys\n\
                     import acme2certifier.acme_srv.challenge, \
                     acme2certifier.cahandlers.openssl_ca_handler, \
                     acme2certifier.eabhandlers.file_handler, \
                     acme2certifier.dbhandlers.wsgi_handler\n\
                     sys.exit(m.version('acme2certifier') != '{version}')"
                ),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if probe() {
        return Ok(());
    }
    if !on_path("python3") {
        return Err(format!(
            "cannot install acme2certifier {version}: python3 is not on PATH"
        ));
    }
    println!(
        "xtask: installing acme2certifier {version} from PyPI with its pinned dependencies \
         (pip install --no-deps -r {}) into the venv {}, the tests' second ACME server",
        requirements.display(),
        venv.display()
    );
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove the broken venv {}: {e}", venv.display()))?;
    }
    let venv_arg = venv.to_string_lossy().into_owned();
    if run("python3", &["-m", "venv", &venv_arg]).is_err() {
        // Debian's Python has no ensurepip without python3-venv.
        let _ = std::fs::remove_dir_all(&venv);
        println!("xtask: python3 -m venv failed; installing Debian's python3-venv");
        apt_install(&["python3-venv"])?;
        run("python3", &["-m", "venv", &venv_arg])
            .map_err(|e| format!("cannot create the venv {}: {e}", venv.display()))?;
    }
    let python_arg = python.to_string_lossy().into_owned();
    let requirements_arg = requirements.to_string_lossy().into_owned();
    run(
        &python_arg,
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--require-virtualenv",
            "-r",
            &requirements_arg,
        ],
    )
    .map_err(|e| format!("could not install acme2certifier {version}: {e}"))?;
    if probe() {
        Ok(())
    } else {
        Err(format!(
            "acme2certifier {version} installed into {}, but does not import",
            venv.display()
        ))
    }
}

/// The crypto tests check our signatures with an independent implementation: OpenSSL,
/// through Python's `cryptography` package.
fn python_cryptography() -> Result<(), String> {
    let probe = || {
        Command::new("python3")
            .args(["-c", "import cryptography"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !on_path("python3") {
        return Err("python3 is not on PATH; the signature tests need it".into());
    }
    if probe() {
        return Ok(());
    }
    println!(
        "xtask: installing the Python package `cryptography` from PyPI (an independent \
         verifier for the JWS signature tests)"
    );
    let plain = run(
        "python3",
        &["-m", "pip", "install", "--quiet", "cryptography"],
    );
    if plain.is_err() {
        // Debian's own Python refuses installs outside a venv (PEP 668).
        run(
            "python3",
            &[
                "-m",
                "pip",
                "install",
                "--quiet",
                "--break-system-packages",
                "cryptography",
            ],
        )
        .map_err(|e| format!("could not install Python's cryptography package: {e}"))?;
    }
    if probe() {
        Ok(())
    } else {
        Err("Python's cryptography package installed but cannot be imported".into())
    }
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    let root = output("id", &["-u"]).is_ok_and(|uid| uid.trim() == "0");
    let (program, prefix): (&str, &[&str]) = if root {
        ("apt-get", &[])
    } else if on_path("sudo") {
        ("sudo", &["-n", "apt-get"])
    } else {
        return Err(format!(
            "cannot install {packages:?}: not root and no sudo; install them with apt-get"
        ));
    };
    fn with<'a>(prefix: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
        [prefix, args].concat()
    }
    println!("xtask: apt-get update");
    run(program, &with(prefix, &["update", "-qq"]))
        .map_err(|e| format!("apt-get update failed: {e}"))?;
    println!("xtask: apt-get install {}", packages.join(" "));
    run(
        program,
        &with(
            prefix,
            &[
                &["install", "-y", "-qq", "--no-install-recommends"][..],
                packages,
            ]
            .concat(),
        ),
    )
    .map_err(|e| format!("apt-get install {} failed: {e}", packages.join(" ")))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{program} exited with {status}"))
    }
}

fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} exited with {}", out.status));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{program} printed non-UTF-8"))
}
