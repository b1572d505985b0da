//! [`DnsHook`] on tokio: DNS challenges (dns-01, dns-account-01, and dns-persist-01
//! when opted in with [`DnsHook::dns_persist01`]) through the caller's own command, run
//! with `tokio::process`.

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::DnsHook;
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use crate::solver::{Solver, SolverError};

async fn run(hook: &DnsHook, step: &str, offer: &ChallengeOffer) -> Result<(), SolverError> {
    let (command, name) = hook.command(step, offer)?;
    let mut child = Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| hook.spawn_failed(&e))?;
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
    // On a timeout the child is dropped, which kills it (`kill_on_drop`).
    let (status, kept) = tokio::time::timeout(hook.time_limit(), wait)
        .await
        .map_err(|_| hook.timed_out(step, &name))?;
    DnsHook::outcome(step, &name, status, &kept)
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
