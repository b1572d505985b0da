//! ACME Renewal Information (RFC 9773): the certificate identifier, the renewalInfo
//! URL, and when to renew.

use alloc::string::String;
use core::fmt;

use url::Url;

use crate::b64;
use crate::fault::{Malformed, MalformedKind};
use crate::resource::RenewalInfo;
use crate::time::UnixTime;

/// A certificate's ARI identifier (RFC 9773 §4.1): `base64url(AKI keyIdentifier) "."
/// base64url(serial)`, both without padding, the serial as its DER INTEGER content
/// (with the leading zero byte of a positive serial whose top bit is set).
///
/// The path under the directory's `renewalInfo` URL ([`renewal_info_url`]) and the
/// value of a new order's `replaces`. Made by
/// [`CertificateInfo::cert_id`](super::CertificateInfo::cert_id) or
/// [`CertificateChain::cert_id`](super::CertificateChain::cert_id).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertId(String);

impl CertId {
    pub(crate) fn from_parts(key_identifier: &[u8], serial: &[u8]) -> Self {
        let mut id = b64::encode(key_identifier);
        id.push('.');
        id.push_str(&b64::encode(serial));
        Self(id)
    }

    /// Reads a certID kept as text (saved with a certificate, or from an order's
    /// `replaces`): two non-empty strict base64url parts joined by a dot.
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let invalid = || {
            Malformed::new(
                "ARI certID",
                MalformedKind::Invalid("not base64url.base64url"),
            )
        };
        let (key_identifier, serial) = text.split_once('.').ok_or_else(invalid)?;
        let key_identifier = b64::decode(key_identifier).ok_or_else(invalid)?;
        let serial = b64::decode(serial).ok_or_else(invalid)?;
        if key_identifier.is_empty() || serial.is_empty() {
            return Err(invalid());
        }
        Ok(Self::from_parts(&key_identifier, &serial))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertId({})", self.0)
    }
}

impl From<CertId> for String {
    fn from(id: CertId) -> Self {
        id.0
    }
}

impl AsRef<str> for CertId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The URL of a certificate's renewalInfo resource (RFC 9773 §4.1): the directory's
/// `renewalInfo` URL, `/`, and the certificate identifier.
///
/// RFC 9773 writes this as text concatenation, `renewalInfo || '/' || certID`; here it
/// is done on the URL's path instead, which gives the same URL for every `renewalInfo`
/// URL without a trailing slash, a query or a fragment, and a sensible one for those:
/// a trailing slash is not doubled, a query stays a query after the new path, and a
/// fragment (never sent to a server) is dropped. An unauthenticated GET to this URL
/// fetches the [`RenewalInfo`].
///
/// # Errors
///
/// [`Malformed`] (context `"renewalInfo URL"`) when `renewal_info` cannot have a path
/// (such as a `data:` URL).
pub fn renewal_info_url(renewal_info: &Url, cert_id: &CertId) -> Result<Url, Malformed> {
    let mut url = renewal_info.clone();
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| {
            Malformed::new(
                "renewalInfo URL",
                MalformedKind::Invalid("the renewalInfo URL cannot take a path"),
            )
        })?
        .pop_if_empty()
        .push(cert_id.as_str());
    Ok(url)
}

/// When to renew, following RFC 9773 §4.2's recommended algorithm.
///
/// A uniformly random time inside the suggested window (with a uniformly random
/// `random`, as [`SuggestedWindow::pick`](crate::resource::SuggestedWindow::pick)
/// draws it), or `now` if that time has already passed: "if the selected time is in
/// the past, attempt renewal immediately". A result equal to `now` means renew now.
///
/// The rest of the algorithm is the caller's schedule: renew at the returned time if
/// it can wake up then; if it only wakes up periodically, renew now when the time
/// falls before its next wake-up, and otherwise fetch the renewalInfo again after its
/// `Retry-After`. Keep `random` for the certificate (or derive it from the
/// certificate) so that fetching the same window again gives the same time.
pub fn renewal_time(info: &RenewalInfo, random: u64, now: UnixTime) -> UnixTime {
    info.suggested_window.pick(random).max(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> CertId {
        CertId::from_parts(&[0x69, 0x88, 0x5b], &[0x00, 0x87, 0x65, 0x43, 0x21])
    }

    #[test]
    fn parse_round_trips_and_refuses_junk() {
        let id = id();
        assert_eq!(CertId::parse(id.as_str()).unwrap(), id);
        for bad in [
            "", ".", "abc", "a.", ".a", "a+b.cd", "ab.c=d", "ab.cd.ef", "ab.c/",
        ] {
            assert!(CertId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parts_are_unpadded_base64url() {
        assert_eq!(id().as_str(), "aYhb.AIdlQyE");
        assert_eq!(String::from(id()), "aYhb.AIdlQyE");
        assert_eq!(alloc::format!("{:?}", id()), "CertId(aYhb.AIdlQyE)");
    }

    #[test]
    fn urls() {
        let url =
            |base: &str| renewal_info_url(&Url::parse(base).unwrap(), &id()).map(String::from);
        assert_eq!(
            url("https://example.com/acme/renewal-info").unwrap(),
            "https://example.com/acme/renewal-info/aYhb.AIdlQyE"
        );
        assert_eq!(
            url("https://example.com/acme/renewal-info/").unwrap(),
            "https://example.com/acme/renewal-info/aYhb.AIdlQyE"
        );
        assert_eq!(
            url("https://example.com").unwrap(),
            "https://example.com/aYhb.AIdlQyE"
        );
        assert_eq!(
            url("https://example.com/ari?v=1#top").unwrap(),
            "https://example.com/ari/aYhb.AIdlQyE?v=1"
        );
        assert!(url("data:text/plain,x").is_err());
    }
}
