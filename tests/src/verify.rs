//! Checks on what Pebble issued: the chain validated by a real X.509 path validator
//! (rustls-webpki, as a TLS client would) up to one of Pebble's roots.

use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject as _};

/// Validates `chain_pem` (end entity first, then issuers, as ACME serves it) up to the
/// root in `root_pem` (management `/roots/N`), for server authentication, now, and for
/// each of `names` (DNS names or IP addresses; for a wildcard, a name it covers).
pub fn verify_chain(chain_pem: &str, root_pem: &str, names: &[&str]) -> Result<(), String> {
    let chain = certificates(chain_pem)?;
    let roots = certificates(root_pem)?;
    let (leaf, intermediates) = chain.split_first().ok_or("the chain has no certificate")?;
    let root = roots.first().ok_or("the root PEM has no certificate")?;
    let anchor = webpki::anchor_from_trusted_cert(root).map_err(|e| format!("the root: {e:?}"))?;
    let leaf = webpki::EndEntityCert::try_from(leaf).map_err(|e| format!("the leaf: {e:?}"))?;
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        intermediates,
        UnixTime::now(),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| format!("the chain does not validate up to the root: {e:?}"))?;
    for name in names {
        let server_name = ServerName::try_from(*name).map_err(|e| format!("{name}: {e}"))?;
        leaf.verify_is_valid_for_subject_name(&server_name)
            .map_err(|e| format!("the certificate is not valid for {name}: {e:?}"))?;
    }
    Ok(())
}

fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad PEM: {e:?}"))
}
