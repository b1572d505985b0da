//! [`DnsHook`] on tokio: DNS challenges (dns-01, dns-account-01, and dns-persist-01
//! when opted in with [`DnsHook::dns_persist01`]) through the caller's own command, run
//! with `tokio::process`; at its time limit, its process group is killed.

use std::time::Duration;

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::DnsHook;
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use crate::solver::{Solver, SolverError};

/// How long a killed hook is waited for, to reap it here (past that, tokio reaps it in
/// the background).
const REAP_WAIT: Duration = Duration::from_secs(2);

async fn run(hook: &DnsHook, step: &str, offer: &ChallengeOffer) -> Result<(), SolverError> {
    let (command, name) = hook.command(step, offer)?;
    let mut child = Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| hook.spawn_failed(&e))?;
    let mut group = KillGroupOnDrop(child.id());
    let stderr = child.stderr.take();
    let wait = async {
        let mut kept = Vec::new();
        if let Some(stderr) = stderr {
            let mut limited = stderr.take(DnsHook::STDERR_KEPT);
            let _ = limited.read_to_end(&mut kept).await;
            // Drain the rest without keeping it, so the command never blocks on a full pipe.
            let _ = tokio::io::copy(&mut limited.into_inner(), &mut tokio::io::sink()).await;
        }
        (child.wait().await, kept)
    };
    let Ok((status, kept)) = tokio::time::timeout(hook.time_limit(), wait).await else {
        // The command's process group, with whatever it started (still holding standard
        // error, say), then the command itself; reaped here, or by tokio if it lingers
        // (`kill_on_drop`).
        DnsHook::kill_group(group.0.take());
        let _ = child.start_kill();
        let _ = tokio::time::timeout(REAP_WAIT, child.wait()).await;
        return Err(hook.timed_out(step, &name));
    };
    // Ended: what it may have left running on purpose is its own.
    group.0 = None;
    DnsHook::outcome(step, &name, status, &kept)
}

/// The process group of a run, killed if the run is dropped before it ended (a caller's
/// timeout or `select!`), as `kill_on_drop` kills the command alone.
struct KillGroupOnDrop(Option<u32>);

impl Drop for KillGroupOnDrop {
    fn drop(&mut self) {
        DnsHook::kill_group(self.0.take());
    }
}

impl Solver for DnsHook {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        DnsHook::choose(self, offers)
    }

    async fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        run(self, "present", offer).await
    }

    async fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        run(self, "cleanup", offer).await
    }
}
