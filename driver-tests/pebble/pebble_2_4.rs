//! What still runs on Debian's Pebble 2.4.0 (2023), an older server as many in the wild
//! are: an http-01 and a dns-01 certificate (its VA asks DNS over UDP, 2.10's over TCP),
//! the order list, and renewal information refused with a typed error before any request,
//! since its directory has no `renewalInfo` (on a client in use and on one made from saved
//! credentials alone). Every other scenario runs on Pebble 2.10.3.

use acme_proto::client::AccountCredentials;
use acme_proto_tests::PebbleOptions;

use super::{Challenge, Fixture, transport};
use crate::driver::{AcmeClient, DriverError};

/// For messages: which driver ran the scenario.
const DRIVER: &str = crate::DRIVER_NAME;

driver_tests!(
    pebble_2_4_http01_and_dns01,
    pebble_2_4_orders_listed_and_renewal_info_unsupported,
);

pub async fn pebble_2_4_http01_and_dns01() {
    let Some(f) = Fixture::start(PebbleOptions::default().debian_2_4()) else {
        return;
    };
    let client = f.account().await;
    f.issue(&client, &["http01.example.org"], Challenge::Http01)
        .await;
    f.issue(&client, &["dns01.example.org"], Challenge::Dns01)
        .await;
}

pub async fn pebble_2_4_orders_listed_and_renewal_info_unsupported() {
    let Some(f) = Fixture::start(PebbleOptions::default().debian_2_4()) else {
        return;
    };
    let client = f.account().await;
    let (first, _) = super::scenarios::orders_listed(&f, &client).await;
    // Pebble 2.4.0 has no renewalInfo (ARI): a typed error, before any request.
    let error = aw!(client.renewal_info(&first.issued.chain)).expect_err("no ARI in Pebble 2.4.0");
    assert!(
        matches!(error, DriverError::Acme(acme_proto::Error::Misuse(_))),
        "{}: {error:?}",
        DRIVER
    );
    // The same on a client made from saved credentials alone: a typed refusal once the
    // directory is read, not the directory taken for renewal information.
    let saved = client
        .credentials()
        .expect("credentials")
        .to_json()
        .expect("credentials to JSON");
    let credentials = AccountCredentials::from_json(&saved).expect("credentials from JSON");
    let cold = AcmeClient::from_credentials(credentials, transport(&f.pebble)).expect("client");
    let error = aw!(cold.renewal_info(&first.issued.chain)).expect_err("no ARI in Pebble 2.4.0");
    assert!(
        matches!(error, DriverError::Acme(acme_proto::Error::Misuse(_))),
        "{}: renewal_info on a fresh client: {error:?}",
        DRIVER
    );
}
