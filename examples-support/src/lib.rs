//! The command line of the drivers' `issue` examples, identical in both: its flags,
//! what they mean for the client, and atomic file writes. Each example only adds the
//! calls to its own driver. Not published: the public crates keep a library's API only.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use acme_proto::client::{AccountCredentials, Issued, NewAccount};
use acme_proto::crypto::{AccountKey, EabAlgorithm, ExternalAccountBinding, SignatureAlgorithm};
use acme_proto::{CertificateChain, Identifier, ServerText};
use url::Url;

mod files;
mod order;
mod order_state;
mod parse;

pub use files::{FileToWrite, remove_durably, same_file, write_atomically, write_together};
pub use order_state::report_challenge;

/// `--help`.
pub const USAGE: &str = "\
usage: issue --directory URL [options]

Issues a certificate from an ACME CA and writes the chain (and its new key).

  --directory URL            ACME directory (required)
  --ca-cert PEM              extra root to trust for the ACME server
  --account FILE             account credentials: created there if missing, reused if present
                             (the new key is written there before the account is created)
  --contact mailto:ADDR      (repeatable)
  --domain NAME              (repeatable; *.NAME for wildcards)
  --ip ADDR                  (repeatable)
  --challenge TYPE           http-01 (default), dns-01, tls-alpn-01, or through --dns-hook
                             dns-account-01 or dns-persist-01
  --listen ADDR              the address the responders listen on (default: every interface,
                             IPv6 and IPv4, as a CA's validation servers connect from outside)
  --http-port N              the http-01 responder's port (default 80)
  --tls-port N               the tls-alpn-01 responder's port (default 443)
  --dns-hook CMD             run as `CMD present -- RECORD_NAME VALUE` and `CMD cleanup -- RECORD_NAME VALUE`
  --persist-issuer NAME      (repeatable) an issuer domain name a dns-persist-01 record may
                             name (required with --challenge dns-persist-01: the record
                             stays, and authorizes that CA's account for the name)
  --eab-kid KID              External Account Binding key id
  --eab-hmac-key B64URL      External Account Binding MAC key (or --eab-hmac-key-file FILE,
                             or the environment variable ACME_EAB_HMAC_KEY: kept off the
                             command line, which other users can read)
  --eab-alg ALG              HS256 (default), HS384 or HS512
  --account-key FILE         an existing account key (PEM: PKCS#8, SEC1 or PKCS#1; or a private
                             JWK as certbot stores it), RSA or EC: its account is created or
                             found again on each run (instead of --account)
  --key-type TYPE            es256 (default), es384 or ed25519: the account key, when creating
                             one (RSA keys are not made here: bring one with --account-key)
  --profile NAME             certificate profile the directory offers
  --replaces CERT.pem        renew this certificate: its ARI certID goes in the order (and
                             its names, unless --domain or --ip are given)
  --preferred-chain CN       the chain whose root (or top issuer) has this common name
  --out CHAIN.pem            where to write the chain (default chain.pem)
  --key-out KEY.pem          where to write the certificate's private key (default key.pem)
  --order-state FILE         save the order there as it goes (with the certificate's key,
                             owner-only): run again with the same FILE after a crash to
                             resume that order instead of making a new one; removed once
                             the certificate is written
  -v, --verbose              say on standard error what the run does: each challenge put in
                             place and removed, each save of --order-state
  -h, --help                 this text";

/// An External Account Binding MAC key, as given: zeroized on drop, never in `Debug`.
#[derive(Clone)]
pub struct EabKey(zeroize::Zeroizing<String>);

impl EabKey {
    /// The key, base64url.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for EabKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EabKey(..)")
    }
}

/// The largest account file read (`--account`, `--account-key`): credentials with an
/// RSA-4096 key take under 4 KiB.
const MAX_ACCOUNT_FILE: usize = 64 * 1024;

/// The account `--account` gives, or a new one to create.
#[derive(Debug)]
pub enum AccountToUse {
    /// Saved credentials: the account exists.
    Saved(AccountCredentials),
    /// A key with no account URL yet: new (and already saved to `--account`, when
    /// given, before anything is sent), or saved by an earlier run that stopped before
    /// it had the URL. `newAccount` with it creates the account, or finds the one the
    /// server already has for this key (RFC 8555 §7.3.1): a key is never lost, nor an
    /// account created twice.
    Key(AccountKey),
}

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
    /// dns-account-01, through `--dns-hook`.
    DnsAccount01,
    /// dns-persist-01, through `--dns-hook`, naming one of `--persist-issuer`.
    DnsPersist01,
}

impl ChallengeKind {
    /// Whether `--dns-hook` answers it.
    pub fn is_dns(self) -> bool {
        matches!(self, Self::Dns01 | Self::DnsAccount01 | Self::DnsPersist01)
    }

    /// The challenge type's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::Dns01 => "dns-01",
            Self::TlsAlpn01 => "tls-alpn-01",
            Self::DnsAccount01 => "dns-account-01",
            Self::DnsPersist01 => "dns-persist-01",
        }
    }
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
    /// `--account-key`.
    pub account_key: Option<PathBuf>,
    /// `--contact`.
    pub contacts: Vec<String>,
    /// `--domain` and `--ip`, in the order given.
    pub identifiers: Vec<Identifier>,
    /// `--challenge`.
    pub challenge: ChallengeKind,
    /// `--listen`: `None` for every interface.
    pub listen: Option<IpAddr>,
    /// `--http-port`.
    pub http_port: u16,
    /// `--tls-port`.
    pub tls_port: u16,
    /// `--dns-hook`.
    pub dns_hook: Option<OsString>,
    /// `--persist-issuer`, in the order given.
    pub persist_issuers: Vec<String>,
    /// `--replaces`: the certificate this one renews.
    pub replaces: Option<PathBuf>,
    /// `--eab-kid`, `--eab-hmac-key` (or its file, or `ACME_EAB_HMAC_KEY`), `--eab-alg`.
    pub eab: Option<(String, EabKey, EabAlgorithm)>,
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
    /// `--order-state`: where the order is saved as it goes (see [`Args::saved_order`]).
    pub order_state: Option<PathBuf>,
    /// `--verbose`: progress lines on standard error (without it, a run prints only its
    /// result, or one line saying why it failed).
    pub verbose: bool,
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
    /// The account to use: `--account`'s credentials, or its key alone (a run that
    /// stopped between writing the key and the account URL), or, when the file does not
    /// exist (or there is no `--account`), a new key of `--key-type`, written to
    /// `--account` (owner-only, atomically and durably) before it is returned, so before
    /// anything is sent.
    pub fn account_to_use(&self) -> Result<AccountToUse, String> {
        if let Some(saved) = self.saved_account()? {
            return Ok(saved);
        }
        let key = self.new_account_key()?;
        if let Some(path) = &self.account {
            let pem = key
                .to_pkcs8_pem()
                .map_err(|e| format!("saving the account key: {e}"))?;
            write_atomically(path, pem.as_bytes(), true)?;
        }
        Ok(AccountToUse::Key(key))
    }

    /// The key `--account-key` names, as its signer (RSA signs with ring, without the
    /// `rsa` feature), when given.
    pub fn account_signer(
        &self,
    ) -> Result<Option<Box<dyn acme_proto::crypto::Signer + Send + Sync>>, String> {
        let Some(path) = &self.account_key else {
            return Ok(None);
        };
        let bytes = acme_proto_support::read_trusted_file(path, MAX_ACCOUNT_FILE)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        acme_proto_support::account_signer(&bytes)
            .map(Some)
            .map_err(|e| format!("reading {}: {e}", path.display()))
    }

    /// What `--account` holds, when it names a file that exists: credentials (JSON), or
    /// a key alone (PEM).
    pub fn saved_account(&self) -> Result<Option<AccountToUse>, String> {
        let Some(path) = &self.account else {
            return Ok(None);
        };
        let bytes = match acme_proto_support::read_trusted_file(path, MAX_ACCOUNT_FILE) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("reading {}: {e}", path.display())),
        };
        if bytes.starts_with(b"-----BEGIN") {
            let key = AccountKey::from_pem(&*bytes)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            return Ok(Some(AccountToUse::Key(key)));
        }
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
        Ok(Some(AccountToUse::Saved(credentials)))
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
            let eab = ExternalAccountBinding::new(kid, key.expose(), *alg)
                .map_err(|e| format!("--eab-hmac-key: {e}"))?;
            request = request.with_external_account_binding(eab);
        }
        Ok(request)
    }

    /// Saves `credentials` to `--account`, if given (owner-only, atomically and
    /// durably), over the key saved before the account was created.
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

    /// Where the http-01 responder may listen, in the order to try: `--listen`, or every
    /// interface (IPv6, which takes IPv4 too where the system allows, then IPv4 alone).
    pub fn http_addrs(&self) -> Vec<SocketAddr> {
        self.listen_addrs(self.http_port)
    }

    /// Where the tls-alpn-01 responder may listen, in the order to try (as
    /// [`http_addrs`](Self::http_addrs)).
    pub fn tls_addrs(&self) -> Vec<SocketAddr> {
        self.listen_addrs(self.tls_port)
    }

    fn listen_addrs(&self, port: u16) -> Vec<SocketAddr> {
        match self.listen {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => vec![
                SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            ],
        }
    }

    /// The chain to write: the one `--preferred-chain` names, else the default.
    pub fn chain<'a>(&self, issued: &'a Issued) -> &'a CertificateChain {
        match &self.preferred_chain {
            Some(name) => issued.preferred_chain(name),
            None => &issued.chain,
        }
    }

    /// Writes the chain and the key as a pair (both or neither, each atomically and
    /// durably, the key owner-only), and returns the line to print.
    pub fn write_certificate(
        &self,
        chain: &CertificateChain,
        key_pem: &str,
    ) -> Result<String, String> {
        write_together(&[
            FileToWrite {
                path: &self.key_out,
                bytes: key_pem.as_bytes(),
                private: true,
            },
            FileToWrite {
                path: &self.out,
                bytes: chain.pem().as_bytes(),
                private: false,
            },
        ])?;
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

/// Binds the first of `addrs` that `bind` accepts (see [`Args::http_addrs`]); the
/// error names the last address tried.
pub fn bind_first<T>(
    addrs: &[SocketAddr],
    mut bind: impl FnMut(SocketAddr) -> std::io::Result<T>,
) -> Result<T, String> {
    let mut last = String::from("no address to listen on");
    for addr in addrs {
        match bind(*addr) {
            Ok(bound) => return Ok(bound),
            Err(e) => last = format!("listening on {addr}: {e}"),
        }
    }
    Err(last)
}

/// [`bind_first`] for a `bind` that is async.
pub async fn bind_first_async<T, F: Future<Output = std::io::Result<T>>>(
    addrs: &[SocketAddr],
    mut bind: impl FnMut(SocketAddr) -> F,
) -> Result<T, String> {
    let mut last = String::from("no address to listen on");
    for addr in addrs {
        match bind(*addr).await {
            Ok(bound) => return Ok(bound),
            Err(e) => last = format!("listening on {addr}: {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
#[allow(clippy::panic, clippy::indexing_slicing, clippy::expect_used)]
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
            "--profile shortlived --out c.pem --key-out k.pem -v"
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
        assert_eq!(
            args.new_order().expect("the order").profile.as_deref(),
            Some("shortlived")
        );
        assert_eq!(args.preferred_chain.as_deref(), Some("Root X2"));
        assert_eq!(
            (args.out.as_path(), args.key_out.as_path()),
            (Path::new("c.pem"), Path::new("k.pem"))
        );
        assert!(args.new_account().is_ok());
        assert!(args.verbose);
        // `--flag=value` reads the same, and a value may start with a dash.
        let args = issue(&[
            "--directory=https://x/",
            "--domain",
            "a.example",
            "--out=-x.pem",
        ]);
        assert_eq!(args.directory.as_str(), "https://x/");
        assert_eq!(args.out, PathBuf::from("-x.pem"));
        assert!(!args.verbose, "quiet unless asked");
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
                "--directory https://x/ --domain a.example --challenge dns-account-01",
                "--challenge dns-account-01 needs --dns-hook",
            ),
            (
                "--directory https://x/ --domain a.example --challenge dns-persist-01 \
                 --dns-hook /bin/h",
                "needs --persist-issuer",
            ),
            (
                "--directory https://x/ --domain a.example --challenge dns-persist-01 \
                 --dns-hook /bin/h --persist-issuer *.ca.example",
                "--persist-issuer",
            ),
            (
                "--directory https://x/ --domain a.example --persist-issuer ca.example",
                "goes with --challenge dns-persist-01",
            ),
            (
                "--directory https://x/ --challenge tls-alpn-02",
                "dns-persist-01",
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

#[cfg(all(test, unix))]
mod trust_tests;

#[cfg(test)]
#[allow(clippy::panic, clippy::indexing_slicing)]
mod durable_tests {
    use super::*;

    fn issue_line(line: &str) -> Result<Args, String> {
        match Args::parse(line.split(' ').map(OsString::from))? {
            Command::Issue(args) => Ok(*args),
            Command::Help => Err("help".into()),
        }
    }

    fn temp_dir(name: &str) -> Result<PathBuf, String> {
        let dir = std::env::temp_dir().join(format!("acme-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(dir)
    }

    /// The account key is on disk before `account_to_use` returns it; a second run
    /// with that file uses the same key (to find the account), and after the account
    /// URL is saved, the credentials.
    #[test]
    fn the_account_key_is_saved_before_the_account_is_asked_for() -> Result<(), String> {
        let dir = temp_dir("key-first")?;
        let path = dir.join("account.json");
        let line = format!(
            "--directory https://ca.example/dir --domain a.example --account {}",
            path.display()
        );
        let args = issue_line(&line)?;
        let AccountToUse::Key(key) = args.account_to_use()? else {
            return Err("a new account should be a key".into());
        };
        let saved = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        assert!(saved.starts_with("-----BEGIN PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map_err(|e| e.to_string())?
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        // The run stopped there; the next one takes the same key.
        let AccountToUse::Key(again) = args.account_to_use()? else {
            return Err("a saved key alone should come back as a key".into());
        };
        assert_eq!(again.thumbprint(), key.thumbprint());
        let url = Url::parse("https://ca.example/acct/7").map_err(|e| e.to_string())?;
        let credentials = AccountCredentials::new(args.directory.clone(), url.clone(), again);
        args.save_account(Some(credentials))?;
        let AccountToUse::Saved(credentials) = args.account_to_use()? else {
            return Err("saved credentials should come back as such".into());
        };
        assert_eq!(credentials.account_url(), &url);
        assert_eq!(credentials.key().thumbprint(), key.thumbprint());
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }

    /// The EAB key never shows in `Debug`, and can come from a file or the
    /// environment instead of the command line.
    #[test]
    fn eab_keys_stay_out_of_debug_and_off_the_command_line() -> Result<(), String> {
        const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
        let args = issue_line(&format!(
            "--directory https://ca.example/dir --domain a.example --eab-kid k --eab-hmac-key {KEY}"
        ))?;
        assert!(!format!("{args:?}").contains(KEY));
        let dir = temp_dir("eab")?;
        let file = dir.join("eab.key");
        std::fs::write(&file, format!("{KEY}\n")).map_err(|e| e.to_string())?;
        let args = issue_line(&format!(
            "--directory https://ca.example/dir --domain a.example --eab-kid k --eab-hmac-key-file {}",
            file.display()
        ))?;
        assert_eq!(args.eab.as_ref().map(|e| e.1.expose()), Some(KEY));
        assert!(args.new_account().is_ok());
        let both = issue_line(&format!(
            "--directory https://ca.example/dir --domain a.example --eab-kid k --eab-hmac-key {KEY} --eab-hmac-key-file {}",
            file.display()
        ));
        assert!(both.is_err());
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }

    /// `--out` and `--key-out` naming one file through different paths are refused.
    #[test]
    fn the_same_file_by_two_paths_is_refused() -> Result<(), String> {
        let dir = temp_dir("same")?;
        std::fs::create_dir_all(dir.join("sub")).map_err(|e| e.to_string())?;
        let a = dir.join("same.pem");
        let b = dir.join("sub").join("..").join("same.pem");
        let line = format!(
            "--directory https://ca.example/dir --domain a.example --out {} --key-out {}",
            a.display(),
            b.display()
        );
        let error = issue_line(&line).err().unwrap_or_default();
        assert!(error.contains("different files"), "{error}");
        assert!(!same_file(&a, &dir.join("other.pem")));
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }

    /// By default the responders listen on every interface; `--listen` chooses.
    #[test]
    fn the_responders_listen_everywhere_unless_told() -> Result<(), String> {
        let args = issue_line("--directory https://ca.example/dir --domain a.example")?;
        let addrs = args.http_addrs();
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_unspecified() && a.port() == 80)
        );
        assert_eq!(addrs.len(), 2);
        let args = issue_line(
            "--directory https://ca.example/dir --domain a.example --listen 127.0.0.1 --tls-port 5001",
        )?;
        assert_eq!(args.tls_addrs(), [SocketAddr::from(([127, 0, 0, 1], 5001))]);
        assert!(
            issue_line("--directory https://ca.example/dir --domain a --listen nowhere").is_err()
        );
        Ok(())
    }

    /// A pair is written whole, both files at once; a stale temporary file from an
    /// earlier run is not in the way, and none is left behind.
    #[test]
    fn a_pair_is_written_together_past_stale_temporary_files() -> Result<(), String> {
        let dir = temp_dir("pair")?;
        let (chain, key) = (dir.join("chain.pem"), dir.join("key.pem"));
        // Where a temporary file named after this process's id would go.
        let stale = dir.join(format!(".key.pem.tmp{}", std::process::id()));
        std::fs::write(stale, b"stale").map_err(|e| e.to_string())?;
        write_together(&[
            FileToWrite {
                path: &key,
                bytes: b"key",
                private: true,
            },
            FileToWrite {
                path: &chain,
                bytes: b"chain",
                private: false,
            },
        ])?;
        assert_eq!(std::fs::read(&key).map_err(|e| e.to_string())?, b"key");
        assert_eq!(std::fs::read(&chain).map_err(|e| e.to_string())?, b"chain");
        // One target cannot be written (its directory is missing): neither changes.
        let missing = dir.join("missing/chain.pem");
        let failed = write_together(&[
            FileToWrite {
                path: &key,
                bytes: b"new key",
                private: true,
            },
            FileToWrite {
                path: &missing,
                bytes: b"new chain",
                private: false,
            },
        ]);
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&key).map_err(|e| e.to_string())?, b"key");
        let temps = std::fs::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .count();
        assert_eq!(temps, 0, "a temporary file left behind");
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }
}
