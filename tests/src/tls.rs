//! Pebble's HTTPS certificate, made fresh for each run: a root the client trusts and a
//! leaf for `127.0.0.1` and `localhost` signed by it.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::HarnessError;

pub(crate) struct TlsFiles {
    pub(crate) root_pem: String,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

pub(crate) fn generate(dir: &Path) -> Result<TlsFiles, HarnessError> {
    let failed = |e: rcgen::Error| HarnessError::Certificate(e.to_string());

    let root_key = KeyPair::generate().map_err(failed)?;
    let mut root = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    root.distinguished_name
        .push(DnType::CommonName, "acme-proto test harness root");
    let root_cert = root.self_signed(&root_key).map_err(failed)?;
    let issuer = Issuer::new(root, root_key);

    let leaf_key = KeyPair::generate().map_err(failed)?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(failed)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "acme-proto test harness pebble");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).map_err(failed)?;

    let files = TlsFiles {
        root_pem: root_cert.pem(),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    write(&files.cert, &leaf_cert.pem())?;
    write(&files.key, &leaf_key.serialize_pem())?;
    Ok(files)
}

fn write(path: &Path, contents: &str) -> Result<(), HarnessError> {
    std::fs::write(path, contents)
        .map_err(HarnessError::io(format!("cannot write {}", path.display())))
}
