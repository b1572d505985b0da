//! A client and an in-process fake CA on a virtual clock, and a solver for order events.
#![allow(dead_code, unreachable_pub)]

use acme_proto::client::{AccountInfo, NewAccount, Operation, OrderEvent, OrderFlow, Step};
use acme_proto::{
    AccountKey, Client, Error, Identifier, Policy, Request, SignatureAlgorithm, UnixTime,
};
use acme_proto_fake_ca::{Config, FakeCa};
use url::Url;

use super::TestRng;

/// 2027-01-15T08:00:00Z: a fixed start for every virtual clock.
pub const T0: UnixTime = UnixTime::from_secs(1_799_999_200);

pub struct Harness {
    pub ca: FakeCa,
    pub client: Client,
    pub now: UnixTime,
    /// Every request the client sent, in order.
    pub sent: Vec<Request>,
}

impl Harness {
    /// A fake CA with `config` and a client with an ES256 key from `seed`.
    pub fn new(config: Config, seed: u64) -> Self {
        Self::with_key(
            config,
            AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(seed)).unwrap(),
        )
    }

    pub fn with_key(config: Config, key: AccountKey) -> Self {
        let ca = FakeCa::new(config);
        let client = Client::new(Url::parse(&ca.directory_url()).unwrap(), key).unwrap();
        Self {
            ca,
            client,
            now: T0,
            sent: Vec::new(),
        }
    }

    /// The default harness with an account already created.
    pub fn with_account() -> Self {
        let mut h = Self::new(Config::new("https://ca.test"), 1);
        h.create_account();
        h
    }

    /// "Another process": a new client from the same key (seed 1, as [`Harness::new`]
    /// with seed 1 makes) and the same account URL, with an empty nonce pool.
    pub fn restart_client(&mut self) {
        self.restart_client_with(Policy::default());
    }

    /// [`Harness::restart_client`], the new client with `policy`.
    pub fn restart_client_with(&mut self, policy: Policy) {
        let account = self.client.account_url().unwrap().clone();
        let key = AccountKey::generate(SignatureAlgorithm::Es256, &mut TestRng::new(1)).unwrap();
        self.client = Client::new(self.client.directory_url().clone(), key)
            .unwrap()
            .with_account(account)
            .with_policy(policy);
    }

    pub fn create_account(&mut self) -> AccountInfo {
        let mut op = self
            .client
            .new_account(NewAccount::agreeing_to_terms(["mailto:admin@example.org"]));
        self.run(&mut op, |_, _, e| match e {}).unwrap()
    }

    /// Drives `op` to its end; `on_event` gets the operation, the CA and each event.
    pub fn run<O: Operation + std::fmt::Debug>(
        &mut self,
        op: &mut O,
        mut on_event: impl FnMut(&mut O, &mut FakeCa, O::Event),
    ) -> Result<O::Output, Error> {
        for _ in 0..1_000_000 {
            match op.poll(&mut self.client, self.now) {
                Step::Send(request) => {
                    let response = self.ca.handle(&request, self.now);
                    op.handle_response(&mut self.client, request.id, response, self.now)
                        .unwrap();
                    self.sent.push(request);
                }
                Step::Wait(wait) => {
                    assert!(wait.until > self.now, "a wait in the past: {wait:?}");
                    self.now = wait.until;
                }
                Step::Event(event) => on_event(op, &mut self.ca, event),
                Step::AwaitingCaller | Step::InFlight => {
                    panic!("the operation waits for an answer the test never gives: {op:#?}")
                }
                Step::Done => {
                    let outcome = op.take_outcome().expect("an outcome once done");
                    assert!(matches!(op.poll(&mut self.client, self.now), Step::Done));
                    return outcome;
                }
                _ => unreachable!(),
            }
        }
        panic!("the operation did not finish");
    }

    /// Drives `op` as a driver that sends together whatever the operation lets out at
    /// once: each round, every request given before `InFlight` (or a `Wait`) is out
    /// together, and the CA answers them in reverse order. Returns the outcome and the
    /// requests of each round (a round is one round trip on the critical path).
    pub fn run_together<O: Operation + std::fmt::Debug>(
        &mut self,
        op: &mut O,
        on_event: impl FnMut(&mut O, &mut FakeCa, O::Event),
    ) -> (Result<O::Output, Error>, Vec<Vec<Request>>) {
        self.run_out(op, on_event, None)
    }

    /// Drives `op` with its requests out together, answering one of those out at a
    /// time, chosen by `seed` (out of order, with others still out and new ones joining
    /// them), and every wait's time passing in full. Returns the outcome.
    pub fn run_interleaved<O: Operation + std::fmt::Debug>(
        &mut self,
        op: &mut O,
        on_event: impl FnMut(&mut O, &mut FakeCa, O::Event),
        seed: u64,
    ) -> Result<O::Output, Error> {
        self.run_out(op, on_event, Some(TestRng::new(seed))).0
    }

    /// The loop of [`Self::run_together`] (`pick` `None`: every request out answered,
    /// last first, as a round) and [`Self::run_interleaved`] (one, picked at random).
    fn run_out<O: Operation + std::fmt::Debug>(
        &mut self,
        op: &mut O,
        mut on_event: impl FnMut(&mut O, &mut FakeCa, O::Event),
        mut pick: Option<TestRng>,
    ) -> (Result<O::Output, Error>, Vec<Vec<Request>>) {
        use rand_core::Rng as _;
        let mut out: Vec<Request> = Vec::new();
        let mut rounds = Vec::new();
        for _ in 0..100_000 {
            match op.poll(&mut self.client, self.now) {
                Step::Send(request) => out.push(request),
                Step::InFlight | Step::Wait(_) if !out.is_empty() => {
                    let answered = match &mut pick {
                        None => std::mem::take(&mut out).into_iter().rev().collect(),
                        Some(rng) => {
                            let at = usize::try_from(rng.next_u64() % out.len() as u64).unwrap();
                            vec![out.swap_remove(at)]
                        }
                    };
                    for request in &answered {
                        let response = self.ca.handle(request, self.now);
                        op.handle_response(&mut self.client, request.id, response, self.now)
                            .unwrap();
                    }
                    self.sent.extend(answered.iter().cloned());
                    rounds.push(answered);
                }
                Step::Wait(wait) => {
                    assert!(wait.until > self.now, "a wait in the past: {wait:?}");
                    self.now = wait.until;
                }
                Step::Event(event) => on_event(op, &mut self.ca, event),
                Step::InFlight | Step::AwaitingCaller => {
                    panic!("the operation waits for an answer the test never gives: {op:#?}")
                }
                Step::Done => {
                    assert!(out.is_empty(), "done with requests out");
                    let outcome = op.take_outcome().expect("an outcome once done");
                    return (outcome, rounds);
                }
                _ => unreachable!(),
            }
        }
        panic!("the operation did not finish");
    }

    /// Runs an order, solving it with `solver`.
    pub fn order(
        &mut self,
        flow: &mut OrderFlow,
        solver: &mut Solver,
    ) -> Result<acme_proto::client::Issued, Error> {
        self.run(flow, |op, _, event| solver.on_event(op, event))
    }
}

/// Answers order events: picks the first offer of a preferred type, makes CSRs with
/// rcgen, and records everything.
#[derive(Default)]
pub struct Solver {
    /// Challenge types in order of preference; empty means "the first offer".
    pub prefer: Vec<&'static str>,
    pub events: Vec<OrderEvent>,
    pub provisioned: Vec<Url>,
    pub cleaned: Vec<Url>,
    /// Answer `Authorize` events (false: leave them, to stop the flow there).
    pub skip_authorize: bool,
}

impl Solver {
    pub fn preferring(prefer: &[&'static str]) -> Self {
        Self {
            prefer: prefer.to_vec(),
            ..Self::default()
        }
    }

    pub fn on_event(&mut self, flow: &mut OrderFlow, event: OrderEvent) {
        match &event {
            OrderEvent::Authorize { offers, .. } if !self.skip_authorize => {
                let offer = self
                    .prefer
                    .iter()
                    .find_map(|t| offers.iter().find(|o| o.type_name() == *t))
                    .or(offers.first())
                    .expect("an offer");
                self.provisioned.push(offer.url.clone());
                flow.challenge_ready(&offer.url).unwrap();
            }
            OrderEvent::Cleanup(offer) => self.cleaned.push(offer.url.clone()),
            OrderEvent::NeedCsr { identifiers } => flow.provide_csr(csr(identifiers)).unwrap(),
            _ => {}
        }
        self.events.push(event);
    }
}

/// A CSR (DER) for these identifiers, with a fresh P-256 key.
pub fn csr(identifiers: &[Identifier]) -> Vec<u8> {
    let names: Vec<String> = identifiers
        .iter()
        .map(|i| match i {
            Identifier::Dns(name) => name.as_str().to_owned(),
            Identifier::Ip(ip) => ip.to_string(),
            other => panic!("no CSR for {other:?}"),
        })
        .collect();
    let key = rcgen::KeyPair::generate().unwrap();
    csr_with_key(names, &key)
}

/// A CSR (DER) naming exactly `names` (no subject CN), signed by `key`.
pub fn csr_with_key(names: Vec<String>, key: &rcgen::KeyPair) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serialize_request(key).unwrap().der().to_vec()
}

pub fn dns(name: &str) -> Identifier {
    Identifier::dns(name).unwrap()
}

/// The fake CA saw no protocol violation from the client.
pub fn assert_clean(h: &Harness) {
    assert!(
        h.ca.violations().is_empty(),
        "protocol violations: {:#?}",
        h.ca.violations()
    );
}
