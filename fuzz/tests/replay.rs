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

/// `order_flow`'s lies about what was ordered (the fake CA's scripted faults, drawn
/// right after the order and the standing misbehaviour), each then answered honestly:
/// refused when the core must refuse it, issued when it only looks like a lie. The
/// same inputs are in `corpus/order_flow/lie-*`.
#[test]
fn order_flow_lies() {
    // Now, the default policy, the https CA without options; the order, 0x02: three
    // names (a.example.org, *.c.example.org, 192.0.2.1) or 0x01: two (a. and
    // b.example.org); an honest server; then the lie: how many times, which, its details.
    let three = "000000000000000000000000000200020300000000";
    let two = "0000000000000000000000000001000100000000";
    let cases = [
        (three, "0501", false, "identifiers: a foreign one added"),
        (three, "050001", false, "identifiers: the first dropped"),
        (three, "0505", true, "identifiers: upper-cased (the same)"),
        (three, "0503", true, "identifiers: reordered (the same)"),
        (two, "06", false, "a foreign authorization"),
        (three, "07", false, "first authorization: a foreign name"),
        (three, "070101", false, "first authorization: another name"),
        (three, "09", false, "a certificate for another key"),
        (three, "0a0000", false, "certificate: first name missing"),
        (two, "0a01", true, "a certificate with an extra name"),
    ];
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    };
    for (order, lie, issues, what) in cases {
        let data = hex(&format!("{order}{lie}"));
        assert_eq!(
            acme_proto_fuzz::order_flow_outcome(&data),
            Some(issues),
            "{what}"
        );
    }
}
