//! The recording switch: every exchange with Pebble written to a directory, in the
//! format the fuzzing crate imports as seeds (`fuzz/src/seeds.rs`):
//!
//! ```text
//! POST https://127.0.0.1:14000/order-plz
//! 201
//! Replay-Nonce: …
//! Location: …
//!
//! {"status":"pending", …}
//! ```
//!
//! Set `ACME_PROTO_RECORD_DIR` when running the Pebble tests, then import:
//! `ACME_PROTO_FUZZ_RECORDING=DIR cargo test --manifest-path fuzz/Cargo.toml
//! --no-default-features --test seeds -- --ignored import`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use acme_proto::{Request, Response};

/// The environment variable that turns recording on: the directory to write to.
pub const RECORD_DIR: &str = "ACME_PROTO_RECORD_DIR";

/// A recorder writing to `ACME_PROTO_RECORD_DIR`, when it is set.
pub fn recorder_from_env() -> Option<impl Fn(&Request, &Response) + Send + Sync + 'static> {
    std::env::var_os(RECORD_DIR).map(|dir| recorder_into(PathBuf::from(dir)))
}

/// A recorder writing each exchange to its own file in `dir` (created if missing).
/// Failures to write are ignored: recording never fails a test.
pub fn recorder_into(dir: PathBuf) -> impl Fn(&Request, &Response) + Send + Sync + 'static {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    move |request, response| {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{n:06}.exchange", std::process::id());
        let _ = write(&dir, &name, &exchange(request, response));
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::File::create(dir.join(name))?.write_all(bytes)
}

/// One exchange in the recording format.
pub fn exchange(request: &Request, response: &Response) -> Vec<u8> {
    let mut out = format!("{} {}\n{}\n", request.method, request.url, response.status).into_bytes();
    for (name, value) in response.headers.iter() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend(value.iter().copied().filter(|&b| b != b'\r' && b != b'\n'));
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(&response.body);
    out
}
