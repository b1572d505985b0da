//! `pebble-challtestsrv`: the DNS server Pebble resolves through, with its management API.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use ureq::Agent;

use crate::HarnessError;
use crate::dns;
use crate::http;
use crate::options::PebbleVersion;
use crate::ports::{PortLease, loopback};
use crate::process::{self, Process};

/// How long challtestsrv may take to answer on its API and its DNS port.
const START_LIMIT: Duration = Duration::from_secs(10);
/// How long one DNS query may take.
const DNS_LIMIT: Duration = Duration::from_secs(2);

/// A running `pebble-challtestsrv` with only its DNS server on, over UDP and TCP (Pebble
/// 2.10 asks over TCP only; http-01, https-01, tls-alpn-01 and DNS-over-HTTPS are off: the
/// responders are the drivers' job). A and AAAA queries it has no record
/// for are answered with 127.0.0.1 and nothing, so every name Pebble validates lands on
/// loopback (127.0.0.N instead for acme2certifier, each on its own). Dropping it kills and
/// reaps the process.
#[derive(Debug)]
pub struct ChallTestSrv {
    process: Process,
    agent: Agent,
    management: PortLease,
    dns: SocketAddr,
    /// The lease on `dns`'s port, when the harness chose a free one on 127.0.0.1.
    _dns_lease: Option<PortLease>,
}

impl ChallTestSrv {
    pub(crate) fn start(
        program: &Path,
        log_dir: &Path,
        version: PebbleVersion,
    ) -> Result<Self, HarnessError> {
        let lease = PortLease::take(true)?;
        let dns = loopback(lease.port());
        Self::start_on(
            program,
            log_dir,
            version,
            (dns, Some(lease)),
            Ipv4Addr::LOCALHOST,
        )
    }

    /// Starts it with its DNS server on `dns` (the address, and the lease on its port
    /// if any) and A queries it has no record for answered with `default_ipv4`.
    pub(crate) fn start_on(
        program: &Path,
        log_dir: &Path,
        version: PebbleVersion,
        (dns, dns_lease): (SocketAddr, Option<PortLease>),
        default_ipv4: Ipv4Addr,
    ) -> Result<Self, HarnessError> {
        let management = PortLease::take(false)?;
        let mut command = process::command(program);
        match version {
            // 2.10 renamed `-dns01` and added a DNS-over-HTTPS server (`-doh`, on :8443 of
            // every interface unless emptied, so two would collide).
            PebbleVersion::V2_10 => command
                .arg("-dnsserver")
                .arg(dns.to_string())
                .args(["-doh", ""]),
            PebbleVersion::Debian2_4 => command.arg("-dns01").arg(dns.to_string()),
        };
        command
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .arg("-defaultIPv4")
            .arg(default_ipv4.to_string())
            .args(["-defaultIPv6", ""])
            .arg("-management")
            .arg(loopback(management.port()).to_string());
        let process = Process::spawn(
            "pebble-challtestsrv",
            command,
            log_dir.join(format!("challtestsrv-{}-{}.log", dns.ip(), dns.port())),
        )?;
        let mut srv = Self {
            process,
            agent: http::agent(None)?,
            management,
            dns,
            _dns_lease: dns_lease,
        };
        let api = srv.management_url();
        let agent = srv.agent.clone();
        srv.process.wait_until(
            &format!("challtestsrv's management API at {api}"),
            START_LIMIT,
            || agent.get(format!("{api}/")).call().is_ok(),
        )?;
        let server = srv.dns_server();
        srv.process.wait_until(
            &format!("challtestsrv's DNS server at {server}"),
            START_LIMIT,
            || {
                dns::query(
                    server,
                    "harness-ready.invalid",
                    dns::TYPE_A,
                    Duration::from_millis(200),
                )
                .is_ok()
            },
        )?;
        Ok(srv)
    }

    /// The base URL of the management API, `http://127.0.0.1:PORT`.
    pub fn management_url(&self) -> String {
        format!("http://{}", loopback(self.management.port()))
    }

    /// The DNS server's address (UDP and TCP); Pebble is started with it as `-dnsserver`.
    pub fn dns_server(&self) -> SocketAddr {
        self.dns
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Serves a TXT record `value` for `name` (a trailing dot is added when missing),
    /// as a dns-01 responder would.
    pub fn add_txt(&self, name: &str, value: &str) -> Result<(), HarnessError> {
        self.post("set-txt", &json!({ "host": fqdn(name), "value": value }))
    }

    /// Removes every TXT record for `name`.
    pub fn clear_txt(&self, name: &str) -> Result<(), HarnessError> {
        self.post("clear-txt", &json!({ "host": fqdn(name) }))
    }

    /// Answers A queries for `host` with `ip` instead of the default 127.0.0.1.
    pub fn add_a(&self, host: &str, ip: Ipv4Addr) -> Result<(), HarnessError> {
        self.post(
            "add-a",
            &json!({ "host": fqdn(host), "addresses": [ip.to_string()] }),
        )
    }

    /// Removes the A records set for `host`.
    pub fn clear_a(&self, host: &str) -> Result<(), HarnessError> {
        self.post("clear-a", &json!({ "host": fqdn(host) }))
    }

    /// Asks the DNS server, over UDP, for the TXT records of `name`: what Pebble sees.
    pub fn lookup_txt(&self, name: &str) -> Result<Vec<String>, HarnessError> {
        dns::query(self.dns_server(), name, dns::TYPE_TXT, DNS_LIMIT).map(dns::txt_values)
    }

    /// Asks the DNS server, over UDP, for the A records of `name`.
    pub fn lookup_a(&self, name: &str) -> Result<Vec<Ipv4Addr>, HarnessError> {
        dns::query(self.dns_server(), name, dns::TYPE_A, DNS_LIMIT).map(dns::a_values)
    }

    pub(crate) fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    fn post(&self, path: &str, body: &serde_json::Value) -> Result<(), HarnessError> {
        http::post_json(
            &self.agent,
            &format!("{}/{path}", self.management_url()),
            body,
        )
    }
}

fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}
