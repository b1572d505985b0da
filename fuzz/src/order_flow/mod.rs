//! A whole order driven through the core with arbitrary responses, caller choices and
//! clock jumps (`OrderFlow` over `Client::insecure_loopback`).
//!
//! The input is read as a stream of decisions (with `arbitrary`'s `Unstructured`):
//! first the policy, the CA's configuration and the order, then, step
//! by step, what the server does with each request (the in-process fake CA's honest
//! answer, that answer damaged, a made-up answer, or a lost one), what the caller does
//! with each event, and how the clock moves. An exhausted input reads as zeros, which
//! are the honest, cooperative choices: the empty input issues a certificate.
//!
//! Checked at every step (see `checks.rs`): no panic; every request goes to https (or
//! loopback http), carries a nonce the server handed out and that was never sent
//! before, the request's own URL and the account's `kid`; every wait is in the future,
//! before the operation's deadline and within the policy's cap for its reason; the
//! number of resends of one request, of directory/newNonce requests in a row and of
//! requests after the deadline stay within what the policy allows; the flow never
//! waits on the caller with nothing to answer; every challenge said ready is cleaned up
//! exactly once; snapshots round-trip; `Done` is final and the outcome is taken once.
//! The server may also lie about what was ordered (other identifiers, foreign or
//! duplicate authorizations, a certificate for another key or other names): every
//! `Authorize` is still for a requested identifier and never two for one, and an issued
//! certificate has the CSR's key and every requested name.
//!
//! The harness, a file each: `setup.rs` what the input decides before the order (the
//! clock, the policy, the fake CA, the order) and the account; `keys.rs` the account's
//! signer and the CSRs; `drive.rs` the loop over the flow's steps and the checks of a
//! finished flow; `caller.rs` the caller's side (its moves between polls, its answers
//! to events); `server.rs` the hostile server, which answers with `damage.rs` built from
//! `wire_values.rs`, and `lies.rs` the lies about the order it is set up to tell.

// `ACME_PROTO_FUZZ_DEBUG` makes the target tell what it does, on stderr.
#![allow(clippy::print_stderr)]

/// Prints a line on stderr when `ACME_PROTO_FUZZ_DEBUG` is set.
macro_rules! trace {
    ($($arg:tt)*) => {
        if std::env::var_os("ACME_PROTO_FUZZ_DEBUG").is_some() {
            eprintln!("order_flow: {}", format_args!($($arg)*));
        }
    };
}

mod caller;
mod checks;
mod damage;
mod drive;
mod keys;
mod lies;
mod server;
mod setup;
mod wire_values;

use acme_proto::client::OrderFlow;
use acme_proto::{Client, Identifier, Policy, RequestId, UnixTime};
use acme_proto_fake_ca::FakeCa;
use arbitrary::{Result, Unstructured};
use url::Url;

use checks::Checker;
use keys::{RingEd25519, csr_key};
use server::Memory;
use setup::{ca_config, create_account, identifier, new_order, policy, start_time};

/// True once in `n` draws; false when the input is exhausted (zeros are the
/// cooperative choices).
pub(crate) fn one_in(u: &mut Unstructured<'_>, n: u32) -> Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
}

/// One of `list`, as the input chooses; `None` when the list is empty.
fn pick<T: Clone>(u: &mut Unstructured<'_>, list: &[T]) -> Result<Option<T>> {
    if list.is_empty() {
        return Ok(None);
    }
    Ok(u.choose(list).ok().cloned())
}

/// Runs one input; see the module docs.
pub fn order_flow(data: &[u8]) {
    let _ = order_flow_outcome(data);
}

/// How an execution of [`order_flow`] ended: `Some(true)` when a certificate was
/// issued, `Some(false)` when the order failed, `None` when the step cap or the input
/// ended it first. For tests of the harness itself.
#[doc(hidden)]
pub fn order_flow_outcome(data: &[u8]) -> Option<bool> {
    let mut u = Unstructured::new(data);
    // `Err` only means the input ran out in a way `arbitrary` reports; nothing to check.
    run(&mut u).ok().flatten()
}

/// An authorization's offers the caller has not answered yet.
struct Outstanding {
    offers: Vec<acme_proto::client::ChallengeOffer>,
}

/// One execution: the fake CA behind the hostile server, the flow and the client it
/// runs on, the clock, and what the caller has yet to answer.
struct World {
    ca: FakeCa,
    client: Client,
    flow: OrderFlow,
    now: UnixTime,
    checker: Checker,
    memory: Memory,
    outstanding: Vec<Outstanding>,
    need_csr: Option<Vec<Identifier>>,
    policy: Policy,
    account_url: Url,
    last_id: Option<RequestId>,
    /// The caller abandoned the flow: nothing more may be sent.
    abandoned: bool,
}

fn run(u: &mut Unstructured<'_>) -> Result<Option<bool>> {
    let now = start_time(u)?;
    let policy = policy(u)?;
    let mut ca = FakeCa::new(ca_config(u)?);
    let (request, names) = new_order(u)?;
    let standing = server::Standing::draw(u)?;
    lies::install_lies(u, &mut ca, &names)?;
    let directory = match Url::parse(&ca.directory_url()) {
        Ok(url) => url,
        Err(e) => panic!("the fake CA's directory URL: {e}"),
    };
    let mut client = match Client::insecure_loopback(directory, Box::new(RingEd25519::new())) {
        Ok(c) => c.with_policy(policy.clone()),
        Err(e) => panic!("the client refuses the fake CA: {e}"),
    };
    let mut checker = Checker::new(policy.clone(), now);
    checker.set_order(names.iter().map(|n| identifier(n)).collect(), csr_key());
    let Some(account_url) = create_account(&mut ca, &mut client, &mut checker, now) else {
        panic!("the fake CA did not create the account");
    };
    checker.set_account(account_url.clone());
    let flow = match OrderFlow::new(request) {
        Ok(flow) => flow,
        Err(e) => panic!("an order with identifiers is refused: {e}"),
    };
    let mut world = World {
        ca,
        client,
        flow,
        now,
        checker,
        memory: Memory {
            standing,
            ..Memory::default()
        },
        outstanding: Vec::new(),
        need_csr: None,
        policy,
        account_url,
        last_id: None,
        abandoned: false,
    };
    world.drive(u)
}
