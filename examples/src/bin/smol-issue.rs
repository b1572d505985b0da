//! `smol-issue`: a certificate from an ACME CA, with the acme-proto core on
//! [smol](https://docs.rs/smol): one thread, smol's timers, an http-01 responder on smol.
//!
//! ```text
//! cargo run -p acme-proto-examples --bin smol-issue -- \
//!     --directory https://127.0.0.1:14000/dir --ca-cert pebble-root.pem \
//!     --account account.json --domain example.org --http-port 5002 \
//!     --out chain.pem --key-out key.pem
//! ```
//!
//! The flags are the drivers' `issue` example's, read with the same parser
//! (`acme_proto_examples_support`); only `--challenge http-01` is answered here.
//!
//! How it fits together, for a reader who knows smol but not ACME: the core
//! (`acme_proto`) decides every request and every wait; this program only carries them
//! out. [`drive`] is the whole run loop: the core hands out a `Step` (send this request,
//! wait until then, here is an event, done), and the program answers with what
//! happened. HTTPS is TCP from `smol::net`, TLS from futures-rustls, and HTTP/1.1
//! framing from ureq-proto (hyper 1 needs tokio, even for its client: its `sync`
//! feature is a normal dependency).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use acme_proto::client::{Operation, OrderEvent, OrderFlow, Step};
use acme_proto::{Client, Request, Response, TransportFailure, UnixTime};
use acme_proto_examples::http01_challenge::{self, Tokens};
use acme_proto_examples::http1_exchange::Exchange;
use acme_proto_examples::{csr, tls};
use acme_proto_examples_support::{
    AccountToUse, Args, ChallengeKind, Command, USAGE, bind_first_async, one_line,
};
use futures_rustls::TlsConnector;
use rustls_pki_types::ServerName;
use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
use smol::{LocalExecutor, Timer};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Issue(args)) => args,
        Ok(_) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("smol-issue: {message}");
            return ExitCode::from(2);
        }
    };
    // Everything runs on this thread: a local executor, driven by `block_on`. Its tasks
    // (the http-01 responder's) hold it too, to spawn a task per connection.
    let executor = Rc::new(LocalExecutor::new());
    match smol::block_on(executor.run(run(executor.clone(), &args))) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("smol-issue: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(executor: Rc<LocalExecutor<'static>>, args: &Args) -> Result<String, String> {
    if args.challenge != ChallengeKind::Http01 {
        return Err("smol-issue answers http-01 only".into());
    }
    let https = Https(TlsConnector::from(tls::client_config(
        args.ca_cert.as_deref(),
    )?));

    // The account: the saved one, or a new one, saved before anything else happens.
    // The account: the saved one, or a key written to `--account` before the account is
    // asked for (so that no failure can lose it), then its URL once the server gave it.
    let mut client = match args.account_to_use()? {
        AccountToUse::Saved(credentials) => credentials
            .into_client()
            .map_err(|e| one_line("loading the account", &e))?,
        AccountToUse::Key(key) => {
            let der = key
                .to_pkcs8_der()
                .map_err(|e| one_line("copying the key", &e))?;
            let mut client = Client::new(args.directory.clone(), key)
                .map_err(|e| one_line("setting up the client", &e))?;
            let mut account = client.new_account(args.new_account()?);
            drive(&mut account, &mut client, &https, |_, never| match never {})
                .await
                .map_err(|e| format!("creating the account: {e}"))?;
            let key = acme_proto::crypto::AccountKey::from_pkcs8_der(&der)
                .map_err(|e| one_line("copying the key", &e))?;
            let account_url = client.account_url().cloned().ok_or("no account URL")?;
            let credentials = acme_proto::client::AccountCredentials::new(
                args.directory.clone(),
                account_url,
                key,
            );
            args.save_account(Some(credentials))?;
            client
        }
    };

    // The http-01 responder: a task on the same executor, answering from `tokens`.
    let tokens = Rc::new(RefCell::new(Tokens::new()));
    let listener = bind_first_async(&args.http_addrs(), smol::net::TcpListener::bind).await?;
    let responder = executor.spawn(serve_http01(listener, tokens.clone(), executor.clone()));

    // The order. Events are answered at once: an offer is put in place and said ready,
    // a CSR is made when the order is ready, a challenge no longer needed is removed.
    let mut key_pem = None;
    let mut order = OrderFlow::new(args.new_order()?).map_err(|e| one_line("ordering", &e))?;
    let issued = drive(
        &mut order,
        &mut client,
        &https,
        |order, event| match event {
            OrderEvent::Authorize {
                identifier, offers, ..
            } => {
                let url =
                    http01_challenge::present(&identifier, &offers, &mut tokens.borrow_mut())?;
                order
                    .challenge_ready(&url)
                    .map_err(|e| one_line("answering the challenge", &e))
            }
            OrderEvent::NeedCsr { identifiers } => {
                let (der, pem) = csr::key_and_csr(&identifiers)?;
                key_pem = Some(pem);
                order
                    .provide_csr(der)
                    .map_err(|e| one_line("giving the CSR", &e))
            }
            OrderEvent::Cleanup(offer) => {
                http01_challenge::clean_up(&offer, &mut tokens.borrow_mut());
                Ok(())
            }
            // Created (a long-running program would save `order.snapshot()` here).
            _ => Ok(()),
        },
    )
    .await
    .map_err(|e| format!("issuing: {e}"))?;
    // Cancels the responder: nothing is left in place once the order is done.
    drop(responder);
    let key_pem = key_pem.ok_or("the order was issued without a CSR from this run")?;
    args.write_certificate(args.chain(&issued), &key_pem)
}

/// The run loop: drives `op` to its end. Each request is sent over HTTPS and its
/// response handed back; each wait is a smol timer; each event goes to `on_event`,
/// which answers it at once (so the operation never waits for the caller). The time is
/// the system clock's, read when it is needed.
async fn drive<O: Operation>(
    op: &mut O,
    client: &mut Client,
    https: &Https,
    mut on_event: impl FnMut(&mut O, O::Event) -> Result<(), String>,
) -> Result<O::Output, String> {
    let now = || UnixTime::from(std::time::SystemTime::now());
    loop {
        match op.poll(client, now()) {
            Step::Send(request) => {
                let result = https.send(&request).await;
                let handed = match result {
                    Ok(response) => op.handle_response(client, request.id, response, now()),
                    Err(failure) => op.handle_transport_failure(client, request.id, failure, now()),
                };
                handed.map_err(|e| e.to_string())?;
            }
            Step::Event(event) => on_event(op, event)?,
            Step::Wait(wait) => {
                Timer::after(wait.until.saturating_duration_since(now())).await;
            }
            // This loop hands back every response before it polls again, and answers
            // every event at once: neither step can come.
            Step::InFlight | Step::AwaitingCaller => {
                return Err("the run loop met a step it never leaves open".into());
            }
            Step::Done => {
                let outcome = op.take_outcome().ok_or("done without an outcome")?;
                return outcome.map_err(|e| e.to_string());
            }
            _ => return Err("a step this loop does not know".into()),
        }
    }
}

/// HTTPS for the core's requests: a new TLS connection for each.
struct Https(TlsConnector);

impl Https {
    /// Sends `request`, giving up at its `time_limit`. A failure is told in the core's
    /// words, from which it decides whether to send again.
    async fn send(&self, request: &Request) -> Result<Response, TransportFailure> {
        let limit = request.time_limit.unwrap_or(Duration::from_secs(30));
        let timeout = async {
            Timer::after(limit).await;
            Err(TransportFailure::TimedOut)
        };
        smol::future::or(self.exchange(request), timeout).await
    }

    async fn exchange(&self, request: &Request) -> Result<Response, TransportFailure> {
        let host = request.url.host_str().ok_or(TransportFailure::Other)?;
        let port = request
            .url
            .port_or_known_default()
            .ok_or(TransportFailure::Other)?;
        let tcp = smol::net::TcpStream::connect((host, port))
            .await
            .map_err(|_| TransportFailure::Connect)?;
        let name = ServerName::try_from(host.to_owned()).map_err(|_| TransportFailure::Other)?;
        // A refused certificate comes back as `InvalidData`.
        let mut stream = self.0.connect(name, tcp).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                TransportFailure::Tls
            } else {
                TransportFailure::Reset
            }
        })?;
        let mut exchange = Exchange::new(request).map_err(|e| e.failure())?;
        stream
            .write_all(exchange.output())
            .await
            .map_err(|_| TransportFailure::Reset)?;
        let written = exchange.output().len();
        exchange.wrote(written);
        stream.flush().await.map_err(|_| TransportFailure::Reset)?;
        let mut buffer = vec![0; 16 * 1024];
        loop {
            let n = stream
                .read(&mut buffer)
                .await
                .map_err(|_| TransportFailure::Reset)?;
            if n == 0 {
                return exchange.end_of_stream().map_err(|e| e.failure());
            }
            let read = buffer.get(..n).unwrap_or_default();
            if let Some(response) = exchange.input(read).map_err(|e| e.failure())? {
                return Ok(response);
            }
        }
    }
}

/// Serves http-01 until dropped: each connection on its own task, answered from
/// `tokens` (a bounded read of the request head, one response, close).
async fn serve_http01(
    listener: smol::net::TcpListener,
    tokens: Rc<RefCell<Tokens>>,
    executor: Rc<LocalExecutor<'static>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tokens = tokens.clone();
        executor
            .spawn(async move {
                let timeout = async {
                    Timer::after(Duration::from_secs(10)).await;
                };
                smol::future::or(answer_http01(stream, &tokens), timeout).await;
            })
            .detach();
    }
}

async fn answer_http01(mut stream: smol::net::TcpStream, tokens: &RefCell<Tokens>) {
    let mut request = Vec::new();
    let mut buffer = [0; 1024];
    let response = loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(buffer.get(..n).unwrap_or_default()),
        }
        if let Some(response) = http01_challenge::answer(&request, &tokens.borrow()) {
            break response;
        }
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.close().await;
}
