//! The `issue` examples' renewal and new DNS challenges against Pebble 2.10, as a user
//! runs them: `--replaces` renewing a certificate in place (its names, its ARI certID),
//! `--challenge dns-account-01` and `--challenge dns-persist-01 --persist-issuer` through
//! a `--dns-hook` script, and dns-persist-01 without an allowed issuer refused before
//! anything is sent.

use std::process::{Command, Output};

use acme_proto::CertificateChain;
use acme_proto_tests::{PebbleOptions, start_or_skip, verify_chain};

/// What Pebble logs once it marks a replaced certificate's order.
const MARKED_REPLACED: &str = "has been marked as replaced in the DB";

pub fn renewal_and_dns_challenges(package: &str) {
    let Some(mut pebble) = start_or_skip(PebbleOptions::default()) else {
        return;
    };
    let binary = acme_proto_tests::example_binary(package).expect("the example builds");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("root.pem"), pebble.root_pem()).expect("root");
    // `--dns-hook` takes one program: a script calling the harness's challtestsrv hook.
    let (program, hook_args) =
        acme_proto_tests::challtestsrv_hook(dir.path(), &pebble.challtestsrv().management_url())
            .expect("hook");
    let hook = path("hook.sh");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\nexec {program} {} \"$@\"\n", hook_args.join(" ")),
    )
    .expect("hook script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    let port = pebble.http01_port();
    drop(pebble.take_http01_listener());
    let run = |args: &[&str]| -> Output {
        Command::new(&binary)
            .args(["--directory", &pebble.directory_url()])
            .args(["--ca-cert", &path("root.pem")])
            .args(["--account", &path("account.json")])
            .args(["--http-port", &port.to_string(), "--listen", "127.0.0.1"])
            .args(args)
            .output()
            .expect("the example runs")
    };
    let ok = |output: &Output, what: &str| {
        assert!(
            output.status.success(),
            "{package}: {what}: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            pebble.log_tail()
        );
    };
    let roots = pebble.issuer_roots().expect("roots");
    let names = ["renew.example.org", "127.0.0.1"];
    let chain_of = |file: &str| std::fs::read_to_string(path(file)).expect("chain written");

    let first = run(&[
        "--domain",
        names[0],
        "--ip",
        names[1],
        "--out",
        &path("chain.pem"),
        "--key-out",
        &path("key.pem"),
    ]);
    ok(&first, "first");
    let before = CertificateChain::from_pem(&chain_of("chain.pem")).expect("chain");

    // Renewed in place: the same names, read from the certificate; its certID sent.
    let renewed = run(&[
        "--replaces",
        &path("chain.pem"),
        "--out",
        &path("chain.pem"),
        "--key-out",
        &path("key.pem"),
    ]);
    ok(&renewed, "--replaces");
    let stdout = String::from_utf8_lossy(&renewed.stdout);
    assert!(
        stdout.starts_with("issued for renew.example.org"),
        "{stdout}"
    );
    let after_pem = chain_of("chain.pem");
    verify_chain(&after_pem, &roots[0], &names).expect("the renewal validates");
    let after = CertificateChain::from_pem(&after_pem).expect("chain");
    assert_ne!(after.end_entity().serial(), before.end_entity().serial());
    assert_eq!(
        after.end_entity().dns_names(),
        before.end_entity().dns_names()
    );
    assert_eq!(
        after.end_entity().ip_addresses(),
        before.end_entity().ip_addresses()
    );
    let marked = pebble.wait_for_log(MARKED_REPLACED, 1, std::time::Duration::from_secs(10));
    assert_eq!(marked, 1, "{package}: Pebble marked no replacement");

    // The two new DNS challenges through the hook.
    for (challenge, extra, name) in [
        ("dns-account-01", &[][..], "account01.example.org"),
        (
            "dns-persist-01",
            &[
                "--persist-issuer",
                "ca.example.net",
                "--persist-issuer",
                "pebble.letsencrypt.org",
            ][..],
            "persist01.example.org",
        ),
    ] {
        let out = path(&format!("{challenge}.pem"));
        let key = path(&format!("{challenge}-key.pem"));
        let output = run(&[
            &[
                "--challenge",
                challenge,
                "--dns-hook",
                &hook,
                "--domain",
                name,
            ][..],
            extra,
            &["--out", &out, "--key-out", &key, "--verbose"][..],
        ]
        .concat());
        ok(&output, challenge);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(challenge),
            "{package}: {challenge}: {stderr}"
        );
        verify_chain(&chain_of(&format!("{challenge}.pem")), &roots[0], &[name])
            .unwrap_or_else(|e| panic!("{package}: {challenge}: {e}"));
    }

    // dns-persist-01 needs the issuers the user allows: one line, exit 2.
    let refused = run(&[
        "--challenge",
        "dns-persist-01",
        "--dns-hook",
        &hook,
        "--domain",
        "x.example.org",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{package}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--persist-issuer"), "{stderr}");
}
