//! The acme2certifier harness itself: the directory over HTTPS, an address of each
//! instance's own that its DNS server answers with, the options in the directory, and
//! nothing left running (or bound) after a drop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use acme_proto_tests::{Acme2Certifier, Acme2CertifierOptions, acme2certifier_or_skip};

fn directory(a2c: &Acme2Certifier) -> serde_json::Value {
    let body = a2c
        .get_text(&a2c.directory_url())
        .unwrap_or_else(|e| panic!("directory: {e}\n{}", a2c.log_tail()));
    serde_json::from_str(&body).expect("the directory is JSON")
}

#[test]
fn two_run_side_by_side_each_on_its_own_address() {
    let Some(first) = acme2certifier_or_skip(Acme2CertifierOptions::default()) else {
        return;
    };
    let Some(second) = acme2certifier_or_skip(Acme2CertifierOptions::default()) else {
        return;
    };
    assert_ne!(first.address(), second.address());
    assert_ne!(first.directory_url(), second.directory_url());
    for a2c in [&first, &second] {
        let dir = directory(a2c);
        assert_eq!(
            dir["meta"]["version"],
            acme_proto_tests::ACME2CERTIFIER_VERSION
        );
        assert!(dir["newOrder"].is_string() && dir["renewalInfo"].is_string());
        // Any name resolves to the instance's own address.
        let answers = a2c
            .challtestsrv()
            .lookup_a("anything.example.org")
            .expect("DNS");
        assert_eq!(answers, [a2c.address()]);
        assert_eq!(
            a2c.challtestsrv().dns_server(),
            SocketAddr::from((a2c.address(), 53))
        );
        eprintln!(
            "acme2certifier on {} started in {:?}",
            a2c.address(),
            a2c.startup_time()
        );
    }
}

#[test]
fn options_reach_the_directory() {
    let options = Acme2CertifierOptions::default()
        .eab_key(
            "kid-1",
            "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
        )
        .profile("classic", "The usual")
        .profile("shortlived", "Short");
    let Some(a2c) = acme2certifier_or_skip(options) else {
        return;
    };
    let dir = directory(&a2c);
    assert_eq!(dir["meta"]["externalAccountRequired"], true);
    assert_eq!(
        dir["meta"]["profiles"],
        serde_json::json!({"classic": "The usual", "shortlived": "Short"})
    );
    let Some(plain) = acme2certifier_or_skip(Acme2CertifierOptions::default()) else {
        return;
    };
    let dir = directory(&plain);
    assert!(dir["meta"].get("externalAccountRequired").is_none());
    assert!(dir["meta"].get("profiles").is_none());
}

#[test]
fn dropping_stops_both_processes_and_frees_the_address() {
    let Some(mut a2c) = acme2certifier_or_skip(Acme2CertifierOptions::default()) else {
        return;
    };
    let pids = [a2c.pid(), a2c.challtestsrv().pid()];
    let address = a2c.address();
    let http = a2c.take_http01_listener().expect("port 80");
    assert_eq!(
        http.local_addr().expect("bound"),
        SocketAddr::from((address, 80))
    );
    assert!(a2c.take_http01_listener().is_none());
    drop(http);
    let dir = a2c.dir().to_owned();
    for pid in pids {
        assert!(Path::new(&format!("/proc/{pid}")).exists());
    }
    drop(a2c);
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} survived the drop"
        );
    }
    assert!(!dir.exists(), "{} survived the drop", dir.display());
    // Port 443 was held by the harness until the drop, and 53 by challtestsrv.
    TcpListener::bind(SocketAddr::from((address, 443))).expect("443 free again");
    TcpListener::bind(SocketAddr::from((address, 53))).expect("53 free again");
}
