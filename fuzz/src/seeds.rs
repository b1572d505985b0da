//! Seeds for the corpora: recorded HTTP exchanges turned into one input per target.
//!
//! Any server's answers can seed the corpora (the fake CA's, the RFC examples, and
//! Pebble's once its test harness records them). A recording is a directory of
//! exchanges, one file each (any name, read in name order), in this format:
//!
//! ```text
//! POST https://ca.example/acme/new-order      <- method and URL of the request
//! 201                                          <- response status
//! Replay-Nonce: x5bAGKhmPZqqwxsHSDzQRg         <- response header fields, one a line
//! Location: https://ca.example/acme/order/1
//!                                              <- an empty line
//! {"status":"pending", …}                      <- the response body, to the end of file
//! ```
//!
//! [`Exchange::to_bytes`] writes it and [`Exchange::from_bytes`] reads it;
//! [`seeds_of`] says which target each piece feeds (bodies by what they parse as,
//! header values by name, each certificate of a chain for `cert_id`), and
//! [`write_seed`] stores an input under `corpus/<target>/`, named by its content.

use std::io;
use std::path::{Path, PathBuf};

use acme_proto::resource::{
    Account, Authorization, Challenge, Directory, Order, OrderList, RenewalInfo, Resource,
};
use acme_proto::{CertificateChain, Problem};
use sha2::{Digest, Sha256};

/// One request's method and URL, and the response to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `GET`, `HEAD` or `POST`.
    pub method: String,
    /// The request URL.
    pub url: String,
    /// The response status.
    pub status: u16,
    /// The response's header fields, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The response body.
    pub body: Vec<u8>,
}

impl Exchange {
    /// The recording format (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {}\n{}\n", self.method, self.url, self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            let clean: Vec<u8> = value
                .iter()
                .copied()
                .filter(|&b| b != b'\r' && b != b'\n')
                .collect();
            out.extend_from_slice(&clean);
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads the recording format; `None` if the bytes are not in it.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let mut rest = bytes;
        let mut line = || -> Option<&[u8]> {
            let end = rest.iter().position(|&b| b == b'\n')?;
            let (head, tail) = rest.split_at(end);
            rest = tail.get(1..)?;
            Some(head)
        };
        let request = std::str::from_utf8(line()?).ok()?;
        let (method, url) = request.split_once(' ')?;
        let status = std::str::from_utf8(line()?).ok()?.trim().parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let field = line()?;
            if field.is_empty() {
                break;
            }
            let colon = field.iter().position(|&b| b == b':')?;
            let (name, value) = field.split_at(colon);
            let value = value.get(1..)?;
            let value = value.strip_prefix(b" ").unwrap_or(value);
            headers.push((String::from_utf8(name.to_vec()).ok()?, value.to_vec()));
        }
        Some(Self {
            method: method.to_owned(),
            url: url.to_owned(),
            status,
            headers,
            body: rest.to_vec(),
        })
    }
}

/// The targets a JSON body feeds: every resource it reads as (so a problem document
/// seeds `problem`, an order `order`, …). A body that reads as none seeds nothing.
pub fn targets_of_json(body: &[u8]) -> Vec<&'static str> {
    type Reads = fn(&[u8]) -> bool;
    let checks: [(&str, Reads); 8] = [
        ("directory", |b| Directory::from_json(b).is_ok()),
        ("account", |b| {
            Account::from_json(b).is_ok() || OrderList::from_json(b).is_ok()
        }),
        ("order", |b| Order::from_json(b).is_ok()),
        ("authorization", |b| Authorization::from_json(b).is_ok()),
        ("challenge", |b| Challenge::from_json(b).is_ok()),
        ("renewal_info", |b| RenewalInfo::from_json(b).is_ok()),
        ("problem", |b| {
            // Every JSON object reads as a problem (all members are optional): only
            // those with a type are problems.
            Problem::from_json(b).is_ok_and(|p| p.kind != acme_proto::ProblemType::AboutBlank)
        }),
        ("order_snapshot", |b| {
            acme_proto::client::OrderSnapshot::from_json(b).is_ok()
        }),
    ];
    checks
        .iter()
        .filter(|(_, reads)| reads(body))
        .map(|(name, _)| *name)
        .collect()
}

/// Every seed one exchange gives: `(target, input)`.
pub fn seeds_of(exchange: &Exchange) -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (name, value) in &exchange.headers {
        let target = match name.to_ascii_lowercase().as_str() {
            "replay-nonce" => "replay_nonce",
            "location" => "location",
            "link" => "link",
            "retry-after" => "retry_after",
            _ => continue,
        };
        seeds.push((target, value.clone()));
    }
    if exchange.body.is_empty() {
        return seeds;
    }
    for target in targets_of_json(&exchange.body) {
        seeds.push((target, exchange.body.clone()));
    }
    if let Ok(text) = std::str::from_utf8(&exchange.body)
        && let Ok(chain) = CertificateChain::from_pem(text)
    {
        seeds.push(("pem_chain", exchange.body.clone()));
        for der in chain.der() {
            seeds.push(("cert_id", der.to_vec()));
        }
        if let Ok(id) = chain.cert_id() {
            seeds.push(("cert_id", id.as_str().as_bytes().to_vec()));
        }
    }
    seeds
}

/// The corpus directory of this crate: `fuzz/corpus/`.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Stores `input` under `root/<target>/`, named by the SHA-256 of its content (so the
/// same input is stored once); returns its path.
pub fn write_seed(root: &Path, target: &str, input: &[u8]) -> io::Result<PathBuf> {
    let dir = root.join(target);
    std::fs::create_dir_all(&dir)?;
    let digest = Sha256::digest(input);
    let name: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    let path = dir.join(name);
    if !path.exists() {
        std::fs::write(&path, input)?;
    }
    Ok(path)
}

/// Reads every exchange of a recording directory, in file-name order; files not in the
/// format are skipped.
pub fn read_recording(dir: &Path) -> io::Result<Vec<Exchange>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut exchanges = Vec::new();
    for file in files {
        if let Some(exchange) = Exchange::from_bytes(&std::fs::read(&file)?) {
            exchanges.push(exchange);
        }
    }
    Ok(exchanges)
}

/// Seeds the corpora under `root` from every exchange of a recording directory;
/// returns how many inputs were written (some may have been there already).
pub fn import_recording(dir: &Path, root: &Path) -> io::Result<usize> {
    let mut written = 0;
    for exchange in read_recording(dir)? {
        for (target, input) in seeds_of(&exchange) {
            write_seed(root, target, &input)?;
            written += 1;
        }
    }
    Ok(written)
}
