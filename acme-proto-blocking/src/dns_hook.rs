//! [`DnsHook`] on `std::process`: DNS challenges (dns-01, dns-account-01, and
//! dns-persist-01 when opted in with [`DnsHook::dns_persist01`]) through the caller's
//! own command; at its time limit, its process group is killed.

use std::io::Read as _;
use std::process::{Child, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use acme_proto::client::ChallengeOffer;
pub use acme_proto_support::DnsHook;

use crate::solver::{Solver, SolverError};

/// The longest pause between two looks at a running hook.
const MAX_POLL: Duration = Duration::from_millis(50);

fn run(hook: &DnsHook, step: &str, offer: &ChallengeOffer) -> Result<(), SolverError> {
    let (mut command, name) = hook.command(step, offer)?;
    let mut child = command.spawn().map_err(|e| hook.spawn_failed(&e))?;
    let deadline = Instant::now() + hook.time_limit();
    // Standard error is read on its own thread (the first 4 KiB kept, the rest drained
    // so that the command never blocks on a full pipe), while this one waits.
    let (kept_tx, kept_rx) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        let reader = std::thread::Builder::new()
            .name("dns hook stderr".into())
            .spawn(move || {
                let mut kept = Vec::new();
                let mut limited = stderr.take(DnsHook::STDERR_KEPT);
                let _ = limited.read_to_end(&mut kept);
                let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
                let _ = kept_tx.send(kept);
            });
        if let Err(error) = reader {
            stop(&mut child);
            return Err(hook.spawn_failed(&error));
        }
    }
    let Some(status) = wait(&mut child, deadline) else {
        stop(&mut child);
        return Err(hook.timed_out(step, &name));
    };
    // As in the tokio driver, the run is over once its standard error is closed too
    // (a command that left a child holding it runs into the time limit).
    let remaining = deadline.saturating_duration_since(Instant::now());
    let kept = match kept_rx.recv_timeout(remaining) {
        Ok(kept) => kept,
        Err(mpsc::RecvTimeoutError::Disconnected) => Vec::new(),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Something the command started still holds standard error: its group is
            // still there (so its ID is not reused), killed with it.
            DnsHook::kill_group(Some(child.id()));
            return Err(hook.timed_out(step, &name));
        }
    };
    DnsHook::outcome(step, &name, status, &kept)
}

/// The child's exit status, looked at with growing pauses; `None` once `deadline`
/// passed with the child still running.
fn wait(child: &mut Child, deadline: Instant) -> Option<std::io::Result<ExitStatus>> {
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) => {}
            Err(error) => return Some(Err(error)),
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return None;
        }
        std::thread::sleep(pause.min(remaining));
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Kills the child's process group (what it started too), then the child, and reaps
/// it, so that no zombie is left.
fn stop(child: &mut Child) {
    DnsHook::kill_group(Some(child.id()));
    let _ = child.kill();
    let _ = child.wait();
}

impl Solver for DnsHook {
    fn choose<'a>(&self, offers: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        DnsHook::choose(self, offers)
    }

    fn present(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        run(self, "present", offer)
    }

    fn cleanup(&self, offer: &ChallengeOffer) -> Result<(), SolverError> {
        run(self, "cleanup", offer)
    }
}
