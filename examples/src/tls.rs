//! The TLS client configuration of the programs: the web's roots (webpki-roots) and,
//! with `--ca-cert`, a private CA's root too (a test CA such as Pebble's), on rustls with
//! ring.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

/// A client configuration trusting the web's roots and every certificate in the PEM file
/// `extra_root`, if given.
pub fn client_config(extra_root: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_root {
        let pem = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let mut found = false;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("reading {}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: an invalid root: {e}", path.display()))?;
            found = true;
        }
        if !found {
            return Err(format!("{}: no CERTIFICATE block", path.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("setting up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
