//! The drivers' `issue` examples against real Pebble, run as a user would (a
//! certificate, then a saved account, then a failing run; killed and resumed), and the
//! recording switch. The scenarios of the drivers themselves against Pebble are the
//! driver suite's (`driver-tests/pebble/`), run by each driver's tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

mod crash;
mod examples;
mod renewal_examples;

#[test]
fn tokio_example_issues_a_certificate() {
    examples::example("acme-proto-tokio");
}

#[test]
fn blocking_example_issues_a_certificate() {
    examples::example("acme-proto-blocking");
}

#[test]
fn tokio_example_renews_and_answers_the_new_dns_challenges() {
    renewal_examples::renewal_and_dns_challenges("acme-proto-tokio");
}

#[test]
fn blocking_example_renews_and_answers_the_new_dns_challenges() {
    renewal_examples::renewal_and_dns_challenges("acme-proto-blocking");
}

#[test]
fn tokio_example_resumes_after_being_killed() {
    crash::crash_and_resume("acme-proto-tokio");
}

#[test]
fn blocking_example_resumes_after_being_killed() {
    crash::crash_and_resume("acme-proto-blocking");
}

/// The recording switch writes every exchange, in the format the fuzzing crate imports.
#[test]
fn recording_writes_each_exchange() {
    use acme_proto::client::NewAccount;
    use acme_proto_tokio::{AcmeClient, Transport};

    let Some(pebble) = acme_proto_tests::start_or_skip(acme_proto_tests::PebbleOptions::default())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let transport = Transport::builder()
        .add_root_pem(pebble.root_pem())
        .observe(acme_proto_tests::recorder_into(dir.path().to_owned()))
        .build()
        .unwrap();
    let key =
        acme_proto_support::generate_account_key(acme_proto::crypto::SignatureAlgorithm::Es256)
            .unwrap();
    let client = AcmeClient::new(pebble.directory_url().parse().unwrap(), key, transport).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(client.create_account(NewAccount::agreeing_to_terms(Vec::<String>::new())))
        .unwrap();
    let mut recorded: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    recorded.sort();
    // The directory, a nonce, the new account.
    assert_eq!(recorded.len(), 3, "{recorded:#?}");
    assert!(recorded[0].starts_with("GET ") && recorded[0].contains("\n200\n"));
    let heads: Vec<&String> = recorded.iter().filter(|r| r.starts_with("HEAD ")).collect();
    assert_eq!(heads.len(), 1, "{recorded:#?}");
    assert!(
        heads[0].to_ascii_lowercase().contains("\nreplay-nonce: "),
        "{}",
        heads[0]
    );
    let account = recorded.iter().find(|r| r.starts_with("POST ")).unwrap();
    assert!(
        account.contains("\n201\n") && account.contains("\n\n{"),
        "{account}"
    );
}
