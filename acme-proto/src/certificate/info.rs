//! One X.509 certificate, read once into the facts an ACME client uses.
//!
//! The structure is read with `x509-cert`'s types field by field (RFC 5280 §4.1), so
//! that anything but one well-formed DER certificate, with nothing after it, is
//! refused. One field is read by hand: the validity times. `x509-cert` (through `der`)
//! refuses any date before 1970, and real certificates carry such dates: RFC 9773's
//! own example certificate is valid from and to 0001-01-01. Here a date before 1970
//! saturates to the epoch, which keeps every comparison with a present `now` true.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;

use x509_cert::Version;
use x509_cert::der::asn1::{AnyRef, BitStringRef, BmpString};
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::oid::db::rfc4519::COMMON_NAME;
use x509_cert::der::{self, Decode, Reader, SliceReader, Tag, TagMode, TagNumber, Tagged};
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::ari::CertId;
use crate::fault::{Malformed, MalformedKind};
use crate::time::UnixTime;
use crate::time_format::{days_from_civil, days_in_month};

const CONTEXT: &str = "certificate";

/// A certificate's DER and the facts read from it: names, validity, serial, and the
/// Authority Key Identifier that, with the serial, makes its ARI identifier.
///
/// Built by [`CertificateInfo::from_der`], or for every certificate of a
/// [`CertificateChain`](super::CertificateChain). Reading checks the DER structure of
/// the whole certificate but not its signature: the core trusts no certificate, it
/// only reports what the server sent.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    der: Vec<u8>,
    subject_common_name: Option<String>,
    issuer_common_name: Option<String>,
    self_issued: bool,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    public_key: Vec<u8>,
    not_before: UnixTime,
    not_after: UnixTime,
    serial: Vec<u8>,
    authority_key_id: KeyId,
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum KeyId {
    /// No Authority Key Identifier extension.
    NoExtension,
    /// The extension without its `keyIdentifier`.
    NoKeyIdentifier,
    Present(Vec<u8>),
}

impl core::fmt::Debug for CertificateInfo {
    /// The facts, not the DER.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CertificateInfo")
            .field("subject_common_name", &self.subject_common_name)
            .field("issuer_common_name", &self.issuer_common_name)
            .field("dns_names", &self.dns_names)
            .field("ip_addresses", &self.ip_addresses)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("serial", &crate::b64::encode(&self.serial))
            .finish_non_exhaustive()
    }
}

impl CertificateInfo {
    /// Reads one DER-encoded X.509 certificate.
    ///
    /// # Errors
    ///
    /// [`Malformed`] (context `"certificate"`) if `der` is not exactly one DER
    /// certificate, or if its subjectAltName or Authority Key Identifier extension is
    /// not well-formed, appears twice, or holds an IP address of neither 4 nor 16 bytes.
    pub fn from_der(der: &[u8]) -> Result<Self, Malformed> {
        let fields = read_certificate(der)
            .map_err(|Bad(why)| Malformed::new(CONTEXT, MalformedKind::Invalid(why)))?;
        Ok(Self {
            der: der.to_vec(),
            ..fields
        })
    }

    /// The certificate's DER encoding, as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's first common name (CN), if it has one readable as text.
    ///
    /// UTF8String, PrintableString, IA5String, TeletexString (when valid UTF-8) and
    /// BMPString are read; a CN in any other form counts as absent.
    pub fn subject_common_name(&self) -> Option<&str> {
        self.subject_common_name.as_deref()
    }

    /// The issuer's first common name (CN), read as for the subject.
    pub fn issuer_common_name(&self) -> Option<&str> {
        self.issuer_common_name.as_deref()
    }

    /// Whether the issuer name equals the subject name (as a self-signed root's does).
    pub fn is_self_issued(&self) -> bool {
        self.self_issued
    }

    /// The subject's public key: its DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The DNS names of the subjectAltName extension, in order (empty without one).
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// The IP addresses of the subjectAltName extension, in order (empty without one).
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ip_addresses
    }

    /// The start of the validity period; a date before 1970 reads as the epoch.
    pub fn not_before(&self) -> UnixTime {
        self.not_before
    }

    /// The end of the validity period (inclusive); a date before 1970 reads as the epoch.
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// The serial number's DER INTEGER content: big-endian two's complement, with the
    /// leading `0x00` a positive serial with its top bit set carries.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The `keyIdentifier` of the Authority Key Identifier extension, if present.
    pub fn authority_key_identifier(&self) -> Option<&[u8]> {
        match &self.authority_key_id {
            KeyId::Present(id) => Some(id),
            KeyId::NoExtension | KeyId::NoKeyIdentifier => None,
        }
    }

    /// The certificate's ARI identifier (RFC 9773 §4.1).
    ///
    /// # Errors
    ///
    /// [`Malformed`] (context `"ARI certID"`) when the certificate has no Authority
    /// Key Identifier extension, or the extension has no (or an empty)
    /// `keyIdentifier`: RFC 9773 assumes every certificate has one, and without it
    /// there is no identifier to ask about.
    pub fn cert_id(&self) -> Result<CertId, Malformed> {
        let invalid = |why| Malformed::new("ARI certID", MalformedKind::Invalid(why));
        match &self.authority_key_id {
            KeyId::NoExtension => Err(invalid(
                "the certificate has no Authority Key Identifier extension",
            )),
            KeyId::NoKeyIdentifier => Err(invalid(
                "the Authority Key Identifier extension has no keyIdentifier",
            )),
            KeyId::Present(id) if id.is_empty() => Err(invalid(
                "the Authority Key Identifier's keyIdentifier is empty",
            )),
            KeyId::Present(id) => Ok(CertId::from_parts(id, &self.serial)),
        }
    }
}

/// Why a certificate was refused.
struct Bad(&'static str);

impl From<der::Error> for Bad {
    fn from(_: der::Error) -> Self {
        Self("not a DER-encoded X.509 certificate")
    }
}

fn read_certificate(der: &[u8]) -> Result<CertificateInfo, Bad> {
    let mut reader = SliceReader::new(der)?;
    let info = reader.sequence(|certificate| {
        let info = certificate.sequence(read_tbs_certificate)?;
        AlgorithmIdentifierRef::decode(certificate)?;
        BitStringRef::decode(certificate)?;
        Ok::<_, Bad>(info)
    })?;
    reader.finish()?;
    Ok(info)
}

/// TBSCertificate (RFC 5280 §4.1), in order.
fn read_tbs_certificate<'a>(tbs: &mut SliceReader<'a>) -> Result<CertificateInfo, Bad> {
    tbs.context_specific::<Version>(TagNumber(0), TagMode::Explicit)?;
    let serial_tlv = tbs.tlv_bytes()?;
    <SerialNumber>::from_der(serial_tlv)?;
    let serial = AnyRef::from_der(serial_tlv)?.value().to_vec();
    AlgorithmIdentifierRef::decode(tbs)?;
    let issuer = Name::decode(tbs)?;
    let (not_before, not_after) = tbs.sequence(|validity| {
        let not_before = read_time(validity)?;
        let not_after = read_time(validity)?;
        Ok::<_, Bad>((not_before, not_after))
    })?;
    let subject = Name::decode(tbs)?;
    let public_key = tbs.tlv_bytes()?;
    SubjectPublicKeyInfoRef::from_der(public_key)?;
    tbs.context_specific::<BitStringRef<'a>>(TagNumber(1), TagMode::Implicit)?;
    tbs.context_specific::<BitStringRef<'a>>(TagNumber(2), TagMode::Implicit)?;
    let extensions = tbs
        .context_specific::<Extensions>(TagNumber(3), TagMode::Explicit)?
        .unwrap_or_default();

    let mut info = CertificateInfo {
        der: Vec::new(),
        subject_common_name: common_name(&subject),
        issuer_common_name: common_name(&issuer),
        self_issued: subject == issuer,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        public_key: public_key.to_vec(),
        not_before,
        not_after,
        serial,
        authority_key_id: KeyId::NoExtension,
    };
    let mut seen_san = false;
    for extension in &extensions {
        let value = extension.extn_value.as_bytes();
        if extension.extn_id == SubjectAltName::OID {
            if core::mem::replace(&mut seen_san, true) {
                return Err(Bad("two subjectAltName extensions"));
            }
            read_subject_alt_name(value, &mut info)?;
        } else if extension.extn_id == AuthorityKeyIdentifier::OID {
            if info.authority_key_id != KeyId::NoExtension {
                return Err(Bad("two Authority Key Identifier extensions"));
            }
            let aki = AuthorityKeyIdentifier::from_der(value)
                .map_err(|_| Bad("an Authority Key Identifier extension is not well-formed"))?;
            info.authority_key_id = match aki.key_identifier {
                Some(id) => KeyId::Present(id.as_bytes().to_vec()),
                None => KeyId::NoKeyIdentifier,
            };
        }
    }
    Ok(info)
}

fn read_subject_alt_name(value: &[u8], info: &mut CertificateInfo) -> Result<(), Bad> {
    let san = SubjectAltName::from_der(value)
        .map_err(|_| Bad("a subjectAltName extension is not well-formed"))?;
    for name in san.0 {
        match name {
            GeneralName::DnsName(name) => info.dns_names.push(name.as_str().to_string()),
            GeneralName::IpAddress(octets) => {
                let ip = match *octets.as_bytes() {
                    [a, b, c, d] => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                    ref bytes => <[u8; 16]>::try_from(bytes)
                        .map(|v6| IpAddr::V6(Ipv6Addr::from(v6)))
                        .map_err(|_| {
                            Bad("a subjectAltName IP address of neither 4 nor 16 bytes")
                        })?,
                };
                info.ip_addresses.push(ip);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first CN of `name` as text, if it is in a string form that reads as text.
fn common_name(name: &Name) -> Option<String> {
    let value = &name.iter().find(|atv| atv.oid == COMMON_NAME)?.value;
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            core::str::from_utf8(value.value()).ok().map(String::from)
        }
        Tag::BmpString => value.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// A validity `Time` (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`, the only DER forms RFC 5280 allows.
fn read_time(reader: &mut SliceReader<'_>) -> Result<UnixTime, Bad> {
    const WHY: &str = "a validity time is not a valid RFC 5280 UTCTime or GeneralizedTime";
    let time = AnyRef::decode(reader)?;
    let text = time.value();
    let (year, rest) = match (time.tag(), text.len()) {
        (Tag::UtcTime, 13) => {
            let yy = digits(text, 0, 2).ok_or(Bad(WHY))?;
            // RFC 5280 §4.1.2.5.1: 50–99 are 1950–1999, 00–49 are 2000–2049.
            let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
            (year, text.get(2..).unwrap_or_default())
        }
        (Tag::GeneralizedTime, 15) => (
            digits(text, 0, 4).ok_or(Bad(WHY))?,
            text.get(4..).unwrap_or_default(),
        ),
        _ => return Err(Bad(WHY)),
    };
    let field = |at| digits(rest, at, 2).ok_or(Bad(WHY));
    let (month, day, hour, minute, second) =
        (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    let year = i64::from(year);
    if rest.get(10..) != Some(b"Z")
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(Bad(WHY));
    }
    let secs =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(u64::try_from(secs).map_or(UnixTime::EPOCH, |secs| {
        UnixTime::new(Duration::from_secs(secs))
    }))
}

/// The decimal number of the `len` ASCII digits at `at`, if they are all digits.
fn digits(text: &[u8], at: usize, len: usize) -> Option<u32> {
    text.get(at..at.checked_add(len)?)?
        .iter()
        .try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTC_TIME: u8 = 0x17;
    const GENERALIZED_TIME: u8 = 0x18;

    fn time(tag: u8, text: &str) -> Result<UnixTime, &'static str> {
        let mut der = alloc::vec![tag, u8::try_from(text.len()).unwrap()];
        der.extend_from_slice(text.as_bytes());
        let mut reader = SliceReader::new(&der).unwrap();
        read_time(&mut reader).map_err(|Bad(why)| why)
    }

    #[test]
    fn validity_times() {
        let utc = |t| time(UTC_TIME, t);
        let generalized = |t| time(GENERALIZED_TIME, t);
        assert_eq!(utc("700101000000Z"), Ok(UnixTime::EPOCH));
        assert_eq!(utc("491231235959Z"), Ok(UnixTime::from_secs(2_524_607_999)));
        assert_eq!(utc("500101000000Z"), Ok(UnixTime::EPOCH));
        assert_eq!(
            generalized("20250301120000Z"),
            Ok(UnixTime::from_secs(1_740_830_400))
        );
        assert_eq!(
            generalized("20240229000000Z"),
            Ok(UnixTime::from_secs(1_709_164_800))
        );
        assert_eq!(generalized("00010101000000Z"), Ok(UnixTime::EPOCH));
        assert_eq!(
            generalized("99991231235959Z"),
            Ok(UnixTime::from_secs(253_402_300_799))
        );
        for bad in [
            "20230229000000Z",
            "20251301000000Z",
            "20250100000000Z",
            "20250101240000Z",
            "20250101006000Z",
            "20250101000060Z",
            "20250101000000",
            "20250101000000z",
            "2025010100000Z",
            "20250101000000.5Z",
            "2025-1-1000000Z",
            "+0250101000000Z",
        ] {
            assert!(generalized(bad).is_err(), "{bad}");
        }
        for bad in ["7001010000Z", "700101000000+0000", "70010100000Z0"] {
            assert!(utc(bad).is_err(), "{bad}");
        }
        assert!(time(0x0c, "700101000000Z").is_err());
    }

    /// Why validity is read by hand: `x509-cert` refuses RFC 9773's example (0001-01-01).
    #[test]
    fn x509_cert_refuses_dates_before_1970() {
        let pem = include_str!("../../tests/data/rfc9773-example.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = crate::b64::decode_standard(body).unwrap();
        assert!(x509_cert::Certificate::from_der(&der).is_err());
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!(info.not_after(), UnixTime::EPOCH);
    }

    #[test]
    fn garbage_is_refused() {
        for der in [
            &[][..],
            &[0x30, 0x00],
            &[0x30, 0x80, 0x00, 0x00],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x02, 0x01, 0x01],
        ] {
            let err = CertificateInfo::from_der(der).unwrap_err();
            assert_eq!(err.context, "certificate");
        }
    }
}
