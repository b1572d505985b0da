//! An acme2certifier of the test's own: its CA, config, database, DNS server and address,
//! all dropped together.
//!
//! acme2certifier validates http-01 on port 80 and tls-alpn-01 on port 443 of the
//! identifier's address, and resolves names only through the DNS servers of its
//! `dns_server_list`, on port 53. So each instance gets a loopback address of its own,
//! 127.0.0.N: the harness holds TCP 80 and 443 there (handed to the test's responders),
//! `pebble-challtestsrv` answers DNS on N:53 with N for every name, and acme2certifier
//! itself (its WSGI application under `tests/acme2certifier/serve.py`, over TLS) listens
//! on an ephemeral port of 127.0.0.1.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use ureq::Agent;

use crate::HarnessError;
use crate::acme2certifier_files::{self, Acme2CertifierOptions};
use crate::challtestsrv::ChallTestSrv;
use crate::http;
use crate::loopback_address::LoopbackAddress;
use crate::options::PebbleVersion;
use crate::process::{self, Process};
use crate::tls;

/// How long acme2certifier may take to listen and answer on its directory.
const START_LIMIT: Duration = Duration::from_secs(15);
/// Addresses tried when the DNS server finds port 53 taken.
const START_ATTEMPTS: u32 = 5;

/// A running acme2certifier (0.46.3, pure-Python `openssl_ca_handler`, SQLite) and the
/// `pebble-challtestsrv` it resolves names through, on a loopback address of its own.
///
/// Dropping it kills and reaps both processes, then removes the temporary directory
/// (CA, config, database, TLS certificate, logs) and gives the address back.
#[derive(Debug)]
pub struct Acme2Certifier {
    // Field order is drop order: acme2certifier first, then challtestsrv, then the address.
    process: Process,
    challtestsrv: ChallTestSrv,
    address: LoopbackAddress,
    port: u16,
    agent: Agent,
    root_pem: String,
    ca_root_pem: String,
    startup: Duration,
    dir: TempDir,
}

impl Acme2Certifier {
    /// Claims a 127.0.0.N, starts challtestsrv's DNS server on N:53, writes the CA, the
    /// TLS certificate and the config, then starts acme2certifier and waits (at most
    /// 15 s) until its directory answers.
    pub fn start(options: Acme2CertifierOptions) -> Result<Self, HarnessError> {
        let root = workspace_root();
        let venv = options
            .venv
            .clone()
            .unwrap_or_else(|| crate::acme2certifier_venv_dir(&root));
        let python = process::find_program("python3", Some(&venv.join("bin"))).map_err(|_| {
            HarnessError::NotInstalled {
                program: "acme2certifier",
            }
        })?;
        let challtestsrv_dir = options
            .challtestsrv_dir
            .clone()
            .unwrap_or_else(|| crate::pebble_bin_dir(&root));
        let challtestsrv_program =
            process::find_program("pebble-challtestsrv", Some(&challtestsrv_dir))?;
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("acme-proto-acme2certifier-")
            .tempdir()
            .map_err(HarnessError::io("cannot create a temporary directory"))?;

        // Port 53 is only checked free when the address is claimed: a DNS server that
        // finds it taken meanwhile makes the harness claim another address.
        let mut attempt = 1;
        let (address, challtestsrv) = loop {
            let address = LoopbackAddress::claim()?;
            let ip = address.ip();
            match ChallTestSrv::start_on(
                &challtestsrv_program,
                dir.path(),
                PebbleVersion::V2_10,
                (SocketAddr::from((ip, 53)), None),
                ip,
            ) {
                Ok(srv) => break (address, srv),
                Err(HarnessError::AddressInUse { .. }) if attempt < START_ATTEMPTS => {
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        };
        let ip = address.ip();

        let tls = tls::generate(dir.path())?;
        let ca = acme2certifier_files::generate_ca(dir.path())?;
        let config = acme2certifier_files::write_config(dir.path(), &ca, ip, &options)?;
        let port_file = dir.path().join("port");
        let mut command = process::command(&python);
        command
            .arg(root.join("tests").join("acme2certifier").join("serve.py"))
            .args(["--listen", "127.0.0.1", "--cert"])
            .arg(&tls.cert)
            .arg("--key")
            .arg(&tls.key)
            .arg("--port-file")
            .arg(&port_file)
            .env("ACME_SRV_CONFIGFILE", &config)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(dir.path());
        // Validation connections and DNS queries go straight to loopback.
        for proxy in [
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
        ] {
            command.env_remove(proxy);
        }
        let mut process = Process::spawn(
            "acme2certifier",
            command,
            dir.path().join("acme2certifier.log"),
        )?;
        let mut port = None;
        process.wait_until("acme2certifier's port file", START_LIMIT, || {
            port = read_port(&port_file);
            port.is_some()
        })?;
        let port = port.unwrap_or_default();
        let agent = http::agent(Some(&tls.root_pem))?;
        let directory = directory_url(port);
        process.wait_until(&directory, START_LIMIT, || {
            http::get_text(&agent, &directory)
                .is_ok_and(|body| serde_json::from_str::<serde_json::Value>(&body).is_ok())
        })?;
        Ok(Self {
            process,
            challtestsrv,
            address,
            port,
            agent,
            root_pem: tls.root_pem,
            ca_root_pem: ca.root_pem,
            startup: began.elapsed(),
            dir,
        })
    }

    /// The directory URL, `https://127.0.0.1:PORT/directory`.
    pub fn directory_url(&self) -> String {
        directory_url(self.port)
    }

    /// The root of acme2certifier's HTTPS certificate (PEM), the only one a client
    /// should trust.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The root of the CA acme2certifier issues from (PEM): issued chains (leaf, then
    /// the issuing intermediate) validate up to it.
    pub fn ca_root_pem(&self) -> &str {
        &self.ca_root_pem
    }

    /// The instance's own loopback address, 127.0.0.N: every name resolves to it, and
    /// acme2certifier validates on its ports 80 (http-01) and 443 (tls-alpn-01).
    pub fn address(&self) -> Ipv4Addr {
        self.address.ip()
    }

    /// The listener bound on 127.0.0.N:80, for the test's http-01 responder; `None`
    /// once taken. The harness holds it until then, so no one else can take the port,
    /// but accepts nothing on it.
    pub fn take_http01_listener(&mut self) -> Option<TcpListener> {
        self.address.http.take()
    }

    /// The listener bound on 127.0.0.N:443; as [`Self::take_http01_listener`].
    pub fn take_tlsalpn01_listener(&mut self) -> Option<TcpListener> {
        self.address.tls.take()
    }

    /// The challtestsrv acme2certifier resolves names through (its DNS server on
    /// 127.0.0.N:53), for the dns-01 hook and extra records.
    pub fn challtestsrv(&self) -> &ChallTestSrv {
        &self.challtestsrv
    }

    /// acme2certifier's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// How long [`Acme2Certifier::start`] took, from claiming the address to the
    /// directory answering.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The temporary directory holding the config (`acme_srv.cfg`), the CA, the
    /// database (`acme_srv.db`) and the logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The end of acme2certifier's log, then challtestsrv's: for a failing test's
    /// message.
    pub fn log_tail(&self) -> String {
        format!(
            "acme2certifier: {}\npebble-challtestsrv: {}",
            self.process.log_tail(),
            self.challtestsrv.log_tail()
        )
    }

    /// acme2certifier's whole log so far (one line per request, among others).
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// GET `url` from acme2certifier with the harness's own client (trusting only its
    /// TLS root), the body of a `200 OK` answer.
    pub fn get_text(&self, url: &str) -> Result<String, HarnessError> {
        http::get_text(&self.agent, url)
    }
}

fn directory_url(port: u16) -> String {
    format!("https://127.0.0.1:{port}/directory")
}

/// The port serve.py wrote, once it listens.
fn read_port(path: &Path) -> Option<u16> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The workspace's root: this crate lives in `tests/`.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.to_owned(), Path::to_path_buf)
}
