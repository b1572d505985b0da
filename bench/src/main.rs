//! `cargo xtask bench [--quick]`: what acme-proto costs, measured, never asserted as a
//! time. Two families of scenarios:
//!
//! * [`core`]: the core alone, against the in-process fake CA, no network.
//! * [`pebble`]: both drivers against a real local Pebble, side by side with
//!   instant-acme 0.8 and lego v5 (Go), each library's run in a child process of its
//!   own (this binary run again with the hidden subcommand `__run`, or lego's program
//!   built from `bench/lego/`), so that its CPU time and peak RSS are its own.
//!
//! `--quick` runs every scenario small and asserts what must hold whatever the machine
//! (every order issued, acme-proto's requests per certificate within 2K + 5, no
//! newNonce after the first requests at c = 1); the figures it prints are not worth
//! comparing.

mod child;
mod core;
mod latency;
mod measure;
mod pebble;
mod peers;
mod report;
mod rounds;

use std::path::PathBuf;

/// Where the raw figures go: `bench/` under the target directory in use.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("bench")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(child::SUBCOMMAND) {
        let spec = args.get(1).expect("__run takes the run's spec as JSON");
        child::main(spec);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // `--filter TEXT` (repeatable): only the Pebble runs whose description, as printed,
    // holds every TEXT ("tokio (5 ms polls) | c = 32", "real http-01").
    let filters: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--filter")
        .filter_map(|(i, _)| args.get(i + 1).cloned())
        .collect();
    let out = out_dir();
    if only.as_deref().is_none_or(|o| o == "pebble") {
        pebble::require(quick, &filters);
    }
    if only.as_deref().is_none_or(|o| o == "core") {
        core::run(quick, &out);
        println!();
    }
    if only.as_deref().is_none_or(|o| o == "pebble") {
        pebble::run(quick, &filters, &out);
    }
}
