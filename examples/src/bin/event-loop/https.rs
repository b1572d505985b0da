//! One HTTPS request per connection: the non-blocking TCP connect, the request handed to
//! rustls, and rustls' `ClientConnection` pumped by hand as the socket becomes ready.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::ToSocketAddrs as _;
use std::time::{Duration, Instant};

use acme_proto::{Request, Response, TransportFailure};
use acme_proto_examples::http1_exchange::Exchange;
use mio::net::TcpStream;
use mio::{Interest, Token};
use rustls::ClientConnection;
use rustls_pki_types::ServerName;

use super::EventLoop;
use super::connection::Connection;

impl EventLoop<'_> {
    /// Opens a connection for `request` of operation `op`; the request is written once
    /// the socket is ready.
    pub(super) fn send(&mut self, op: usize, request: Request) -> Result<(), String> {
        if self.args.log {
            let name = self.slots[op].op.name();
            println!("{name}: {} {}", request.method.as_str(), request.url);
        }
        match self.open(op, &request) {
            Ok(()) => Ok(()),
            // Nothing was sent: the core decides whether to try again.
            Err(failure) => self.slots[op]
                .op
                .hand_back(&mut self.client, request.id, Err(failure)),
        }
    }

    fn open(&mut self, op: usize, request: &Request) -> Result<(), TransportFailure> {
        let host = request.url.host_str().ok_or(TransportFailure::Other)?;
        let port = request
            .url
            .port_or_known_default()
            .ok_or(TransportFailure::Other)?;
        // Name resolution blocks; a program resolving names that are not IP addresses or
        // `localhost` would resolve them off the loop.
        let address = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or(TransportFailure::Connect)?;
        let mut tcp = TcpStream::connect(address).map_err(|_| TransportFailure::Connect)?;
        let name = ServerName::try_from(host.to_owned()).map_err(|_| TransportFailure::Other)?;
        let mut tls =
            ClientConnection::new(self.tls.clone(), name).map_err(|_| TransportFailure::Tls)?;
        let mut exchange = Exchange::new(request).map_err(|e| e.failure())?;
        // rustls keeps the request until the handshake is done, then encrypts it.
        tls.writer()
            .write_all(exchange.output())
            .map_err(|_| TransportFailure::Other)?;
        let written = exchange.output().len();
        exchange.wrote(written);
        let token = Token(self.next_token);
        self.next_token += 1;
        self.poll
            .registry()
            .register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|_| TransportFailure::Other)?;
        let limit = request.time_limit.unwrap_or(Duration::from_secs(30));
        self.connections.insert(
            token,
            Connection::Request {
                op,
                id: request.id,
                tcp,
                tls: Box::new(tls),
                exchange: Box::new(exchange),
                deadline: Instant::now() + limit,
                connected: false,
            },
        );
        Ok(())
    }
}

/// Moves TLS records between the socket and rustls, and the response's bytes into the
/// exchange; gives the result once the response is complete or the connection failed.
/// Reads and writes until the socket would block (mio's readiness is edge-triggered).
pub(super) fn pump_tls(
    tcp: &mut TcpStream,
    tls: &mut ClientConnection,
    exchange: &mut Exchange,
    connected: &mut bool,
) -> Option<Result<Response, TransportFailure>> {
    if !*connected {
        // A non-blocking connect reports its failure as the socket's error.
        match tcp.take_error() {
            Ok(None) => {}
            _ => return Some(Err(TransportFailure::Connect)),
        }
        match tcp.peer_addr() {
            Ok(_) => *connected = true,
            Err(e) if e.kind() == ErrorKind::NotConnected => return None,
            Err(_) => return Some(Err(TransportFailure::Connect)),
        }
    }
    let mut plaintext = [0; 16 * 1024];
    loop {
        let mut progress = false;
        while tls.wants_write() {
            match tls.write_tls(tcp) {
                Ok(_) => progress = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => return Some(Err(TransportFailure::Reset)),
            }
        }
        match tls.read_tls(tcp) {
            Ok(0) => {
                return Some(exchange.end_of_stream().map_err(|e| e.failure()));
            }
            Ok(_) => {
                progress = true;
                if tls.process_new_packets().is_err() {
                    // The alert rustls queued tells the server why.
                    let _ = tls.write_tls(tcp);
                    return Some(Err(TransportFailure::Tls));
                }
                loop {
                    match tls.reader().read(&mut plaintext) {
                        // The server closed the TLS session (close_notify).
                        Ok(0) => return Some(exchange.end_of_stream().map_err(|e| e.failure())),
                        Ok(n) => match exchange.input(plaintext.get(..n).unwrap_or_default()) {
                            Ok(Some(response)) => return Some(Ok(response)),
                            Ok(None) => {}
                            Err(e) => return Some(Err(e.failure())),
                        },
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => return Some(Err(TransportFailure::Reset)),
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return Some(Err(TransportFailure::Reset)),
        }
        if !progress {
            return None;
        }
    }
}
