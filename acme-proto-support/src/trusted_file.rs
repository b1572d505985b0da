//! Reading the files a client keeps its state in (account credentials and keys, saved
//! orders) only when the user wrote them: a file another local user could have planted
//! or changed is refused, as OpenSSH's `StrictModes` refuses such a key file.

use std::io::{self, Read as _};
use std::path::Path;

use zeroize::Zeroizing;

/// Reads `path` whole, at most `max_len` bytes, into a buffer zeroized on drop, if the
/// user could only have written it themselves. Refused, with an error of kind
/// [`PermissionDenied`](io::ErrorKind::PermissionDenied) (or `InvalidData` for a file
/// over `max_len`) whose message says why:
///
/// - a symbolic link: it is not followed (the file is opened with `O_NOFOLLOW`, so no
///   link can be swapped in between a check and the read);
/// - not a regular file;
/// - owned by neither the current (effective) user nor root;
/// - writable by its group or by others (`chmod go-w` fixes it).
///
/// A file that does not exist is an error of kind [`NotFound`](io::ErrorKind::NotFound),
/// as from [`std::fs::read`]. The checks are made on the file opened (`fstat`), not on
/// the path. Off Unix, only the size is checked.
///
/// ```no_run
/// # fn run() -> std::io::Result<()> {
/// # use acme_proto_support as acme_proto_tokio;
/// let json = acme_proto_tokio::read_trusted_file("account.json".as_ref(), 64 * 1024)?;
/// # let _ = json; Ok(()) }
/// ```
pub fn read_trusted_file(path: &Path, max_len: usize) -> io::Result<Zeroizing<Vec<u8>>> {
    let file = open(path)?;
    check(&file)?;
    let mut bytes = Zeroizing::new(Vec::new());
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut bytes)?;
    if bytes.len() > max_len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {max_len} bytes: not a file this program wrote"),
        ));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits().cast_signed())
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => Err(refused(
            "a symbolic link, which is not followed: name the file itself",
        )),
        other => other,
    }
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn check(file: &std::fs::File) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(refused("not a regular file"));
    }
    verdict(
        metadata.uid(),
        metadata.mode(),
        rustix::process::geteuid().as_raw(),
    )
}

/// The rule on an owner and a mode, for the effective user `me`.
#[cfg(unix)]
fn verdict(owner: u32, mode: u32, me: u32) -> io::Result<()> {
    if owner != me && owner != 0 {
        return Err(refused(&format!(
            "owned by user {owner}, neither you ({me}) nor root: another user could have written it"
        )));
    }
    let mode = mode & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(&format!(
            "writable by its group or others (mode {mode:04o}): chmod go-w it, or write it anew"
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check(_: &std::fs::File) -> io::Result<()> {
    Ok(())
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why.to_owned())
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn write(path: &Path, mode: u32) {
        std::fs::write(path, b"secret").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn the_users_own_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.json");
        write(&path, 0o600);
        assert_eq!(&*read_trusted_file(&path, 64).unwrap(), b"secret");
        write(&path, 0o644);
        assert_eq!(&*read_trusted_file(&path, 64).unwrap(), b"secret");
    }

    #[test]
    fn a_file_others_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.json");
        for mode in [0o666, 0o620, 0o602] {
            write(&path, mode);
            let error = read_trusted_file(&path, 64).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
            assert!(
                error
                    .to_string()
                    .contains("writable by its group or others"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_symbolic_link_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        write(&target, 0o600);
        let link = dir.path().join("account.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = read_trusted_file(&link, 64).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn missing_large_and_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.json");
        assert_eq!(
            read_trusted_file(&path, 64).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        write(&path, 0o600);
        let error = read_trusted_file(&path, 3).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let error = read_trusted_file(dir.path(), 64).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[test]
    fn the_owner_must_be_the_user_or_root() {
        assert!(verdict(1000, 0o600, 1000).is_ok());
        assert!(verdict(0, 0o644, 1000).is_ok());
        let error = verdict(1001, 0o600, 1000).unwrap_err();
        assert!(error.to_string().contains("owned by user 1001"), "{error}");
        assert!(verdict(1000, 0o600, 0).is_err());
    }

    /// A real file of another owner: made with chown, which takes root. Without root
    /// the chown fails (and the rule is the one tested above).
    #[test]
    fn a_file_of_another_owner_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.json");
        write(&path, 0o600);
        match std::os::unix::fs::chown(&path, Some(65534), None) {
            Ok(()) => {
                let error = read_trusted_file(&path, 64).unwrap_err();
                assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
                assert!(error.to_string().contains("owned by user 65534"), "{error}");
            }
            Err(e) => {
                assert_ne!(
                    rustix::process::geteuid().as_raw(),
                    0,
                    "root could not chown: {e}"
                );
                assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
            }
        }
    }
}
