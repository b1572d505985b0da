// The Pebble the tests run by default, pinned here once: the harness (`pebble.rs`) looks
// for it where `cargo xtask setup` installs it, and xtask includes this file (`include!`)
// to install exactly this version. No inner attributes or `use`: it is included as is.

/// The version of Pebble and pebble-challtestsrv the tests run by default, built by
/// `cargo xtask setup` with `go install` from the Go module proxy
/// (`github.com/letsencrypt/pebble/v2`, commands `cmd/pebble` and `cmd/pebble-challtestsrv`).
pub const PEBBLE_VERSION: &str = "v2.10.3";

/// Where `cargo xtask setup` puts that Pebble's two programs, below the workspace's root:
/// `.tools/pebble-v2.10.3/bin`.
pub fn pebble_bin_dir(workspace_root: &std::path::Path) -> std::path::PathBuf {
    workspace_root
        .join(".tools")
        .join(format!("pebble-{PEBBLE_VERSION}"))
        .join("bin")
}
