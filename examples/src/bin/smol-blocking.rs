//! `smol-blocking`: the blocking driver (`acme-proto-blocking`) from an async runtime
//! that is not tokio. Each order runs on smol's blocking-thread pool (`smol::unblock`),
//! all of them at once, while the async side only awaits them: the shape to use from
//! any runtime with a `spawn_blocking` (async-std, glommio, a GUI's executor).
//!
//! ```text
//! cargo run -p acme-proto-examples --bin smol-blocking -- \
//!     --directory https://127.0.0.1:14000/dir --ca-cert pebble-root.pem \
//!     --http-port 5002 --out-dir certs --domain a.example.org --domain b.example.org
//! ```
//!
//! It writes `DIR/<domain>.pem` and `DIR/<domain>.key.pem` for each domain and exits 0
//! only when every order is issued.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use acme_proto::client::NewAccount;
use acme_proto_blocking::{AcmeClient, Http01Responder, Transport};
use acme_proto_examples::csr;
use acme_proto_examples::many::ManyArgs;
use acme_proto_examples_support::{one_line, write_atomically};

const USAGE: &str = "\
usage: smol-blocking --directory URL --out-dir DIR --domain NAME [--domain NAME …] [options]

Issues one certificate per domain with the blocking driver, every order at once, from smol.

  --directory URL     ACME directory (required)
  --ca-cert PEM       extra root to trust for the ACME server
  --http-port N       where the http-01 responder listens on 127.0.0.1 (default 80)
  --out-dir DIR       where DIR/<domain>.pem and DIR/<domain>.key.pem go (required)
  --domain NAME       (repeatable)
  --log               print each certificate as it is written
  -h, --help          this text";

fn main() -> ExitCode {
    let args = match ManyArgs::from_env() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("smol-blocking: {message}");
            return ExitCode::from(2);
        }
    };
    match smol::block_on(run(args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("smol-blocking: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ManyArgs) -> Result<String, String> {
    let mut transport = Transport::builder();
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        transport = transport.add_root_pem(pem);
    }
    let transport = transport
        .build()
        .map_err(|e| one_line("setting up HTTPS", &e))?;
    let key = csr::new_account_key()?;
    // The driver's calls block: every one goes to smol's blocking pool, the async side
    // awaits it. `AcmeClient` is `Send + Sync`, so the orders share it behind an `Arc`.
    let client = smol::unblock(move || -> Result<AcmeClient, String> {
        let client = AcmeClient::new(args.directory.clone(), key, transport)
            .map_err(|e| one_line("setting up the client", &e))?;
        client
            .create_account(NewAccount::agreeing_to_terms(Vec::<String>::new()))
            .map_err(|e| one_line("creating the account", &e))?;
        Ok(client)
    })
    .await?;
    let client = Arc::new(client);
    // One http-01 responder serves every order's challenges (it runs its own thread).
    let address = SocketAddr::from(([127, 0, 0, 1], args.http_port));
    let responder = Arc::new(
        Http01Responder::bind(address).map_err(|e| format!("listening on {address}: {e}"))?,
    );
    std::fs::create_dir_all(&args.out_dir)
        .map_err(|e| format!("creating {}: {e}", args.out_dir.display()))?;

    // Every order at once: a blocking call each, on the pool, awaited together.
    let orders: Vec<_> = args
        .domains
        .iter()
        .map(|identifier| {
            let (client, responder) = (client.clone(), responder.clone());
            let identifier = identifier.clone();
            let (out_dir, log) = (args.out_dir.clone(), args.log);
            smol::unblock(move || -> Result<(), String> {
                let certificate = client
                    .issue([identifier.clone()], &*responder)
                    .map_err(|e| one_line(&format!("issuing {identifier}"), &e))?;
                write_atomically(
                    &out_dir.join(format!("{identifier}.key.pem")),
                    certificate.private_key_pem.as_bytes(),
                    true,
                )?;
                let path = out_dir.join(format!("{identifier}.pem"));
                write_atomically(&path, certificate.issued.chain.pem().as_bytes(), false)?;
                if log {
                    println!("{identifier}: written to {}", path.display());
                }
                Ok(())
            })
        })
        .collect();
    let count = orders.len();
    let mut failures = Vec::new();
    for order in orders {
        if let Err(message) = order.await {
            failures.push(message);
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("; "));
    }
    Ok(format!(
        "issued {count} certificates into {}",
        args.out_dir.display()
    ))
}
