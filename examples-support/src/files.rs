//! Files written so that a crash never leaves half of one, nor loses what was written:
//! a temporary file with a random name in the same directory, synced, renamed over the
//! target, then the directory synced so that the rename itself survives a power cut.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One file to write: where, what, and whether only its owner may read it.
#[derive(Clone, Copy)]
pub struct FileToWrite<'a> {
    /// The file's path.
    pub path: &'a Path,
    /// Its whole contents.
    pub bytes: &'a [u8],
    /// Readable by its owner only (0600 on Unix).
    pub private: bool,
}

/// Writes `bytes` to `path` atomically and durably (see the module docs). With
/// `private`, the file is readable by its owner only (on Unix).
pub fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    write_together(&[FileToWrite {
        path,
        bytes,
        private,
    }])
}

/// Writes every file as [`write_atomically`] does, as a set: all the temporary files
/// first, then all the renames. A failure before the renames leaves every target as it
/// was; so a certificate and its key are replaced together, or neither is.
pub fn write_together(files: &[FileToWrite<'_>]) -> Result<(), String> {
    let mut temps: Vec<(PathBuf, &FileToWrite<'_>)> = Vec::with_capacity(files.len());
    let cleanup = |temps: &[(PathBuf, &FileToWrite<'_>)]| {
        for (temp, _) in temps {
            let _ = std::fs::remove_file(temp);
        }
    };
    for file in files {
        match write_temp(file) {
            Ok(temp) => temps.push((temp, file)),
            Err(e) => {
                cleanup(&temps);
                return Err(e);
            }
        }
    }
    for (at, (temp, file)) in temps.iter().enumerate() {
        if let Err(e) = std::fs::rename(temp, file.path) {
            cleanup(temps.get(at..).unwrap_or_default());
            return Err(format!("writing {}: {e}", file.path.display()));
        }
    }
    for file in files {
        sync_directory(directory_of(file.path)).map_err(|e| {
            format!(
                "writing {}: syncing its directory: {e}",
                file.path.display()
            )
        })?;
    }
    Ok(())
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `file`'s bytes to a new temporary file beside it, synced; gives its path.
fn write_temp(file: &FileToWrite<'_>) -> Result<PathBuf, String> {
    let fail = |e: std::io::Error| format!("writing {}: {e}", file.path.display());
    let name = file
        .path
        .file_name()
        .ok_or_else(|| format!("writing {}: not a file name", file.path.display()))?;
    // A random name: a stale temporary file (a PID reused in a container, say) is never
    // in the way, and `create_new` never opens one another process made.
    let mut random = [0_u8; 8];
    getrandom::fill(&mut random).map_err(|e| format!("writing {}: {e}", file.path.display()))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(".tmp-");
    for byte in random {
        temp_name.push(format!("{byte:02x}"));
    }
    let temp = directory_of(file.path).join(temp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if file.private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let written = options.open(&temp).and_then(|mut out| {
        out.write_all(file.bytes)?;
        out.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(temp)
}

/// Removes `path` (if it is there) durably: its directory is synced after.
pub fn remove_durably(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("removing {}: {e}", path.display())),
    }
    sync_directory(directory_of(path))
        .map_err(|e| format!("removing {}: syncing its directory: {e}", path.display()))
}

/// Makes a rename in `dir` durable (on Unix; elsewhere there is no portable way).
fn sync_directory(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Whether two paths name the same file, once what can be resolved is (symbolic links,
/// `..`, a relative directory): the files need not exist, their directories must.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolved = |path: &Path| -> PathBuf {
        if let Ok(existing) = path.canonicalize() {
            return existing;
        }
        match (directory_of(path).canonicalize(), path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => path.to_path_buf(),
        }
    };
    a == b || resolved(a) == resolved(b)
}
