//! Servers that stop answering, for the drivers' tests of their time bounds:
//! [`HostileServer`] on 127.0.0.1, doing one [`Hostility`] on every connection, over TLS
//! with a certificate from [`test_pki`] (HTTP/1.1 only, so that its raw bytes are what
//! the client reads).
//!
//! Plain `std` threads, so that both drivers' tests use it alike. Every loop is bounded
//! by the server's stop flag and by [`HostileServer::MAX_LIFE`]; dropping the server
//! stops and joins every thread it started.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

use crate::server::test_pki;

/// What the server does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hostility {
    /// Accepts the TCP connection and never reads or writes: no TLS handshake.
    Silent,
    /// Reads what the client sends (its TLS ClientHello) and never answers.
    ReadsHello,
    /// Completes the TLS handshake, reads the request, never answers.
    SilentAfterTls,
    /// Completes the TLS handshake, reads the request, then answers one byte every
    /// [`HostileServer::DRIBBLE`], forever: a response head that never ends.
    Dribble,
    /// Completes the TLS handshake, reads the request, then answers `200` with a body
    /// without end (no `Content-Length`).
    EndlessBody,
}

/// A server on 127.0.0.1 that does its [`Hostility`] on every connection; stopped
/// (every thread joined) when dropped.
#[derive(Debug)]
pub struct HostileServer {
    /// `https://127.0.0.1:PORT/directory`.
    pub directory_url: url::Url,
    /// The root its certificate chains to.
    pub root_pem: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The pause between two checks of the stop flag.
const TICK: Duration = Duration::from_millis(50);

impl HostileServer {
    /// The pause between two bytes of [`Hostility::Dribble`].
    pub const DRIBBLE: Duration = Duration::from_secs(2);
    /// The longest a server runs, dropped or not.
    pub const MAX_LIFE: Duration = Duration::from_secs(180);

    /// A server doing `hostility`.
    pub fn start(hostility: Hostility) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let pki = test_pki();
        let mut config = pki.server;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let thread = {
            let (stop, connections, requests) = (
                Arc::clone(&stop),
                Arc::clone(&connections),
                Arc::clone(&requests),
            );
            std::thread::spawn(move || {
                let alive = || !stop.load(Ordering::SeqCst) && started.elapsed() < Self::MAX_LIFE;
                let handlers = Mutex::new(Vec::new());
                while alive() {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            let (stop, requests, config) = (
                                Arc::clone(&stop),
                                Arc::clone(&requests),
                                Arc::clone(&config),
                            );
                            let handler = std::thread::spawn(move || {
                                let alive = || {
                                    !stop.load(Ordering::SeqCst)
                                        && started.elapsed() < Self::MAX_LIFE
                                };
                                serve(stream, hostility, config, &requests, &alive);
                            });
                            handlers.lock().unwrap().push(handler);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(TICK),
                        Err(_) => std::thread::sleep(TICK),
                    }
                }
                stop.store(true, Ordering::SeqCst);
                for handler in handlers.into_inner().unwrap() {
                    let _ = handler.join();
                }
            })
        };
        Self {
            directory_url: format!("https://127.0.0.1:{port}/directory")
                .parse()
                .unwrap(),
            root_pem: pki.root_pem,
            connections,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The HTTP request heads read so far (over TLS).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    stream: TcpStream,
    hostility: Hostility,
    config: Arc<rustls::ServerConfig>,
    requests: &AtomicUsize,
    alive: &dyn Fn() -> bool,
) {
    // Blocking with a short read timeout, so that every wait checks the stop flag; a
    // client that stops reading fails the writes after a while.
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(TICK)).is_err()
        || stream
            .set_write_timeout(Some(Duration::from_secs(2)))
            .is_err()
    {
        return;
    }
    let mut stream = stream;
    match hostility {
        Hostility::Silent => {
            while alive() {
                std::thread::sleep(TICK);
            }
        }
        Hostility::ReadsHello => {
            let mut buf = [0u8; 4096];
            while alive() {
                match stream.read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if is_timeout(&e) => {}
                    Err(_) => return,
                }
            }
        }
        Hostility::SilentAfterTls | Hostility::Dribble | Hostility::EndlessBody => {
            let Ok(connection) = ServerConnection::new(config) else {
                return;
            };
            let mut tls = StreamOwned::new(connection, stream);
            if !read_head(&mut tls, alive) {
                return;
            }
            requests.fetch_add(1, Ordering::SeqCst);
            match hostility {
                Hostility::Dribble => dribble(&mut tls, alive),
                Hostility::EndlessBody => endless_body(&mut tls, alive),
                _ => {
                    while alive() {
                        std::thread::sleep(TICK);
                    }
                }
            }
        }
    }
}

/// Reads (through the TLS handshake) up to the end of a request head; false if the
/// connection ended or the server stops first.
fn read_head(tls: &mut StreamOwned<ServerConnection, TcpStream>, alive: &dyn Fn() -> bool) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while alive() && head.len() < 64 * 1024 {
        match tls.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                head.extend_from_slice(buf.get(..n).unwrap_or_default());
                if head.windows(4).any(|w| w == b"\r\n\r\n") {
                    return true;
                }
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => return false,
        }
    }
    false
}

fn dribble(tls: &mut StreamOwned<ServerConnection, TcpStream>, alive: &dyn Fn() -> bool) {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Dribble: ";
    let mut sent = 0usize;
    let mut next = Instant::now();
    while alive() {
        if Instant::now() >= next {
            let byte = head.get(sent).copied().unwrap_or(b'a');
            if tls.write_all(&[byte]).and_then(|()| tls.flush()).is_err() {
                return;
            }
            sent += 1;
            next += HostileServer::DRIBBLE;
        }
        std::thread::sleep(TICK);
    }
}

fn endless_body(tls: &mut StreamOwned<ServerConnection, TcpStream>, alive: &dyn Fn() -> bool) {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
    if tls.write_all(head).is_err() {
        return;
    }
    let chunk = [b' '; 16 * 1024];
    // At most 1 GiB, should the client never stop reading.
    for _ in 0..65_536 {
        if !alive() || tls.write_all(&chunk).and_then(|()| tls.flush()).is_err() {
            return;
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
