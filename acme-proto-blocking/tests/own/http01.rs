//! The blocking http-01 responder under a flood of idle connections: its threads are
//! bounded by the total of its `ResponderLimits`, what is past it closed at once. What
//! both drivers' responders do is in the driver suite (`driver-tests/http01.rs`,
//! `driver-tests/flood.rs`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use acme_proto_blocking::{Http01Responder, ResponderLimits};

/// The connection threads of the http-01 responder on `port` (named `http-01 :PORT`),
/// from /proc: other tests of this binary run their own responders meanwhile.
fn connection_threads(port: u16) -> usize {
    let name = format!("http-01 :{port}");
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .count()
}

#[test]
fn a_flood_of_idle_connections_is_bounded_then_served_and_stops_with_the_responder() {
    // One source allowed the whole total (as behind a load balancer): the total alone
    // bounds the threads.
    let limits = ResponderLimits::default()
        .per_source(64)
        .total(64)
        .head_timeout(Duration::from_secs(10));
    let responder = Http01Responder::bind_with("127.0.0.1:0".parse().unwrap(), limits).unwrap();
    let port = responder.local_addr().port();
    let idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(responder.local_addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let serving = connection_threads(port);
    assert!(
        (1..=64).contains(&serving),
        "{serving} connection threads for 150 idle connections"
    );
    // Those past the total were closed at once, not left waiting in the backlog.
    for stream in idle.iter().skip(100) {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 1];
        let read = (&*stream).read(&mut buf);
        assert!(
            matches!(&read, Ok(0))
                || matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "a connection past the total was kept: {read:?}"
        );
    }
    // A validation once the flood goes is answered.
    drop(idle);
    let address = responder.local_addr();
    let mut reply = String::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = stream.write_all(b"GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\n\r\n");
        reply.clear();
        let _ = stream.read_to_string(&mut reply);
        if !reply.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(reply.starts_with("HTTP/1.1 404 "), "{reply}");
    // Dropping returns promptly even though connection threads may still be running.
    let started = std::time::Instant::now();
    drop(responder);
    assert!(started.elapsed() < Duration::from_secs(2));
}
