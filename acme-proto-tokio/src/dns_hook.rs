//! DNS challenges (dns-01, dns-account-01, dns-persist-01) through the caller's own
//! command, as certbot's and lego's "exec" hooks do.

use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use acme_proto::client::{ChallengeOffer, Solution};
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use crate::solver::{Solver, SolverError};

/// The most of a hook's standard error kept for an error message.
const STDERR_KEPT: u64 = 4096;

/// A [`Solver`] that runs a command to put DNS records in place and remove them:
/// `PROGRAM [ARGS…] present RECORD_NAME VALUE`, then `PROGRAM [ARGS…] cleanup
/// RECORD_NAME VALUE`, with `ACME_CHALLENGE_TYPE` (`dns-01`, `dns-account-01` or
/// `dns-persist-01`) and `ACME_IDENTIFIER` in its environment.
///
/// A non-zero exit, or no exit within the timeout (the command is then killed), fails
/// the step with the first 4 KiB of what the command wrote to its standard error.
/// Record names are passed without a trailing dot. The command must only return once
/// the record can be seen by the CA's resolvers.
#[derive(Debug, Clone)]
pub struct DnsHook {
    program: OsString,
    args: Vec<OsString>,
    timeout: Duration,
    prefer: Vec<&'static str>,
}

impl DnsHook {
    /// A hook running `program` (looked up in `PATH` when it has no slash).
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            timeout: Duration::from_secs(300),
            prefer: vec!["dns-01", "dns-account-01", "dns-persist-01"],
        }
    }

    /// Arguments put before `present`/`cleanup`.
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

    /// The DNS challenge types to answer, most preferred first (default: dns-01,
    /// dns-account-01, dns-persist-01).
    #[must_use]
    pub fn prefer(mut self, types: &[&'static str]) -> Self {
        self.prefer = types.to_vec();
        self
    }

    async fn run(&self, step: &str, offer: &ChallengeOffer) -> Result<(), SolverError> {
        let (name, value) = match &offer.solution {
            Solution::Dns01 { name, value }
            | Solution::DnsAccount01 { name, value }
            | Solution::DnsPersist01 { name, value } => (name, value),
            _ => return Err(format!("not a DNS challenge: {}", offer.type_name()).into()),
        };
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .args([step, name.as_str(), value.as_str()])
            .env("ACME_CHALLENGE_TYPE", offer.type_name())
            .env("ACME_IDENTIFIER", offer.identifier.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run the DNS hook {:?}: {e}", self.program))?;
        let stderr = child.stderr.take();
        let run = async {
            let mut kept = Vec::new();
            if let Some(stderr) = stderr {
                let mut limited = stderr.take(STDERR_KEPT);
                let _ = limited.read_to_end(&mut kept).await;
                // Drain the rest without keeping it, so the command never blocks on a full pipe.
                let _ = tokio::io::copy(&mut limited.into_inner(), &mut tokio::io::sink()).await;
            }
            (child.wait().await, kept)
        };
        let (status, kept) = tokio::time::timeout(self.timeout, run).await.map_err(|_| {
            format!(
                "the DNS hook did not finish `{step} {name}` within {:?}",
                self.timeout
            )
        })?;
        let status = status.map_err(|e| format!("the DNS hook failed: {e}"))?;
        if status.success() {
            tracing::debug!(step, %name, "DNS hook done");
            Ok(())
        } else {
            let said = String::from_utf8_lossy(&kept);
            Err(format!(
                "the DNS hook failed `{step} {name}` ({status}): {}",
                said.trim()
            )
            .into())
        }
    }
}

impl Solver for DnsHook {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        self.prefer
            .iter()
            .find_map(|wanted| offers.iter().find(|o| o.type_name() == *wanted))
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.run("present", offer).await
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        self.run("cleanup", offer).await
    }
}
