//! A `Certificate` as `issue()` makes it (a real order against the fake CA, the key and
//! CSR from `certificate_request`): its `Debug` never shows the private key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use acme_proto::Identifier;
use acme_proto::client::{NewOrder, Operation as _, OrderEvent, OrderFlow};
use acme_proto::crypto::AccountKey;
use acme_proto_fake_ca::{Config, FakeCa};
use acme_proto_support::{Certificate, certificate_request};
use common::{T0, client_with_account, next_event};

#[test]
fn debug_never_shows_the_private_key() {
    let mut ca = FakeCa::new(Config::new("https://ca.test"));
    let mut client = client_with_account(&mut ca);
    let names = [Identifier::dns("www.example.org").unwrap()];
    let (csr, pem) = certificate_request(&names).unwrap();
    let mut flow = OrderFlow::new(NewOrder::new(names.clone())).unwrap();
    let mut now = T0;
    let mut csr = Some(csr);
    while let Some(event) = next_event(&mut flow, &mut client, &mut ca, &mut now) {
        match event {
            OrderEvent::Authorize { offers, .. } => flow.challenge_ready(&offers[0].url).unwrap(),
            OrderEvent::NeedCsr { .. } => flow.provide_csr(csr.take().unwrap()).unwrap(),
            _ => {}
        }
    }
    let issued = flow.take_outcome().unwrap().unwrap();
    let der = AccountKey::from_pem(&pem).unwrap().to_pkcs8_der().unwrap();
    let certificate = Certificate::new(issued, pem.clone());

    for shown in [format!("{certificate:?}"), format!("{certificate:#?}")] {
        assert!(shown.contains("www.example.org"), "the rest is shown");
        assert!(!shown.contains("PRIVATE KEY"), "{shown}");
        // No line of the key's base64, and not its bytes as Debug writes them.
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!shown.contains(line), "{shown}");
        }
        let bytes = format!("{:?}", &der[..]);
        assert!(!shown.contains(&bytes[1..bytes.len() - 1]), "{shown}");
        let bytes = format!("{:#?}", &der[..12]);
        assert!(!shown.contains(bytes.trim_end_matches([']', '\n', ','])));
    }
}
