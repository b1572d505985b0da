//! `cargo xtask demo`: a real certificate from a local Pebble (2.10.3, from the
//! workspace's `.tools/`). Starts Pebble and challtestsrv on loopback, runs the tokio
//! driver's `issue` example for a demo name over http-01, prints what was issued, and
//! stops both servers.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, ExitCode};

use acme_proto::{CertificateChain, ServerText};
use acme_proto_tests::{PEBBLE_VERSION, Pebble, PebbleOptions, example_binary};

const NAME: &str = "demo.acme-proto.example";

fn main() -> ExitCode {
    match demo() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn demo() -> Result<(), String> {
    println!("demo: starting pebble and pebble-challtestsrv {PEBBLE_VERSION} on 127.0.0.1");
    let mut pebble = Pebble::start(PebbleOptions::default()).map_err(|e| e.to_string())?;
    println!(
        "demo: pebble is up in {:.1?}: {}",
        pebble.startup_time(),
        pebble.directory_url()
    );
    let binary = example_binary("acme-proto-tokio").map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
    let root = dir.path().join("pebble-root.pem");
    std::fs::write(&root, pebble.root_pem()).map_err(|e| format!("writing the root: {e}"))?;
    let out = dir.path().join("chain.pem");
    let key_out = dir.path().join("key.pem");
    // The example binds Pebble's http-01 port itself.
    let port = pebble.http01_port().to_string();
    drop(pebble.take_http01_listener());

    let args: Vec<String> = [
        "--directory",
        &pebble.directory_url(),
        "--ca-cert",
        &root.to_string_lossy(),
        "--contact",
        "mailto:demo@acme-proto.example",
        "--domain",
        NAME,
        "--challenge",
        "http-01",
        "--http-port",
        &port,
        "--out",
        &out.to_string_lossy(),
        "--key-out",
        &key_out.to_string_lossy(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    println!(
        "demo: cargo run -p acme-proto-tokio --example issue -- {}",
        args.join(" ")
    );
    let status = Command::new(&binary)
        .args(&args)
        .status()
        .map_err(|e| format!("running the example: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the example failed ({status})\n{}",
            pebble.log_tail()
        ));
    }

    let pem = std::fs::read_to_string(&out).map_err(|e| format!("reading the chain: {e}"))?;
    let chain = CertificateChain::from_pem(&pem).map_err(|e| format!("the chain: {e}"))?;
    let leaf = chain.end_entity();
    // The names are the CA's: shown with control characters escaped.
    let mut names: Vec<String> = leaf
        .dns_names()
        .iter()
        .map(|name| ServerText::new(name).to_string())
        .collect();
    names.extend(leaf.ip_addresses().iter().map(ToString::to_string));
    println!("demo: issued certificate");
    println!(
        "  subject:  {}",
        leaf.subject_common_name().map_or_else(
            || "(empty: the names are in subjectAltName)".to_owned(),
            |cn| format!("CN={}", ServerText::new(cn))
        )
    );
    println!(
        "  issuer:   CN={}",
        ServerText::new(leaf.issuer_common_name().unwrap_or("?"))
    );
    println!("  names:    {}", names.join(", "));
    println!("  valid:    {} to {}", leaf.not_before(), leaf.not_after());
    println!(
        "  chain:    {} certificates, up to {}",
        chain.len(),
        ServerText::new(chain.root_name().unwrap_or("?"))
    );
    drop(pebble);
    println!("demo: pebble and pebble-challtestsrv stopped");
    Ok(())
}
