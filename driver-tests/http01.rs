//! The http-01 responder, asked over real HTTP (std sockets) as a validation server
//! would: exactly the presented tokens, shared presents, its bounds on a request head,
//! and its stop on drop. Floods of connections are `flood.rs`'s.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::Duration;

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};

use super::support::{CaServer, Recording, http01_parts, keys, quick_account};
use crate::driver::{Http01Responder, Solver};

driver_tests!(
    serves_exactly_the_presented_tokens,
    a_request_head_over_eight_kib_is_refused,
    a_head_that_is_not_http_gets_a_400_and_too_many_headers_a_431,
);

/// A raw HTTP/1.1 request (`request` is everything up to the blank line): status and
/// body.
fn ask(responder: &Http01Responder, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(responder.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let reply = String::from_utf8(reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    // Header names are case-insensitive (hyper writes them in lower case).
    if status == 200 {
        assert!(
            head.to_ascii_lowercase()
                .contains("\r\ncontent-type: text/plain"),
            "{head}"
        );
    }
    (status, body.to_owned())
}

fn fetch(responder: &Http01Responder, method: &str, path: &str) -> (u16, String) {
    ask(
        responder,
        &format!("{method} {path} HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n"),
    )
}

/// Real offers, from an order issued against the fake CA.
async fn issued_offers() -> (Http01Responder, Vec<ChallengeOffer>) {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let solver = Recording {
        responder: aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap(),
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("a.example.org").unwrap(),
        Identifier::dns("b.example.org").unwrap(),
    ];
    aw!(client.issue(names, &solver)).unwrap();
    assert!(solver.responder.is_empty(), "cleaned up after issuance");
    let seen = solver.seen.into_inner().unwrap();
    assert_eq!(seen.len(), 2);
    (solver.responder, seen)
}

pub async fn serves_exactly_the_presented_tokens() {
    let (responder, offers) = issued_offers().await;
    let offer = &offers[0];
    let (path, key_authorization) = http01_parts(offer);
    let key_authorization = key_authorization.to_owned();
    assert_eq!(fetch(&responder, "GET", path).0, 404);
    aw!(responder.present(offer)).unwrap();
    assert_eq!(
        fetch(&responder, "GET", path),
        (200, key_authorization.clone())
    );
    assert_eq!(fetch(&responder, "HEAD", path), (200, String::new()));
    // Absolute-form, and with a query: the path is what counts.
    assert_eq!(
        fetch(&responder, "GET", &format!("http://www.example.org{path}")),
        (200, key_authorization.clone())
    );
    assert_eq!(fetch(&responder, "GET", &format!("{path}?x=1")).0, 200);
    assert_eq!(fetch(&responder, "POST", path).0, 404);
    assert_eq!(
        fetch(&responder, "GET", "/.well-known/acme-challenge/other").0,
        404
    );
    assert_eq!(fetch(&responder, "GET", "/").0, 404);
    assert_eq!(fetch(&responder, "GET", &format!("{path}/x")).0, 404);
    let Solution::Http01 { path: other, .. } = &offers[1].solution else {
        panic!()
    };
    assert_eq!(
        fetch(&responder, "GET", other).0,
        404,
        "only what is presented"
    );

    // Two orders presenting the same challenge: served until both cleaned up.
    aw!(responder.present(offer)).unwrap();
    aw!(responder.cleanup(offer)).unwrap();
    assert_eq!(fetch(&responder, "GET", path).0, 200);
    aw!(responder.cleanup(offer)).unwrap();
    assert_eq!(fetch(&responder, "GET", path).0, 404);
    assert!(responder.is_empty());

    let addr = responder.local_addr();
    drop(responder);
    // Stopped when dropped (a driver's listener task may take a moment to go).
    for _ in 0..100 {
        if TcpStream::connect(addr).is_err() {
            break;
        }
        aw!(crate::pause(Duration::from_millis(20)));
    }
    assert!(TcpStream::connect(addr).is_err(), "stopped when dropped");
}

pub async fn a_request_head_over_eight_kib_is_refused() {
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let long = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(9000)
    );
    assert_eq!(ask(&responder, &long).0, 431);
    // And one that never ends is cut off at the same size, without waiting for it.
    let mut stream = TcpStream::connect(responder.local_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(format!("GET / HTTP/1.1\r\nX: {}", "b".repeat(20_000)).as_bytes());
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
}

pub async fn a_head_that_is_not_http_gets_a_400_and_too_many_headers_a_431() {
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    for garbage in [
        "\u{1}\u{2} / HTTP/1.1\r\n\r\n",
        "GET / HTTP/9\r\n\r\n",
        "GET /\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    ] {
        assert_eq!(ask(&responder, garbage).0, 400, "{garbage:?}");
    }
    let many: String = (0..100).map(|i| format!("X-{i}: y\r\n")).collect();
    assert_eq!(
        ask(&responder, &format!("GET / HTTP/1.1\r\n{many}\r\n")).0,
        431
    );
    // HTTP/1.0, as some validation servers send it, is served.
    assert_eq!(ask(&responder, "GET /x HTTP/1.0\r\n\r\n").0, 404);
}
