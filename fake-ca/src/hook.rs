//! DNS hook scripts for the drivers' tests: a real shell script at a fresh path that
//! logs each run (its PID, `ACME_CHALLENGE_TYPE`, `ACME_IDENTIFIER` and arguments), as
//! an operator's hook would be.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A script that logs its run, then runs `tail` (shell); its path and its log's path.
pub fn script(tail: &str) -> (PathBuf, PathBuf) {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("acme-proto-dns-hook-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log");
    let path = dir.join("hook.sh");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho \"$$ $ACME_CHALLENGE_TYPE $ACME_IDENTIFIER $*\" >> '{}'\n{tail}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    (path, log)
}

/// The lines of a script's log: `PID TYPE IDENTIFIER STEP -- NAME VALUE`.
pub fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Removes a script and its log.
pub fn remove(log: &Path) {
    if let Some(dir) = log.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
