//! Replays every committed input, through the same functions the fuzz targets call:
//! each file of `corpus/<target>/` and of `regressions/<target>/`. Plain `cargo test`,
//! on stable, without a sanitizer: every input ever kept stays a regression test.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

use acme_proto_fuzz::TARGETS;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(kind);
    let mut total = 0;
    for (name, target) in TARGETS {
        for file in inputs(&root.join(name)) {
            let data = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", file.display());
            total += 1;
        }
    }
    println!("replayed {total} inputs from {kind}/");
    total
}

#[test]
fn corpora() {
    let total = replay("corpus");
    assert!(total > 0, "no corpus to replay");
}

#[test]
fn regressions() {
    replay("regressions");
}

/// Every target runs on the empty input (the order target's cooperative path).
#[test]
fn empty_inputs() {
    for (_, target) in TARGETS {
        target(&[]);
    }
}

/// Every target has a corpus directory and a binary under `fuzz_targets/`, and the
/// binaries are exactly the targets.
#[test]
fn targets_match_binaries_and_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut binaries: Vec<String> = inputs(&root.join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    binaries.sort();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.sort();
    assert_eq!(binaries, names);
    for name in &names {
        assert!(root.join("corpus").join(name).is_dir(), "no corpus/{name}/");
    }
}

/// The empty input is the cooperative path: the order issues a certificate, so the
/// harness really reaches the end of the flow.
#[test]
fn order_flow_empty_input_issues() {
    assert_eq!(acme_proto_fuzz::order_flow_outcome(&[]), Some(true));
}
