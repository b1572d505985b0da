//! Every operation of the driver, each started on a client made from saved credentials
//! and nothing else (no directory fetched, no nonce), against Pebble: the path of a
//! renewal job that starts from disk. A GET operation once read the directory, fetched
//! first, as its own answer (`renewal_info` failed as `Malformed` on such a client). On
//! Pebble 2.10.3, which serves renewal information.

use acme_proto::ProblemType;
use acme_proto::client::{AccountCredentials, NewAccount};
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto_tests::PebbleOptions;

use super::{Challenge, Fixture, transport};
use crate::driver::{AcmeClient, generate_account_key};

driver_tests!(every_operation_on_a_fresh_client);

/// A client that has done nothing yet, from `credentials` as saved to disk.
fn cold(f: &Fixture, credentials: &AccountCredentials) -> AcmeClient {
    let saved = credentials.to_json().expect("credentials to JSON");
    let credentials = AccountCredentials::from_json(&saved).expect("credentials from JSON");
    AcmeClient::from_credentials(credentials, transport(&f.pebble)).expect("client")
}

pub async fn every_operation_on_a_fresh_client() {
    let Some(f) = Fixture::start(PebbleOptions::default()) else {
        return;
    };
    let name = crate::DRIVER_NAME;
    let account = f.account().await;
    let credentials = account.credentials().expect("credentials");

    let first = f
        .try_issue(
            &cold(&f, &credentials),
            &["cold1.example.org"],
            Challenge::Http01,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: issue on a fresh client: {e:?}"));
    f.check(&first, &["cold1.example.org"]);

    // Renewal information, read from the directory that a fresh client fetches first (not
    // the directory taken for renewal information). On Pebble 2.4.0, which has none, the
    // same call is a typed refusal: `pebble_2_4.rs`.
    let suggestion = aw!(cold(&f, &credentials).renewal_info(&first.issued.chain))
        .unwrap_or_else(|e| panic!("{name}: renewal_info on a fresh client: {e:?}"));
    super::check_window(&suggestion, first.issued.chain.end_entity(), name);

    let fetched = aw!(cold(&f, &credentials).fetch_account())
        .unwrap_or_else(|e| panic!("{name}: fetch_account on a fresh client: {e:?}"));
    assert_eq!(&fetched.url, credentials.account_url());
    let updated = aw!(cold(&f, &credentials).update_contacts(["mailto:cold@example.org"]))
        .unwrap_or_else(|e| panic!("{name}: update_contacts on a fresh client: {e:?}"));
    assert_eq!(updated.account.contact, ["mailto:cold@example.org"]);
    let listed = aw!(cold(&f, &credentials).list_orders(10))
        .unwrap_or_else(|e| panic!("{name}: list_orders on a fresh client: {e:?}"));
    assert!(
        listed.contains(&first.issued.order_url),
        "{name}: {listed:?}"
    );

    aw!(cold(&f, &credentials).revoke(&first.issued.chain, None))
        .unwrap_or_else(|e| panic!("{name}: revoke on a fresh client: {e:?}"));
    // A revoked certificate is due for renewal at once: Pebble's window is in the past.
    let revoked = aw!(cold(&f, &credentials).renewal_info(&first.issued.chain))
        .unwrap_or_else(|e| panic!("{name}: renewal_info of a revoked certificate: {e:?}"));
    let now = acme_proto::UnixTime::from(std::time::SystemTime::now());
    assert!(
        revoked.info.suggested_window.end <= now,
        "{name}: a revoked certificate's window {:?}",
        revoked.info.suggested_window
    );
    assert_eq!(revoked.renewal_time(0, now), now, "{name}: renew at once");
    let second = f
        .issue(&account, &["cold2.example.org"], Challenge::Http01)
        .await;
    aw!(cold(&f, &credentials).revoke_with_certificate_key(
        &second.issued.chain,
        &second.private_key_pem,
        None
    ))
    .unwrap_or_else(|e| panic!("{name}: revoke_with_certificate_key on a fresh client: {e:?}"));

    // A new account, and one found again, each by a client that has done nothing.
    let key = generate_account_key(SignatureAlgorithm::Es256).expect("key");
    let created = aw!(f
        .client(key)
        .create_account(NewAccount::agreeing_to_terms(["mailto:new@example.org"])))
    .unwrap_or_else(|e| panic!("{name}: create_account on a fresh client: {e:?}"));
    assert!(created.created);
    let copy = acme_proto_support::copy_key(credentials.key()).expect("key");
    let found = aw!(f.client(copy).find_account())
        .unwrap_or_else(|e| panic!("{name}: find_account on a fresh client: {e:?}"));
    assert_eq!(&found.url, credentials.account_url());

    // The key changed, then the account deactivated, each from a fresh client.
    let rolled = cold(&f, &credentials);
    let new_key = generate_account_key(SignatureAlgorithm::Es256).expect("key");
    aw!(rolled.change_key(new_key))
        .map_err(|e| e.error)
        .unwrap_or_else(|e| panic!("{name}: change_key on a fresh client: {e:?}"));
    let after = rolled.credentials().expect("credentials");
    let deactivated = aw!(cold(&f, &after).deactivate_account())
        .unwrap_or_else(|e| panic!("{name}: deactivate_account on a fresh client: {e:?}"));
    assert_eq!(
        deactivated.account.status,
        acme_proto::AccountStatus::Deactivated
    );
    let error = aw!(cold(&f, &after).fetch_account()).expect_err("deactivated");
    assert_eq!(
        error.problem().map(|p| p.kind.clone()),
        Some(ProblemType::Unauthorized),
        "{name}: {error:?}"
    );
}
