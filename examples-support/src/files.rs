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
/// was; a failure between two renames puts back what the earlier renames replaced (each
/// target's old file is kept under a hard link until every rename is done). So a
/// certificate and its key are replaced together, or neither is.
pub fn write_together(files: &[FileToWrite<'_>]) -> Result<(), String> {
    let mut temps: Vec<(PathBuf, &FileToWrite<'_>)> = Vec::with_capacity(files.len());
    let remove = |paths: &mut dyn Iterator<Item = &PathBuf>| {
        for path in paths {
            let _ = std::fs::remove_file(path);
        }
    };
    for file in files {
        match write_temp(file) {
            Ok(temp) => temps.push((temp, file)),
            Err(e) => {
                remove(&mut temps.iter().map(|(temp, _)| temp));
                return Err(e);
            }
        }
    }
    // The old files, kept until the set is in place.
    let mut backups: Vec<Option<PathBuf>> = Vec::with_capacity(files.len());
    for (_, file) in &temps {
        match backup(file.path) {
            Ok(kept) => backups.push(kept),
            Err(e) => {
                remove(&mut temps.iter().map(|(temp, _)| temp));
                remove(&mut backups.iter().flatten());
                return Err(e);
            }
        }
    }
    for (at, (temp, file)) in temps.iter().enumerate() {
        if let Err(e) = rename(at, temp, file.path) {
            remove(&mut temps.iter().skip(at).map(|(temp, _)| temp));
            // Put back what the renames before this one replaced.
            for ((_, done), kept) in temps.iter().zip(&backups).take(at) {
                let _ = match kept {
                    Some(kept) => std::fs::rename(kept, done.path),
                    None => std::fs::remove_file(done.path),
                };
            }
            remove(&mut backups.iter().flatten());
            return Err(format!("writing {}: {e}", file.path.display()));
        }
    }
    remove(&mut backups.iter().flatten());
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

/// The rename of the set's `at`-th temporary file over its target; in this crate's
/// own tests, [`FAIL_RENAME_AT`] makes one fail, as a full disk or a crash would.
fn rename(at: usize, from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(test)]
    if FAIL_RENAME_AT.with(|fail| fail.get() == Some(at)) {
        return Err(std::io::Error::other("a failure the test asked for"));
    }
    #[cfg(not(test))]
    let _ = at;
    std::fs::rename(from, to)
}

#[cfg(test)]
thread_local! {
    /// The rename of a set to fail, in this crate's tests.
    pub(crate) static FAIL_RENAME_AT: std::cell::Cell<Option<usize>> =
        const { std::cell::Cell::new(None) };
}

/// A hard link to `path`'s current file, under a new random name beside it (`None`
/// when there is no file yet).
fn backup(path: &Path) -> Result<Option<PathBuf>, String> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    let kept = beside(path, "old")?;
    std::fs::hard_link(path, &kept)
        .map_err(|e| format!("writing {}: keeping the old file: {e}", path.display()))?;
    Ok(Some(kept))
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
    let temp = beside(file.path, "tmp")?;
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

/// A new path beside `path`, `.NAME.TAG-RANDOM`: a random name, so that a stale one (a
/// PID reused in a container, say) is never in the way, and `create_new` never opens
/// one another process made.
fn beside(path: &Path, tag: &str) -> Result<PathBuf, String> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("writing {}: not a file name", path.display()))?;
    let mut random = [0_u8; 8];
    getrandom::fill(&mut random).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let mut sibling = OsString::from(".");
    sibling.push(name);
    sibling.push(format!(".{tag}-"));
    for byte in random {
        sibling.push(format!("{byte:02x}"));
    }
    Ok(directory_of(path).join(sibling))
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
