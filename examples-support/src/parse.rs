//! [`Args::parse`]: the flags read one at a time, each value through a small parser of
//! its own, then the checks that need every flag (EAB, conflicting files).

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use acme_proto::Identifier;
use acme_proto::client::PersistIssuers;
use acme_proto::crypto::{EabAlgorithm, SignatureAlgorithm};
use lexopt::{Arg, Parser};
use url::Url;
use zeroize::Zeroizing;

use crate::{Args, ChallengeKind, Command, EabKey, same_file};

impl Args {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
        let mut reading = Reading::new()?;
        // lexopt reads `--flag value` and `--flag=value`; a value may start with `-`.
        let mut parser = Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(|e| format!("{e} (see --help)"))? {
            let name = match &arg {
                Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
                Arg::Short('v') | Arg::Long("verbose") => {
                    reading.args.verbose = true;
                    continue;
                }
                Arg::Long(name) => format!("--{name}"),
                Arg::Short(c) => format!("-{c}"),
                Arg::Value(value) => {
                    return Err(format!("unknown argument {value:?} (see --help)"));
                }
            };
            reading.flag(&name, &mut parser)?;
        }
        Ok(Command::Issue(Box::new(reading.finish()?)))
    }
}

/// The command line as read so far: what goes straight into [`Args`], and what can
/// only be checked or combined once every flag is in (the directory is required, the
/// EAB key may come from three places).
struct Reading {
    args: Args,
    directory: Option<Url>,
    eab_kid: Option<String>,
    eab_key: Option<String>,
    eab_key_file: Option<PathBuf>,
    eab_alg: EabAlgorithm,
}

impl Reading {
    /// The defaults, before any flag.
    fn new() -> Result<Self, String> {
        let args = Args {
            // Replaced by `--directory`, which `finish` requires.
            directory: Url::parse("https://invalid.invalid/").map_err(|e| e.to_string())?,
            ca_cert: None,
            account: None,
            account_key: None,
            contacts: Vec::new(),
            identifiers: Vec::new(),
            challenge: ChallengeKind::Http01,
            listen: None,
            http_port: 80,
            tls_port: 443,
            dns_hook: None,
            persist_issuers: Vec::new(),
            replaces: None,
            eab: None,
            key_type: SignatureAlgorithm::Es256,
            profile: None,
            preferred_chain: None,
            out: PathBuf::from("chain.pem"),
            key_out: PathBuf::from("key.pem"),
            order_state: None,
            verbose: false,
        };
        Ok(Self {
            args,
            directory: None,
            eab_kid: None,
            eab_key: None,
            eab_key_file: None,
            eab_alg: EabAlgorithm::Hs256,
        })
    }

    /// Reads the value of `flag` (`--name` or `-c`), or says it is unknown.
    fn flag(&mut self, flag: &str, parser: &mut Parser) -> Result<(), String> {
        let args = &mut self.args;
        match flag {
            "--directory" => self.directory = Some(directory(&text(flag, parser)?)?),
            "--ca-cert" => args.ca_cert = Some(path(flag, parser)?),
            "--account" => args.account = Some(path(flag, parser)?),
            "--account-key" => args.account_key = Some(path(flag, parser)?),
            "--contact" => args.contacts.push(text(flag, parser)?),
            "--domain" => args.identifiers.push(domain(&text(flag, parser)?)?),
            "--ip" => args.identifiers.push(ip(&text(flag, parser)?)?),
            "--challenge" => args.challenge = challenge(&text(flag, parser)?)?,
            "--listen" => args.listen = Some(listen(&text(flag, parser)?)?),
            "--http-port" => args.http_port = port(flag, &text(flag, parser)?)?,
            "--tls-port" => args.tls_port = port(flag, &text(flag, parser)?)?,
            "--dns-hook" => args.dns_hook = Some(path(flag, parser)?.into_os_string()),
            "--persist-issuer" => args.persist_issuers.push(text(flag, parser)?),
            "--replaces" => args.replaces = Some(path(flag, parser)?),
            "--eab-kid" => self.eab_kid = Some(text(flag, parser)?),
            "--eab-hmac-key" => self.eab_key = Some(text(flag, parser)?),
            "--eab-hmac-key-file" => self.eab_key_file = Some(path(flag, parser)?),
            "--eab-alg" => self.eab_alg = eab_alg(&text(flag, parser)?)?,
            "--key-type" => args.key_type = key_type(&text(flag, parser)?)?,
            "--profile" => args.profile = Some(text(flag, parser)?),
            "--preferred-chain" => args.preferred_chain = Some(text(flag, parser)?),
            "--out" => args.out = path(flag, parser)?,
            "--key-out" => args.key_out = path(flag, parser)?,
            "--order-state" => args.order_state = Some(path(flag, parser)?),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
        Ok(())
    }

    /// The arguments, once what needs every flag is checked.
    fn finish(self) -> Result<Args, String> {
        let Self {
            mut args,
            directory,
            eab_kid,
            eab_key,
            eab_key_file,
            eab_alg,
        } = self;
        args.directory = directory.ok_or("--directory is required (see --help)")?;
        if args.identifiers.is_empty() && args.replaces.is_none() {
            return Err("give at least one --domain or --ip (or --replaces)".into());
        }
        let eab_key = eab_key_from(eab_key, eab_key_file, eab_kid.is_some())?;
        args.eab = match (eab_kid, eab_key) {
            (Some(kid), Some(key)) => Some((kid, EabKey(key), eab_alg)),
            (None, None) => None,
            _ => {
                return Err("--eab-kid and --eab-hmac-key (or its file, or \
                            ACME_EAB_HMAC_KEY) go together"
                    .into());
            }
        };
        check_conflicts(&args)?;
        Ok(args)
    }
}

/// The next value, as text.
fn text(flag: &str, parser: &mut Parser) -> Result<String, String> {
    let value = parser
        .value()
        .map_err(|_| format!("{flag} needs a value (see --help)"))?;
    value
        .into_string()
        .map_err(|v| format!("{flag} {v:?}: not UTF-8"))
}

/// The next value, as a path (any bytes the system allows).
fn path(flag: &str, parser: &mut Parser) -> Result<PathBuf, String> {
    parser
        .value()
        .map(PathBuf::from)
        .map_err(|_| format!("{flag} needs a value (see --help)"))
}

fn directory(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|e| format!("--directory {text:?}: {e}"))
}

fn domain(text: &str) -> Result<Identifier, String> {
    Identifier::dns(text).map_err(|e| format!("--domain {text:?}: {e}"))
}

fn ip(text: &str) -> Result<Identifier, String> {
    let ip: IpAddr = text.parse().map_err(|e| format!("--ip {text:?}: {e}"))?;
    Ok(Identifier::Ip(ip))
}

fn challenge(text: &str) -> Result<ChallengeKind, String> {
    match text {
        "http-01" => Ok(ChallengeKind::Http01),
        "dns-01" => Ok(ChallengeKind::Dns01),
        "tls-alpn-01" => Ok(ChallengeKind::TlsAlpn01),
        "dns-account-01" => Ok(ChallengeKind::DnsAccount01),
        "dns-persist-01" => Ok(ChallengeKind::DnsPersist01),
        other => Err(format!(
            "--challenge {other:?}: expected http-01, dns-01, tls-alpn-01, dns-account-01 \
             or dns-persist-01"
        )),
    }
}

fn listen(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|e| format!("--listen {text:?}: {e} (an IP address)"))
}

fn port(flag: &str, text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{flag} {text:?}: expected a port number"))
}

fn eab_alg(text: &str) -> Result<EabAlgorithm, String> {
    match text.to_ascii_uppercase().as_str() {
        "HS256" => Ok(EabAlgorithm::Hs256),
        "HS384" => Ok(EabAlgorithm::Hs384),
        "HS512" => Ok(EabAlgorithm::Hs512),
        other => Err(format!(
            "--eab-alg {other:?}: expected HS256, HS384 or HS512"
        )),
    }
}

fn key_type(text: &str) -> Result<SignatureAlgorithm, String> {
    match text.to_ascii_lowercase().as_str() {
        "es256" => Ok(SignatureAlgorithm::Es256),
        "es384" => Ok(SignatureAlgorithm::Es384),
        "ed25519" => Ok(SignatureAlgorithm::EdDsa),
        "rs256" => Err("--key-type rs256: new RSA keys are not made here; use \
                        es256, or bring an existing RSA key with --account-key"
            .into()),
        other => Err(format!(
            "--key-type {other:?}: expected es256, es384 or ed25519"
        )),
    }
}

/// The EAB key from `--eab-hmac-key`, its file (read as a state file is: see
/// [`acme_proto_support::read_trusted_file`]), or `ACME_EAB_HMAC_KEY`; in a buffer
/// zeroized on drop, with no other copy left behind.
fn eab_key_from(
    key: Option<String>,
    file: Option<PathBuf>,
    has_kid: bool,
) -> Result<Option<Zeroizing<String>>, String> {
    match (key, file) {
        (Some(_), Some(_)) => Err("give --eab-hmac-key or --eab-hmac-key-file, not both".into()),
        (Some(key), None) => Ok(Some(Zeroizing::new(key))),
        (None, Some(file)) => {
            let failed =
                |e: &dyn std::fmt::Display| format!("--eab-hmac-key-file {}: {e}", file.display());
            // A key is some tens of bytes; a larger file is not one.
            let bytes =
                acme_proto_support::read_trusted_file(&file, 4096).map_err(|e| failed(&e))?;
            let text = std::str::from_utf8(&bytes).map_err(|e| failed(&e))?;
            Ok(Some(Zeroizing::new(text.trim().to_owned())))
        }
        // Only with a key id: the variable alone asks for nothing.
        (None, None) if has_kid => Ok(std::env::var("ACME_EAB_HMAC_KEY").ok().map(Zeroizing::new)),
        (None, None) => Ok(None),
    }
}

/// Flags that are each fine alone but not together.
fn check_conflicts(args: &Args) -> Result<(), String> {
    if args.challenge.is_dns() && args.dns_hook.is_none() {
        return Err(format!(
            "--challenge {} needs --dns-hook",
            args.challenge.name()
        ));
    }
    match (args.challenge, args.persist_issuers.is_empty()) {
        (ChallengeKind::DnsPersist01, true) => {
            return Err(
                "--challenge dns-persist-01 needs --persist-issuer: the issuer \
                        domain names (the CA's) its long-lived record may name"
                    .into(),
            );
        }
        (ChallengeKind::DnsPersist01, false) => {
            PersistIssuers::only(&args.persist_issuers)
                .map_err(|e| format!("--persist-issuer: {e}"))?;
        }
        (_, false) => {
            return Err("--persist-issuer goes with --challenge dns-persist-01".into());
        }
        (_, true) => {}
    }
    if args.account.is_some() && args.account_key.is_some() {
        return Err(
            "give --account or --account-key, not both: with --account-key, the \
                    account is found again by its key on each run"
                .into(),
        );
    }
    // The account's file is never written over by an output: a typo there would lose
    // the account (its key replaced by a certificate chain).
    for (flag, account) in [
        ("--account", &args.account),
        ("--account-key", &args.account_key),
    ] {
        let Some(account) = account else { continue };
        let outputs = [
            ("--out", Some(&args.out)),
            ("--key-out", Some(&args.key_out)),
        ];
        let state = [("--order-state", args.order_state.as_ref())];
        for (output, path) in outputs.into_iter().chain(state) {
            if path.is_some_and(|path| same_file(account, path)) {
                return Err(format!(
                    "{flag} and {output} name the same file: {flag} would be lost"
                ));
            }
        }
    }
    if same_file(&args.out, &args.key_out) {
        return Err("--out and --key-out must be different files".into());
    }
    if let Some(state) = &args.order_state
        && (same_file(state, &args.out) || same_file(state, &args.key_out))
    {
        return Err("--order-state must be a file of its own, not --out or --key-out".into());
    }
    Ok(())
}
