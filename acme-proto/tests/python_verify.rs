#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! JWS from every algorithm, including ES512, verified by Python's `cryptography`
//! package (OpenSSL): an implementation that shares no code with ours.

use std::process::Command;

mod common;

use common::TestRng;

use acme_proto::crypto::{FlattenedJws, jws};
use acme_proto::{AccountKey, KeyId, SignatureAlgorithm};

#[test]
fn every_algorithm_verifies_with_python_cryptography() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_verify.py");
    let probe = Command::new("python3")
        .args(["-c", "import cryptography"])
        .status();
    match probe {
        Ok(s) if s.success() => {}
        other => panic!(
            "Python's `cryptography` package is not importable by python3 ({other:?}); \
             `cargo xtask test` installs it (or: python3 -m pip install cryptography)"
        ),
    }
    let mut algs = vec![
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::EdDsa,
    ];
    if cfg!(feature = "rsa") {
        algs.push(SignatureAlgorithm::Rs256);
    }
    let mut cases = Vec::new();
    for (i, alg) in algs.iter().enumerate() {
        let key = AccountKey::generate(*alg, &mut TestRng::new(100 + i as u64)).unwrap();
        let body = jws::sign(
            &key,
            KeyId::Jwk,
            "bm9uY2U",
            "https://ca.test/new-acct",
            br#"{"termsOfServiceAgreed":true}"#,
        )
        .unwrap();
        let good: FlattenedJws = serde_json::from_slice(&body).unwrap();
        let mut bad = good.clone();
        bad.payload = "eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6ZmFsc2V9".into();
        cases.push(serde_json::json!({"alg": alg.name(), "jws": good, "valid": true}));
        cases.push(serde_json::json!({"alg": alg.name(), "jws": bad, "valid": false}));
    }
    let path = std::env::temp_dir().join(format!(
        "acme-proto-python-verify-{}.json",
        std::process::id()
    ));
    std::fs::write(&path, serde_json::to_vec(&cases).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python verification failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), cases.len(), "{stdout}");
    assert!(stdout.contains("ES512 valid expected valid"), "{stdout}");
}
