//! What an issued certificate must share with the order and the CSR it was made from.
//!
//! The CA is not trusted to issue what was asked: the end-entity certificate's public
//! key must be the CSR's, byte for byte (both are DER, so one key has one encoding), and
//! its subjectAltName must name every identifier of the order (DNS names compared
//! case-insensitively, IP addresses by value). Names the CA added beyond them are
//! reported, not refused: some CAs add one.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use x509_cert::der::{Decode, Reader, SliceReader};
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::CertificateInfo;
use crate::fault::{Malformed, MalformedKind, Misuse};
use crate::identifier::Identifier;

/// The DER `SubjectPublicKeyInfo` of a PKCS#10 certification request (RFC 2986 §4).
///
/// Only the structure up to the key is read: the CA checks the rest, and the key is all
/// the client compares the certificate with.
pub(crate) fn csr_public_key(der: &[u8]) -> Result<Vec<u8>, Misuse> {
    const NOT_A_CSR: Misuse = Misuse::InvalidArgument("the CSR is not a DER PKCS#10 request");
    let read = || -> Result<Vec<u8>, x509_cert::der::Error> {
        let mut reader = SliceReader::new(der)?;
        let key = reader.sequence(|request| {
            let key = request.sequence(|info| {
                u8::decode(info)?;
                Name::decode(info)?;
                let key = info.tlv_bytes()?;
                SubjectPublicKeyInfoRef::from_der(key)?;
                // The attributes: whatever follows in the info.
                while !info.is_finished() {
                    info.tlv_bytes()?;
                }
                Ok::<_, x509_cert::der::Error>(key.to_vec())
            })?;
            while !request.is_finished() {
                request.tlv_bytes()?;
            }
            Ok::<_, x509_cert::der::Error>(key)
        })?;
        reader.finish()?;
        Ok(key)
    };
    read().map_err(|_| NOT_A_CSR)
}

/// Checks the end-entity certificate against the CSR's key and the order's identifiers;
/// gives the names it carries beyond them.
pub(crate) fn check_issued(
    end_entity: &CertificateInfo,
    csr_key: &[u8],
    identifiers: &[Identifier],
) -> Result<Vec<String>, Malformed> {
    const CONTEXT: &str = "certificate";
    if end_entity.public_key() != csr_key {
        return Err(Malformed::new(
            CONTEXT,
            MalformedKind::mismatch("public key", "a key other than the CSR's"),
        ));
    }
    for identifier in identifiers {
        let named = match identifier {
            Identifier::Dns(name) => end_entity
                .dns_names()
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name.as_str())),
            Identifier::Ip(ip) => end_entity.ip_addresses().contains(ip),
            // A type this client does not know has no subjectAltName form it can read.
            Identifier::Other { .. } => true,
        };
        if !named {
            return Err(Malformed::new(
                CONTEXT,
                MalformedKind::mismatch(
                    "subjectAltName",
                    alloc::format!("no {identifier} among the certificate's names"),
                ),
            ));
        }
    }
    let requested_dns = |n: &String| {
        identifiers
            .iter()
            .any(|i| matches!(i, Identifier::Dns(d) if n.eq_ignore_ascii_case(d.as_str())))
    };
    let requested_ip = |a: &core::net::IpAddr| identifiers.iter().any(|i| i == &Identifier::Ip(*a));
    let extra = end_entity
        .dns_names()
        .iter()
        .filter(|n| !requested_dns(n))
        .cloned()
        .chain(
            end_entity
                .ip_addresses()
                .iter()
                .filter(|a| !requested_ip(a))
                .map(ToString::to_string),
        )
        .collect();
    Ok(extra)
}
