//! What the programs refuse to read, and the outputs they refuse to write over: files
//! another user could have planted (another owner, writable by others, a symbolic
//! link), an account named again as an output, and a half-replaced certificate pair.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::files::FAIL_RENAME_AT;
use crate::{Args, Command, FileToWrite, write_together};

fn args(line: &str) -> Result<Args, String> {
    match Args::parse(line.split(' ').map(OsString::from))? {
        Command::Issue(args) => Ok(*args),
        Command::Help => Err("help".into()),
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A run with `--account FILE` (and `--order-state STATE`) in a new directory.
fn run_in(dir: &Path) -> (Args, PathBuf, PathBuf) {
    let account = dir.join("account.json");
    let state = dir.join("order.json");
    let line = format!(
        "--directory https://ca.example/dir --domain a.example --account {} --order-state {} \
         --out {} --key-out {}",
        account.display(),
        state.display(),
        dir.join("cert.pem").display(),
        dir.join("key.pem").display(),
    );
    (args(&line).unwrap(), account, state)
}

fn refused_because(result: Result<impl std::fmt::Debug, String>, why: &str) {
    match result {
        Err(message) => assert!(message.contains(why), "{message}"),
        Ok(what) => panic!("read, not refused: {what:?}"),
    }
}

#[test]
fn a_planted_account_file_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (args, account, _) = run_in(dir.path());
    // An account of the run's own, saved: fine.
    assert!(matches!(
        args.account_to_use(),
        Ok(crate::AccountToUse::Key(_))
    ));
    assert!(args.saved_account().unwrap().is_some());

    // Writable by everyone (mode 0666): anyone could have put their account there.
    chmod(&account, 0o666);
    refused_because(args.saved_account(), "writable by its group or others");
    refused_because(args.account_to_use(), "writable by its group or others");
    chmod(&account, 0o600);

    // Another user's file (chown takes root; without it the rule is the support
    // crate's unit-tested one).
    if std::os::unix::fs::chown(&account, Some(65534), None).is_ok() {
        refused_because(args.saved_account(), "owned by user 65534");
        std::os::unix::fs::chown(&account, Some(0), None).unwrap();
    }

    // A symbolic link to a file of the user's own: not followed.
    let real = dir.path().join("real.json");
    std::fs::rename(&account, &real).unwrap();
    std::os::unix::fs::symlink(&real, &account).unwrap();
    refused_because(args.saved_account(), "symbolic link");
}

#[test]
fn a_planted_order_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (args, _, state) = run_in(dir.path());
    std::fs::write(&state, b"{}").unwrap();
    chmod(&state, 0o666);
    refused_because(args.saved_order(), "writable by its group or others");
    chmod(&state, 0o600);
    // Its own file: read (and refused for what it holds, not for who wrote it).
    refused_because(args.saved_order(), "saved order");
}

#[test]
fn an_account_named_as_an_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("account.json");
    let base = "--directory https://ca.example/dir --domain a.example";
    for (flag, output) in [
        ("--account", "--out"),
        ("--account", "--key-out"),
        ("--account", "--order-state"),
        ("--account-key", "--out"),
        ("--account-key", "--key-out"),
        ("--account-key", "--order-state"),
    ] {
        let line = format!(
            "{base} {flag} {} {output} {}",
            account.display(),
            account.display()
        );
        let error = args(&line).unwrap_err();
        assert!(
            error.contains(flag) && error.contains(output) && error.contains("same file"),
            "{flag} {output}: {error}"
        );
    }
    // Through another spelling of the same path too.
    let other = dir.path().join(".").join("account.json");
    let line = format!(
        "{base} --account {} --out {}",
        account.display(),
        other.display()
    );
    assert!(args(&line).is_err());
}

#[test]
fn a_failure_between_the_two_renames_leaves_the_old_pair() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let chain = dir.path().join("cert.pem");
    let pair = |key_bytes: &'static [u8], chain_bytes: &'static [u8]| {
        [
            FileToWrite {
                path: &key,
                bytes: key_bytes,
                private: true,
            },
            FileToWrite {
                path: &chain,
                bytes: chain_bytes,
                private: false,
            },
        ]
    };
    write_together(&pair(b"old key", b"old chain")).unwrap();
    // The second rename fails: the first is undone.
    FAIL_RENAME_AT.with(|fail| fail.set(Some(1)));
    let result = write_together(&pair(b"new key", b"new chain"));
    FAIL_RENAME_AT.with(|fail| fail.set(None));
    assert!(result.is_err());
    assert_eq!(std::fs::read(&key).unwrap(), b"old key");
    assert_eq!(std::fs::read(&chain).unwrap(), b"old chain");
    // Nothing left beside them: no temporary file, no kept old file.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["cert.pem", "key.pem"]);

    // A first write whose second rename fails leaves no key alone either.
    let dir = tempfile::tempdir().unwrap();
    let (key, chain) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    FAIL_RENAME_AT.with(|fail| fail.set(Some(1)));
    let files = [
        FileToWrite {
            path: &key,
            bytes: b"new key",
            private: true,
        },
        FileToWrite {
            path: &chain,
            bytes: b"new chain",
            private: false,
        },
    ];
    let result = write_together(&files);
    FAIL_RENAME_AT.with(|fail| fail.set(None));
    assert!(result.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // And without a failure, the new pair.
    write_together(&pair(b"new key", b"new chain")).unwrap();
}
