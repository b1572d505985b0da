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
/// loopback. Dropping it kills and reaps the process.
#[derive(Debug)]
pub struct ChallTestSrv {
    process: Process,
    agent: Agent,
    management: PortLease,
    dns: PortLease,
}

impl ChallTestSrv {
    pub(crate) fn start(
        program: &Path,
        log_dir: &Path,
        version: PebbleVersion,
    ) -> Result<Self, HarnessError> {
        let dns = PortLease::take(true)?;
        let management = PortLease::take(false)?;
        let mut command = process::command(program);
        match version {
            // 2.10 renamed `-dns01` and added a DNS-over-HTTPS server (`-doh`, on :8443 of
            // every interface unless emptied, so two would collide).
            PebbleVersion::V2_10 => command
                .arg("-dnsserver")
                .arg(loopback(dns.port()).to_string())
                .args(["-doh", ""]),
            PebbleVersion::Debian2_4 => command.arg("-dns01").arg(loopback(dns.port()).to_string()),
        };
        command
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .arg("-management")
            .arg(loopback(management.port()).to_string());
        let process = Process::spawn(
            "pebble-challtestsrv",
            command,
            log_dir.join(format!("challtestsrv-{}.log", dns.port())),
        )?;
        let mut srv = Self {
            process,
            agent: http::agent(None)?,
            management,
            dns,
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
        loopback(self.dns.port())
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
