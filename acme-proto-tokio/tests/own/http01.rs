//! The tokio http-01 responder under more idle connections than it serves at once: the
//! rest wait, and are answered once room is made. What both drivers' responders do is
//! in the driver suite (`driver-tests/http01.rs`).

use std::time::Duration;

use acme_proto_tokio::Http01Responder;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

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
