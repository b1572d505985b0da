//! DNS challenges (dns-01, dns-account-01, and dns-persist-01 when opted in) through
//! the caller's own command, as certbot's and lego's "exec" hooks do. The command line, the choice
//! and the failure message live here; each driver runs the command its own way.

use std::ffi::OsString;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use acme_proto::client::{ChallengeOffer, PersistIssuers, Solution};

use crate::error::SolverError;

const DNS_PERSIST_01: &str = "dns-persist-01";

/// A solver that runs a command to put DNS records in place and remove them:
///
/// ```text
/// PROGRAM [ARGS…] present -- RECORD_NAME VALUE
/// PROGRAM [ARGS…] cleanup -- RECORD_NAME VALUE
/// ```
///
/// The record name and value are in the command's environment too, as
/// `ACME_RECORD_NAME` and `ACME_RECORD_VALUE`, beside `ACME_CHALLENGE_TYPE` (`dns-01`,
/// `dns-account-01` or, when opted in, `dns-persist-01`) and `ACME_IDENTIFIER`. The value
/// is made from what the server sent (a server can pick tokens until a dns-01 value
/// starts with `-`): a hook takes the record name and value from the variables, or as
/// the two arguments after `--`, never as options.
///
/// The command gets this process's environment without the variables through which
/// this library's users and its examples pass secrets
/// ([`ENV_REMOVED`](Self::ENV_REMOVED)), nothing on its standard input, and its
/// standard output discarded. A non-zero exit, or no exit within the timeout, fails the
/// step with the first 4 KiB of what the command wrote to its standard error. On Unix
/// the command leads a process group of its own, and a run that does not end in time is
/// killed with the whole group: the command and whatever it started (unless that left
/// the group, as `setsid` does); elsewhere the command alone is killed.
///
/// Record names are passed without a trailing dot. The command must only return once
/// the record can be seen by the CA's resolvers.
///
/// dns-persist-01 is answered only once opted in with
/// [`dns_persist01`](Self::dns_persist01): its record is long-lived and names a CA and
/// an account, so it is never published because a server offered it.
#[derive(Debug, Clone)]
pub struct DnsHook {
    program: OsString,
    args: Vec<OsString>,
    timeout: Duration,
    prefer: Vec<&'static str>,
    persist: Option<PersistIssuers>,
}

impl DnsHook {
    /// The most of a hook's standard error kept for an error message.
    pub const STDERR_KEPT: u64 = 4096;

    /// The environment variables a hook never gets, whatever this process has: those
    /// through which the library or its examples take a secret (`ACME_EAB_HMAC_KEY`,
    /// the examples' EAB MAC key).
    pub const ENV_REMOVED: &'static [&'static str] = &["ACME_EAB_HMAC_KEY"];

    /// A hook running `program` (looked up in `PATH` when it has no slash).
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            timeout: Duration::from_secs(300),
            prefer: vec!["dns-01", "dns-account-01"],
            persist: None,
        }
    }

    /// Arguments put before `present`/`cleanup` (taken as they are: only what follows
    /// `--` comes from the server).
    #[must_use]
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// How long one run of the command may take (default 300 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The DNS challenge types to answer, most preferred first (default: dns-01, then
    /// dns-account-01, then dns-persist-01 once [opted in](Self::dns_persist01)).
    /// dns-persist-01 here is answered only when opted in.
    #[must_use]
    pub fn prefer(mut self, types: &[&'static str]) -> Self {
        self.prefer = types.to_vec();
        self
    }

    /// Also answers dns-persist-01 (draft-ietf-acme-dns-persist), after the types
    /// already preferred, with a record naming this client's account and the first
    /// issuer domain name of `issuers` that the server lists
    /// ([`PersistIssuers::DirectoryHost`]: the directory URL's host). An offer listing
    /// none of them is not chosen. Off by default: the record stays in place and
    /// authorizes that CA account for the domain for as long as it does.
    #[must_use]
    pub fn dns_persist01(mut self, issuers: PersistIssuers) -> Self {
        if !self.prefer.contains(&DNS_PERSIST_01) {
            self.prefer.push(DNS_PERSIST_01);
        }
        self.persist = Some(issuers);
        self
    }

    /// How long one run may take.
    pub fn time_limit(&self) -> Duration {
        self.timeout
    }

    /// The preferred DNS offer among `offers` (dns-persist-01 only when opted in and
    /// the server lists an allowed issuer domain name).
    pub fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.prefer.iter().find_map(|wanted| {
            offers.iter().find(|o| {
                o.type_name() == *wanted
                    && match &o.solution {
                        Solution::DnsPersist01(_) => self.persist_value(o).is_some(),
                        _ => true,
                    }
            })
        })
    }

    /// The dns-persist-01 record's text for `offer`, when opted in and allowed.
    fn persist_value(&self, offer: &ChallengeOffer) -> Option<String> {
        match (&offer.solution, &self.persist) {
            (Solution::DnsPersist01(record), Some(issuers)) => record.value(issuers),
            _ => None,
        }
    }

    /// The command for `step` (`present` or `cleanup`) of `offer`, its standard error
    /// piped and nothing else connected, in a process group of its own on Unix, and the
    /// record name (for messages).
    pub fn command(
        &self,
        step: &str,
        offer: &ChallengeOffer,
    ) -> Result<(Command, String), SolverError> {
        let (name, value) = match &offer.solution {
            Solution::Dns01 { name, value } | Solution::DnsAccount01 { name, value } => {
                (name.as_str(), value.clone())
            }
            Solution::DnsPersist01(record) => {
                let value = self.persist_value(offer).ok_or(
                    "dns-persist-01 is not answered: not opted in, or no allowed issuer domain name",
                )?;
                (record.name(), value)
            }
            _ => return Err(format!("not a DNS challenge: {}", offer.type_name()).into()),
        };
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            // `--`: a value starting with `-` is not an option.
            .args([step, "--", name, value.as_str()])
            .env("ACME_CHALLENGE_TYPE", offer.type_name())
            .env("ACME_IDENTIFIER", offer.identifier.to_string())
            .env("ACME_RECORD_NAME", name)
            .env("ACME_RECORD_VALUE", value.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for secret in Self::ENV_REMOVED {
            command.env_remove(secret);
        }
        // Its own process group, so that a timeout kills what it started too.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        Ok((command, name.to_owned()))
    }

    /// Kills the process group of a run that did not end in time (SIGKILL to `-id`, `id`
    /// the command's process ID, which [`command`](Self::command) made the group's ID):
    /// the command and whatever it started. Not on other systems, nor without an `id`
    /// (tokio's once the command was reaped): the driver kills the command itself
    /// either way.
    ///
    /// Called while the group can still be named: the command not reaped yet, or a
    /// process it started still running (what keeps a group, and so its ID, in use).
    pub fn kill_group(id: Option<u32>) {
        #[cfg(unix)]
        {
            use rustix::process::{Pid, Signal, kill_process_group};
            // Never 1 (every process this one may signal) nor 0 (its own group).
            let Some(pid) = id
                .filter(|id| *id > 1)
                .and_then(|id| i32::try_from(id).ok())
                .and_then(Pid::from_raw)
            else {
                return;
            };
            if let Err(error) = kill_process_group(pid, Signal::KILL) {
                // ESRCH: the group ended on its own meanwhile.
                tracing::debug!(%error, "killing the DNS hook's process group");
            }
        }
        #[cfg(not(unix))]
        let _ = id;
    }

    /// The error of a run that could not start.
    pub fn spawn_failed(&self, error: &std::io::Error) -> SolverError {
        format!("cannot run the DNS hook {:?}: {error}", self.program).into()
    }

    /// The error of a run that did not end in time (and was killed).
    pub fn timed_out(&self, step: &str, name: &str) -> SolverError {
        format!(
            "the DNS hook did not finish `{step} {name}` within {:?}",
            self.timeout
        )
        .into()
    }

    /// The outcome of a run that ended with `status`, having written `stderr` (at most
    /// [`STDERR_KEPT`](Self::STDERR_KEPT) bytes of it).
    pub fn outcome(
        step: &str,
        name: &str,
        status: std::io::Result<ExitStatus>,
        stderr: &[u8],
    ) -> Result<(), SolverError> {
        let status = status.map_err(|e| format!("the DNS hook failed: {e}"))?;
        if status.success() {
            tracing::debug!(step, %name, "DNS hook done");
            return Ok(());
        }
        let said = String::from_utf8_lossy(stderr);
        Err(format!(
            "the DNS hook failed `{step} {name}` ({status}): {}",
            said.trim()
        )
        .into())
    }
}
