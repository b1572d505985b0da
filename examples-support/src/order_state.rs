//! `--order-state FILE`: the order saved as it goes, and resumed from on the next run.

use acme_proto::client::ChallengeOffer;
use acme_proto_support::SavedOrder;

use crate::{Args, remove_durably, write_atomically};

impl Args {
    /// The order saved in `--order-state`, if the flag is given and the file exists: the
    /// run resumes it (instead of making a new order). Refused when it is for other
    /// identifiers than `--domain`/`--ip` give, or does not read back.
    pub fn saved_order(&self) -> Result<Option<SavedOrder>, String> {
        let Some(path) = &self.order_state else {
            return Ok(None);
        };
        // Bounded, and only a file the user wrote (see `read_trusted_file`).
        let bytes = match acme_proto_support::read_trusted_file(path, SavedOrder::MAX_LEN) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("--order-state {}: {e}", path.display())),
        };
        let saved = SavedOrder::from_json(&bytes)
            .map_err(|e| format!("--order-state {}: {e}", path.display()))?;
        let mut saved_ids = saved.snapshot().identifiers.clone();
        let mut asked = self.identifiers.clone();
        saved_ids.sort();
        asked.sort();
        if saved_ids != asked {
            return Err(format!(
                "--order-state {} holds an order for other names than those given; \
                 give the same --domain/--ip, or another file",
                path.display()
            ));
        }
        Ok(Some(saved))
    }

    /// What saves the order to `--order-state` (owner-only, atomically and durably),
    /// saying so on standard error each time with `--verbose`; `None` without the flag.
    pub fn order_saver(&self) -> Option<impl FnMut(&SavedOrder) -> Result<(), String> + Send> {
        let path = self.order_state.clone()?;
        let verbose = self.verbose;
        Some(move |saved: &SavedOrder| {
            write_atomically(&path, &saved.to_json(), true)?;
            if !verbose {
                return Ok(());
            }
            let status = saved.status().map_or("not fetched yet", |s| s.as_str());
            progress(&format!(
                "issue: order state saved: status {status}, {} challenge(s) provisioned",
                saved.snapshot().provisioned.len()
            ));
            Ok(())
        })
    }

    /// Once the certificate is written: removes `--order-state` (durably), so that the
    /// next run makes a new order.
    pub fn order_state_done(&self) -> Result<(), String> {
        match &self.order_state {
            Some(path) => remove_durably(path),
            None => Ok(()),
        }
    }

    /// The failure line for an order that did not end with a certificate: with
    /// `--order-state`, it says that the file is kept for a rerun.
    pub fn order_failed(&self, line: String) -> String {
        match &self.order_state {
            Some(path) if path.exists() => format!(
                "{line} (the order is saved in {}: run again to resume it, or remove the \
                 file to start a new order)",
                path.display()
            ),
            _ => line,
        }
    }
}

/// Says on standard error that a challenge was put in place or removed (`what`): the
/// examples' solvers call it with `--verbose`, so that a run shows what it did.
pub fn report_challenge(what: &str, offer: &ChallengeOffer) {
    progress(&format!(
        "issue: challenge {what}: {} {}",
        offer.type_name(),
        offer.url
    ));
}

/// The variable that makes a run kill itself at a progress line, for the crash test
/// (read only when built with the `kill-at` feature, which the tests' builds enable):
/// `TEXT[|TEXT…]#N` kills the process at the `N`-th progress line containing one of
/// the `TEXT`s, right after printing it.
const KILL_AT: &str = "ACME_PROTO_EXAMPLE_KILL_AT";

/// Prints a progress line on standard error, then, under [`KILL_AT`], dies there if
/// this is the line asked for: with SIGKILL, as a crash would (nothing flushed, no
/// destructor, no cleanup), and before the run does anything more. A test that killed
/// the process from outside on reading the line would race with what the run does
/// next (the challenge answered, say).
#[allow(clippy::print_stderr, reason = "the examples' progress lines")]
fn progress(line: &str) {
    eprintln!("{line}");
    if cfg!(feature = "kill-at") {
        kill_if_asked(line);
    }
}

/// Under [`KILL_AT`] (in the tests' builds only), dies if `line` is the one asked for.
fn kill_if_asked(line: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);

    let Ok(spec) = std::env::var(KILL_AT) else {
        return;
    };
    let Some((texts, at)) = spec.rsplit_once('#') else {
        return;
    };
    if !texts.split('|').any(|text| line.contains(text)) {
        return;
    }
    let seen = SEEN.fetch_add(1, Ordering::SeqCst).saturating_add(1);
    if at.parse::<usize>().is_ok_and(|at| at == seen) {
        let pid = std::process::id();
        let _ = std::process::Command::new("sh")
            .args(["-c", &format!("kill -KILL {pid}")])
            .status();
        // Only if the signal could not be sent.
        std::process::abort();
    }
}
