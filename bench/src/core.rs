//! The core alone, against the in-process fake CA with no network: client CPU per
//! certificate as a ratio to its floor (the signatures one certificate needs, timed in
//! the same run), request counts, memory per order in flight (a counting allocator,
//! orders parked at the same state), and snapshot sizes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acme_proto::client::{NewAccount, NewOrder, Operation, OrderEvent, OrderFlow, Step};
use acme_proto::crypto::Signer;
use acme_proto::{AccountKey, Client, Identifier, Method, UnixTime};
use acme_proto_fake_ca::{Config, FakeCa, test_keys};
use acme_proto_tokio::RingSigner;
use url::Url;

/// Who signs the account's JWS: the core's own signer, or ring's (what the drivers use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignWith {
    Core,
    Ring,
}

impl SignWith {
    fn label(self) -> &'static str {
        match self {
            Self::Core => "core signer",
            Self::Ring => "ring signer",
        }
    }

    /// The fixed P-256 test key, signing as `self` says.
    fn key(self) -> Box<dyn Signer + Send + Sync> {
        let key = AccountKey::from_pem(test_keys::P256).expect("a fixed P-256 key");
        match self {
            Self::Core => Box::new(key),
            Self::Ring => Box::new(RingSigner::new(key).expect("ring takes a P-256 key")),
        }
    }
}

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is kept beside.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const T0: UnixTime = UnixTime::from_secs(1_799_999_200);

/// A client with an account on a fresh fake CA, on a virtual clock.
struct Bench {
    ca: FakeCa,
    client: Client,
    now: UnixTime,
}

impl Bench {
    fn new() -> Self {
        Self::signing_with(SignWith::Core)
    }

    fn signing_with(signer: SignWith) -> Self {
        let ca = FakeCa::new(Config::new("https://ca.test"));
        let directory = Url::parse(&ca.directory_url()).expect("the fake CA's URL");
        let client = Client::with_boxed_key(directory, signer.key()).expect("an https directory");
        let mut bench = Self {
            ca,
            client,
            now: T0,
        };
        let mut op = bench
            .client
            .new_account(NewAccount::agreeing_to_terms(["mailto:bench@example.org"]));
        loop {
            match op.poll(&mut bench.client, bench.now) {
                Step::Send(request) => {
                    let response = bench.ca.handle(&request, bench.now);
                    op.handle_response(&mut bench.client, request.id, response, bench.now)
                        .expect("the request just sent");
                }
                Step::Wait(wait) => bench.now = wait.until,
                Step::Done => break,
                other => panic!("account creation: {other:?}"),
            }
        }
        op.take_outcome()
            .expect("an outcome")
            .expect("an account on the fake CA");
        bench
    }
}

fn names(order: usize, k: usize) -> Vec<Identifier> {
    (0..k)
        .map(|i| Identifier::dns(&format!("n{i}.o{order}.example.org")).expect("a valid name"))
        .collect()
}

/// A CSR (DER) for `identifiers`, made before the clock starts.
fn csr(identifiers: &[Identifier]) -> Vec<u8> {
    let names: Vec<String> = identifiers.iter().map(ToString::to_string).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("valid names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    let key = rcgen::KeyPair::generate().expect("a P-256 key");
    params
        .serialize_request(&key)
        .expect("a CSR")
        .der()
        .to_vec()
}

#[derive(Default)]
struct Cost {
    orders: u32,
    client: Duration,
    ca: Duration,
    requests: u64,
    posts: u64,
    new_nonce: u64,
}

/// Runs `n` orders of `k` names one after the other; the client's time and the fake
/// CA's are counted apart.
fn orders(n: usize, k: usize, signer: SignWith) -> Cost {
    let mut bench = Bench::signing_with(signer);
    let work: Vec<(Vec<Identifier>, Vec<u8>)> = (0..n)
        .map(|i| {
            let ids = names(i, k);
            let csr = csr(&ids);
            (ids, csr)
        })
        .collect();
    let mut cost = Cost::default();
    for (identifiers, csr) in work {
        let mut flow = OrderFlow::new(NewOrder::new(identifiers)).expect("identifiers");
        let mut csr = Some(csr);
        loop {
            let t = Instant::now();
            let step = flow.poll(&mut bench.client, bench.now);
            cost.client += t.elapsed();
            match step {
                Step::Send(request) => {
                    cost.requests += 1;
                    match request.method {
                        Method::Post => cost.posts += 1,
                        Method::Head => cost.new_nonce += 1,
                        _ => {}
                    }
                    let t = Instant::now();
                    let response = bench.ca.handle(&request, bench.now);
                    cost.ca += t.elapsed();
                    let t = Instant::now();
                    flow.handle_response(&mut bench.client, request.id, response, bench.now)
                        .expect("the request just sent");
                    cost.client += t.elapsed();
                }
                Step::Wait(wait) => bench.now = wait.until,
                Step::Event(OrderEvent::Authorize { offers, .. }) => {
                    let t = Instant::now();
                    flow.challenge_ready(&offers[0].url).expect("an offer");
                    cost.client += t.elapsed();
                }
                Step::Event(OrderEvent::NeedCsr { .. }) => {
                    let t = Instant::now();
                    flow.provide_csr(csr.take().expect("one CSR"))
                        .expect("a CSR");
                    cost.client += t.elapsed();
                }
                Step::Event(_) => {}
                Step::Done => break,
                other => panic!("order: {other:?}"),
            }
        }
        flow.take_outcome()
            .expect("an outcome")
            .expect("issued by the fake CA");
        cost.orders += 1;
    }
    cost
}

/// The time of `count` signatures of a JWS-sized input with the same key and signer.
fn signature_floor(count: u64, signer: SignWith) -> Duration {
    let key = signer.key();
    let input = vec![b'x'; 400];
    let t = Instant::now();
    for _ in 0..count {
        std::hint::black_box(key.sign(&input).expect("a signature"));
    }
    t.elapsed()
}

/// Bytes allocated per order parked after its challenges were offered, and the size of
/// its snapshot there.
fn parked(n: usize, k: usize) -> (usize, usize) {
    // The fake CA looks orders up by scanning, so a fresh one (with its own account)
    // serves each batch: parking stays linear in n. A parked flow holds nothing of the
    // client or the CA that made it.
    const BATCH: usize = 2_000;
    let mut bench = Bench::new();
    let mut flows = Vec::with_capacity(n);
    let mut snapshot = 0;
    for i in 0..n {
        if i > 0 && i % BATCH == 0 {
            bench = Bench::new();
        }
        let mut flow = OrderFlow::new(NewOrder::new(names(i, k))).expect("identifiers");
        let mut offered = 0;
        while offered < k {
            match flow.poll(&mut bench.client, bench.now) {
                Step::Send(request) => {
                    let response = bench.ca.handle(&request, bench.now);
                    flow.handle_response(&mut bench.client, request.id, response, bench.now)
                        .expect("the request just sent");
                }
                Step::Event(OrderEvent::Authorize { .. }) => offered += 1,
                Step::Event(_) => {}
                other => panic!("parking: {other:?}"),
            }
        }
        if i == 0 {
            snapshot = flow.snapshot().map_or(0, |s| s.to_json().len());
        }
        flows.push(flow);
    }
    // The fake CA grew too: what the flows hold is what dropping them frees.
    drop(bench);
    let held = ALLOCATED.load(Ordering::Relaxed);
    drop(flows);
    let freed = held.saturating_sub(ALLOCATED.load(Ordering::Relaxed));
    (freed / n, snapshot)
}

/// Runs the scenario, prints its tables and writes its raw figures to `out`.
pub fn run(quick: bool, out: &std::path::Path) {
    let (n, parked_n) = if quick { (20, 1_000) } else { (300, 100_000) };
    let mut rows = Vec::new();
    let mut json = Vec::new();
    for (k, signer) in [
        (1usize, SignWith::Core),
        (5, SignWith::Core),
        (1, SignWith::Ring),
        (5, SignWith::Ring),
    ] {
        let cost = orders(n, k, signer);
        assert_eq!(cost.orders as usize, n, "every order issued");
        let per = |d: Duration| d.as_secs_f64() * 1e3 / f64::from(cost.orders);
        let requests = cost.requests as f64 / f64::from(cost.orders);
        let bound = (2 * k + 5) as f64;
        assert!(
            requests <= bound,
            "K = {k}: {requests} requests per certificate, bound {bound}"
        );
        assert_eq!(
            cost.new_nonce, 0,
            "K = {k}: a newNonce once the pool was filled"
        );
        let floor = signature_floor(cost.posts, signer);
        let ratio = cost.client.as_secs_f64() / floor.as_secs_f64();
        rows.push(format!(
            "| core alone, K = {k}, ES256 ({}) | {:.3} ms | {:.3} ms | {ratio:.2} | {requests:.1} | {:.3} ms |",
            signer.label(),
            per(cost.client),
            per(floor),
            per(cost.ca),
        ));
        json.push(serde_json::json!({
            "scenario": "core", "names": k, "orders": cost.orders, "signer": signer.label(),
            "client_ms_per_cert": per(cost.client), "floor_ms_per_cert": per(floor),
            "ratio_to_floor": ratio, "requests_per_cert": requests,
            "posts_per_cert": cost.posts as f64 / f64::from(cost.orders),
            "fake_ca_ms_per_cert": per(cost.ca),
        }));
    }
    println!(
        "| scenario | client CPU per certificate | signature floor | ratio | requests per certificate | fake CA CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!("{row}");
    }
    println!();
    println!(
        "| orders parked after their offers | names | core memory per order | snapshot there |"
    );
    println!("|---:|---:|---:|---:|");
    for k in [1usize, 10] {
        let count = if k == 1 { parked_n } else { parked_n / 10 };
        let (bytes, snapshot) = parked(count, k);
        assert!(snapshot > 0, "a snapshot while waiting for the caller");
        println!("| {count} | {k} | {bytes} B | {snapshot} B |");
        json.push(serde_json::json!({
            "scenario": "parked", "names": k, "orders": count,
            "bytes_per_order": bytes, "snapshot_bytes": snapshot,
        }));
    }
    crate::report::write_json(
        out,
        if quick {
            "core-quick.json"
        } else {
            "core.json"
        },
        &json,
    );
}
