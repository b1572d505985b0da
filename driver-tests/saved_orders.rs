//! An order saved as it goes (`issue_saving`) and resumed by another client (`resume`).

use acme_proto::Identifier;
use acme_proto::client::NewOrder;
use acme_proto_fake_ca::RequestKind;

use super::support::{CaServer, account, keys, transport};
use crate::driver::{AcmeClient, DriverError, Http01Responder, SavedOrder};

driver_tests!(an_order_saved_as_it_goes_is_resumed_by_another_client);

pub async fn an_order_saved_as_it_goes_is_resumed_by_another_client() {
    let server = CaServer::start();
    let client = account(&server, keys::P256).await;
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let names = [
        Identifier::dns("saved-a.example.org").unwrap(),
        Identifier::dns("saved-b.example.org").unwrap(),
    ];

    // The first run stops where its save fails (a full disk, say): once a challenge has
    // been said ready, before it is in place.
    let mut saves: Vec<Vec<u8>> = Vec::new();
    let stopped = aw!(client.issue_saving(
        NewOrder::new(names.clone()),
        &responder,
        |saved: &SavedOrder| -> Result<(), String> {
            if !saved.snapshot().provisioned.is_empty() {
                return Err("no space left on device".into());
            }
            saves.push(saved.to_json().to_vec());
            Ok(())
        },
    ))
    .unwrap_err();
    assert!(matches!(stopped, DriverError::Save(_)), "{stopped:?}");
    assert!(responder.is_empty(), "what was presented is cleaned up");
    let last = SavedOrder::from_json(saves.last().expect("saved once created")).unwrap();
    assert!(
        last.private_key_pem()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );

    // Another process: a client from the saved credentials, the same solver.
    let again =
        AcmeClient::from_credentials(client.credentials().unwrap(), transport(&server)).unwrap();
    let order_url = last.snapshot().url.clone();
    let key_pem = last.private_key_pem().to_owned();
    let mut resaves = 0;
    let certificate = aw!(
        again.resume(last, &responder, |_: &SavedOrder| -> Result<(), String> {
            resaves += 1;
            Ok(())
        })
    )
    .unwrap();
    assert_eq!(certificate.issued.order_url, order_url, "the same order");
    assert_eq!(*certificate.private_key_pem, key_pem, "the saved key");
    assert!(resaves >= 2, "saved as it went on: {resaves}");
    assert!(responder.is_empty());
    assert_eq!(server.ca.lock().unwrap().count(RequestKind::NewOrder), 1);
    assert_eq!(server.violations(), Vec::<String>::new());
}
