//! An order saved as it goes (`issue_saving`) and resumed by another client (`resume`).

use acme_proto::Identifier;
use acme_proto::client::NewOrder;
use acme_proto_fake_ca::RequestKind;

use super::support::{CaServer, account, keys, transport};
use crate::driver::{AcmeClient, DriverError, Http01Responder, SavedOrder};

driver_tests!(
    an_order_saved_as_it_goes_is_resumed_by_another_client,
    a_saved_order_of_another_account_or_origin_is_refused_before_any_request
);

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

/// A saved order planted for this client (another account's, or one whose order URL is
/// off the CA's origin) is refused by `resume` before anything is sent, and nothing is
/// presented.
pub async fn a_saved_order_of_another_account_or_origin_is_refused_before_any_request() {
    let server = CaServer::start();
    let owner = account(&server, keys::P256).await;
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let names = [Identifier::dns("planted.example.org").unwrap()];
    let mut saved = None;
    let _ = aw!(owner.issue_saving(
        NewOrder::new(names),
        &responder,
        |order: &SavedOrder| -> Result<(), String> {
            saved = Some(order.to_json().to_vec());
            Err("stop here".into())
        },
    ));
    let json = saved.expect("saved once created");

    // Another account at the same CA takes the file.
    let other = account(&server, keys::P384).await;
    let before = server.ca.lock().unwrap().count(RequestKind::Any);
    let planted = SavedOrder::from_json(&json).unwrap();
    let error =
        aw!(other.resume(planted, &responder, |_: &SavedOrder| Ok::<_, String>(()))).unwrap_err();
    assert!(error.to_string().contains("another account"), "{error}");
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::Any),
        before,
        "nothing sent"
    );

    // The owner's own file, but its order URL moved to another host.
    let text = String::from_utf8(json).unwrap();
    let origin = owner
        .credentials()
        .unwrap()
        .directory_url()
        .origin()
        .ascii_serialization();
    let moved = text.replacen(
        &format!("\"url\":\"{origin}"),
        "\"url\":\"https://evil.test",
        1,
    );
    assert_ne!(moved, text);
    let planted = SavedOrder::from_json(moved.as_bytes()).unwrap();
    let error =
        aw!(owner.resume(planted, &responder, |_: &SavedOrder| Ok::<_, String>(()))).unwrap_err();
    assert!(error.to_string().contains("origin"), "{error}");
    assert_eq!(
        server.ca.lock().unwrap().count(RequestKind::Any),
        before,
        "nothing sent"
    );
    assert!(responder.is_empty());
}
