//! Every operation of both drivers, each started on a client made from saved credentials
//! and nothing else (no directory fetched, no nonce): the path of a renewal job that
//! starts from disk. A GET operation once read the directory, fetched first, as its own
//! answer (`renewal_info` failed as `Malformed` on such a client).

use acme_proto::ProblemType;
use acme_proto::client::{AccountCredentials, NewAccount};
use acme_proto::crypto::SignatureAlgorithm;
use acme_proto_support::{DriverError, generate_account_key};
use acme_proto_tests::PebbleOptions;

use crate::driver::{Challenge, Driver};
use crate::scenarios::Fixture;

/// A client that has done nothing yet, from `credentials` as saved to disk.
fn cold<D: Driver>(f: &Fixture<D>, credentials: &AccountCredentials) -> D::Client {
    let saved = credentials.to_json().expect("credentials to JSON");
    let credentials = AccountCredentials::from_json(&saved).expect("credentials from JSON");
    f.driver.client_from_credentials(&f.pebble, credentials)
}

pub fn every_operation_on_a_fresh_client<D: Driver>() {
    let Some(f) = Fixture::<D>::start(PebbleOptions::default()) else {
        return;
    };
    let name = D::NAME;
    let account = f.account();
    let credentials = f.driver.credentials(&account).expect("credentials");

    let first = f
        .driver
        .issue(
            &cold(&f, &credentials),
            crate::scenarios::order(&["cold1.example.org"]),
            Challenge::Http01,
        )
        .unwrap_or_else(|e| panic!("{name}: issue on a fresh client: {e:?}"));
    f.check(&first, &["cold1.example.org"]);

    // Pebble 2.4.0 has no renewalInfo: a typed refusal once the directory is read, not
    // the directory taken for renewal information.
    let error = f
        .driver
        .renewal_info(&cold(&f, &credentials), &first.issued.chain)
        .expect_err("no ARI in Pebble 2.4.0");
    assert!(
        matches!(error, DriverError::Acme(acme_proto::Error::Misuse(_))),
        "{name}: renewal_info on a fresh client: {error:?}"
    );

    let fetched = f
        .driver
        .fetch_account(&cold(&f, &credentials))
        .unwrap_or_else(|e| panic!("{name}: fetch_account on a fresh client: {e:?}"));
    assert_eq!(&fetched.url, credentials.account_url());
    let updated = f
        .driver
        .update_contacts(
            &cold(&f, &credentials),
            vec!["mailto:cold@example.org".into()],
        )
        .unwrap_or_else(|e| panic!("{name}: update_contacts on a fresh client: {e:?}"));
    assert_eq!(updated.account.contact, ["mailto:cold@example.org"]);
    let listed = f
        .driver
        .list_orders(&cold(&f, &credentials), 10)
        .unwrap_or_else(|e| panic!("{name}: list_orders on a fresh client: {e:?}"));
    assert!(
        listed.contains(&first.issued.order_url),
        "{name}: {listed:?}"
    );

    f.driver
        .revoke(&cold(&f, &credentials), &first.issued.chain, None)
        .unwrap_or_else(|e| panic!("{name}: revoke on a fresh client: {e:?}"));
    let second = f.issue(&account, &["cold2.example.org"], Challenge::Http01);
    f.driver
        .revoke_with_certificate_key(
            &cold(&f, &credentials),
            &second.issued.chain,
            &second.private_key_pem,
            None,
        )
        .unwrap_or_else(|e| panic!("{name}: revoke_with_certificate_key on a fresh client: {e:?}"));

    // A new account, and one found again, each by a client that has done nothing.
    let key = generate_account_key(SignatureAlgorithm::Es256).expect("key");
    let created = f
        .driver
        .create_account(
            &f.client(key),
            NewAccount::agreeing_to_terms(["mailto:new@example.org"]),
        )
        .unwrap_or_else(|e| panic!("{name}: create_account on a fresh client: {e:?}"));
    assert!(created.created);
    let copy = acme_proto_support::copy_key(credentials.key()).expect("key");
    let found = f
        .driver
        .find_account(&f.client(copy))
        .unwrap_or_else(|e| panic!("{name}: find_account on a fresh client: {e:?}"));
    assert_eq!(&found.url, credentials.account_url());

    // The key changed, then the account deactivated, each from a fresh client.
    let rolled = cold(&f, &credentials);
    let new_key = generate_account_key(SignatureAlgorithm::Es256).expect("key");
    f.driver
        .change_key(&rolled, new_key)
        .unwrap_or_else(|e| panic!("{name}: change_key on a fresh client: {e:?}"));
    let after = f.driver.credentials(&rolled).expect("credentials");
    let deactivated = f
        .driver
        .deactivate_account(&cold(&f, &after))
        .unwrap_or_else(|e| panic!("{name}: deactivate_account on a fresh client: {e:?}"));
    assert_eq!(
        deactivated.account.status,
        acme_proto::AccountStatus::Deactivated
    );
    let error = f
        .driver
        .fetch_account(&cold(&f, &after))
        .expect_err("deactivated");
    assert_eq!(
        error.problem().map(|p| p.kind.clone()),
        Some(ProblemType::Unauthorized),
        "{name}: {error:?}"
    );
}
