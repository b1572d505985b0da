//! The driver's `issue` example, run as a user would.

use std::path::Path;

use acme_proto_tests::{PebbleOptions, start_or_skip, verify_chain};

/// The driver's `issue` example, run as a user would: a certificate over http-01 with a
/// new account saved to a file, again with the saved account, then a failing run that
/// must print one line, exit non-zero and leave no file behind.
pub fn example(package: &str) {
    use std::process::Command;

    const KID: &str = "kid-example";
    const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    const WRONG_KEY: &str = "AAAAZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let options = PebbleOptions::default().eab_key(KID, KEY);
    let Some(mut pebble) = start_or_skip(options) else {
        return;
    };
    let binary = acme_proto_tests::example_binary(package).expect("the example builds");
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(path("root.pem"), pebble.root_pem()).expect("root");
    // The example binds the port itself.
    let port = pebble.http01_port();
    drop(pebble.take_http01_listener());
    let run_as = |account: &str, key: &str, domain: &str, extra: &[&str]| {
        Command::new(&binary)
            .args([
                "--directory",
                &pebble.directory_url(),
                "--ca-cert",
                &path("root.pem"),
            ])
            .args([
                "--account",
                &path(account),
                "--contact",
                "mailto:ops@example.org",
            ])
            .args(["--eab-kid", KID, "--eab-hmac-key", key])
            .args(["--domain", domain, "--http-port", &port.to_string()])
            // The default is every interface, as a real CA needs; the test keeps to
            // loopback.
            .args(["--listen", "127.0.0.1"])
            .args(["--out", &path("chain.pem"), "--key-out", &path("key.pem")])
            .args(extra)
            .output()
            .expect("the example runs")
    };
    let run = |domain: &str, extra: &[&str]| run_as("account.json", KEY, domain, extra);

    let first = run("example.example.org", &[]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{package}: {}\n{stdout}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout.starts_with("issued for example.example.org"),
        "{stdout}"
    );
    let chain = std::fs::read_to_string(path("chain.pem")).expect("chain written");
    let roots = pebble.issuer_roots().expect("roots");
    verify_chain(&chain, &roots[0], &["example.example.org"]).expect("the chain validates");
    let key = std::fs::read_to_string(path("key.pem")).expect("key written");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for private in ["key.pem", "account.json"] {
            let mode = std::fs::metadata(path(private))
                .expect("written")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{private}");
        }
    }
    let account = std::fs::read(path("account.json")).expect("account saved");

    // Again, with the saved account: it is reused, not replaced.
    let second = run("again.example.org", &[]);
    assert!(
        second.status.success(),
        "{package}: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        std::fs::read(path("account.json")).expect("account"),
        account
    );

    // A failing run: the DNS hook fails. One line, exit 1, nothing written.
    std::fs::remove_file(path("chain.pem")).expect("remove");
    std::fs::remove_file(path("key.pem")).expect("remove");
    let failed = run(
        "fails.example.org",
        &["--challenge", "dns-01", "--dns-hook", "false"],
    );
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{package}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{package}: {stderr}");
    assert!(stderr.starts_with("issue: issuing: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert!(!Path::new(&path("chain.pem")).exists() && !Path::new(&path("key.pem")).exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A server problem (a new account with the wrong EAB key) is named by its type and
    // detail. The key was written before the account was asked for, and stays: the
    // file holds the key alone, and a rerun with the right EAB key uses it.
    let refused = run_as("other.json", WRONG_KEY, "refused.example.org", &[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{package}: {stderr}");
    assert!(
        stderr.starts_with("issue: creating the account: the ACME server refused: "),
        "{stderr}"
    );
    let kept = std::fs::read_to_string(path("other.json")).expect("the key was kept");
    assert!(kept.starts_with("-----BEGIN PRIVATE KEY-----"), "{kept}");
    let retried = run_as("other.json", KEY, "retried.example.org", &[]);
    assert!(
        retried.status.success(),
        "{package}: {}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let credentials: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("other.json")).expect("saved"))
            .expect("credentials");
    assert_eq!(credentials["key"].as_str(), Some(kept.as_str()));

    // A run that stopped after the server created the account, before its URL was
    // saved: the file holds the first account's key alone. The rerun finds that
    // account (the same URL), and creates none.
    let first: serde_json::Value = serde_json::from_slice(&account).expect("credentials");
    let key_pem = first["key"].as_str().expect("a key");
    std::fs::write(path("stopped.json"), key_pem).expect("key alone");
    let found = run_as("stopped.json", KEY, "found.example.org", &[]);
    assert!(
        found.status.success(),
        "{package}: {}",
        String::from_utf8_lossy(&found.stderr)
    );
    let found: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("stopped.json")).expect("saved"))
            .expect("credentials");
    assert_eq!(
        found["account"], first["account"],
        "the same account, found"
    );

    // An RSA account key brought from elsewhere (openssl genpkey, 2048 bits; certbot's
    // JWK), in each of its forms: it signs with ring, without the `rsa` feature.
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../acme-proto-support/tests/keys");
    for (form, file) in [
        ("pkcs8", "rsa2048-pkcs8.pem"),
        ("pkcs1", "rsa2048-pkcs1.pem"),
        ("jwk", "rsa2048-certbot.json"),
    ] {
        // A copy of the user's own (a checkout's mode depends on the umask, and a key
        // file group or others can write is refused).
        let key_file = path(file);
        std::fs::copy(keys.join(file), &key_file).expect("key copied");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let private = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(&key_file, private).expect("chmod");
        }
        let domain = format!("rsa-{form}.example.org");
        let output = Command::new(&binary)
            .args([
                "--directory",
                &pebble.directory_url(),
                "--ca-cert",
                &path("root.pem"),
            ])
            .args([
                "--account-key",
                &key_file,
                "--eab-kid",
                KID,
                "--eab-hmac-key",
                KEY,
            ])
            .args(["--domain", &domain, "--http-port", &port.to_string()])
            .args(["--listen", "127.0.0.1"])
            .args([
                "--out",
                &path("rsa-chain.pem"),
                "--key-out",
                &path("rsa-key.pem"),
            ])
            .output()
            .expect("the example runs");
        assert!(
            output.status.success(),
            "{package}, RSA {form}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let chain = std::fs::read_to_string(path("rsa-chain.pem")).expect("chain written");
        verify_chain(&chain, &roots[0], &[domain.as_str()]).expect("the chain validates");
    }
    // New RSA keys are refused in one line that says what to do instead.
    let refused = run_as(
        "rsa-new.json",
        KEY,
        "rsa-new.example.org",
        &["--key-type", "rs256"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("use es256") && stderr.contains("--account-key"),
        "{stderr}"
    );
    #[cfg(unix)]
    planted_files_are_refused_before_anything_is_sent(&binary, &path, package);
}

/// Account files the user did not write (mode 0666, another owner, a symbolic link), and
/// an account named again as `--out`: one line each, exit 1 or 2, before anything is
/// sent. The directory is a port where nothing listens, so a run that went on would
/// fail to connect instead, with another message.
#[cfg(unix)]
fn planted_files_are_refused_before_anything_is_sent(
    binary: &Path,
    path: &dyn Fn(&str) -> String,
    package: &str,
) {
    use std::os::unix::fs::PermissionsExt as _;
    use std::process::Command;

    let nowhere = "https://127.0.0.1:9/directory";
    let run = |account: &str, out: &str| {
        let output = Command::new(binary)
            .args(["--directory", nowhere, "--account", &path(account)])
            .args(["--domain", "planted.example.org", "--listen", "127.0.0.1"])
            .args(["--out", &path(out), "--key-out", &path("planted-key.pem")])
            .output()
            .expect("the example runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!output.status.success(), "{package}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{package}: {stderr}");
        assert!(
            !stderr.contains("connect"),
            "{package}: it went on: {stderr}"
        );
        stderr
    };
    std::fs::copy(path("account.json"), path("planted.json")).expect("copy");
    let chmod = |mode| {
        std::fs::set_permissions(path("planted.json"), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    };
    chmod(0o666);
    let stderr = run("planted.json", "planted-chain.pem");
    assert!(
        stderr.contains("writable by its group or others"),
        "{stderr}"
    );
    chmod(0o600);
    // Another user's (chown needs root, which CI has; without it, the rule is the
    // support crate's unit-tested one).
    if std::os::unix::fs::chown(path("planted.json"), Some(65534), None).is_ok() {
        let stderr = run("planted.json", "planted-chain.pem");
        assert!(stderr.contains("owned by user 65534"), "{stderr}");
    }
    std::os::unix::fs::symlink(path("account.json"), path("linked.json")).expect("symlink");
    let stderr = run("linked.json", "planted-chain.pem");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    // The typo: the account as --out.
    let stderr = run("account.json", "account.json");
    assert!(stderr.contains("same file"), "{stderr}");
    assert!(!Path::new(&path("planted-chain.pem")).exists());
}
