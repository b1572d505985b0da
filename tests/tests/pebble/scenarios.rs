//! Every scenario against real Pebble, written once over [`Driver`] and run for each
//! driver by `main.rs`. Each issued chain is validated by rustls-webpki up to Pebble's
//! root (management `/roots/N`), and every responder is empty once an order is over.

use acme_proto::client::{NewAccount, NewOrder, RevocationReason};
use acme_proto::crypto::{
    AccountKey, EabAlgorithm, ExternalAccountBinding, SignatureAlgorithm, Signer as _,
};
use acme_proto::{AccountStatus, CertificateChain, Identifier, ProblemType};
use acme_proto_support::{Certificate, DriverError, copy_key, generate_account_key};
use std::path::Path;

use acme_proto_tests::{Pebble, PebbleOptions, start_or_skip, verify_chain};

pub use crate::cold_start::every_operation_on_a_fresh_client;
use crate::driver::{Challenge, Driver};

/// A Pebble of the test's own, a driver with its responders on Pebble's ports, and a
/// directory for the DNS hook script.
pub struct Fixture<D: Driver> {
    pub pebble: Pebble,
    pub driver: D,
    _dir: tempfile::TempDir,
}

impl<D: Driver> Fixture<D> {
    /// `None` when Pebble is not installed and this is not CI.
    pub fn start(options: PebbleOptions) -> Option<Self> {
        let mut pebble = start_or_skip(options)?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let driver = D::start(&mut pebble, dir.path());
        Some(Self {
            pebble,
            driver,
            _dir: dir,
        })
    }

    pub fn client(&self, key: AccountKey) -> D::Client {
        self.driver.client(&self.pebble, key)
    }

    /// A client with a new ES256 account.
    pub fn account(&self) -> D::Client {
        self.account_with(SignatureAlgorithm::Es256)
    }

    pub fn account_with(&self, algorithm: SignatureAlgorithm) -> D::Client {
        let client = self.client(generate_account_key(algorithm).expect("key"));
        let info = self
            .driver
            .create_account(
                &client,
                NewAccount::agreeing_to_terms(["mailto:ops@example.org"]),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{}: creating the account: {e}\n{}",
                    D::NAME,
                    self.pebble.log_tail()
                )
            });
        assert!(info.created);
        client
    }

    /// Issues for `names` (DNS names or IP addresses) with `challenge`, then checks the
    /// chain up to `/roots/0` and that nothing is left presented.
    pub fn issue(&self, client: &D::Client, names: &[&str], challenge: Challenge) -> Certificate {
        let certificate = self
            .driver
            .issue(client, order(names), challenge)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: issuing {names:?}: {e}\n{}",
                    D::NAME,
                    self.pebble.log_tail()
                )
            });
        self.check(&certificate, names);
        certificate
    }

    pub fn check(&self, certificate: &Certificate, names: &[&str]) {
        let roots = self.pebble.issuer_roots().expect("Pebble's roots");
        let checked: Vec<String> = names.iter().map(|n| n.replace('*', "any")).collect();
        let checked: Vec<&str> = checked.iter().map(String::as_str).collect();
        verify_chain(certificate.issued.chain.pem(), &roots[0], &checked)
            .unwrap_or_else(|e| panic!("{}: {names:?}: {e}", D::NAME));
        assert_eq!(
            self.driver.still_presented(),
            0,
            "{}: a challenge was left presented",
            D::NAME
        );
    }
}

pub fn order(names: &[&str]) -> NewOrder {
    NewOrder::new(names.iter().map(|name| match name.parse() {
        Ok(ip) => Identifier::Ip(ip),
        Err(_) => Identifier::dns(name).expect("a DNS name"),
    }))
}

fn problem(error: &DriverError) -> ProblemType {
    match error.problem() {
        Some(problem) => problem.kind.clone(),
        None => panic!("expected a problem document from Pebble"),
    }
}

pub fn http01<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    f.issue(&client, &["http01.example.org"], Challenge::Http01);
}

pub fn dns01<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    f.issue(&client, &["dns01.example.org"], Challenge::Dns01);
    // The hook's cleanup removed the record.
    let left = f
        .pebble
        .challtestsrv()
        .lookup_txt("_acme-challenge.dns01.example.org")
        .expect("lookup");
    assert!(left.is_empty(), "{}: TXT records left: {left:?}", D::NAME);
}

pub fn tls_alpn01<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    f.issue(&client, &["tlsalpn.example.org"], Challenge::TlsAlpn01);
}

pub fn wildcard<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let certificate = f.issue(
        &client,
        &["*.wild.example.org", "wild.example.org"],
        Challenge::Dns01,
    );
    let names = certificate.issued.chain.end_entity().dns_names().to_vec();
    assert!(
        names.contains(&"*.wild.example.org".to_owned()),
        "{names:?}"
    );
}

pub fn ip_address<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let certificate = f.issue(&client, &["127.0.0.1"], Challenge::Http01);
    assert_eq!(
        certificate.issued.chain.end_entity().ip_addresses(),
        &["127.0.0.1".parse::<std::net::IpAddr>().expect("ip")]
    );
}

pub fn ten_names<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let names: Vec<String> = (0..10)
        .map(|i| format!("name{i}.ten.example.org"))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let certificate = f.issue(&client, &names, Challenge::Http01);
    assert_eq!(certificate.issued.chain.end_entity().dns_names().len(), 10);
}

pub fn eab_required<D: Driver>() {
    // Pebble's EAB keys are standard base64 of the raw key; this one is base64url-safe.
    const KID: &str = "kid-1";
    const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let Some(f) = Fixture::<D>::start(PebbleOptions::default().eab_key(KID, KEY)) else {
        return;
    };
    let client = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let refused = f
        .driver
        .create_account(&client, NewAccount::agreeing_to_terms(Vec::<String>::new()))
        .expect_err("an account without EAB");
    assert_eq!(
        problem(&refused),
        ProblemType::ExternalAccountRequired,
        "{refused}"
    );

    let eab = ExternalAccountBinding::new(KID, KEY, EabAlgorithm::Hs256).expect("EAB");
    let info = f
        .driver
        .create_account(
            &client,
            NewAccount::agreeing_to_terms(Vec::<String>::new()).with_external_account_binding(eab),
        )
        .unwrap_or_else(|e| panic!("{}: with EAB: {e}", D::NAME));
    assert!(info.created);
    f.issue(&client, &["eab.example.org"], Challenge::Http01);
}

pub fn key_rollover_then_issue<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let old = f.driver.credentials(&client).expect("credentials");
    let account_url = old.account_url().clone();
    let new_key = generate_account_key(SignatureAlgorithm::Es384).expect("key");
    let new_jwk = new_key.public_jwk();
    f.driver
        .change_key(&client, new_key)
        .unwrap_or_else(|e| panic!("{}: key change: {e}", D::NAME));
    f.issue(&client, &["rollover.example.org"], Challenge::Http01);

    // The saved credentials now hold the new key, and find the same account.
    let saved = f.driver.credentials(&client).expect("credentials");
    assert_eq!(saved.key().public_jwk(), new_jwk);
    let again = f.driver.client_from_credentials(&f.pebble, saved);
    assert_eq!(
        f.driver.find_account(&again).expect("found").url,
        account_url
    );
    // The old key has no account any more.
    let stale = f.client(copy_key(old.key()).expect("key"));
    let error = f.driver.find_account(&stale).expect_err("the old key");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");
}

pub fn contact_update<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let updated = f
        .driver
        .update_contacts(&client, vec!["mailto:new@example.org".into()])
        .unwrap_or_else(|e| panic!("{}: contact update: {e}", D::NAME));
    assert_eq!(updated.account.contact, ["mailto:new@example.org"]);
    let fetched = f.driver.fetch_account(&client).expect("fetch");
    assert_eq!(fetched.account.contact, ["mailto:new@example.org"]);
}

pub fn find_existing_account<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let credentials = f.driver.credentials(&client).expect("credentials");
    let same_key = f.client(copy_key(credentials.key()).expect("key"));
    let found = f
        .driver
        .find_account(&same_key)
        .unwrap_or_else(|e| panic!("{}: find: {e}", D::NAME));
    assert_eq!(&found.url, credentials.account_url());
    assert!(!found.created);
    // Creating again with the same key finds it too.
    let again = f
        .driver
        .create_account(
            &same_key,
            NewAccount::agreeing_to_terms(Vec::<String>::new()),
        )
        .expect("create");
    assert_eq!(
        (&again.url, again.created),
        (credentials.account_url(), false)
    );

    let stranger = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let error = f.driver.find_account(&stranger).expect_err("no account");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");
}

pub fn deactivation_then_typed_error<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let info = f
        .driver
        .deactivate_account(&client)
        .unwrap_or_else(|e| panic!("{}: deactivate: {e}", D::NAME));
    assert_eq!(info.account.status, AccountStatus::Deactivated);
    let error = f
        .driver
        .issue(&client, order(&["after.example.org"]), Challenge::Http01)
        .expect_err("a deactivated account");
    assert_eq!(problem(&error), ProblemType::Unauthorized, "{error}");
}

pub fn revocation_both_ways<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let first = f.issue(&client, &["revoke1.example.org"], Challenge::Http01);
    f.driver
        .revoke(
            &client,
            &first.issued.chain,
            Some(RevocationReason::Superseded),
        )
        .unwrap_or_else(|e| panic!("{}: revoking with the account key: {e}", D::NAME));
    let again = f
        .driver
        .revoke(&client, &first.issued.chain, None)
        .expect_err("revoked twice");
    assert_eq!(problem(&again), ProblemType::AlreadyRevoked, "{again}");

    let second = f.issue(&client, &["revoke2.example.org"], Challenge::Http01);
    // Signed by the certificate's key, through a client of another account.
    let other = f.account();
    f.driver
        .revoke_with_certificate_key(&other, &second.issued.chain, &second.private_key_pem, None)
        .unwrap_or_else(|e| panic!("{}: revoking with the certificate key: {e}", D::NAME));
    let again = f
        .driver
        .revoke_with_certificate_key(&other, &second.issued.chain, &second.private_key_pem, None)
        .expect_err("revoked twice");
    assert_eq!(problem(&again), ProblemType::AlreadyRevoked, "{again}");
}

pub fn alternate_roots_preferred_chain<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default().alternate_roots(2)) else {
        return;
    };
    let client = f.account();
    let certificate = f.issue(&client, &["alternates.example.org"], Challenge::Http01);
    let issued = &certificate.issued;
    assert_eq!(issued.alternates.len(), 2, "{}: alternates", D::NAME);
    let roots = f.pebble.issuer_roots().expect("roots");
    assert_eq!(roots.len(), 3);
    for root in &roots {
        let name = CertificateChain::from_pem(root)
            .expect("root")
            .end_entity()
            .subject_common_name()
            .expect("root CN")
            .to_owned();
        let chosen = issued.preferred_chain(&name);
        assert_eq!(
            chosen.root_name(),
            Some(name.as_str()),
            "{}: preferred {name}",
            D::NAME
        );
        verify_chain(chosen.pem(), root, &["alternates.example.org"])
            .unwrap_or_else(|e| panic!("{}: the chain to {name}: {e}", D::NAME));
    }
}

pub fn authz_reuse_skips_the_challenge<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default().authz_reuse_percent(100)) else {
        return;
    };
    let client = f.account();
    f.issue(&client, &["reuse.example.org"], Challenge::Http01);
    // The authorization is valid already: a solver that answers nothing is enough.
    f.issue(&client, &["reuse.example.org"], Challenge::Refuse);
}

pub fn strict_mode<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default().strict(true)) else {
        return;
    };
    let client = f.account_with(SignatureAlgorithm::Es384);
    f.issue(&client, &["strict.example.org"], Challenge::Http01);
    f.issue(&client, &["strict-dns.example.org"], Challenge::Dns01);
}

pub fn nonce_rejection<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default().nonce_reject_percent(50)) else {
        return;
    };
    let client = f.account();
    for i in 0..4 {
        f.issue(
            &client,
            &[&format!("nonce{i}.example.org")],
            Challenge::Http01,
        );
    }
}

pub fn orders_listed_and_renewal_info_unsupported<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let client = f.account();
    let first = f.issue(&client, &["list1.example.org"], Challenge::Http01);
    let second = f.issue(&client, &["list2.example.org"], Challenge::Http01);
    let listed = f
        .driver
        .list_orders(&client, 10)
        .unwrap_or_else(|e| panic!("{}: list orders: {e}", D::NAME));
    for issued in [&first.issued, &second.issued] {
        assert!(
            listed.contains(&issued.order_url),
            "{}: {} not in {listed:?}",
            D::NAME,
            issued.order_url
        );
    }
    // Pebble 2.4.0 has no renewalInfo (ARI): a typed error, before any request.
    let error = f
        .driver
        .renewal_info(&client, &first.issued.chain)
        .expect_err("no ARI in Pebble 2.4.0");
    assert!(
        matches!(error, DriverError::Acme(acme_proto::Error::Misuse(_))),
        "{}: {error:?}",
        D::NAME
    );
}

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
        let key_file = keys.join(file).to_string_lossy().into_owned();
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
}
