//! One server process: its output goes to a log file, and dropping it kills and reaps it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::HarnessError;

/// How much of a log an error quotes.
const LOG_TAIL_BYTES: usize = 2_000;

/// A started server. Neither Pebble nor challtestsrv forks, so killing the child is
/// enough; they stay in the test's process group so that an interrupted `cargo test`
/// (Ctrl-C reaches the whole foreground group) takes them down too.
#[derive(Debug)]
pub(crate) struct Process {
    program: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub(crate) fn spawn(
        program: &'static str,
        mut command: Command,
        log: PathBuf,
    ) -> Result<Self, HarnessError> {
        let out = File::create(&log)
            .map_err(HarnessError::io(format!("cannot create {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(HarnessError::io("cannot duplicate a log file handle"))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    HarnessError::NotInstalled { program }
                } else {
                    HarnessError::Io {
                        what: format!("cannot start {program}"),
                        source,
                    }
                }
            })?;
        Ok(Self {
            program,
            child,
            log,
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last two kilobytes the process wrote.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Everything the process wrote so far (empty if the log cannot be read).
    pub(crate) fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// An error if the process has exited or reported a port it could not bind (Pebble's
    /// and challtestsrv's listeners run in goroutines: a failed bind is logged, and the
    /// process may live on without that listener).
    pub(crate) fn check(&mut self) -> Result<(), HarnessError> {
        let exited = self
            .child
            .try_wait()
            .map_err(HarnessError::io(format!("cannot poll {}", self.program)))?;
        let log_tail = self.log_tail();
        if log_tail.contains("address already in use") {
            return Err(HarnessError::AddressInUse {
                program: self.program,
                attempts: 1,
                log_tail,
            });
        }
        match exited {
            Some(status) => Err(HarnessError::Exited {
                program: self.program,
                status: status.to_string(),
                log_tail,
            }),
            None => Ok(()),
        }
    }

    /// Polls `ready` until it says yes, the process fails, or `limit` passes.
    pub(crate) fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<(), HarnessError> {
        let start = Instant::now();
        loop {
            self.check()?;
            if ready() {
                return self.check();
            }
            if start.elapsed() >= limit {
                return Err(HarnessError::Hung {
                    what: what.to_owned(),
                    waited: limit,
                    log_tail: self.log_tail(),
                });
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // An error here means the process is already gone; `wait` reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_tail(path: &Path) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::from("(no log)");
    };
    let start = bytes.len().saturating_sub(LOG_TAIL_BYTES);
    let tail = String::from_utf8_lossy(bytes.get(start..).unwrap_or_default());
    let tail = tail.trim();
    if tail.is_empty() {
        String::from("(empty log)")
    } else {
        tail.to_owned()
    }
}

/// `program`'s path in `dir`, or on `PATH` when `dir` is `None`.
pub(crate) fn find_program(
    program: &'static str,
    dir: Option<&Path>,
) -> Result<PathBuf, HarnessError> {
    let candidates: Vec<PathBuf> = match dir {
        Some(dir) => vec![dir.to_owned()],
        None => std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).collect())
            .unwrap_or_default(),
    };
    candidates
        .iter()
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
        .ok_or(HarnessError::NotInstalled { program })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A command for `program` with no Pebble knob inherited from the test's environment:
/// only what the options ask for reaches the server.
pub(crate) fn command(program: &Path) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PEBBLE_") {
            command.env_remove(&key);
        }
    }
    command
}
