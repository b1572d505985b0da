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
//!
//! This file is the loop; the rest is beside it in `event-loop/`: `operation.rs` (the
//! account and the orders, in the loop's terms), `https.rs` (one request per connection,
//! rustls pumped by hand), `http01_responder.rs` (the CA's validation connections) and
//! `connection.rs` (the sockets, served when ready and ended at their deadlines).
#![allow(clippy::print_stdout, clippy::print_stderr)]
// Indices into `slots` are the loop's own, made as operations are added: never a
// server's.
#![allow(clippy::indexing_slicing)]

// Without `path`, this program's modules would sit in `src/bin/` itself, where cargo
// takes every file for a program of its own.
#[path = "event-loop/connection.rs"]
mod connection;
#[path = "event-loop/http01_responder.rs"]
mod http01_responder;
#[path = "event-loop/https.rs"]
mod https;
#[path = "event-loop/operation.rs"]
mod operation;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acme_proto::client::{NewAccount, NewOrder, Operation as _, OrderEvent, OrderFlow};
use acme_proto::{Client, UnixTime};
use acme_proto_examples::http01_challenge::{self, Tokens};
use acme_proto_examples::many::ManyArgs;
use acme_proto_examples::{csr, tls};
use acme_proto_examples_support::write_atomically;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use rustls::ClientConfig;

use connection::Connection;
use operation::{Next, Op, Order, now};

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

/// One operation and when to poll it next (`None`: only when a response comes in).
struct Slot {
    op: Op,
    wake: Option<UnixTime>,
    finished: bool,
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
                let url = http01_challenge::present(&identifier, &offers, &mut self.tokens)?;
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
            OrderEvent::Cleanup(offer) => http01_challenge::clean_up(&offer, &mut self.tokens),
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
        let deadlines = self
            .connections
            .values()
            .map(|c| c.deadline().saturating_duration_since(now));
        wakes
            .chain(deadlines)
            .min()
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1))
    }
}
