//! The transport against hostile or broken servers: body caps while reading, timeouts,
//! TLS failures, redirects, the User-Agent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use acme_proto::{Method, Request, RequestId};
use acme_proto_tokio::{Roots, Transport, TransportErrorKind, USER_AGENT};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

fn plain() -> Transport {
    Transport::builder()
        .roots(Roots::None)
        .add_root_pem(common::test_pki().root_pem)
        .allow_http(true)
        .read_timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn get(url: &str, cap: usize) -> Request {
    Request::new(RequestId::new(1), Method::Get, url.parse().unwrap(), cap)
}

/// A one-shot-per-connection raw server: reads the request head, then runs `reply`.
/// Keeps what each request head said.
async fn raw_server<F, Fut>(reply: F) -> (String, Arc<Mutex<Vec<String>>>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let seen = Arc::clone(&seen);
            let reply = Arc::clone(&reply);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .await
                    .push(String::from_utf8_lossy(&head).into_owned());
                reply(stream).await;
            });
        }
    });
    (url, heads)
}

#[tokio::test]
async fn an_endless_body_is_cut_at_the_cap_while_reading() {
    let (url, _) = raw_server(|mut stream| async move {
        // No Content-Length: the body ends only when the connection does, i.e. never.
        let _ = stream
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            )
            .await;
        let chunk = vec![b'a'; 16 * 1024];
        while stream.write_all(&chunk).await.is_ok() {}
    })
    .await;
    let started = Instant::now();
    let error = plain().send(&get(&url, 64 * 1024)).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let (url, _) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
            .await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await;
    let error = plain().send(&get(&url, 1024)).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
}

#[tokio::test]
async fn a_body_at_the_cap_is_read_whole() {
    let (url, heads) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nReplay-Nonce: abc\r\nContent-Length: 5\r\n\r\nhello")
            .await;
    })
    .await;
    let response = plain().send(&get(&url, 5)).await.unwrap();
    // Redirects come back as they are: never followed.
    assert_eq!(response.status, 302);
    assert_eq!(response.body, b"hello");
    assert_eq!(response.headers.get("replay-nonce"), Some(&b"abc"[..]));
    let head = heads.lock().await[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("user-agent: {USER_AGENT}")),
        "{head}"
    );
    assert!(USER_AGENT.starts_with("acme-proto-tokio/0."));
}

#[tokio::test]
async fn a_silent_server_hits_the_read_timeout() {
    let (url, _) = raw_server(|stream| async move {
        let _open = stream;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let started = Instant::now();
    let error = plain().send(&get(&url, 1024)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        elapsed >= Duration::from_millis(280) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_dribbling_server_hits_the_total_timeout() {
    let (url, _) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            .await;
        // One byte every 100 ms: never silent for the 300 ms read timeout.
        while stream.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let started = Instant::now();
    let error = plain().send(&get(&url, 1 << 20)).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(6),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn the_request_time_limit_ends_an_attempt_before_the_total_timeout() {
    let (url, _) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            .await;
        for _ in 0..100 {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let started = Instant::now();
    let request = get(&url, 1 << 20).with_time_limit(Duration::from_millis(700));
    let error = plain().send(&request).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        error
            .to_string()
            .contains("0.7 s, the time the request had left"),
        "{error}"
    );
    assert!(
        elapsed >= Duration::from_millis(650) && elapsed < Duration::from_millis(1800),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let error = plain().send(&get(&url, 1024)).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let server = common::CaServer::start().await;
    // Trusts another root than the one the server's certificate chains to.
    let error = plain()
        .send(&get(server.directory_url.as_str(), 1 << 16))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
    // And with the right root, the same request goes through.
    let response = server
        .transport()
        .send(&get(server.directory_url.as_str(), 1 << 16))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn http_urls_are_refused_unless_allowed() {
    let (url, heads) = raw_server(|mut stream| async move {
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").await;
    })
    .await;
    let strict = Transport::builder().build().unwrap();
    assert!(strict.send(&get(&url, 1024)).await.is_err());
    assert!(heads.lock().await.is_empty(), "nothing was sent in clear");
}

#[test]
fn bad_root_pem_fails_the_build() {
    let error = Transport::builder()
        .add_root_pem("not a certificate")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Invalid);
}

/// The caller's product token follows the library's in `User-Agent`; one that is not
/// printable ASCII is refused when the transport is built.
#[tokio::test]
async fn a_product_token_follows_the_library_user_agent() {
    let (url, heads) = raw_server(|mut stream| async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await;
    })
    .await;
    let transport = Transport::builder()
        .roots(Roots::None)
        .add_root_pem(common::test_pki().root_pem)
        .allow_http(true)
        .user_agent("certmanager/2.1")
        .build()
        .unwrap();
    transport.send(&get(&url, 1024)).await.unwrap();
    let head = heads.lock().await[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("user-agent: {USER_AGENT} certmanager/2.1\r\n")),
        "{head}"
    );
    for bad in ["", "line\r\nX-Injected: 1", "caf\u{e9}/1"] {
        let error = Transport::builder().user_agent(bad).build().unwrap_err();
        assert_eq!(
            error.kind(),
            TransportErrorKind::Invalid,
            "{bad:?}: {error}"
        );
    }
}

/// A server whose accept queue is full never completes the TCP handshake: the connect
/// timeout ends the attempt, long before the total timeout.
#[tokio::test]
async fn a_full_backlog_hits_the_connect_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    // A backlog of 0 holds one connection: the first fills it, and it is never accepted.
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    let transport = Transport::builder()
        .allow_http(true)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_secs(10))
        .total_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = transport
        .send(&get(&format!("http://{addr}/"), 1024))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert_eq!(
        error.kind().failure(),
        acme_proto::TransportFailure::TimedOut
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(5),
        "{elapsed:?}: {error}"
    );
    drop((held, listener));
}
