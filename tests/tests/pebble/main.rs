//! Both drivers against real Pebble: every scenario of `scenarios.rs`, once per driver,
//! each with a Pebble of its own; plus what only the tokio driver does (many orders at
//! once over one client).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    unreachable_pub,
    missing_docs
)]

mod cold_start;
mod crash;
mod driver;
mod scenarios;

use driver::blocking_driver::Blocking;
use driver::tokio_driver::Tokio;

/// One `#[test]` per scenario and driver: `with_tokio::http01`, `with_blocking::http01`, ….
macro_rules! for_drivers {
    ($($scenario:ident),* $(,)?) => {
        mod with_tokio {
            $(
                #[test]
                fn $scenario() {
                    crate::scenarios::$scenario::<crate::Tokio>();
                }
            )*
        }
        mod with_blocking {
            $(
                #[test]
                fn $scenario() {
                    crate::scenarios::$scenario::<crate::Blocking>();
                }
            )*
        }
    };
}

for_drivers!(
    http01,
    dns01,
    tls_alpn01,
    wildcard,
    ip_address,
    ten_names,
    eab_required,
    key_rollover_then_issue,
    contact_update,
    find_existing_account,
    deactivation_then_typed_error,
    revocation_both_ways,
    alternate_roots_preferred_chain,
    authz_reuse_skips_the_challenge,
    strict_mode,
    nonce_rejection,
    orders_listed_and_renewal_info_unsupported,
    every_operation_on_a_fresh_client,
);

/// Eight orders at once over one tokio client (one nonce pool, one connection pool).
/// Pebble 2.4.0 was seen to hang now and then with 32 concurrent orders, so this stays
/// at 8 and is bounded: a hang fails with the server named as the cause. Hundreds of
/// concurrent orders run against the in-process fake CA instead (acme-proto-tokio's
/// tests).
#[test]
fn tokio_eight_concurrent_orders() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use acme_proto::client::NewOrder;
    use acme_proto_tests::PebbleOptions;

    const ORDERS: usize = 8;
    const LIMIT: Duration = Duration::from_secs(90);
    let options = PebbleOptions::default().always_valid(true).no_sleep(true);
    let Some(f) = scenarios::Fixture::<Tokio>::start(options) else {
        return;
    };
    let client = Arc::new(f.account());
    let started = Instant::now();
    let outcome = f.driver.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..ORDERS {
            let client = Arc::clone(&client);
            tasks.spawn(async move {
                let name = format!("concurrent{i}.example.org");
                let order = NewOrder::new([acme_proto::Identifier::dns(&name).unwrap()]);
                let (csr, _key) =
                    acme_proto_support::certificate_request(&order.identifiers).unwrap();
                let mut flow = acme_proto::client::OrderFlow::new(order).unwrap();
                // always-valid: any solver that picks http-01 and presents nothing will do.
                client
                    .order(&mut flow, csr, &AnyHttp01)
                    .await
                    .map(|issued| (name, issued))
            });
        }
        tokio::time::timeout(LIMIT, tasks.join_all()).await
    });
    let Ok(results) = outcome else {
        panic!(
            "Pebble hung: {ORDERS} concurrent orders did not finish within {LIMIT:?} (a known \
             Pebble 2.4.0 behaviour under load, not the client's)\n{}",
            f.pebble.log_tail()
        );
    };
    let roots = f.pebble.issuer_roots().unwrap();
    for result in results {
        let (name, issued) = result.unwrap_or_else(|e| panic!("a concurrent order failed: {e}"));
        acme_proto_tests::verify_chain(issued.chain.pem(), &roots[0], &[&name]).unwrap();
    }
    eprintln!(
        "{ORDERS} concurrent orders issued by Pebble in {:?}",
        started.elapsed()
    );
}

/// A solver that answers http-01 without serving anything: for `PEBBLE_VA_ALWAYS_VALID`.
struct AnyHttp01;

impl acme_proto_tokio::Solver for AnyHttp01 {
    fn choose<'a>(
        &self,
        offers: &'a [acme_proto::client::ChallengeOffer],
    ) -> Option<&'a acme_proto::client::ChallengeOffer> {
        offers.iter().find(|o| o.type_name() == "http-01")
    }

    async fn present(
        &self,
        _: &acme_proto::client::ChallengeOffer,
    ) -> Result<(), acme_proto_tokio::SolverError> {
        Ok(())
    }

    async fn cleanup(
        &self,
        _: &acme_proto::client::ChallengeOffer,
    ) -> Result<(), acme_proto_tokio::SolverError> {
        Ok(())
    }
}

#[test]
fn tokio_example_issues_a_certificate() {
    scenarios::example("acme-proto-tokio");
}

#[test]
fn blocking_example_issues_a_certificate() {
    scenarios::example("acme-proto-blocking");
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
