//! `event-loop`: one certificate per `--domain`, every order in flight at once, on one
//! thread, without async: a [mio](https://docs.rs/mio) readiness loop drives the core's
//! operations, their HTTPS requests over non-blocking sockets (rustls'
//! `ClientConnection`, driven by hand) and the http-01 responder, all from one
//! `Poll`.
//!
//! ```text
//! cargo run -p acme-proto-examples --bin event-loop -- \
//!     --directory https://127.0.0.1:14000/dir --ca-cert pebble-root.pem \
//!     --http-port 5002 --out-dir certs --domain a.example.org --domain b.example.org
//! ```
//!
//! It writes `DIR/<domain>.pem` (the chain) and `DIR/<domain>.key.pem` (its key) for
//! each domain, and exits 0 only when every order is issued. With `--log`, each request
//! is printed as it is sent, with the order it is for.
//!
//! How it fits together, for a reader who knows event loops but not ACME: the core
//! (`acme_proto`) is a set of state machines that never do I/O. Each turn of the loop
//! asks every operation for its next `Step` (a request to send, a time to wake it, an
//! event to answer) until none has anything to do; then the loop sleeps in `mio::Poll`
//! until a socket is ready or the earliest wake-up, hands each finished response back to
//! the operation it belongs to, and goes round again. One `Client` (one account, one
//! pool of nonces) serves every order.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Indices into `slots` are the loop's own, made as operations are added: never a
// server's.
#![allow(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acme_proto::client::{
    AccountInfo, NewAccount, NewOrder, Operation, OrderEvent, OrderFlow, Single, Step,
};
use acme_proto::{Client, Request, RequestId, Response, TransportFailure, UnixTime};
use acme_proto_examples::http01::{self, Tokens};
use acme_proto_examples::http1::Exchange;
use acme_proto_examples::many::ManyArgs;
use acme_proto_examples::{csr, tls};
use acme_proto_examples_support::write_atomically;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rustls::{ClientConfig, ClientConnection};
use rustls_pki_types::ServerName;

const USAGE: &str = "\
usage: event-loop --directory URL --out-dir DIR --domain NAME [--domain NAME …] [options]

Issues one certificate per domain, all orders at once, on one thread.

  --directory URL     ACME directory (required)
  --ca-cert PEM       extra root to trust for the ACME server
  --http-port N       where the http-01 responder listens on 127.0.0.1 (default 80)
  --out-dir DIR       where DIR/<domain>.pem and DIR/<domain>.key.pem go (required)
  --domain NAME       (repeatable)
  --log               print each request as it is sent, with its order
  -h, --help          this text";

fn main() -> ExitCode {
    let args = match ManyArgs::from_env() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("event-loop: {message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(issued) => {
            println!(
                "issued {issued} certificates into {}",
                args.out_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("event-loop: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The wall clock, as the core takes it.
fn now() -> UnixTime {
    UnixTime::from(std::time::SystemTime::now())
}

/// An operation the loop drives: first the account, then one order per domain.
enum Op {
    Account(Box<Single<AccountInfo>>),
    Order(Box<Order>),
}

struct Order {
    domain: String,
    flow: OrderFlow,
    key_pem: Option<String>,
}

/// What an operation said last, in this program's terms (a value of one turn).
#[allow(clippy::large_enum_variant)]
enum Next {
    Send(Request),
    Event(OrderEvent),
    /// Poll again at this time (or when one of its responses comes in).
    WakeAt(UnixTime),
    /// A request is out: poll again when its response comes in.
    Idle,
    Done,
}

impl Op {
    fn poll(&mut self, client: &mut Client, now: UnixTime) -> Result<Next, String> {
        // The account's operation has no events (`NoEvent` has no value).
        let step = match self {
            Self::Account(op) => match op.poll(client, now) {
                Step::Event(never) => match never {},
                Step::Send(request) => Step::Send(request),
                Step::Wait(wait) => Step::Wait(wait),
                Step::InFlight => Step::InFlight,
                Step::Done => Step::Done,
                _ => return Err("the account operation gave a step this loop does not know".into()),
            },
            Self::Order(order) => order.flow.poll(client, now),
        };
        Ok(match step {
            Step::Send(request) => Next::Send(request),
            Step::Event(event) => Next::Event(event),
            Step::Wait(wait) => Next::WakeAt(wait.until),
            Step::InFlight => Next::Idle,
            Step::Done => Next::Done,
            // Every event is answered at once, so no operation waits on the caller.
            Step::AwaitingCaller => return Err("an event was left unanswered".into()),
            _ => return Err("a step this loop does not know".into()),
        })
    }

    fn hand_back(
        &mut self,
        client: &mut Client,
        id: RequestId,
        result: Result<Response, TransportFailure>,
    ) -> Result<(), String> {
        let now = now();
        let handed = match (self, result) {
            (Self::Account(op), Ok(response)) => op.handle_response(client, id, response, now),
            (Self::Account(op), Err(failure)) => {
                op.handle_transport_failure(client, id, failure, now)
            }
            (Self::Order(order), Ok(response)) => {
                order.flow.handle_response(client, id, response, now)
            }
            (Self::Order(order), Err(failure)) => order
                .flow
                .handle_transport_failure(client, id, failure, now),
        };
        handed.map_err(|e| e.to_string())
    }

    fn name(&self) -> &str {
        match self {
            Self::Account(_) => "account",
            Self::Order(order) => &order.domain,
        }
    }
}

/// One operation and when to poll it next (`None`: only when a response comes in).
struct Slot {
    op: Op,
    wake: Option<UnixTime>,
    finished: bool,
}

/// A socket the loop serves.
enum Connection {
    /// One HTTPS request of the operation `op`, and its response.
    Request {
        op: usize,
        id: RequestId,
        tcp: TcpStream,
        tls: Box<ClientConnection>,
        exchange: Box<Exchange>,
        /// The request's `time_limit`, as an instant.
        deadline: Instant,
        /// Whether the connection was seen to be established.
        connected: bool,
    },
    /// A validation request from the CA to the http-01 responder.
    Validation {
        tcp: TcpStream,
        request: Vec<u8>,
        response: Vec<u8>,
        written: usize,
        deadline: Instant,
    },
}

struct EventLoop<'a> {
    args: &'a ManyArgs,
    poll: Poll,
    client: Client,
    tls: Arc<ClientConfig>,
    slots: Vec<Slot>,
    connections: HashMap<Token, Connection>,
    next_token: usize,
    tokens: Tokens,
    issued: usize,
}

const LISTENER: Token = Token(0);

fn run(args: &ManyArgs) -> Result<usize, String> {
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("creating {}: {e}", args.out_dir.display()))?;
    let key = csr::new_account_key()?;
    let client = Client::new(args.directory.clone(), key)
        .map_err(|e| format!("setting up the client: {e}"))?;
    let poll = Poll::new().map_err(|e| format!("setting up the event loop: {e}"))?;
    let address = SocketAddr::from(([127, 0, 0, 1], args.http_port));
    let mut listener =
        TcpListener::bind(address).map_err(|e| format!("listening on {address}: {e}"))?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .map_err(|e| format!("registering the listener: {e}"))?;
    let account = client.new_account(NewAccount::agreeing_to_terms(Vec::<String>::new()));
    let mut event_loop = EventLoop {
        args,
        poll,
        client,
        tls: tls::client_config(args.ca_cert.as_deref())?,
        slots: vec![Slot {
            op: Op::Account(Box::new(account)),
            wake: None,
            finished: false,
        }],
        connections: HashMap::new(),
        next_token: 1,
        tokens: Tokens::new(),
        issued: 0,
    };
    event_loop.run(&listener)?;
    Ok(event_loop.issued)
}

impl EventLoop<'_> {
    fn run(&mut self, listener: &TcpListener) -> Result<(), String> {
        let mut events = Events::with_capacity(256);
        loop {
            // 1. Every operation that can move does, until it waits.
            let now = now();
            for index in 0..self.slots.len() {
                let slot = &self.slots[index];
                if !slot.finished && slot.wake.is_none_or(|at| at <= now) {
                    self.step(index)?;
                }
            }
            if self.slots.iter().all(|s| s.finished) {
                return Ok(());
            }
            // 2. Sleep until a socket is ready, the earliest wake-up or the earliest
            // request deadline.
            let timeout = self.timeout();
            self.poll
                .poll(&mut events, Some(timeout))
                .map_err(|e| format!("waiting for sockets: {e}"))?;
            // 3. Serve what is ready.
            for event in &events {
                if event.token() == LISTENER {
                    self.accept(listener);
                } else {
                    self.on_ready(event.token())?;
                }
            }
            self.expire()?;
        }
    }

    /// Polls operation `index` until it has nothing to do now.
    fn step(&mut self, index: usize) -> Result<(), String> {
        self.slots[index].wake = None;
        loop {
            let slot = &mut self.slots[index];
            match slot.op.poll(&mut self.client, now())? {
                Next::Send(request) => self.send(index, request)?,
                Next::Event(event) => self.on_event(index, event)?,
                Next::WakeAt(at) => {
                    slot.wake = Some(at);
                    return Ok(());
                }
                Next::Idle => return Ok(()),
                Next::Done => {
                    slot.finished = true;
                    return self.on_done(index);
                }
            }
        }
    }

    /// Answers an order's event at once.
    fn on_event(&mut self, index: usize, event: OrderEvent) -> Result<(), String> {
        let Op::Order(order) = &mut self.slots[index].op else {
            return Ok(());
        };
        match event {
            OrderEvent::Authorize {
                identifier, offers, ..
            } => {
                let url = http01::present(&identifier, &offers, &mut self.tokens)?;
                order
                    .flow
                    .challenge_ready(&url)
                    .map_err(|e| format!("{}: {e}", order.domain))?;
            }
            OrderEvent::NeedCsr { identifiers } => {
                let (der, pem) = csr::key_and_csr(&identifiers)?;
                order.key_pem = Some(pem);
                order
                    .flow
                    .provide_csr(der)
                    .map_err(|e| format!("{}: {e}", order.domain))?;
            }
            OrderEvent::Cleanup(offer) => http01::clean_up(&offer, &mut self.tokens),
            // Created (a long-running program would save `order.flow.snapshot()` here).
            _ => {}
        }
        Ok(())
    }

    /// An operation has ended: the account starts the orders, an order writes its
    /// certificate.
    fn on_done(&mut self, index: usize) -> Result<(), String> {
        match &mut self.slots[index].op {
            Op::Account(op) => {
                op.take_outcome()
                    .ok_or("no outcome")?
                    .map_err(|e| format!("creating the account: {e}"))?;
                for identifier in &self.args.domains {
                    let flow = OrderFlow::new(NewOrder::new([identifier.clone()]))
                        .map_err(|e| format!("ordering {identifier}: {e}"))?;
                    self.slots.push(Slot {
                        op: Op::Order(Box::new(Order {
                            domain: identifier.to_string(),
                            flow,
                            key_pem: None,
                        })),
                        wake: None,
                        finished: false,
                    });
                }
            }
            Op::Order(order) => {
                let issued = order
                    .flow
                    .take_outcome()
                    .ok_or("no outcome")?
                    .map_err(|e| format!("{}: {e}", order.domain))?;
                let key_pem = order.key_pem.as_ref().ok_or("issued without a CSR")?;
                let dir = &self.args.out_dir;
                write_atomically(
                    &dir.join(format!("{}.key.pem", order.domain)),
                    key_pem.as_bytes(),
                    true,
                )?;
                write_atomically(
                    &dir.join(format!("{}.pem", order.domain)),
                    issued.chain.pem().as_bytes(),
                    false,
                )?;
                self.issued += 1;
            }
        }
        Ok(())
    }

    /// Opens a connection for `request` of operation `op`; the request is written once
    /// the socket is ready.
    fn send(&mut self, op: usize, request: Request) -> Result<(), String> {
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

    /// Accepts every waiting validation connection.
    fn accept(&mut self, listener: &TcpListener) {
        while let Ok((mut tcp, _)) = listener.accept() {
            let token = Token(self.next_token);
            self.next_token += 1;
            if self
                .poll
                .registry()
                .register(&mut tcp, token, Interest::READABLE | Interest::WRITABLE)
                .is_ok()
            {
                self.connections.insert(
                    token,
                    Connection::Validation {
                        tcp,
                        request: Vec::new(),
                        response: Vec::new(),
                        written: 0,
                        deadline: Instant::now() + Duration::from_secs(10),
                    },
                );
            }
        }
    }

    /// Moves the bytes of a ready socket; a finished response goes back to its operation.
    fn on_ready(&mut self, token: Token) -> Result<(), String> {
        let Some(connection) = self.connections.get_mut(&token) else {
            return Ok(());
        };
        match connection {
            Connection::Request {
                tcp,
                tls,
                exchange,
                connected,
                ..
            } => {
                let Some(result) = pump_tls(tcp, tls, exchange, connected) else {
                    return Ok(());
                };
                let Some(Connection::Request {
                    op, id, mut tcp, ..
                }) = self.connections.remove(&token)
                else {
                    return Ok(());
                };
                let _ = self.poll.registry().deregister(&mut tcp);
                self.slots[op].op.hand_back(&mut self.client, id, result)?;
                // The operation may have more to do now.
                self.slots[op].wake = Some(UnixTime::EPOCH);
            }
            Connection::Validation {
                tcp,
                request,
                response,
                written,
                ..
            } => {
                if serve_validation(tcp, request, response, written, &self.tokens)
                    && let Some(Connection::Validation { mut tcp, .. }) =
                        self.connections.remove(&token)
                {
                    let _ = self.poll.registry().deregister(&mut tcp);
                }
            }
        }
        Ok(())
    }

    /// Ends the requests past their time limit (a timeout the core may retry) and the
    /// validation connections past theirs.
    fn expire(&mut self) -> Result<(), String> {
        let now = Instant::now();
        let expired: Vec<Token> =
            self.connections
                .iter()
                .filter(|(_, c)| match c {
                    Connection::Request { deadline, .. }
                    | Connection::Validation { deadline, .. } => *deadline <= now,
                })
                .map(|(token, _)| *token)
                .collect();
        for token in expired {
            match self.connections.remove(&token) {
                Some(Connection::Request {
                    op, id, mut tcp, ..
                }) => {
                    let _ = self.poll.registry().deregister(&mut tcp);
                    self.slots[op].op.hand_back(
                        &mut self.client,
                        id,
                        Err(TransportFailure::TimedOut),
                    )?;
                    self.slots[op].wake = Some(UnixTime::EPOCH);
                }
                Some(Connection::Validation { mut tcp, .. }) => {
                    let _ = self.poll.registry().deregister(&mut tcp);
                }
                None => {}
            }
        }
        Ok(())
    }

    /// How long the loop may sleep: until the earliest wake-up or deadline.
    fn timeout(&self) -> Duration {
        let now_unix = now();
        let now = Instant::now();
        let wakes = self
            .slots
            .iter()
            .filter(|s| !s.finished)
            .filter_map(|s| s.wake)
            .map(|at| at.saturating_duration_since(now_unix));
        let deadlines = self.connections.values().map(|c| match c {
            Connection::Request { deadline, .. } | Connection::Validation { deadline, .. } => {
                deadline.saturating_duration_since(now)
            }
        });
        wakes
            .chain(deadlines)
            .min()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1))
    }
}

/// Moves TLS records between the socket and rustls, and the response's bytes into the
/// exchange; gives the result once the response is complete or the connection failed.
/// Reads and writes until the socket would block (mio's readiness is edge-triggered).
fn pump_tls(
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

/// Reads the CA's validation request and writes the answer; says when the connection
/// is finished with.
fn serve_validation(
    tcp: &mut TcpStream,
    request: &mut Vec<u8>,
    response: &mut Vec<u8>,
    written: &mut usize,
    tokens: &Tokens,
) -> bool {
    let mut buffer = [0; 1024];
    while response.is_empty() {
        match tcp.read(&mut buffer) {
            Ok(0) => return true,
            Ok(n) => {
                request.extend_from_slice(buffer.get(..n).unwrap_or_default());
                if let Some(answer) = http01::answer(request, tokens) {
                    *response = answer;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
    while *written < response.len() {
        match tcp.write(response.get(*written..).unwrap_or_default()) {
            Ok(n) => *written += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
    true
}
