//! What an acme2certifier of the test's own needs on disk: the CA its
//! `openssl_ca_handler` issues from, its config file (`ACME_SRV_CONFIGFILE`), the EAB key
//! file, and the options they are written from.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::HarnessError;

/// How to start acme2certifier: a builder, `Acme2CertifierOptions::default()` for a
/// plain server (no EAB, no profiles, ARI on).
#[derive(Debug, Clone, Default)]
pub struct Acme2CertifierOptions {
    pub(crate) eab_keys: BTreeMap<String, String>,
    pub(crate) profiles: BTreeMap<String, String>,
    pub(crate) venv: Option<PathBuf>,
    pub(crate) challtestsrv_dir: Option<PathBuf>,
}

impl Acme2CertifierOptions {
    /// An External Account Binding key: `kid` and its HMAC key in base64url. Any key
    /// makes EAB required: the config gets an `[EABhandler]` section with
    /// acme2certifier's CSV `file_handler` and a key file listing the keys.
    #[must_use]
    pub fn eab_key(
        mut self,
        kid: impl Into<String>,
        hmac_key_base64url: impl Into<String>,
    ) -> Self {
        self.eab_keys.insert(kid.into(), hmac_key_base64url.into());
        self
    }

    /// A profile the directory lists (`meta.profiles`, name and description), from
    /// `[Order] profiles` in the config. Any profile turns acme2certifier's profile check
    /// on: an order naming another one is refused (`invalidProfile`), unless only one
    /// is configured, which then replaces whatever the order names.
    #[must_use]
    pub fn profile(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.profiles.insert(name.into(), description.into());
        self
    }

    /// The venv acme2certifier is installed in, instead of the workspace's
    /// `.tools/acme2certifier-VERSION/venv`.
    #[must_use]
    pub fn venv(mut self, dir: impl Into<PathBuf>) -> Self {
        self.venv = Some(dir.into());
        self
    }

    /// Where to find `pebble-challtestsrv` (the DNS server), instead of
    /// [`pebble_bin_dir`](crate::pebble_bin_dir).
    #[must_use]
    pub fn challtestsrv_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.challtestsrv_dir = Some(dir.into());
        self
    }
}

/// The CA acme2certifier issues from: a root, and an intermediate that signs.
pub(crate) struct CaFiles {
    /// The root (PEM): issued chains validate up to it.
    pub(crate) root_pem: String,
    pub(crate) root: PathBuf,
    pub(crate) issuing_cert: PathBuf,
    pub(crate) issuing_key: PathBuf,
}

/// Generates the CA: a root, and below it the issuing intermediate
/// (`issuing_ca_cert`, `issuing_ca_key`) acme2certifier signs leaves with.
pub(crate) fn generate_ca(dir: &Path) -> Result<CaFiles, HarnessError> {
    let failed = |e: rcgen::Error| HarnessError::Certificate(e.to_string());
    let root_key = KeyPair::generate().map_err(failed)?;
    let mut root = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root.distinguished_name
        .push(DnType::CommonName, "acme-proto test acme2certifier root");
    let root_cert = root.self_signed(&root_key).map_err(failed)?;
    let root_issuer = Issuer::new(root, root_key);

    let issuing_key = KeyPair::generate().map_err(failed)?;
    let mut issuing = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    issuing.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    issuing.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    issuing.distinguished_name.push(
        DnType::CommonName,
        "acme-proto test acme2certifier issuing CA",
    );
    let issuing_cert = issuing
        .signed_by(&issuing_key, &root_issuer)
        .map_err(failed)?;

    let files = CaFiles {
        root_pem: root_cert.pem(),
        root: dir.join("ca-root.pem"),
        issuing_cert: dir.join("ca-issuing.pem"),
        issuing_key: dir.join("ca-issuing-key.pem"),
    };
    write(&files.root, &files.root_pem)?;
    write(&files.issuing_cert, &issuing_cert.pem())?;
    write(&files.issuing_key, &issuing_key.serialize_pem())?;
    Ok(files)
}

/// Writes `acme_srv.cfg` in `dir` (and the EAB key file when there are keys): the
/// `openssl_ca_handler` with `ca`, a SQLite database in `dir`, names resolved only
/// through the DNS server on `dns:53`.
pub(crate) fn write_config(
    dir: &Path,
    ca: &CaFiles,
    dns: Ipv4Addr,
    options: &Acme2CertifierOptions,
) -> Result<PathBuf, HarnessError> {
    let certs = dir.join("issued");
    std::fs::create_dir_all(&certs).map_err(HarnessError::io(format!(
        "cannot create {}",
        certs.display()
    )))?;
    let path = |p: &Path| p.display().to_string();
    let json = |v: serde_json::Value| v.to_string();
    // configparser: `key: value`, one per line; values are taken as they stand.
    let mut config = String::new();
    let mut line = |s: String| {
        config.push_str(&s);
        config.push('\n');
    };
    line("[DEFAULT]".into());
    line("debug: False".into());
    line(format!(
        "dns_server_list: {}",
        json(serde_json::json!([dns.to_string()]))
    ));
    line(String::new());
    line("[Nonce]".into());
    line("nonce_check_disable: False".into());
    line(String::new());
    line("[CAhandler]".into());
    line("handler_module: acme2certifier.cahandlers.openssl_ca_handler".into());
    line(format!("issuing_ca_key: {}", path(&ca.issuing_key)));
    line(format!("issuing_ca_cert: {}", path(&ca.issuing_cert)));
    line(format!("issuing_ca_crl: {}", path(&dir.join("crl.pem"))));
    // No `ca_cert_chain_list`: chains are the leaf and the issuing CA, without the
    // root, as Pebble serves them.
    line(format!("cert_save_path: {}", path(&certs)));
    line("cert_validity_days: 30".into());
    line(String::new());
    line("[DBhandler]".into());
    line("handler: wsgi".into());
    line(format!("dbfile: {}", path(&dir.join("acme_srv.db"))));
    line(String::new());
    line("[Certificate]".into());
    line("revocation_reason_check_disable: False".into());
    line(String::new());
    line("[Challenge]".into());
    line("challenge_validation_disable: False".into());
    line("challenge_validation_timeout: 5".into());
    line(String::new());
    line("[Order]".into());
    line("tnauthlist_support: False".into());
    // The Retry-After on a `processing` order, in seconds (the default is 600).
    line("retry_after_timeout: 1".into());
    if !options.profiles.is_empty() {
        line(format!(
            "profiles: {}",
            json(serde_json::json!(options.profiles))
        ));
    }
    if !options.eab_keys.is_empty() {
        let key_file = dir.join("eab-keys.csv");
        let mut csv = String::from("eab_kid,eab_mac\n");
        for (kid, key) in &options.eab_keys {
            let _ = writeln!(csv, "{kid},{key}");
        }
        write(&key_file, &csv)?;
        line(String::new());
        line("[EABhandler]".into());
        line("eab_handler_module: acme2certifier.eabhandlers.file_handler".into());
        line(format!("key_file: {}", path(&key_file)));
    }
    let file = dir.join("acme_srv.cfg");
    write(&file, &config)?;
    Ok(file)
}

fn write(path: &Path, contents: &str) -> Result<(), HarnessError> {
    std::fs::write(path, contents)
        .map_err(HarnessError::io(format!("cannot write {}", path.display())))
}
