//! The command line of the drivers' `issue` examples, identical in both: its flags,
//! what they mean for the client, and atomic file writes. Each example only adds the
//! calls to its own driver. Not published: the public crates keep a library's API only.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use acme_proto::client::{AccountCredentials, Issued, NewAccount, NewOrder};
use acme_proto::crypto::{AccountKey, EabAlgorithm, ExternalAccountBinding, SignatureAlgorithm};
use acme_proto::{CertificateChain, Identifier, ServerText};
use lexopt::Arg;
use url::Url;

/// `--help`.
pub const USAGE: &str = "\
usage: issue --directory URL [options]

Issues a certificate from an ACME CA and writes the chain (and its new key).

  --directory URL            ACME directory (required)
  --ca-cert PEM              extra root to trust for the ACME server
  --account FILE             account credentials: created there if missing, reused if present
  --contact mailto:ADDR      (repeatable)
  --domain NAME              (repeatable; *.NAME for wildcards)
  --ip ADDR                  (repeatable)
  --challenge TYPE           http-01 (default), dns-01 or tls-alpn-01
  --http-port N              where the http-01 responder listens on 127.0.0.1 (default 80)
  --tls-port N               where the tls-alpn-01 responder listens on 127.0.0.1 (default 443)
  --dns-hook CMD             run as `CMD present RECORD_NAME VALUE` and `CMD cleanup RECORD_NAME VALUE`
  --eab-kid KID              External Account Binding key id
  --eab-hmac-key B64URL      External Account Binding MAC key
  --eab-alg ALG              HS256 (default), HS384 or HS512
  --key-type TYPE            es256 (default), es384, ed25519 or rs256: the account key, when creating one
  --profile NAME             certificate profile the directory offers
  --preferred-chain CN       the chain whose root (or top issuer) has this common name
  --out CHAIN.pem            where to write the chain (default chain.pem)
  --key-out KEY.pem          where to write the certificate's private key (default key.pem)
  -h, --help                 this text";

/// The challenge type to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeKind {
    /// http-01, with the built-in responder on `--http-port`.
    Http01,
    /// dns-01, through `--dns-hook`.
    Dns01,
    /// tls-alpn-01, with the built-in responder on `--tls-port`.
    TlsAlpn01,
}

/// The parsed command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Args {
    /// `--directory`.
    pub directory: Url,
    /// `--ca-cert`.
    pub ca_cert: Option<PathBuf>,
    /// `--account`.
    pub account: Option<PathBuf>,
    /// `--contact`.
    pub contacts: Vec<String>,
    /// `--domain` and `--ip`, in the order given.
    pub identifiers: Vec<Identifier>,
    /// `--challenge`.
    pub challenge: ChallengeKind,
    /// `--http-port`.
    pub http_port: u16,
    /// `--tls-port`.
    pub tls_port: u16,
    /// `--dns-hook`.
    pub dns_hook: Option<OsString>,
    /// `--eab-kid`, `--eab-hmac-key`, `--eab-alg`.
    pub eab: Option<(String, String, EabAlgorithm)>,
    /// `--key-type`.
    pub key_type: SignatureAlgorithm,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--preferred-chain`.
    pub preferred_chain: Option<String>,
    /// `--out`.
    pub out: PathBuf,
    /// `--key-out`.
    pub key_out: PathBuf,
}

/// What the command line asks for.
#[derive(Debug)]
#[non_exhaustive]
pub enum Command {
    /// Issue a certificate.
    Issue(Box<Args>),
    /// Print [`USAGE`] and exit 0.
    Help,
}

impl Args {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
        let mut directory = None;
        let mut parsed = Args {
            directory: Url::parse("https://invalid.invalid/").map_err(|e| e.to_string())?,
            ca_cert: None,
            account: None,
            contacts: Vec::new(),
            identifiers: Vec::new(),
            challenge: ChallengeKind::Http01,
            http_port: 80,
            tls_port: 443,
            dns_hook: None,
            eab: None,
            key_type: SignatureAlgorithm::Es256,
            profile: None,
            preferred_chain: None,
            out: PathBuf::from("chain.pem"),
            key_out: PathBuf::from("key.pem"),
        };
        let (mut eab_kid, mut eab_key, mut eab_alg) = (None, None, EabAlgorithm::Hs256);
        // lexopt reads `--flag value` and `--flag=value`; a value may start with `-`.
        let mut parser = lexopt::Parser::from_args(args);
        while let Some(arg) = parser.next().map_err(|e| format!("{e} (see --help)"))? {
            let name = match &arg {
                Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
                Arg::Long(name) => format!("--{name}"),
                Arg::Short(c) => format!("-{c}"),
                Arg::Value(value) => {
                    return Err(format!("unknown argument {value:?} (see --help)"));
                }
            };
            let flag = name.as_str();
            let text = |parser: &mut lexopt::Parser| {
                let value = parser
                    .value()
                    .map_err(|_| format!("{flag} needs a value (see --help)"))?;
                value
                    .into_string()
                    .map_err(|v| format!("{flag} {v:?}: not UTF-8"))
            };
            let path = |parser: &mut lexopt::Parser| {
                parser
                    .value()
                    .map(PathBuf::from)
                    .map_err(|_| format!("{flag} needs a value (see --help)"))
            };
            match flag {
                "--directory" => {
                    let text = text(&mut parser)?;
                    directory =
                        Some(Url::parse(&text).map_err(|e| format!("--directory {text:?}: {e}"))?);
                }
                "--ca-cert" => parsed.ca_cert = Some(path(&mut parser)?),
                "--account" => parsed.account = Some(path(&mut parser)?),
                "--contact" => parsed.contacts.push(text(&mut parser)?),
                "--domain" => {
                    let text = text(&mut parser)?;
                    let identifier =
                        Identifier::dns(&text).map_err(|e| format!("--domain {text:?}: {e}"))?;
                    parsed.identifiers.push(identifier);
                }
                "--ip" => {
                    let text = text(&mut parser)?;
                    let ip: IpAddr = text.parse().map_err(|e| format!("--ip {text:?}: {e}"))?;
                    parsed.identifiers.push(Identifier::Ip(ip));
                }
                "--challenge" => {
                    parsed.challenge = match text(&mut parser)?.as_str() {
                        "http-01" => ChallengeKind::Http01,
                        "dns-01" => ChallengeKind::Dns01,
                        "tls-alpn-01" => ChallengeKind::TlsAlpn01,
                        other => {
                            return Err(format!(
                                "--challenge {other:?}: expected http-01, dns-01 or tls-alpn-01"
                            ));
                        }
                    }
                }
                "--http-port" => parsed.http_port = port(flag, &text(&mut parser)?)?,
                "--tls-port" => parsed.tls_port = port(flag, &text(&mut parser)?)?,
                "--dns-hook" => parsed.dns_hook = Some(path(&mut parser)?.into_os_string()),
                "--eab-kid" => eab_kid = Some(text(&mut parser)?),
                "--eab-hmac-key" => eab_key = Some(text(&mut parser)?),
                "--eab-alg" => {
                    eab_alg = match text(&mut parser)?.to_ascii_uppercase().as_str() {
                        "HS256" => EabAlgorithm::Hs256,
                        "HS384" => EabAlgorithm::Hs384,
                        "HS512" => EabAlgorithm::Hs512,
                        other => {
                            return Err(format!(
                                "--eab-alg {other:?}: expected HS256, HS384 or HS512"
                            ));
                        }
                    }
                }
                "--key-type" => {
                    parsed.key_type = match text(&mut parser)?.to_ascii_lowercase().as_str() {
                        "es256" => SignatureAlgorithm::Es256,
                        "es384" => SignatureAlgorithm::Es384,
                        "ed25519" => SignatureAlgorithm::EdDsa,
                        "rs256" => SignatureAlgorithm::Rs256,
                        other => {
                            return Err(format!(
                                "--key-type {other:?}: expected es256, es384, ed25519 or rs256"
                            ));
                        }
                    }
                }
                "--profile" => parsed.profile = Some(text(&mut parser)?),
                "--preferred-chain" => parsed.preferred_chain = Some(text(&mut parser)?),
                "--out" => parsed.out = path(&mut parser)?,
                "--key-out" => parsed.key_out = path(&mut parser)?,
                other => return Err(format!("unknown argument {other:?} (see --help)")),
            }
        }
        parsed.directory = directory.ok_or("--directory is required (see --help)")?;
        if parsed.identifiers.is_empty() {
            return Err("give at least one --domain or --ip".into());
        }
        parsed.eab = match (eab_kid, eab_key) {
            (Some(kid), Some(key)) => Some((kid, key, eab_alg)),
            (None, None) => None,
            _ => return Err("--eab-kid and --eab-hmac-key go together".into()),
        };
        if parsed.challenge == ChallengeKind::Dns01 && parsed.dns_hook.is_none() {
            return Err("--challenge dns-01 needs --dns-hook".into());
        }
        if parsed.out == parsed.key_out {
            return Err("--out and --key-out must be different files".into());
        }
        Ok(Command::Issue(Box::new(parsed)))
    }

    /// The saved account, when `--account` names a file that exists.
    pub fn saved_account(&self) -> Result<Option<AccountCredentials>, String> {
        let Some(path) = &self.account else {
            return Ok(None);
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => zeroize::Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        let credentials = AccountCredentials::from_json(&bytes)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if credentials.directory_url() != &self.directory {
            return Err(format!(
                "{} holds an account at {}, not at {}",
                path.display(),
                credentials.directory_url(),
                self.directory
            ));
        }
        Ok(Some(credentials))
    }

    /// A new account key of `--key-type`.
    pub fn new_account_key(&self) -> Result<AccountKey, String> {
        acme_proto_support::generate_account_key(self.key_type)
            .map_err(|e| format!("generating the account key: {e}"))
    }

    /// The newAccount request: the terms agreed to, the contacts, the EAB if given.
    pub fn new_account(&self) -> Result<NewAccount, String> {
        let mut request = NewAccount::agreeing_to_terms(self.contacts.iter().cloned());
        if let Some((kid, key, alg)) = &self.eab {
            let eab = ExternalAccountBinding::new(kid, key, *alg)
                .map_err(|e| format!("--eab-hmac-key: {e}"))?;
            request = request.with_external_account_binding(eab);
        }
        Ok(request)
    }

    /// Saves `credentials` to `--account`, if given (atomically, owner-only).
    pub fn save_account(&self, credentials: Option<AccountCredentials>) -> Result<(), String> {
        let Some(path) = &self.account else {
            return Ok(());
        };
        let credentials = credentials.ok_or("the account has no credentials to save")?;
        let json = credentials
            .to_json()
            .map_err(|e| format!("saving the account: {e}"))?;
        write_atomically(path, &json, true)
    }

    /// The newOrder request: the identifiers and the profile.
    pub fn new_order(&self) -> NewOrder {
        let order = NewOrder::new(self.identifiers.iter().cloned());
        match &self.profile {
            Some(profile) => order.with_profile(profile.clone()),
            None => order,
        }
    }

    /// Where the http-01 responder listens.
    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.http_port))
    }

    /// Where the tls-alpn-01 responder listens.
    pub fn tls_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.tls_port))
    }

    /// The chain to write: the one `--preferred-chain` names, else the default.
    pub fn chain<'a>(&self, issued: &'a Issued) -> &'a CertificateChain {
        match &self.preferred_chain {
            Some(name) => issued.preferred_chain(name),
            None => &issued.chain,
        }
    }

    /// Writes the chain and the key (atomically, the key owner-only), and returns the
    /// line to print.
    pub fn write_certificate(
        &self,
        chain: &CertificateChain,
        key_pem: &str,
    ) -> Result<String, String> {
        write_atomically(&self.key_out, key_pem.as_bytes(), true)?;
        write_atomically(&self.out, chain.pem().as_bytes(), false)?;
        Ok(summary(chain, &self.out, &self.key_out))
    }
}

/// One line on what was issued: names, issuer, validity, and where it went. The names
/// are the certificate's, so the server's: shown through [`ServerText`] (control
/// characters escaped, each name bounded).
pub fn summary(chain: &CertificateChain, out: &Path, key_out: &Path) -> String {
    let leaf = chain.end_entity();
    let mut names: Vec<String> = leaf
        .dns_names()
        .iter()
        .map(|name| ServerText::new(name).to_string())
        .collect();
    names.extend(leaf.ip_addresses().iter().map(IpAddr::to_string));
    let mut line = format!(
        "issued for {} by \"{}\", valid {} to {}",
        names.join(", "),
        ServerText::new(leaf.issuer_common_name().unwrap_or("?")),
        leaf.not_before(),
        leaf.not_after()
    );
    let _ = write!(
        line,
        "; chain ({} certificates) in {}, key in {}",
        chain.len(),
        out.display(),
        key_out.display()
    );
    line
}

/// An error and its causes on one line, for the examples' one-line failure message:
/// control characters (from a server, a hook's standard error, …) escaped through
/// [`ServerText`], so the line stays one line and cannot drive the terminal.
pub fn one_line(what: &str, error: &dyn std::error::Error) -> String {
    let mut line = format!("{what}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            let _ = write!(line, ": {text}");
        }
        source = cause.source();
    }
    ServerText::bounded(&line, usize::MAX).to_string()
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced,
/// then renamed over `path`: a reader sees the old file or the whole new one, never
/// half of it. With `private`, the file is readable by its owner only (on Unix).
pub fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("writing {}: {e}", path.display());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("writing {}: not a file name", path.display()))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".tmp{}", std::process::id()));
    let temp = dir.join(temp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = renamed {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(error));
    }
    Ok(())
}

fn port(flag: &str, text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{flag} {text:?}: expected a port number"))
}

#[cfg(test)]
#[allow(clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Args::parse(args.iter().map(OsString::from))
    }

    fn issue(args: &[&str]) -> Args {
        match parse(args) {
            Ok(Command::Issue(args)) => *args,
            other => unreachable!("{other:?}"),
        }
    }

    /// A command line written as one string (no argument has a space).
    fn parse_line(line: &str) -> Result<Command, String> {
        parse(&line.split(' ').collect::<Vec<_>>())
    }

    fn issue_line(line: &str) -> Args {
        issue(&line.split(' ').collect::<Vec<_>>())
    }

    #[test]
    fn every_flag_is_read() {
        let line = concat!(
            "--directory https://127.0.0.1:14000/dir --ca-cert root.pem --account acct.json ",
            "--contact mailto:a@example.org --contact mailto:b@example.org ",
            "--domain a.example --domain *.b.example --ip 127.0.0.1 --ip ::1 ",
            "--challenge dns-01 --http-port 5002 --tls-port 5001 --dns-hook /bin/hook ",
            "--eab-kid kid-1 --eab-hmac-key c2VjcmV0 --eab-alg hs384 --key-type ED25519 ",
            "--profile shortlived --out c.pem --key-out k.pem"
        );
        let mut words: Vec<&str> = line.split(' ').collect();
        words.extend(["--preferred-chain", "Root X2"]);
        let args = issue(&words);
        assert_eq!(args.directory.as_str(), "https://127.0.0.1:14000/dir");
        assert_eq!(args.ca_cert, Some(PathBuf::from("root.pem")));
        assert_eq!(args.contacts.len(), 2);
        assert_eq!(args.identifiers.len(), 4);
        assert_eq!(args.identifiers[1].to_string(), "*.b.example");
        assert_eq!(args.challenge, ChallengeKind::Dns01);
        assert_eq!((args.http_port, args.tls_port), (5002, 5001));
        assert_eq!(args.eab.as_ref().map(|e| e.2), Some(EabAlgorithm::Hs384));
        assert_eq!(args.key_type, SignatureAlgorithm::EdDsa);
        assert_eq!(args.new_order().profile.as_deref(), Some("shortlived"));
        assert_eq!(args.preferred_chain.as_deref(), Some("Root X2"));
        assert_eq!(
            (args.out.as_path(), args.key_out.as_path()),
            (Path::new("c.pem"), Path::new("k.pem"))
        );
        assert!(args.new_account().is_ok());
        // `--flag=value` reads the same, and a value may start with a dash.
        let args = issue(&[
            "--directory=https://x/",
            "--domain",
            "a.example",
            "--out=-x.pem",
        ]);
        assert_eq!(args.directory.as_str(), "https://x/");
        assert_eq!(args.out, PathBuf::from("-x.pem"));
    }

    #[test]
    fn mistakes_are_one_clear_line() {
        let cases = [
            ("--domain a.example", "--directory is required"),
            ("--directory https://x/", "at least one --domain"),
            ("--directory https://x/ --domain", "--domain needs a value"),
            ("--directory :: --domain a.example", "--directory"),
            (
                "--directory https://x/ --domain a..example",
                "--domain \"a..example\"",
            ),
            ("--directory https://x/ --ip 300.1.1.1", "--ip"),
            (
                "--directory https://x/ --domain a.example --challenge dns-01",
                "needs --dns-hook",
            ),
            (
                "--directory https://x/ --domain a.example --eab-kid k",
                "go together",
            ),
            (
                "--directory https://x/ --domain a.example --http-port 99999",
                "port number",
            ),
            (
                "--directory https://x/ --domain a.example --key-type dsa",
                "--key-type",
            ),
            (
                "--directory https://x/ --domain a.example --bogus",
                "unknown argument",
            ),
            (
                "--directory https://x/ --domain a.example --out x --key-out x",
                "different files",
            ),
        ];
        for (line, expected) in cases {
            match parse_line(line) {
                Err(message) => {
                    assert!(message.contains(expected), "{line}: {message}");
                    assert!(!message.contains('\n'));
                }
                Ok(other) => panic!("{line} was accepted: {other:?}"),
            }
        }
        assert!(matches!(parse_line("--help"), Ok(Command::Help)));
    }

    /// A self-signed certificate whose names and subject carry control characters.
    fn hostile_chain() -> Result<CertificateChain, String> {
        let hostile = "evil\x1b[2J\x1b]0;pwned\x07.example\nissued for bank.example";
        let mut params =
            rcgen::CertificateParams::new(vec![hostile.to_owned(), "ok.example".to_owned()])
                .map_err(|e| e.to_string())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Evil CA\r\n\x1b[31mRoot");
        let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        CertificateChain::from_pem(&cert.pem()).map_err(|e| e.to_string())
    }

    #[test]
    fn names_from_the_certificate_are_printed_escaped() -> Result<(), String> {
        let chain = hostile_chain()?;
        // The core keeps the names as the certificate has them.
        assert!(chain.end_entity().dns_names()[0].contains('\x1b'));
        let line = summary(&chain, Path::new("c.pem"), Path::new("k.pem"));
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(
            line.contains(
                "issued for evil\\u{1b}[2J\\u{1b}]0;pwned\\u{7}.example\\nissued for bank.example, ok.example"
            ),
            "{line}"
        );
        assert!(
            line.contains("by \"Evil CA\\r\\n\\u{1b}[31mRoot\""),
            "{line}"
        );
        Ok(())
    }

    #[test]
    fn errors_are_printed_escaped_on_one_line() {
        #[derive(Debug)]
        struct Said(&'static str);
        impl std::fmt::Display for Said {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Said {}
        let line = one_line("issuing", &Said("bad\x1b[2J\r\nnews\u{9b}31m"));
        assert_eq!(line, "issuing: bad\\u{1b}[2J\\r\\nnews\\u{9b}31m");
    }

    #[test]
    fn standard_base64_eab_keys_are_refused_with_a_reason() {
        let args = issue_line(
            "--directory https://x/ --domain a.example --eab-kid k --eab-hmac-key ab+/cd==",
        );
        let message = args.new_account().err().unwrap_or_default();
        assert!(message.starts_with("--eab-hmac-key"), "{message}");
    }

    #[test]
    fn files_are_replaced_whole_and_keys_kept_private() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("acme-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("key.pem");
        write_atomically(&path, b"old", true)?;
        write_atomically(&path, b"new contents", true)?;
        assert_eq!(
            std::fs::read(&path).map_err(|e| e.to_string())?,
            b"new contents"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map_err(|e| e.to_string())?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        // A directory that does not exist: an error, and nothing written anywhere.
        let error = write_atomically(&dir.join("missing/chain.pem"), b"x", false).err();
        assert!(error.is_some_and(|e| e.contains("missing/chain.pem")));
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }

    #[test]
    fn an_account_for_another_directory_is_refused() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("acme-cli-acct-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join("account.json");
        let key = acme_proto_support::generate_account_key(SignatureAlgorithm::Es256)
            .map_err(|e| e.to_string())?;
        let credentials = AccountCredentials::new(
            Url::parse("https://ca-a.example/dir").map_err(|e| e.to_string())?,
            Url::parse("https://ca-a.example/acct/1").map_err(|e| e.to_string())?,
            key,
        );
        let path_text = path.to_string_lossy().into_owned();
        let with_account = |directory: &str| {
            issue_line(&format!(
                "--directory {directory} --domain a.example --account {path_text}"
            ))
        };
        let args = with_account("https://ca-a.example/dir");
        assert!(args.saved_account()?.is_none());
        args.save_account(Some(credentials))?;
        assert!(args.saved_account()?.is_some());
        let other = with_account("https://ca-b.example/dir");
        assert!(
            other
                .saved_account()
                .err()
                .is_some_and(|e| e.contains("not at https://ca-b.example/dir"))
        );
        std::fs::write(&path, b"{not json").map_err(|e| e.to_string())?;
        assert!(args.saved_account().is_err());
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }
}
