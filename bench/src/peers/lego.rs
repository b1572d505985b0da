//! lego v5 (Go), the third library: not linked in, but the Go program in `bench/lego/`,
//! built by `cargo xtask bench` (and `cargo xtask test`) with `go build` into
//! `.tools/bench-lego-VERSION/bench-lego`, VERSION being the lego `bench/lego/go.mod`
//! requires. The parent runs it in place of this binary's `__run`, with the same spec
//! and the same report lines (see `bench/lego/main.go`).

use std::path::PathBuf;

/// `bench/lego/go.mod`, where the lego version is pinned (with `go.sum`).
const GO_MOD: &str = include_str!("../../lego/go.mod");

/// The lego module.
const MODULE: &str = "github.com/go-acme/lego/v5";

/// The lego version `bench/lego/go.mod` requires ("v5.6.0").
pub fn version() -> &'static str {
    GO_MOD
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let first = words.next()?;
            let module = if first == "require" {
                words.next()?
            } else {
                first
            };
            (module == MODULE).then(|| words.next()).flatten()
        })
        .unwrap_or("(none in bench/lego/go.mod)")
}

/// Where `cargo xtask bench` builds the program.
pub fn program() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".tools")
        .join(format!("bench-lego-{}", version()))
        .join("bench-lego")
}

/// Fails at once, saying how to build it, when the program is missing: before any run,
/// so that a missing program costs nothing (the bench never skips silently).
pub fn require() {
    let program = program();
    assert!(
        program.is_file(),
        "lego {}'s bench program is missing at {}: build it with `cargo xtask bench` (go build in bench/lego)",
        version(),
        program.display()
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_pinned_in_go_mod_and_named() {
        let version = super::version();
        assert!(version.starts_with("v5."), "{version}");
        let name = crate::child::Library::Lego.name();
        assert!(name.ends_with(version), "{name} is not lego {version}");
    }
}
