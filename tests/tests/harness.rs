//! The Pebble harness itself: it starts, answers over HTTPS trusting only its own root,
//! runs in parallel, takes EAB keys, drives challtestsrv, and leaves nothing behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use acme_proto_tests::{Pebble, PebbleOptions, PebbleVersion, start_or_skip};

fn agent(pebble: &Pebble) -> ureq::Agent {
    let root = ureq::tls::Certificate::from_pem(pebble.root_pem().as_bytes()).unwrap();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[root]))
        .build();
    ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(5)))
        .tls_config(tls)
        .build()
        .new_agent()
}

fn directory(pebble: &Pebble) -> serde_json::Value {
    let body = agent(pebble)
        .get(pebble.directory_url())
        .call()
        .unwrap_or_else(|e| panic!("GET {}: {e}\n{}", pebble.directory_url(), pebble.log_tail()))
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn started(options: PebbleOptions) -> Option<Pebble> {
    let pebble = start_or_skip(options)?;
    eprintln!(
        "pebble started in {} ms (directory {})",
        pebble.startup_time().as_millis(),
        pebble.directory_url()
    );
    Some(pebble)
}

#[test]
fn the_directory_answers_over_https_trusting_the_harness_root() {
    let Some(pebble) = started(PebbleOptions::default()) else {
        return;
    };
    let dir = directory(&pebble);
    for key in [
        "newNonce",
        "newAccount",
        "newOrder",
        "revokeCert",
        "keyChange",
    ] {
        let url = dir[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {dir}"));
        assert!(url.starts_with("https://127.0.0.1:"), "{key}: {url}");
    }
    assert_eq!(dir["meta"]["externalAccountRequired"], false);
    assert_ne!(pebble.http01_port(), pebble.tlsalpn01_port());
}

#[test]
fn pebble_2_10_by_default_and_debian_2_4_when_asked() {
    let Some(current) = started(PebbleOptions::default()) else {
        return;
    };
    assert_eq!(current.version(), PebbleVersion::V2_10);
    let dir = directory(&current);
    let ari = dir["renewalInfo"]
        .as_str()
        .unwrap_or_else(|| panic!("{dir}"));
    // No trailing slash: the client adds `/{certID}`.
    assert!(
        ari.ends_with("/draft-ietf-acme-ari-03/renewalInfo"),
        "{ari}"
    );
    // The profiles of the harness's config.
    assert!(dir["meta"]["profiles"]["default"].is_string(), "{dir}");
    assert!(dir["meta"]["profiles"]["shortlived"].is_string(), "{dir}");

    let Some(old) = started(PebbleOptions::default().debian_2_4()) else {
        return;
    };
    assert_eq!(old.version(), PebbleVersion::Debian2_4);
    let dir = directory(&old);
    assert!(dir["newOrder"].is_string(), "{dir}");
    assert!(dir.get("renewalInfo").is_none(), "{dir}");
    assert!(dir["meta"].get("profiles").is_none(), "{dir}");
}

#[test]
fn a_client_without_the_root_is_refused() {
    let Some(pebble) = started(PebbleOptions::default()) else {
        return;
    };
    let plain = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent();
    assert!(plain.get(pebble.directory_url()).call().is_err());
}

#[test]
fn two_pebbles_run_side_by_side() {
    let starts: Vec<_> = (0..2)
        .map(|_| thread::spawn(|| started(PebbleOptions::default())))
        .collect();
    let pebbles: Vec<Pebble> = starts
        .into_iter()
        .filter_map(|t| t.join().unwrap())
        .collect();
    let [a, b] = pebbles.as_slice() else {
        return; // skipped: pebble is not installed
    };
    let ports = |p: &Pebble| {
        [
            p.listen_addr().port(),
            p.management_addr().port(),
            p.challtestsrv().dns_server().port(),
            p.http01_port(),
            p.tlsalpn01_port(),
        ]
    };
    for port in ports(a) {
        assert!(!ports(b).contains(&port), "port {port} shared");
    }
    assert_ne!(a.root_pem(), b.root_pem());
    assert!(directory(a)["newOrder"].is_string());
    assert!(directory(b)["newOrder"].is_string());
}

#[test]
fn eab_keys_make_external_accounts_required() {
    let options = PebbleOptions::default().eab_key(
        "kid-1",
        "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
    );
    let Some(pebble) = started(options) else {
        return;
    };
    assert_eq!(directory(&pebble)["meta"]["externalAccountRequired"], true);
}

#[test]
fn challtestsrv_serves_the_records_it_is_given() {
    let Some(pebble) = started(PebbleOptions::default()) else {
        return;
    };
    let srv = pebble.challtestsrv();
    let name = "_acme-challenge.example.com";
    assert_eq!(srv.lookup_txt(name).unwrap(), Vec::<String>::new());
    srv.add_txt(name, "first-value").unwrap();
    srv.add_txt(name, "second-value").unwrap();
    let mut values = srv.lookup_txt(name).unwrap();
    values.sort();
    assert_eq!(values, ["first-value", "second-value"]);
    srv.clear_txt(name).unwrap();
    assert_eq!(srv.lookup_txt(name).unwrap(), Vec::<String>::new());

    assert_eq!(
        srv.lookup_a("anything.example").unwrap(),
        [Ipv4Addr::LOCALHOST]
    );
    srv.add_a("moved.example", Ipv4Addr::new(127, 0, 0, 2))
        .unwrap();
    assert_eq!(
        srv.lookup_a("moved.example").unwrap(),
        [Ipv4Addr::new(127, 0, 0, 2)]
    );
}

#[test]
fn issuer_roots_are_pem_certificates_one_per_hierarchy() {
    let Some(pebble) = started(PebbleOptions::default().alternate_roots(2)) else {
        return;
    };
    let roots = pebble.issuer_roots().unwrap();
    assert_eq!(roots.len(), 3);
    for root in &roots {
        assert!(root.starts_with("-----BEGIN CERTIFICATE-----"), "{root}");
        assert!(
            root.trim_end().ends_with("-----END CERTIFICATE-----"),
            "{root}"
        );
    }
    assert_ne!(roots[0], roots[1]);
    assert_ne!(roots[1], roots[2]);
}

#[test]
fn options_reach_pebble() {
    let options = PebbleOptions::default()
        .strict(true)
        .always_valid(true)
        .nonce_reject_percent(100)
        .authz_reuse_percent(0)
        .chain_length(3);
    let Some(pebble) = started(options) else {
        return;
    };
    // Pebble says at start-up what it was configured with.
    let log = pebble.log_tail();
    for line in [
        "Disabling random VA sleeps",
        "VA always returns valid",
        "Configured to reject 100% of good nonces",
        "Configured to attempt authz reuse for each identifier 0% of the time",
    ] {
        assert!(log.contains(line), "{line:?} not in {log}");
    }
    let chain = log
        .lines()
        .find(|l| l.contains("Generated issuance chain"))
        .unwrap();
    assert_eq!(chain.matches(" -> ").count(), 3, "{chain}");
}

#[test]
fn defaults_are_fast_and_deterministic() {
    let Some(pebble) = started(PebbleOptions::default()) else {
        return;
    };
    let log = pebble.log_tail();
    for line in [
        "Disabling random VA sleeps",
        "Configured to reject 0% of good nonces",
        "Configured to attempt authz reuse for each identifier 50% of the time",
    ] {
        assert!(log.contains(line), "{line:?} not in {log}");
    }
    assert!(!log.contains("VA always returns valid"), "{log}");
}

#[test]
fn dropping_stops_both_processes_and_frees_the_ports() {
    let Some(mut pebble) = started(PebbleOptions::default()) else {
        return;
    };
    let pids = [pebble.pid(), pebble.challtestsrv().pid()];
    let tcp = [
        pebble.listen_addr(),
        pebble.management_addr(),
        pebble.challtestsrv().dns_server(),
    ];
    let dns = pebble.challtestsrv().dns_server();
    let http01 = pebble.take_http01_listener().unwrap();
    assert_eq!(http01.local_addr().unwrap().port(), pebble.http01_port());
    assert!(pebble.take_http01_listener().is_none());
    for pid in pids {
        assert!(Path::new(&format!("/proc/{pid}")).exists());
    }

    let began = Instant::now();
    drop(pebble);
    eprintln!("pebble stopped in {} ms", began.elapsed().as_millis());

    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} lingers"
        );
    }
    for addr in tcp {
        TcpListener::bind(addr).unwrap_or_else(|e| panic!("{addr} still taken: {e}"));
    }
    UdpSocket::bind(dns).unwrap_or_else(|e| panic!("{dns} (UDP) still taken: {e}"));
    // The listener handed over outlives the Pebble: it is the test's now.
    assert!(http01.local_addr().is_ok());
}

#[test]
fn a_panicking_test_leaves_no_process_behind() {
    let (pids_tx, pids_rx) = std::sync::mpsc::channel();
    let test = thread::spawn(move || {
        let Some(pebble) = start_or_skip(PebbleOptions::default()) else {
            return;
        };
        pids_tx
            .send([pebble.pid(), pebble.challtestsrv().pid()])
            .unwrap();
        panic!("the test fails while its Pebble runs");
    });
    let outcome = test.join();
    let Ok(pids) = pids_rx.recv() else {
        return; // skipped: pebble is not installed
    };
    assert!(outcome.is_err());
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} lingers"
        );
    }
}
