//! Issues a certificate from an ACME CA, with this driver: `cargo run -p
//! acme-proto-tokio --example issue -- --help`. The blocking driver's example takes the
//! same flags (both read them with `acme_proto_examples_support`).
//!
//! It exits 0 once the chain is written; on failure it prints one line naming what
//! failed and exits 1.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use acme_proto::client::ChallengeOffer;
use acme_proto_examples_support::{
    AccountToUse, Args, ChallengeKind, Command, USAGE, bind_first_async, one_line, report_challenge,
};
use acme_proto_tokio::{
    AcmeClient, Http01Responder, Solver, SolverError, TlsAlpn01Responder, Transport,
};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Issue(args)) => args,
        Ok(_) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("issue: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("issue: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("issue: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<String, String> {
    let mut transport = Transport::builder();
    if let Some(path) = &args.ca_cert {
        let pem = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        transport = transport.add_root_pem(pem);
    }
    let transport = transport
        .build()
        .map_err(|e| one_line("setting up HTTPS", &e))?;

    // The key is on disk before the account is asked for: a failure from here on
    // cannot lose it, and a rerun with it finds the account the server made.
    let client = if let Some(signer) = args.account_signer()? {
        // A key brought from elsewhere (certbot's RSA key, say): its account is created,
        // or found again, on each run; the key file stays the user's.
        let core = acme_proto::Client::with_boxed_key(args.directory.clone(), signer)
            .map_err(|e| one_line("setting up the client", &e))?;
        let client = AcmeClient::from_client(core, transport);
        client
            .create_account(args.new_account()?)
            .await
            .map_err(|e| one_line("creating or finding the account", &e))?;
        client
    } else {
        match args.account_to_use()? {
            AccountToUse::Saved(credentials) => {
                AcmeClient::from_credentials(credentials, transport)
                    .map_err(|e| one_line("loading the account", &e))?
            }
            AccountToUse::Key(key) => {
                let client = AcmeClient::new(args.directory.clone(), key, transport)
                    .map_err(|e| one_line("setting up the client", &e))?;
                client
                    .create_account(args.new_account()?)
                    .await
                    .map_err(|e| one_line("creating the account", &e))?;
                args.save_account(client.credentials())?;
                client
            }
        }
    };

    match args.challenge {
        ChallengeKind::Http01 => {
            let responder = bind_first_async(&args.http_addrs(), Http01Responder::bind).await?;
            issue(&client, args, &responder).await
        }
        ChallengeKind::TlsAlpn01 => {
            let responder = bind_first_async(&args.tls_addrs(), TlsAlpn01Responder::bind).await?;
            issue(&client, args, &responder).await
        }
        _ => issue(&client, args, &args.dns_hook()?).await,
    }
}

async fn issue<S: Solver>(client: &AcmeClient, args: &Args, solver: &S) -> Result<String, String> {
    let solver = Reporting(solver, args.verbose);
    let issued = match args.order_saver() {
        // `--order-state`: saved as it goes, resumed if a run before was stopped.
        Some(saver) => match args.saved_order()? {
            Some(saved) => client.resume(saved, &solver, saver).await,
            None => client.issue_saving(args.new_order()?, &solver, saver).await,
        },
        None => client.issue_order(args.new_order()?, &solver).await,
    };
    let certificate = issued.map_err(|e| args.order_failed(one_line("issuing", &e)))?;
    let line = args.write_certificate(
        args.chain(&certificate.issued),
        &certificate.private_key_pem,
    )?;
    args.order_state_done()?;
    Ok(line)
}

/// The solver, saying on standard error what it put in place and removed (with
/// `--verbose`).
struct Reporting<S>(S, bool);

impl<S: Solver> Solver for Reporting<S> {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.0.choose(offers)
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.0.present(offer).await?;
        if self.1 {
            report_challenge("presented", offer);
        }
        Ok(())
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        let result = self.0.cleanup(offer).await;
        if self.1 {
            report_challenge("cleaned up", offer);
        }
        result
    }
}
