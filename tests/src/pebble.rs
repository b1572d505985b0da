//! A Pebble of the test's own: config, certificate, challtestsrv, process, all dropped
//! together.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use tempfile::TempDir;
use ureq::Agent;

use crate::HarnessError;
use crate::challtestsrv::ChallTestSrv;
use crate::http;
use crate::options::{PebbleOptions, PebbleVersion};
use crate::ports::{PortLease, loopback};
use crate::process::{self, Process};
use crate::tls;

/// How long Pebble may take to answer on its directory and management interface.
const START_LIMIT: Duration = Duration::from_secs(10);
/// Start-ups retried with fresh ports when a port turns out to be taken.
const START_ATTEMPTS: u32 = 5;

/// A running Pebble and the `pebble-challtestsrv` it resolves names through, on free
/// loopback ports, with a TLS root generated for this run.
///
/// Dropping it kills and reaps both processes, then removes the temporary directory
/// (config, certificate, key and logs).
#[derive(Debug)]
pub struct Pebble {
    // Field order is drop order: Pebble first, then challtestsrv, then the ports.
    process: Process,
    challtestsrv: ChallTestSrv,
    listen: PortLease,
    management: PortLease,
    http01: Listener,
    tlsalpn01: Listener,
    agent: Agent,
    root_pem: String,
    alternate_roots: u8,
    version: PebbleVersion,
    startup: Duration,
    _dir: TempDir,
}

/// A port held for the caller: bound by the harness so no one else takes it, handed
/// over on request.
#[derive(Debug)]
struct Listener {
    port: u16,
    held: Option<TcpListener>,
}

impl Listener {
    fn bind() -> Result<Self, HarnessError> {
        let listener = TcpListener::bind(loopback(0))
            .map_err(HarnessError::io("cannot bind a TCP port on 127.0.0.1"))?;
        let port = listener
            .local_addr()
            .map_err(HarnessError::io("cannot read a bound port"))?
            .port();
        Ok(Self {
            port,
            held: Some(listener),
        })
    }
}

impl Pebble {
    /// Starts challtestsrv, then Pebble, and waits (at most 10 s each) until both answer.
    ///
    /// A port taken between choosing it and the server binding it is retried with fresh
    /// ports, up to five times.
    pub fn start(options: PebbleOptions) -> Result<Self, HarnessError> {
        let dir_option = match (&options.programs_dir, options.version) {
            (Some(dir), _) => Some(dir.clone()),
            (None, PebbleVersion::V2_10) => Some(crate::pebble_bin_dir(&workspace_root())),
            (None, PebbleVersion::Debian2_4) => None,
        };
        let pebble = process::find_program("pebble", dir_option.as_deref())?;
        let challtestsrv = process::find_program("pebble-challtestsrv", dir_option.as_deref())?;
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("acme-proto-pebble-")
            .tempdir()
            .map_err(HarnessError::io("cannot create a temporary directory"))?;
        let tls = tls::generate(dir.path())?;
        let http01 = Listener::bind()?;
        let tlsalpn01 = Listener::bind()?;
        let agent = http::agent(Some(&tls.root_pem))?;
        let mut attempt = 1;
        let (process, challtestsrv, listen, management) = loop {
            let setup = Setup {
                pebble: &pebble,
                challtestsrv: &challtestsrv,
                dir: dir.path(),
                tls: &tls,
                http01: http01.port,
                tlsalpn01: tlsalpn01.port,
                agent: &agent,
                options: &options,
            };
            match setup.try_start(attempt) {
                Err(HarnessError::AddressInUse {
                    program, log_tail, ..
                }) => {
                    if attempt == START_ATTEMPTS {
                        return Err(HarnessError::AddressInUse {
                            program,
                            attempts: attempt,
                            log_tail,
                        });
                    }
                    attempt += 1;
                }
                other => break other?,
            }
        };
        Ok(Self {
            process,
            challtestsrv,
            listen,
            management,
            http01,
            tlsalpn01,
            agent,
            root_pem: tls.root_pem,
            alternate_roots: options.alternate_roots,
            version: options.version,
            startup: began.elapsed(),
            _dir: dir,
        })
    }

    /// Which Pebble this is.
    pub fn version(&self) -> PebbleVersion {
        self.version
    }

    /// The directory URL, `https://127.0.0.1:PORT/dir`.
    pub fn directory_url(&self) -> String {
        format!("https://{}/dir", self.listen_addr())
    }

    /// The root of Pebble's HTTPS certificate (PEM), the only one a client should trust.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// The base URL of Pebble's management interface, `https://127.0.0.1:PORT`
    /// (same certificate as the directory).
    pub fn management_url(&self) -> String {
        format!("https://{}", self.management_addr())
    }

    /// Where the ACME API listens.
    pub fn listen_addr(&self) -> SocketAddr {
        loopback(self.listen.port())
    }

    /// Where the management interface listens.
    pub fn management_addr(&self) -> SocketAddr {
        loopback(self.management.port())
    }

    /// The port Pebble connects to on 127.0.0.1 to validate http-01 (its `httpPort`).
    pub fn http01_port(&self) -> u16 {
        self.http01.port
    }

    /// The port Pebble connects to on 127.0.0.1 to validate tls-alpn-01 (its `tlsPort`).
    pub fn tlsalpn01_port(&self) -> u16 {
        self.tlsalpn01.port
    }

    /// The listener bound on [`Self::http01_port`], for the test's http-01 responder;
    /// `None` once taken. The harness holds it until then, so no one else can take the
    /// port, but accepts nothing on it.
    pub fn take_http01_listener(&mut self) -> Option<TcpListener> {
        self.http01.held.take()
    }

    /// The listener bound on [`Self::tlsalpn01_port`]; as [`Self::take_http01_listener`].
    pub fn take_tlsalpn01_listener(&mut self) -> Option<TcpListener> {
        self.tlsalpn01.held.take()
    }

    /// The challtestsrv this Pebble resolves names through.
    pub fn challtestsrv(&self) -> &ChallTestSrv {
        &self.challtestsrv
    }

    /// Pebble's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// How long [`Pebble::start`] took, from certificate generation to both servers
    /// answering.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The end of Pebble's log, then challtestsrv's: for a failing test's message.
    pub fn log_tail(&self) -> String {
        format!(
            "pebble: {}\npebble-challtestsrv: {}",
            self.process.log_tail(),
            self.challtestsrv.log_tail()
        )
    }

    /// Pebble's whole log so far (one line per request it handled, among others): for
    /// counting what a client sent.
    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Sets the renewal information Pebble serves for `certificate_pem` (its end-entity
    /// certificate, PEM) to `ari_response`, as is (management `POST /set-renewal-info/`,
    /// Pebble 2.8 and later).
    pub fn set_renewal_info(
        &self,
        certificate_pem: &str,
        ari_response: &str,
    ) -> Result<(), HarnessError> {
        http::post_json(
            &self.agent,
            &format!("{}/set-renewal-info/", self.management_url()),
            &json!({ "Certificate": certificate_pem, "ARIResponse": ari_response }),
        )
    }

    /// Waits, at most `limit`, until Pebble's log has `count` lines containing `needle`
    /// (what Pebble does after answering, such as marking a replaced order, is only
    /// seen in its log). Returns how many it has then.
    pub fn wait_for_log(&self, needle: &str, count: usize, limit: Duration) -> usize {
        let began = Instant::now();
        loop {
            let seen = self.log().lines().filter(|l| l.contains(needle)).count();
            if seen >= count || began.elapsed() >= limit {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The PEM root of each issuing hierarchy: `/roots/0`, then `/roots/1` … for each
    /// alternate root, from the management interface. Issued chains end below these.
    pub fn issuer_roots(&self) -> Result<Vec<String>, HarnessError> {
        (0..=self.alternate_roots)
            .map(|i| http::get_text(&self.agent, &format!("{}/roots/{i}", self.management_url())))
            .collect()
    }
}

/// What one start-up attempt needs.
struct Setup<'a> {
    pebble: &'a Path,
    challtestsrv: &'a Path,
    dir: &'a Path,
    tls: &'a tls::TlsFiles,
    http01: u16,
    tlsalpn01: u16,
    agent: &'a Agent,
    options: &'a PebbleOptions,
}

impl Setup<'_> {
    fn try_start(
        &self,
        attempt: u32,
    ) -> Result<(Process, ChallTestSrv, PortLease, PortLease), HarnessError> {
        let challtestsrv = ChallTestSrv::start(self.challtestsrv, self.dir, self.options.version)?;
        let listen = PortLease::take(false)?;
        let management = PortLease::take(false)?;
        let config = self.write_config(attempt, &listen, &management)?;

        let options = self.options;
        let mut command = process::command(self.pebble);
        command
            .arg("-config")
            .arg(&config)
            .arg("-dnsserver")
            .arg(challtestsrv.dns_server().to_string())
            .env(
                "PEBBLE_WFE_NONCEREJECT",
                options.nonce_reject_percent.to_string(),
            )
            .env("PEBBLE_AUTHZREUSE", options.authz_reuse_percent.to_string());
        if options.strict {
            command.arg("-strict");
        }
        if options.no_sleep {
            command.env("PEBBLE_VA_NOSLEEP", "1");
        }
        if options.always_valid {
            command.env("PEBBLE_VA_ALWAYS_VALID", "1");
        }
        if let Some(seconds) = options.va_sleep_time {
            command.env("PEBBLE_VA_SLEEPTIME", seconds.to_string());
        }
        if let Some(length) = options.chain_length {
            command.env("PEBBLE_CHAIN_LENGTH", length.to_string());
        }
        if options.alternate_roots > 0 {
            command.env(
                "PEBBLE_ALTERNATE_ROOTS",
                options.alternate_roots.to_string(),
            );
        }
        let mut process = Process::spawn(
            "pebble",
            command,
            self.dir.join(format!("pebble-{attempt}.log")),
        )?;

        let directory = format!("https://{}/dir", loopback(listen.port()));
        process.wait_until(&directory, START_LIMIT, || {
            http::get_text(self.agent, &directory)
                .is_ok_and(|body| serde_json::from_str::<serde_json::Value>(&body).is_ok())
        })?;
        let roots = format!("https://{}/roots/0", loopback(management.port()));
        process.wait_until(&roots, START_LIMIT, || {
            http::get_text(self.agent, &roots).is_ok()
        })?;
        Ok((process, challtestsrv, listen, management))
    }

    fn write_config(
        &self,
        attempt: u32,
        listen: &PortLease,
        management: &PortLease,
    ) -> Result<PathBuf, HarnessError> {
        let options = self.options;
        let mut pebble = json!({
            "listenAddress": loopback(listen.port()).to_string(),
            "managementListenAddress": loopback(management.port()).to_string(),
            "certificate": self.tls.cert,
            "privateKey": self.tls.key,
            "httpPort": self.http01,
            "tlsPort": self.tlsalpn01,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": !options.eab_keys.is_empty(),
        });
        if !options.eab_keys.is_empty()
            && let Some(map) = pebble.as_object_mut()
        {
            map.insert("externalAccountMACKeys".into(), json!(options.eab_keys));
        }
        if options.version == PebbleVersion::V2_10
            && let Some(map) = pebble.as_object_mut()
        {
            map.insert(
                "keyAlgorithm".into(),
                json!(options.issuer_key.config_name()),
            );
            // As Pebble's own test config (2.7 and later); 2.4.0 has no profiles. No
            // `retryAfter`: Pebble then sends no Retry-After, and polls stay fast.
            map.insert(
                "profiles".into(),
                json!({
                    "default": {
                        "description": "The profile you know and love",
                        "validityPeriod": 7_776_000,
                    },
                    "shortlived": {
                        "description": "A short-lived cert profile, without actual enforcement",
                        "validityPeriod": 518_400,
                    },
                }),
            );
        }
        let path = self.dir.join(format!("pebble-config-{attempt}.json"));
        std::fs::write(&path, json!({ "pebble": pebble }).to_string())
            .map_err(HarnessError::io(format!("cannot write {}", path.display())))?;
        Ok(path)
    }
}

/// The workspace's root: this crate lives in `tests/`.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.to_owned(), Path::to_path_buf)
}
