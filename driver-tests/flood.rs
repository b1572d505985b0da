//! The built-in responders under a connection flood from one address (127.0.0.2):
//! hundreds of idle connections a second, all held open (half-sent ClientHellos for
//! tls-alpn-01), while a validation from another address (127.0.0.1) must still be
//! answered, and within 5 s; and the `ResponderLimits` themselves: connections past one
//! address's limit, or past the total, closed at once while others are served. Every
//! connection is made from an address of the test's choosing (socket2: bound before it
//! connects); 127.0.0.0/8 is loopback on Linux.

use std::io::{self, Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use acme_proto::Identifier;
use acme_proto::client::{ChallengeOffer, Solution};
use acme_proto_fake_ca::validation::{check_challenge_certificate, validation_client_config};
use rustls::pki_types::ServerName;
use socket2::{Domain, Socket, Type};

use super::support::{CaServer, Recording, http01_parts, keys, quick_account};
use crate::driver::{ACME_TLS_ALPN, Http01Responder, ResponderLimits, Solver, TlsAlpn01Responder};

driver_tests!(
    an_http01_validation_is_answered_during_a_flood_from_another_address,
    a_tls_alpn01_validation_is_answered_during_a_flood_of_half_sent_hellos,
    one_address_is_held_to_its_limit_and_all_to_the_total,
);

/// Where the validation server connects from.
const VALIDATOR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// Where the flood comes from.
const FLOODER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// How fast new connections are opened, and for how long.
const FLOOD_RATE: usize = 300;
const FLOOD_LENGTH: Duration = Duration::from_secs(6);
/// The most flood connections held at once (file descriptors are finite: a responder
/// that closes what it refuses keeps this far lower).
const MAX_HELD: usize = 1200;
/// How long a validation may take, connection included.
const VALIDATION_TIME: Duration = Duration::from_secs(5);

/// A TCP connection from `from` (any port) to `to`.
fn connect_from(from: Ipv4Addr, to: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.bind(&SocketAddr::from((from, 0)).into())?;
    socket.connect_timeout(&to.into(), timeout)?;
    Ok(socket.into())
}

/// Whether the responder still holds `stream` open (nothing to read, no end seen).
fn still_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!((&*stream).read(&mut buf), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// A flood running on a thread of its own; stopped and joined by [`Flood::stop`] (or
/// when dropped), its connections closed with it. Its thread ends by itself soon after
/// [`FLOOD_LENGTH`].
struct Flood {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<FloodReport>>,
}

#[derive(Debug, Default)]
struct FloodReport {
    /// Connections made.
    opened: usize,
    /// Connections that failed (a full backlog times the connect out).
    failed: usize,
    /// The most connections the responder held open at once, as the flooder saw them.
    most_held: usize,
}

impl Flood {
    /// Opens [`FLOOD_RATE`] connections a second from [`FLOODER`] to `target` for
    /// [`FLOOD_LENGTH`], writing `first_bytes` on each and then nothing more, and holds
    /// open every one the responder has not closed.
    fn start(target: SocketAddr, first_bytes: &'static [u8]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut report = FloodReport::default();
            let mut held: Vec<TcpStream> = Vec::new();
            // A batch every 100 ms; one takes at most 3 s (30 connects, each timing out
            // after 100 ms behind a full backlog), so the loop ends by FLOOD_LENGTH + 3 s.
            for batch in 1..=(FLOOD_LENGTH.as_millis() / 100) {
                for _ in 0..FLOOD_RATE / 10 {
                    if stopped.load(Ordering::SeqCst) || held.len() >= MAX_HELD {
                        break;
                    }
                    match connect_from(FLOODER, target, Duration::from_millis(100)) {
                        Ok(mut stream) => {
                            let _ = stream.write_all(first_bytes);
                            report.opened += 1;
                            held.push(stream);
                        }
                        Err(_) => report.failed += 1,
                    }
                }
                held.retain(still_open);
                report.most_held = report.most_held.max(held.len());
                if stopped.load(Ordering::SeqCst) || started.elapsed() >= FLOOD_LENGTH {
                    break;
                }
                let next = started + Duration::from_millis(100) * u32::try_from(batch).unwrap();
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            // Held until the end of the flood (or the stop), then closed.
            while !stopped.load(Ordering::SeqCst) && started.elapsed() < FLOOD_LENGTH {
                std::thread::sleep(Duration::from_millis(20));
            }
            report
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) -> FloodReport {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `responder` with the offer of a real order for `name` (issued against the fake CA)
/// presented again.
async fn presented<R: Solver>(responder: R, name: &str) -> (R, ChallengeOffer) {
    let server = CaServer::start();
    let client = quick_account(&server, keys::P256).await;
    let solver = Recording {
        responder,
        seen: Mutex::default(),
    };
    aw!(client.issue([Identifier::dns(name).unwrap()], &solver)).unwrap();
    let offer = solver.seen.lock().unwrap().pop().unwrap();
    aw!(solver.responder.present(&offer)).unwrap();
    (solver.responder, offer)
}

/// A `GET` of `path` from `from`, within [`VALIDATION_TIME`]: the status and body, or why
/// not.
fn get_from(from: Ipv4Addr, target: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let deadline = Instant::now() + VALIDATION_TIME;
    let mut stream =
        connect_from(from, target, VALIDATION_TIME).map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(
            format!(
                "GET {path} HTTP/1.1\r\nHost: flood.example.org\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .map_err(|e| format!("write: {e}"))?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!("no answer within {VALIDATION_TIME:?}"));
        }
        stream.set_read_timeout(Some(remaining)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) => return Err(format!("read after {} bytes: {e}", reply.len())),
        }
    }
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.get(9..12).and_then(|s| s.parse().ok());
    match (reply.split_once("\r\n\r\n"), status) {
        (Some((_, body)), Some(status)) if reply.starts_with("HTTP/1.1 ") => {
            Ok((status, body.to_owned()))
        }
        _ => Err(format!("answered {reply:?}")),
    }
}

/// An http-01 validation from [`VALIDATOR`]: the body of a `200`, or why not.
fn fetch_from_validator(target: SocketAddr, path: &str) -> Result<String, String> {
    match get_from(VALIDATOR, target, path)? {
        (200, body) => Ok(body),
        (status, body) => Err(format!("answered {status}: {body:?}")),
    }
}

/// A tls-alpn-01 validation from [`VALIDATOR`]: the certificate presented, or why not.
fn handshake_from_validator(target: SocketAddr, sni: &str) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + VALIDATION_TIME;
    let config = validation_client_config(ACME_TLS_ALPN);
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp =
        connect_from(VALIDATOR, target, VALIDATION_TIME).map_err(|e| format!("connect: {e}"))?;
    while tls.is_handshaking() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!("no handshake within {VALIDATION_TIME:?}"));
        }
        tcp.set_read_timeout(Some(remaining)).unwrap();
        tls.complete_io(&mut tcp)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    if tls.alpn_protocol() != Some(ACME_TLS_ALPN) {
        return Err(format!("ALPN {:?}", tls.alpn_protocol()));
    }
    let certificate = tls.peer_certificates().and_then(|chain| chain.first());
    certificate
        .map(|der| der.to_vec())
        .ok_or_else(|| "no certificate".to_owned())
}

/// Floods `target` with connections that send `first_bytes` for [`FLOOD_LENGTH`], and
/// runs `validate` (from [`VALIDATOR`]) after 1 s of it, then every 1.5 s while it lasts
/// (past the head timeout, so also once the flood's first connections were dropped and
/// others made): each must succeed within [`VALIDATION_TIME`]. Their answers.
fn validated_during_a_flood<T>(
    target: SocketAddr,
    first_bytes: &'static [u8],
    validate: impl Fn() -> Result<T, String>,
) -> Vec<T> {
    let mut flood = Flood::start(target, first_bytes);
    let started = Instant::now();
    let mut answers = Vec::new();
    let mut at = Duration::from_secs(1);
    while at < FLOOD_LENGTH {
        std::thread::sleep((started + at).saturating_duration_since(Instant::now()));
        let asked = Instant::now();
        let outcome = validate();
        let took = asked.elapsed();
        eprintln!(
            "{}: validation {at:?} into a flood of {first_bytes:?}: {outcome:?} in {took:?}",
            crate::DRIVER_NAME,
            outcome = outcome.as_ref().map(|_| "answered"),
        );
        match outcome {
            Ok(answer) if took < VALIDATION_TIME => answers.push(answer),
            Ok(_) => panic!("validation {at:?} into the flood took {took:?}"),
            Err(why) => panic!(
                "validation {at:?} into the flood failed ({:?}): {why}",
                flood.stop()
            ),
        }
        at += Duration::from_millis(1500);
    }
    let report = flood.stop();
    eprintln!("{}: flood {report:?}", crate::DRIVER_NAME);
    assert!(
        report.opened >= FLOOD_RATE,
        "not much of a flood: {report:?}"
    );
    answers
}

pub async fn an_http01_validation_is_answered_during_a_flood_from_another_address() {
    let responder = aw!(Http01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let (responder, offer) = presented(responder, "flood.example.org").await;
    let (path, key_authorization) = http01_parts(&offer);
    let target = responder.local_addr();
    // Idle connections: connected, then silent.
    let bodies = validated_during_a_flood(target, b"", || fetch_from_validator(target, path));
    for body in bodies {
        assert_eq!(body, key_authorization);
    }
}

pub async fn a_tls_alpn01_validation_is_answered_during_a_flood_of_half_sent_hellos() {
    let responder = aw!(TlsAlpn01Responder::bind("127.0.0.1:0".parse().unwrap())).unwrap();
    let (responder, offer) = presented(responder, "flood-tls.example.org").await;
    let Solution::TlsAlpn01 { server_name, .. } = &offer.solution else {
        panic!("chose {}", offer.type_name());
    };
    let target = responder.local_addr();
    // A TLS record header announcing a 512-byte handshake message, its ClientHello
    // header and version, then nothing more.
    const HALF_HELLO: &[u8] = &[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    let certificates = validated_during_a_flood(target, HALF_HELLO, || {
        handshake_from_validator(target, server_name)
    });
    for der in certificates {
        check_challenge_certificate(&der, &offer);
    }
}

/// Whether the responder closes `stream` within `wait` (an end or a reset, not data).
fn closed_within(stream: &TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64];
    match (&*stream).read(&mut buf) {
        Ok(0) => true,
        Ok(n) => panic!("answered {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
    }
}

pub async fn one_address_is_held_to_its_limit_and_all_to_the_total() {
    // A head timeout long enough that no connection here ends by it.
    let limits = ResponderLimits::default()
        .per_source(4)
        .total(6)
        .head_timeout(Duration::from_secs(30));
    let responder = aw!(Http01Responder::bind_with(
        "127.0.0.1:0".parse().unwrap(),
        limits
    ))
    .unwrap();
    let target = responder.local_addr();
    let connect = |from| connect_from(from, target, Duration::from_secs(2)).unwrap();

    // From one address, 3 past its limit: those are closed at once, in the order they
    // came (each connection is accepted at once, then closed), the first 4 kept.
    let started = Instant::now();
    let flood: Vec<TcpStream> = (0..7).map(|_| connect(FLOODER)).collect();
    for (i, stream) in flood.iter().enumerate().skip(4) {
        assert!(
            closed_within(stream, Duration::from_secs(3)),
            "connection {i} past the limit was not closed"
        );
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "closed only after {took:?}");
    // Another address is served meanwhile (404: nothing presented), and so is the same
    // one's again, the limit counting open connections only.
    assert_eq!(
        get_from(VALIDATOR, target, "/.well-known/acme-challenge/x")
            .unwrap()
            .0,
        404
    );
    for (i, stream) in flood.iter().enumerate().take(4) {
        assert!(
            still_open(stream),
            "connection {i} within the limit was closed"
        );
    }

    // The total: the flooder's 4 and 2 from a third address fill it (the GET's place
    // may take a moment to be freed: a closed connection is made again) ...
    let mut third = Vec::new();
    for _ in 0..50 {
        if third.len() == 2 {
            break;
        }
        let stream = connect(Ipv4Addr::new(127, 0, 0, 3));
        if !closed_within(&stream, Duration::from_millis(200)) {
            third.push(stream);
        }
    }
    assert_eq!(third.len(), 2, "within the total");
    // ... and a new address is then closed at once, the validator's too, until a
    // connection ends.
    let started = Instant::now();
    for from in [Ipv4Addr::new(127, 0, 0, 4), VALIDATOR] {
        assert!(
            closed_within(&connect(from), Duration::from_secs(3)),
            "{from}: past the total"
        );
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "closed only after {took:?}");
    drop(third);
    // Served again once connections end (the responder sees them close).
    let mut answered = None;
    for _ in 0..50 {
        match get_from(VALIDATOR, target, "/.well-known/acme-challenge/x") {
            Ok(answer) => {
                answered = Some(answer);
                break;
            }
            Err(_) => aw!(crate::pause(Duration::from_millis(100))),
        }
    }
    assert_eq!(answered.map(|(status, _)| status), Some(404));
    assert!(flood.iter().take(4).all(still_open), "held all along");
}
