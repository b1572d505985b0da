//! What the support crate's integration tests share: a client with an account on a
//! fake CA, and a drive loop on a fixed clock.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use acme_proto::client::{NewAccount, Operation, Step};
use acme_proto::crypto::AccountKey;
use acme_proto::{Client, UnixTime};
use acme_proto_fake_ca::{FakeCa, test_keys};
use url::Url;

/// Where every test's virtual clock starts.
pub const T0: UnixTime = UnixTime::from_secs(1_799_999_200);

/// Drives `op` against `ca` until it asks for something, waiting on the virtual clock
/// `now`; returns that event, or `None` once the operation is done.
pub fn next_event<O: Operation>(
    op: &mut O,
    client: &mut Client,
    ca: &mut FakeCa,
    now: &mut UnixTime,
) -> Option<O::Event> {
    for _ in 0..1_000 {
        match op.poll(client, *now) {
            Step::Send(request) => {
                let response = ca.handle(&request, *now);
                op.handle_response(client, request.id, response, *now)
                    .unwrap();
            }
            Step::Event(event) => return Some(event),
            Step::Wait(wait) => *now = wait.until,
            Step::Done => return None,
            _ => panic!("nothing to do and nothing awaited"),
        }
    }
    panic!("no event in 1000 steps");
}

/// A client for `ca` with a P-256 account created on it.
pub fn client_with_account(ca: &mut FakeCa) -> Client {
    let key = AccountKey::from_pem(test_keys::P256).unwrap();
    let mut client = Client::new(Url::parse(&ca.directory_url()).unwrap(), key).unwrap();
    let mut account = client.new_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]));
    let mut now = T0;
    assert!(next_event(&mut account, &mut client, ca, &mut now).is_none());
    account.take_outcome().unwrap().unwrap();
    client
}
