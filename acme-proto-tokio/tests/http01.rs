//! The http-01 responder, asked over real HTTP as a validation server would.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use acme_proto::client::{ChallengeOffer, Solution};

use acme_proto::Identifier;
use acme_proto_tokio::{Http01Responder, Solver};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod common;

use std::sync::Mutex;

use acme_proto::client::NewAccount;
use acme_proto_tokio::{AcmeClient, SolverError};

/// The responder, checked over HTTP right after each present, as the CA would.
struct Checked {
    responder: Http01Responder,
    seen: Mutex<Vec<ChallengeOffer>>,
}

impl Solver for Checked {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.responder.choose(offers)
    }
    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.present(offer).await?;
        let Solution::Http01 {
            path,
            key_authorization,
            ..
        } = &offer.solution
        else {
            panic!("chose {}", offer.type_name());
        };
        assert_eq!(
            fetch(&self.responder, "GET", path).await,
            (200, key_authorization.as_str().to_owned())
        );
        self.seen.lock().unwrap().push(offer.clone());
        Ok(())
    }
    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.responder.cleanup(offer).await
    }
}

/// Real offers, from an order issued against the fake CA with the responder checked.
async fn issue_checked() -> (Http01Responder, Vec<ChallengeOffer>) {
    let server = common::CaServer::start().await;
    let client = AcmeClient::new(
        server.directory_url.clone(),
        common::key(common::keys::P256),
        server.transport(),
    )
    .unwrap();
    client
        .create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"]))
        .await
        .unwrap();
    let solver = Checked {
        responder: Http01Responder::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap(),
        seen: Mutex::default(),
    };
    let names = [
        Identifier::dns("a.example.org").unwrap(),
        Identifier::dns("b.example.org").unwrap(),
    ];
    client.issue(names, &solver).await.unwrap();
    assert!(solver.responder.is_empty(), "cleaned up after issuance");
    let seen = solver.seen.into_inner().unwrap();
    assert_eq!(seen.len(), 2);
    (solver.responder, seen)
}

/// A raw HTTP/1.1 GET, as a validation server sends it: status and body.
async fn fetch(responder: &Http01Responder, method: &str, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(responder.local_addr())
        .await
        .unwrap();
    let request =
        format!("{method} {path} HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn serves_exactly_the_presented_tokens() {
    let (responder, offers) = issue_checked().await;
    let offer = &offers[0];
    let Solution::Http01 {
        path,
        key_authorization,
        ..
    } = &offer.solution
    else {
        panic!("not http-01");
    };
    let key_authorization = key_authorization.as_str().to_owned();
    assert_eq!(fetch(&responder, "GET", path).await.0, 404);
    responder.present(offer).await.unwrap();
    assert_eq!(
        fetch(&responder, "GET", path).await,
        (200, key_authorization)
    );
    assert_eq!(fetch(&responder, "POST", path).await.0, 404);
    assert_eq!(
        fetch(&responder, "GET", "/.well-known/acme-challenge/other")
            .await
            .0,
        404
    );
    assert_eq!(fetch(&responder, "GET", "/").await.0, 404);
    assert_eq!(fetch(&responder, "GET", &format!("{path}/x")).await.0, 404);
    let Solution::Http01 { path: other, .. } = &offers[1].solution else {
        panic!()
    };
    assert_eq!(
        fetch(&responder, "GET", other).await.0,
        404,
        "only what is presented"
    );

    // Two orders presenting the same challenge: served until both cleaned up.
    responder.present(offer).await.unwrap();
    responder.cleanup(offer).await.unwrap();
    assert_eq!(fetch(&responder, "GET", path).await.0, 200);
    responder.cleanup(offer).await.unwrap();
    assert_eq!(fetch(&responder, "GET", path).await.0, 404);
    assert!(responder.is_empty());

    let addr = responder.local_addr();
    drop(responder);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped when dropped"
    );
}

#[tokio::test]
async fn connections_past_the_bound_wait_and_are_then_answered() {
    let responder = Http01Responder::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let address = responder.local_addr();
    // More idle connections than the responder serves at once (256): the extra ones
    // wait in the backlog, not closed.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(address).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for stream in idle.iter_mut().skip(280) {
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await;
        assert!(
            read.is_err(),
            "a waiting connection was closed or answered: {read:?}"
        );
    }
    // A validation request behind them is answered once they go.
    let asker = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
        String::from_utf8_lossy(&reply).into_owned()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(idle);
    let reply = asker.await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 404 "), "{reply}");
}
