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
                    acme_proto_support::certificate_request::<std::io::Error>(&order.identifiers)
                        .unwrap();
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
