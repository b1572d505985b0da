//! The keys: the account's, made by the core from the system's random numbers, and the
//! certificate's with its CSR: a new ECDSA P-256 key (rcgen, over ring) and a PKCS#10
//! request naming exactly the order's identifiers.

use acme_proto::Identifier;
use acme_proto::crypto::{AccountKey, SignatureAlgorithm};

/// A new ES256 account key: the core draws it from the system's random numbers
/// (getrandom), which the program hands it; the core itself has no randomness.
pub fn new_account_key() -> Result<AccountKey, String> {
    AccountKey::generate(
        SignatureAlgorithm::Es256,
        &mut rand_core::UnwrapErr(getrandom::SysRng),
    )
    .map_err(|e| format!("generating the account key: {e}"))
}

/// A new key and a CSR for `identifiers`: `(CSR in DER, key in PKCS#8 PEM)`.
pub fn key_and_csr(identifiers: &[Identifier]) -> Result<(Vec<u8>, String), String> {
    let mut names = Vec::with_capacity(identifiers.len());
    for identifier in identifiers {
        names.push(match (identifier.dns_name(), identifier) {
            (Some(name), _) => name.as_str().to_owned(),
            (None, Identifier::Ip(ip)) => ip.to_string(),
            _ => return Err(format!("no CSR for the identifier {identifier}")),
        });
    }
    let failed = |e: rcgen::Error| format!("making the CSR: {e}");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(failed)?;
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key).map_err(failed)?;
    Ok((csr.der().to_vec(), key.serialize_pem()))
}
