//! The transport against hostile or broken servers (raw servers on std threads): body
//! caps while reading, timeouts, TLS failures, redirects, problem documents on 4xx, the
//! User-Agent.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acme_proto::{Method, Request, RequestId};

use super::support::{CaServer, transport};
use crate::driver::{Roots, Transport, TransportErrorKind, USER_AGENT};

driver_tests!(
    an_endless_body_is_cut_at_the_cap_while_reading,
    an_endless_chunked_body_is_cut_at_the_cap_too,
    a_declared_length_over_the_cap_is_refused_before_reading,
    a_body_at_the_cap_is_read_whole_and_redirects_are_not_followed,
    a_problem_document_on_a_4xx_comes_back_as_a_response,
    a_silent_server_hits_the_read_timeout,
    a_dribbling_server_hits_the_total_timeout,
    the_request_time_limit_ends_an_attempt_before_the_total_timeout,
    a_closed_port_is_a_connect_error,
    an_untrusted_certificate_is_a_tls_error,
    http_urls_are_refused_unless_allowed,
    bad_root_pem_fails_the_build,
    a_product_token_follows_the_library_user_agent,
    a_full_backlog_hits_the_connect_timeout,
);

fn plain() -> Transport {
    Transport::builder()
        .roots(Roots::None)
        .add_root_pem(acme_proto_fake_ca::server::test_pki().root_pem)
        .allow_http(true)
        .read_timeout(Duration::from_millis(300))
        .total_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

fn get(url: &str, cap: usize) -> Request {
    Request::new(RequestId::new(1), Method::Get, url.parse().unwrap(), cap)
}

/// A raw server, one thread per connection: reads the request head, then runs `reply`.
/// Keeps what each request head said. Its threads end with the test process.
fn raw_server(
    reply: impl Fn(TcpStream) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    let reply = Arc::new(reply);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let seen = Arc::clone(&seen);
            let reply = Arc::clone(&reply);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                reply(stream);
            });
        }
    });
    (url, heads)
}

pub async fn an_endless_body_is_cut_at_the_cap_while_reading() {
    let (url, _) = raw_server(|mut stream| {
        // No Content-Length: the body ends only when the connection does, i.e. never.
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        );
        let chunk = vec![b'a'; 16 * 1024];
        while stream.write_all(&chunk).is_ok() {}
    });
    let started = Instant::now();
    let error = aw!(plain().send(&get(&url, 64 * 1024))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

pub async fn an_endless_chunked_body_is_cut_at_the_cap_too() {
    let (url, _) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = format!("4000\r\n{}\r\n", "b".repeat(0x4000));
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let error = aw!(plain().send(&get(&url, 100_000))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
}

pub async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let (url, _) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n");
        // Nothing of the gigabyte ever comes: reading any of it would hit the timeout.
        std::thread::sleep(Duration::from_secs(5));
    });
    // Had any of the body been read, the 300 ms read timeout would have ended it.
    let error = aw!(plain().send(&get(&url, 1024))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::BodyTooLarge, "{error}");
}

pub async fn a_body_at_the_cap_is_read_whole_and_redirects_are_not_followed() {
    let (url, heads) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nReplay-Nonce: abc\r\nContent-Length: 5\r\n\r\nhello");
    });
    let response = aw!(plain().send(&get(&url, 5))).unwrap();
    // Redirects come back as they are: never followed.
    assert_eq!(response.status, 302);
    assert_eq!(response.body, b"hello");
    assert_eq!(response.headers.get("replay-nonce"), Some(&b"abc"[..]));
    assert_eq!(
        response.headers.get("location"),
        Some(&b"http://127.0.0.1:1/elsewhere"[..])
    );
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("user-agent: {USER_AGENT}")),
        "{head}"
    );
    assert!(head.starts_with("get / http/1.1\r\n"), "{head}");
    // Only the headers the core asked for, and the User-Agent: no Accept or
    // Accept-Encoding of ureq's own, no body on a GET.
    assert!(!head.contains("accept"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    assert!(USER_AGENT.starts_with("acme-proto-"), "{USER_AGENT}");
}

pub async fn a_problem_document_on_a_4xx_comes_back_as_a_response() {
    let problem = br#"{"type":"urn:ietf:params:acme:error:badNonce","detail":"stale"}"#;
    let (url, heads) = raw_server(move |mut stream| {
        let head = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nReplay-Nonce: fresh\r\nContent-Length: {}\r\n\r\n",
            problem.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(problem);
    });
    let request = Request::new(RequestId::new(1), Method::Post, url.parse().unwrap(), 4096)
        .with_header("Content-Type", "application/jose+json")
        .with_body(b"{\"protected\":\"x\"}".to_vec());
    let response = aw!(plain().send(&request)).unwrap();
    assert_eq!(response.status, 400);
    assert_eq!(response.body, problem);
    let parsed = response
        .problem(&acme_proto::Limits::default(), acme_proto::UnixTime::EPOCH)
        .unwrap();
    assert_eq!(parsed.kind, acme_proto::ProblemType::BadNonce);
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/jose+json"),
        "{head}"
    );
    assert!(head.contains("content-length: 17"), "{head}");
}

pub async fn a_silent_server_hits_the_read_timeout() {
    let (url, _) = raw_server(|stream| {
        let _open = stream;
        std::thread::sleep(Duration::from_secs(10));
    });
    let started = Instant::now();
    let error = aw!(plain().send(&get(&url, 1024))).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        elapsed >= Duration::from_millis(280) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

pub async fn a_dribbling_server_hits_the_total_timeout() {
    let (url, _) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        // One byte every 100 ms: never silent for the 300 ms read timeout.
        while stream.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let started = Instant::now();
    let error = aw!(plain().send(&get(&url, 1 << 20))).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error}");
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
}

pub async fn the_request_time_limit_ends_an_attempt_before_the_total_timeout() {
    let (url, _) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        for _ in 0..100 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let started = Instant::now();
    let request = get(&url, 1 << 20).with_time_limit(Duration::from_millis(700));
    let error = aw!(plain().send(&request)).unwrap_err();
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

pub async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let error = aw!(plain().send(&get(&url, 1024))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
}

pub async fn an_untrusted_certificate_is_a_tls_error() {
    let server = CaServer::start();
    // Trusts another root than the one the server's certificate chains to.
    let error = aw!(plain().send(&get(server.directory_url.as_str(), 1 << 16))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
    // Mozilla's roots do not know the test root either.
    let mozilla = Transport::builder().build().unwrap();
    let error = aw!(mozilla.send(&get(server.directory_url.as_str(), 1 << 16))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
    // With the right root, alone or next to Mozilla's, the same request goes through.
    for transport in [
        transport(&server),
        Transport::builder()
            .add_root_pem(&server.root_pem)
            .build()
            .unwrap(),
    ] {
        let response = aw!(transport.send(&get(server.directory_url.as_str(), 1 << 16))).unwrap();
        assert_eq!(response.status, 200);
    }
}

pub async fn http_urls_are_refused_unless_allowed() {
    let (url, heads) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
    });
    let strict = Transport::builder().build().unwrap();
    let error = aw!(strict.send(&get(&url, 1024))).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Invalid, "{error}");
    assert!(
        heads.lock().unwrap().is_empty(),
        "nothing was sent in clear"
    );
    assert_eq!(aw!(plain().send(&get(&url, 1024))).unwrap().status, 204);
}

pub async fn bad_root_pem_fails_the_build() {
    let error = Transport::builder()
        .add_root_pem("not a certificate")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Invalid);
    let error = Transport::builder().roots(Roots::None).build().unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Invalid, "no root at all");
}

/// The caller's product token follows the library's in `User-Agent`; one that is not
/// printable ASCII is refused when the transport is built.
pub async fn a_product_token_follows_the_library_user_agent() {
    let (url, heads) = raw_server(|mut stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    let transport = Transport::builder()
        .roots(Roots::None)
        .add_root_pem(acme_proto_fake_ca::server::test_pki().root_pem)
        .allow_http(true)
        .user_agent("certmanager/2.1")
        .build()
        .unwrap();
    aw!(transport.send(&get(&url, 1024))).unwrap();
    let head = heads.lock().unwrap()[0].to_ascii_lowercase();
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
pub async fn a_full_backlog_hits_the_connect_timeout() {
    // std's listener has a backlog of its own choosing: connections are opened (and
    // never accepted) until one cannot complete, which shows the queue is full.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut full = false;
    for _ in 0..10_000 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(stream) => held.push(stream),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue never filled");
    let transport = Transport::builder()
        .allow_http(true)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_secs(10))
        .total_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = aw!(transport.send(&get(&format!("http://{addr}/"), 1024))).unwrap_err();
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
