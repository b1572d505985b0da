//! Seed generation for the corpora; `#[ignore]`d, run on purpose:
//!
//! ```text
//! cargo test --no-default-features --test seeds -- --ignored generate
//! ACME_PROTO_FUZZ_RECORDING=DIR cargo test --no-default-features --test seeds -- --ignored import
//! ```
//!
//! `generate` writes seeds from the RFC 8555 examples of the core's tests, from orders
//! run against the in-process fake CA (honest, and with its scripted faults), from the
//! fixed test keys and from the core's test certificates. `import` writes the seeds of
//! a recording (see `acme_proto_fuzz::seeds`), such as Pebble's. Minimize afterwards
//! with `cargo fuzz cmin` (the README says how).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::type_complexity,
    clippy::print_stdout
)]

use std::path::Path;
use std::time::Duration;

use acme_proto::client::{NewAccount, NewOrder, Operation, OrderEvent, OrderFlow, Step};
use acme_proto::{AccountKey, Client, Identifier, Method, Request, RequestId, UnixTime};
use acme_proto_fake_ca::{Config, FakeCa, Fault, RequestKind, RetryAfter, test_keys};
use acme_proto_fuzz::seeds::{Exchange, corpus_root, import_recording, seeds_of, write_seed};
use acme_proto_fuzz::targets_of_json;
use url::Url;

const NOW: UnixTime = acme_proto_fuzz::NOW;

fn exchange(request: &Request, response: &acme_proto::Response) -> Exchange {
    Exchange {
        method: request.method.to_string(),
        url: request.url.to_string(),
        status: response.status,
        headers: response
            .headers
            .iter()
            .map(|(n, v)| (n.to_owned(), v.to_vec()))
            .collect(),
        body: response.body.clone(),
    }
}

/// Runs one order against `ca`, recording every exchange and snapshot.
fn record_order(
    ca: &mut FakeCa,
    names: &[&str],
    prefer: &str,
    out: &mut Vec<(&'static str, Vec<u8>)>,
) {
    let key = AccountKey::from_pem(test_keys::P256).unwrap();
    let mut client =
        Client::insecure_loopback(Url::parse(&ca.directory_url()).unwrap(), Box::new(key)).unwrap();
    let mut now = NOW;
    let mut account = client.new_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]));
    loop {
        match account.poll(&mut client, now) {
            Step::Send(r) => {
                let response = ca.handle(&r, now);
                out.extend(seeds_of(&exchange(&r, &response)));
                account
                    .handle_response(&mut client, r.id, response, now)
                    .unwrap();
            }
            Step::Wait(w) => now = w.until,
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    let Some(Ok(info)) = account.take_outcome() else {
        return;
    };
    let ids = names.iter().map(|n| match n.parse() {
        Ok(ip) => Identifier::ip(ip),
        Err(_) => Identifier::dns(n).unwrap(),
    });
    let mut flow = OrderFlow::new(NewOrder::new(ids)).unwrap();
    for _ in 0..1000 {
        if let Some(snapshot) = flow.snapshot() {
            out.push(("order_snapshot", snapshot.to_json()));
        }
        match flow.poll(&mut client, now) {
            Step::Send(r) => {
                let response = ca.handle(&r, now);
                out.extend(seeds_of(&exchange(&r, &response)));
                flow.handle_response(&mut client, r.id, response, now)
                    .unwrap();
            }
            Step::Wait(w) => now = w.until,
            Step::Event(OrderEvent::Authorize { offers, .. }) => {
                let offer = offers
                    .iter()
                    .find(|o| o.type_name() == prefer)
                    .unwrap_or(&offers[0]);
                flow.challenge_ready(&offer.url).unwrap();
            }
            Step::Event(OrderEvent::NeedCsr { identifiers }) => {
                flow.provide_csr(csr(&identifiers)).unwrap();
            }
            Step::Event(_) => {}
            Step::Done => break,
            other => panic!("{other:?}"),
        }
    }
    if let Some(Ok(issued)) = flow.take_outcome()
        && let Ok(id) = issued.chain.cert_id()
    {
        let url = Url::parse(&format!(
            "{}/acme/renewal-info/{}",
            ca.config().base_url,
            id.as_str()
        ))
        .unwrap();
        let request = Request::new(RequestId::new(1_000_000), Method::Get, url, 1 << 16);
        let response = ca.handle(&request, now.saturating_add(Duration::from_secs(86_400)));
        out.extend(seeds_of(&exchange(&request, &response)));
    }
    let _ = info;
}

fn csr(identifiers: &[Identifier]) -> Vec<u8> {
    let names: Vec<String> = identifiers
        .iter()
        .map(|i| match i {
            Identifier::Dns(n) => n.as_str().to_owned(),
            Identifier::Ip(ip) => ip.to_string(),
            other => panic!("{other:?}"),
        })
        .collect();
    let key = rcgen::KeyPair::from_pem(test_keys::CERT_P256).unwrap();
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.serialize_request(&key).unwrap().der().to_vec()
}

/// The raw string literals (`r#"…"#`) of a Rust source file.
fn raw_strings(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("r#\"") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("\"#") else { break };
        out.push(after[..end].to_owned());
        rest = &after[end + 2..];
    }
    out
}

#[test]
#[ignore = "writes into corpus/: run on purpose"]
fn generate() {
    let root = corpus_root();
    let mut seeds: Vec<(&'static str, Vec<u8>)> = Vec::new();

    // The RFC 8555 (and 8737, 8738, 9773) examples the core's tests read.
    let core_tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../acme-proto/tests");
    let examples = std::fs::read_to_string(core_tests.join("rfc8555_examples.rs")).unwrap();
    for json in raw_strings(&examples) {
        for target in targets_of_json(json.as_bytes()) {
            seeds.push((target, json.clone().into_bytes()));
        }
    }

    // Orders against the fake CA: honest, then with each kind of trouble it scripts.
    let scenarios: Vec<(Config, Vec<(RequestKind, Fault)>, &[&str], &str)> = vec![
        (
            Config::new("https://ca.test"),
            vec![],
            &["a.example.org"],
            "http-01",
        ),
        (
            {
                let mut c = Config::new("http://127.0.0.1:14000");
                c.alternate_chains = 2;
                c.validation_polls = 2;
                c.issuance_polls = 2;
                c.poll_retry_after = Some(3);
                c
            },
            vec![
                (RequestKind::NewOrder, Fault::BadNonce),
                (
                    RequestKind::Order,
                    Fault::RateLimited(RetryAfter::Seconds(30)),
                ),
                (
                    RequestKind::Finalize,
                    Fault::Unavailable(Some(RetryAfter::HttpDate(UnixTime::from_secs(
                        1_800_000_000,
                    )))),
                ),
            ],
            &["b.example.org", "*.b.example.org", "192.0.2.7"],
            "dns-01",
        ),
        (
            Config::new("https://ca.test"),
            vec![(
                RequestKind::Challenge,
                Fault::InvalidChallenge {
                    problem_type: "incorrectResponse".into(),
                    detail: "key authorization mismatch".into(),
                },
            )],
            &["c.example.org", "2001:db8::1"],
            "tls-alpn-01",
        ),
        (
            Config::new("https://ca.test"),
            vec![(RequestKind::Finalize, Fault::OrderNotReady)],
            &["d.example.org"],
            "http-01",
        ),
    ];
    for (config, faults, names, prefer) in scenarios {
        let mut ca = FakeCa::new(config);
        for (kind, fault) in faults {
            ca.script(kind, fault, 1);
        }
        record_order(&mut ca, names, prefer, &mut seeds);
    }

    // The fixed test keys, in each import format.
    for pem in [
        test_keys::P256,
        test_keys::P384,
        test_keys::P521,
        test_keys::ED25519,
        test_keys::RSA2048,
    ] {
        let key = AccountKey::from_pem(pem).unwrap();
        seeds.push(("key_pem", pem.as_bytes().to_vec()));
        seeds.push(("key_der", key.to_pkcs8_der().unwrap().to_vec()));
        seeds.push(("key_jwk", key.to_jwk_json().unwrap().as_bytes().to_vec()));
    }

    // The core's test certificates.
    for entry in std::fs::read_dir(core_tests.join("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pem") {
            let body = std::fs::read(&path).unwrap();
            let exchange = Exchange {
                method: "POST".into(),
                url: "https://ca.example/cert/1".into(),
                status: 200,
                headers: vec![],
                body,
            };
            seeds.extend(seeds_of(&exchange));
        }
    }

    // Header forms the fake CA does not send (RFC 9110 §5.6.7's three date forms, RFC
    // 8288 links with several relations and parameters).
    for value in [
        "120",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ] {
        seeds.push(("retry_after", value.as_bytes().to_vec()));
    }
    seeds.push((
        "link",
        b"<https://ca.example/acme/cert/1/1>;rel=\"alternate\", </acme/directory>; rel=index; title=\"a, b\"\n<../orders?cursor=2>;rel=\"next up\"".to_vec(),
    ));
    seeds.push(("location", b"/acme/order/1".to_vec()));

    // The order target: the cooperative path (the empty input), and a few inputs that
    // take each of the server's choices from the start.
    seeds.push(("order_flow", Vec::new()));
    for byte in [1u8, 5, 7, 8, 9, 200] {
        seeds.push(("order_flow", vec![byte; 256]));
    }

    let mut written = 0;
    for (target, input) in &seeds {
        write_seed(&root, target, input).unwrap();
        written += 1;
    }
    println!("wrote {written} seeds under {}", root.display());
}

#[test]
#[ignore = "writes into corpus/: run on purpose, with ACME_PROTO_FUZZ_RECORDING=DIR"]
fn import() {
    let dir = std::env::var_os("ACME_PROTO_FUZZ_RECORDING")
        .expect("set ACME_PROTO_FUZZ_RECORDING to a recording directory");
    let written = import_recording(Path::new(&dir), &corpus_root()).unwrap();
    println!("wrote {written} seeds");
}

/// The recording format reads back what it wrote.
#[test]
fn recording_format_round_trips() {
    let exchange = Exchange {
        method: "POST".into(),
        url: "https://ca.example/acme/new-order".into(),
        status: 201,
        headers: vec![
            ("Replay-Nonce".into(), b"abc".to_vec()),
            (
                "Link".into(),
                b"<https://ca.example/dir>;rel=\"index\"".to_vec(),
            ),
        ],
        body: b"{\"status\":\"pending\"}\n\n".to_vec(),
    };
    assert_eq!(
        Exchange::from_bytes(&exchange.to_bytes()),
        Some(exchange.clone())
    );
    let seeds = seeds_of(&exchange);
    assert!(
        seeds
            .iter()
            .any(|(t, v)| *t == "replay_nonce" && v == b"abc")
    );
    assert!(seeds.iter().any(|(t, _)| *t == "link"));
}
