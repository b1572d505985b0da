//! The blocking http-01 responder under a flood of idle connections: its threads are
//! bounded. What both drivers' responders do is in the driver suite
//! (`driver-tests/http01.rs`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use acme_proto_blocking::Http01Responder;

/// The threads of this process, from /proc.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
    line["Threads:".len()..].trim().parse().unwrap()
}

#[test]
fn a_flood_of_idle_connections_is_bounded_then_served_and_stops_with_the_responder() {
    let responder = Http01Responder::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let before = threads();
    // Far more idle connections than the responder serves at once (64): the extra ones
    // wait in the backlog, neither served by a thread of their own nor closed.
    let idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(responder.local_addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let grown = threads().saturating_sub(before);
    // 64 connection threads, and some slack for the other tests of this binary.
    assert!(grown <= 80, "{grown} threads for 150 idle connections");
    for stream in idle.iter().skip(100) {
        stream.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 1];
        let read = (&*stream).read(&mut buf);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a waiting connection was closed or answered: {read:?}"
        );
    }
    // A validation request behind the flood is answered once the flood goes.
    let address = responder.local_addr();
    let asker = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        reply
    });
    std::thread::sleep(Duration::from_millis(200));
    drop(idle);
    let reply = asker.join().unwrap();
    assert!(reply.starts_with("HTTP/1.1 404 "), "{reply}");
    // Dropping returns promptly even though connection threads may still be running.
    let started = std::time::Instant::now();
    drop(responder);
    assert!(started.elapsed() < Duration::from_secs(2));
}
