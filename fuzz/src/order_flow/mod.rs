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

mod checks;
mod server;

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use acme_proto::client::{
    NewAccount, NewOrder, Operation, OrderEvent, OrderFlow, OrderSnapshot, Step,
};
use acme_proto::crypto::{Jwk, Signer};
use acme_proto::{
    Client, CryptoError, Identifier, Policy, Request, RequestId, SignatureAlgorithm, UnixTime,
};
use acme_proto_fake_ca::{Config, FakeCa};
use arbitrary::{Result, Unstructured};
use url::Url;

use checks::Checker;
use server::{Memory, Reply};

/// Polls of one execution at most: keeps every input's run short.
const MAX_STEPS: usize = 400;

/// The account key: Ed25519 on ring, so that signing costs microseconds even in a
/// sanitizer build (the core's pure-Rust signers are fuzzed by the key targets, and
/// took most of this target's time). The core signs every request through the
/// `Signer` trait either way; Ed25519 signatures are deterministic.
struct RingEd25519 {
    pair: ring::signature::Ed25519KeyPair,
    jwk: Jwk,
}

impl RingEd25519 {
    fn new() -> Self {
        use ring::signature::KeyPair as _;
        let pair = match ring::signature::Ed25519KeyPair::from_seed_unchecked(&[0x2a; 32]) {
            Ok(pair) => pair,
            Err(e) => panic!("a fixed Ed25519 seed: {e}"),
        };
        let jwk = match Jwk::ed25519(pair.public_key().as_ref()) {
            Ok(jwk) => jwk,
            Err(e) => panic!("an Ed25519 public key as a JWK: {e}"),
        };
        Self { pair, jwk }
    }
}

impl Signer for RingEd25519 {
    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::EdDsa
    }

    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> core::result::Result<Vec<u8>, CryptoError> {
        Ok(self.pair.sign(signing_input).as_ref().to_vec())
    }
}

/// True once in `n` draws; false when the input is exhausted (zeros are the
/// cooperative choices).
pub(crate) fn one_in(u: &mut Unstructured<'_>, n: u32) -> Result<bool> {
    Ok(u.int_in_range(1..=n)? == n)
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

/// [`NOW`](crate::NOW), plus up to a year.
fn start_time(u: &mut Unstructured<'_>) -> Result<UnixTime> {
    Ok(crate::NOW.saturating_add(Duration::from_secs(u.int_in_range(0..=31_536_000)?)))
}

fn policy(u: &mut Unstructured<'_>) -> Result<Policy> {
    let mut p = Policy::default();
    if u.arbitrary()? {
        let secs = |u: &mut Unstructured<'_>, choices: &[u64]| -> Result<Duration> {
            Ok(Duration::from_secs(*u.choose(choices)?))
        };
        p.max_bad_nonce_retries = u.int_in_range(0..=4)?;
        p.max_unavailable_retries = u.int_in_range(0..=3)?;
        p.max_transport_retries = u.int_in_range(0..=4)?;
        p.max_retry_after = secs(u, &[120, 1, 30, 3600])?;
        p.default_retry_after = secs(u, &[5, 1, 60])?;
        p.transport_backoff = secs(u, &[1, 2])?;
        p.max_transport_backoff = secs(u, &[30, 4])?;
        p.poll_initial = secs(u, &[1, 2, 5])?;
        p.poll_max = secs(u, &[15, 3, 60])?;
        p.operation_timeout = secs(u, &[600, 30, 3600])?;
    }
    Ok(p)
}

fn ca_config(u: &mut Unstructured<'_>) -> Result<Config> {
    let base = u.choose(&["https://ca.test", "http://127.0.0.1:14000"])?;
    let mut config = Config::new(base);
    config.seed = u.int_in_range(0..=3)?;
    config.alternate_chains = u.int_in_range(0..=2)?;
    config.validation_polls = u.int_in_range(0..=2)?;
    config.issuance_polls = u.int_in_range(0..=2)?;
    config.poll_retry_after = *u.choose(&[Some(1), None, Some(0), Some(30), Some(100_000)])?;
    config.authz_reuse = !u.arbitrary::<bool>()?;
    if u.arbitrary()? {
        config.profiles = vec![
            ("classic".into(), "90 days".into()),
            ("short".into(), "6 days".into()),
        ];
    }
    Ok(config)
}

const NAMES: [&str; 6] = [
    "a.example.org",
    "b.example.org",
    "*.c.example.org",
    "192.0.2.1",
    "2001:db8::1",
    "d.example.org",
];

fn identifier(name: &str) -> Identifier {
    match name.parse() {
        Ok(ip) => Identifier::ip(ip),
        Err(_) => match Identifier::dns(name) {
            Ok(id) => id,
            Err(e) => panic!("a fixed name is refused: {e}"),
        },
    }
}

/// The order, and its names as `NAMES` spells them.
fn new_order(u: &mut Unstructured<'_>) -> Result<(NewOrder, Vec<&'static str>)> {
    let count = u.int_in_range(1..=3usize)?;
    let mut names: Vec<&'static str> = Vec::new();
    for _ in 0..count {
        let name = u.choose(&NAMES)?;
        if !names.contains(name) {
            names.push(name);
        }
    }
    let mut order = NewOrder::new(names.iter().map(|n| identifier(n)));
    match u.int_in_range(0..=3u8)? {
        1 => order = order.with_profile("classic"),
        2 => order = order.with_profile("none-such"),
        _ => {}
    }
    if one_in(u, 8)? {
        order = order.replacing("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    }
    Ok((order, names))
}

/// A CSR naming `identifiers`, signed with a fixed Ed25519 key (deterministic), made
/// once per set of names.
fn csr(identifiers: &[Identifier]) -> Vec<u8> {
    thread_local! {
        static CSRS: RefCell<HashMap<Vec<String>, Vec<u8>>> = RefCell::new(HashMap::new());
    }
    let names: Vec<String> = identifiers
        .iter()
        .filter_map(|id| match id {
            Identifier::Dns(name) => Some(name.as_str().to_owned()),
            Identifier::Ip(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect();
    CSRS.with(|cache| {
        if let Some(der) = cache.borrow().get(&names) {
            return der.clone();
        }
        let der = make_csr(&names).unwrap_or_else(|| b"not a CSR".to_vec());
        cache.borrow_mut().insert(names, der.clone());
        der
    })
}

/// The key of every CSR: Ed25519, from a PKCS#8 v1 document (a fixed prefix and a
/// 32-byte seed). Not an account key: the CA refuses a CSR signed with the account's
/// own key.
fn csr_key_pair() -> Option<rcgen::KeyPair> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0x5a; 32]);
    rcgen::KeyPair::try_from(der.as_slice()).ok()
}

/// The public key (DER `SubjectPublicKeyInfo`) of every CSR the harness makes, as rcgen
/// writes it: what an issued certificate must carry.
fn csr_key() -> Vec<u8> {
    match csr_key_pair() {
        Some(key) => rcgen::PublicKeyData::subject_public_key_info(&key),
        None => panic!("the fixed CSR key is refused"),
    }
}

fn make_csr(names: &[String]) -> Option<Vec<u8>> {
    let key = csr_key_pair()?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).ok()?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    Some(params.serialize_request(&key).ok()?.der().to_vec())
}

/// Creates the account the order runs under, honestly (it is not what is fuzzed here).
fn create_account(
    ca: &mut FakeCa,
    client: &mut Client,
    checker: &mut Checker,
    now: UnixTime,
) -> Option<Url> {
    let mut op = client.new_account(NewAccount::agreeing_to_terms(["mailto:fuzz@example.org"]));
    for _ in 0..16 {
        match op.poll(client, now) {
            Step::Send(request) => {
                checker.on_request(&request, now);
                let response = ca.handle(&request, now);
                checker.on_response(&response, now);
                op.handle_response(client, request.id, response, now).ok()?;
            }
            Step::Done => return op.take_outcome()?.ok().map(|info| info.url),
            _ => return None,
        }
    }
    None
}

/// An authorization's offers the caller has not answered yet.
struct Outstanding {
    offers: Vec<acme_proto::client::ChallengeOffer>,
}

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
    server::install_lies(u, &mut ca, &names)?;
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

impl World {
    fn drive(&mut self, u: &mut Unstructured<'_>) -> Result<Option<bool>> {
        for _ in 0..MAX_STEPS {
            self.caller_acts(u)?;
            self.checker.on_poll(self.now);
            match self.flow.poll(&mut self.client, self.now) {
                Step::Send(request) => {
                    assert!(!self.abandoned, "a request after abandon: {request:?}");
                    self.send(u, request)?
                }
                Step::Event(event) => {
                    trace!("event {event:?}");
                    self.on_event(u, event)?
                }
                Step::Wait(wait) => {
                    self.checker.on_wait(&wait, self.now);
                    self.now = match u.int_in_range(0..=5u8)? {
                        // Wake up a little early: the same wait must come back.
                        4 => wait
                            .until
                            .saturating_sub(Duration::from_millis(1))
                            .max(self.now),
                        5 => wait
                            .until
                            .saturating_add(Duration::from_secs(u.int_in_range(1..=7200)?)),
                        _ => wait.until,
                    };
                }
                Step::InFlight => panic!("every request was answered, yet one is in flight"),
                Step::AwaitingCaller => assert!(
                    self.answer_something(u)?,
                    "the flow waits on the caller, who has nothing to answer"
                ),
                Step::Done => return Ok(Some(self.done())),
                other => panic!("a step this target does not know: {other:?}"),
            }
        }
        Ok(None)
    }

    /// What the caller may do between polls, besides answering events.
    fn caller_acts(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        match u.int_in_range(0..=15u8)? {
            1 => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_secs(u.int_in_range(0..=30)?))
            }
            2 => {
                // The wall clock steps back (NTP, a VM resumed).
                self.now = self
                    .now
                    .saturating_sub(Duration::from_secs(u.int_in_range(1..=3600)?));
            }
            3 => {
                if let Some(snapshot) = self.flow.snapshot() {
                    check_snapshot(&snapshot);
                }
            }
            4 => self.restart(),
            5 => {
                // A response for a request that is not out is refused, and harmless.
                if let Some(id) = self.last_id {
                    let response = acme_proto::Response::new(200, Default::default(), Vec::new());
                    let refused =
                        self.flow
                            .handle_response(&mut self.client, id, response, self.now);
                    assert!(
                        refused.is_err(),
                        "a response to a request not out was taken"
                    );
                    let refused = self.flow.handle_transport_failure(
                        &mut self.client,
                        id,
                        acme_proto::TransportFailure::Reset,
                        self.now,
                    );
                    assert!(refused.is_err(), "a failure of a request not out was taken");
                }
            }
            6 => {
                let names: Vec<Identifier> = NAMES.iter().map(|n| identifier(n)).collect();
                if self
                    .flow
                    .provide_csr(csr(names.get(..1).unwrap_or_default()))
                    .is_ok()
                {
                    self.checker.on_csr_taken(true);
                }
            }
            7 => {
                let _ = self.answer_something(u)?;
            }
            8 => assert!(self.flow.take_outcome().is_none(), "an outcome before Done"),
            // The caller ends the order early, rarely: every challenge said ready must
            // still come back to clean up (the checker's), and nothing more be sent.
            15 if one_in(u, 8)? => {
                trace!("abandon");
                self.flow.abandon();
                self.abandoned = true;
            }
            _ => {}
        }
        Ok(())
    }

    /// The process restarts: a new client with the same key and account, and the order
    /// resumed from its snapshot.
    fn restart(&mut self) {
        let Some(snapshot) = self.flow.snapshot() else {
            return;
        };
        check_snapshot(&snapshot);
        trace!(
            "restart from {}",
            String::from_utf8_lossy(&snapshot.to_json())
        );
        let client = Client::insecure_loopback(
            self.client.directory_url().clone(),
            Box::new(RingEd25519::new()),
        );
        self.client = match client {
            Ok(c) => c
                .with_policy(self.policy.clone())
                .with_account(self.account_url.clone()),
            Err(e) => panic!("the client refuses the directory it used: {e}"),
        };
        self.flow = OrderFlow::resume(snapshot);
        self.abandoned = false;
        self.outstanding.clear();
        self.need_csr = None;
        self.checker.on_resume();
    }

    fn send(&mut self, u: &mut Unstructured<'_>, request: Request) -> Result<()> {
        trace!("{} {} at {:?}", request.method, request.url, self.now);
        self.checker.on_request(&request, self.now);
        self.last_id = Some(request.id);
        self.memory
            .saw_request(&request, checks::jws_nonce(&request));
        if one_in(u, 16)? {
            // Time passes on the wire.
            self.now = self
                .now
                .saturating_add(Duration::from_secs(u.int_in_range(1..=120)?));
        }
        match server::reply(u, &mut self.ca, &mut self.memory, &request, self.now)? {
            Reply::Respond(response) => {
                self.checker.on_response(&response, self.now);
                let taken =
                    self.flow
                        .handle_response(&mut self.client, request.id, response, self.now);
                assert!(
                    taken.is_ok(),
                    "the response to a request out was refused: {taken:?}"
                );
            }
            Reply::Lost(failure) => {
                self.checker.on_transport_failure(self.now);
                let taken = self.flow.handle_transport_failure(
                    &mut self.client,
                    request.id,
                    failure,
                    self.now,
                );
                assert!(taken.is_ok(), "a transport failure was refused: {taken:?}");
            }
        }
        Ok(())
    }

    fn on_event(&mut self, u: &mut Unstructured<'_>, event: OrderEvent) -> Result<()> {
        match event {
            OrderEvent::Created { url } => {
                checks::check_url(&url);
                if let Some(snapshot) = self.flow.snapshot() {
                    assert_eq!(snapshot.url, url, "the snapshot names another order");
                    check_snapshot(&snapshot);
                }
            }
            OrderEvent::Authorize {
                offers,
                identifier,
                wildcard,
                ..
            } => {
                self.checker.on_authorize(&identifier, wildcard);
                assert!(!offers.is_empty(), "an authorization offered with no offer");
                self.outstanding.push(Outstanding { offers });
                if u.int_in_range(0..=3u8)? == 0 {
                    self.answer_something(u)?;
                }
            }
            OrderEvent::Cleanup(offer) => self.checker.on_cleanup(&offer),
            OrderEvent::NeedCsr { identifiers } => {
                self.checker.on_need_csr(&identifiers);
                self.need_csr = Some(identifiers);
                if u.int_in_range(0..=3u8)? == 0 {
                    self.answer_something(u)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Answers one outstanding event, as the input chooses; `false` when none is left.
    fn answer_something(&mut self, u: &mut Unstructured<'_>) -> Result<bool> {
        if let Some(identifiers) = self.need_csr.take() {
            let (csr, ours) = match u.int_in_range(0..=5u8)? {
                1 => (u.arbitrary::<Vec<u8>>()?, false),
                2 => (Vec::new(), false),
                3 => (vec![0x30; 70_000], false),
                _ => (csr(&identifiers), true),
            };
            let valid = !csr.is_empty() && csr.len() <= 64 * 1024;
            let taken = self.flow.provide_csr(csr);
            if taken.is_ok() {
                self.checker.on_csr_taken(ours);
            }
            if taken.is_err() || !valid {
                assert!(
                    taken.is_err() || valid,
                    "an empty or oversized CSR was taken"
                );
                // The CSR is still wanted.
                self.need_csr = Some(identifiers);
                if !valid {
                    return Ok(true);
                }
            }
            return Ok(true);
        }
        if self.outstanding.is_empty() {
            return Ok(false);
        }
        let at = u.choose_index(self.outstanding.len())?;
        let entry = self.outstanding.remove(at);
        let choice = u.choose_index(entry.offers.len())?;
        if one_in(u, 16)? {
            let bogus = match Url::parse("https://ca.test/acme/chall/none-such") {
                Ok(url) => url,
                Err(e) => panic!("{e}"),
            };
            assert!(
                self.flow.challenge_ready(&bogus).is_err(),
                "an unknown challenge was taken"
            );
        }
        if let Some(offer) = entry.offers.get(choice)
            && self.flow.challenge_ready(&offer.url).is_ok()
        {
            trace!("ready {}", offer.url);
            self.checker.on_ready(offer);
        }
        Ok(true)
    }

    /// The checks of a finished flow; whether it issued a certificate.
    fn done(&mut self) -> bool {
        let outcome = self.flow.take_outcome();
        trace!("done at {:?}: {outcome:?}", self.now);
        self.checker.on_done();
        assert!(outcome.is_some(), "Done without an outcome");
        // Whatever the server and the caller did, the machine never finds itself in a
        // state it cannot be in.
        assert!(
            !matches!(outcome, Some(Err(acme_proto::Error::Bug(_)))),
            "the order flow met a bug: {outcome:?}"
        );
        if let Some(Ok(issued)) = &outcome {
            assert_eq!(Some(&issued.order_url), self.flow.url());
            checks::check_url(&issued.certificate_url);
            assert!(!issued.chain.is_empty());
            self.checker.on_issued(issued);
        }
        for later in [
            self.now,
            self.now.saturating_add(Duration::from_secs(86_400)),
            UnixTime::EPOCH,
        ] {
            assert!(
                matches!(self.flow.poll(&mut self.client, later), Step::Done),
                "a poll after Done is not Done"
            );
        }
        assert!(
            self.flow.take_outcome().is_none(),
            "the outcome was taken twice"
        );
        assert!(
            self.flow.snapshot().is_none(),
            "a snapshot of a finished order"
        );
        assert!(
            self.flow.provide_csr(vec![0x30]).is_err(),
            "a CSR taken after Done"
        );
        if let Some(id) = self.last_id {
            let response = acme_proto::Response::new(200, Default::default(), Vec::new());
            assert!(
                self.flow
                    .handle_response(&mut self.client, id, response, self.now)
                    .is_err(),
                "a response taken after Done"
            );
        }
        assert!(
            matches!(self.flow.poll(&mut self.client, self.now), Step::Done),
            "Done did not stay Done"
        );
        matches!(outcome, Some(Ok(_)))
    }
}

/// A snapshot the flow gives reads back as itself.
fn check_snapshot(snapshot: &OrderSnapshot) {
    assert_eq!(snapshot.version, OrderSnapshot::VERSION);
    let json = snapshot.to_json();
    match OrderSnapshot::from_json(&json) {
        Ok(read) => assert_eq!(&read, snapshot, "a snapshot changed in a round trip"),
        Err(e) => panic!(
            "a snapshot the flow made does not read back ({} bytes): {e}",
            json.len()
        ),
    }
}
