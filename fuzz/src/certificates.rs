//! Certificates: the PEM chain splitter (`CertificateChain::from_pem`) and the
//! certificate reader behind ARI certIDs (`CertificateInfo::from_der`, `CertId`).

use acme_proto::certificate::renewal_info_url;
use acme_proto::{CertId, CertificateChain, CertificateInfo, Headers, Limits, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use url::Url;

use crate::NOW;

/// RFC 7468's strict form of a chain, written here independently of the crate.
fn strict_pem<'a>(ders: impl Iterator<Item = &'a [u8]>) -> String {
    let mut out = String::new();
    for der in ders {
        out.push_str("-----BEGIN CERTIFICATE-----\n");
        let text = STANDARD.encode(der);
        for line in text.as_bytes().chunks(64) {
            out.push_str(core::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
    }
    out
}

/// A PEM certificate chain (RFC 8555 §7.4.2, RFC 7468): read from arbitrary text, then
/// its certificates written in the strict form and read again as the same chain.
pub fn pem_chain(data: &[u8]) {
    // Through the response layer first: it takes any bytes.
    let response = Response::new(
        200,
        Headers::new().with("Content-Type", "application/pem-certificate-chain"),
        data.to_vec(),
    );
    let through_response = CertificateChain::from_response(&response, &Limits::default(), NOW);
    let Ok(text) = core::str::from_utf8(data) else {
        assert!(through_response.is_err(), "a non-UTF-8 chain was read");
        return;
    };
    let Ok(chain) = CertificateChain::from_pem(text) else {
        assert!(
            through_response.is_err(),
            "the response layer read a refused chain"
        );
        return;
    };
    if data.len() <= Limits::default().max_body(acme_proto::ResponseKind::Certificate) {
        assert_eq!(through_response.ok().as_ref(), Some(&chain));
    }
    assert_eq!(
        chain.pem(),
        text,
        "the chain's text is not kept as received"
    );
    assert!(!chain.is_empty());
    assert!(chain.len() <= CertificateChain::MAX_CERTIFICATES);
    assert_eq!(chain.len(), 1 + chain.issuers().len());
    assert_eq!(chain.iter().len(), chain.len());
    assert_eq!(chain.der().len(), chain.len());
    assert_eq!(chain.iter().next(), Some(chain.end_entity()));
    assert_eq!(chain.iter().last(), Some(chain.top()));
    for info in chain.iter() {
        check_certificate(info);
    }
    let strict = strict_pem(chain.der());
    let reread = match CertificateChain::from_pem(&strict) {
        Ok(c) => c,
        Err(e) => panic!("a chain written strictly does not read back: {e}"),
    };
    assert!(
        reread.iter().eq(chain.iter()),
        "the strict form of a chain reads as other certificates"
    );
    assert_eq!(reread.cert_id().ok(), chain.cert_id().ok());
}

/// What every certificate read must satisfy: its DER kept as is, and its certID, when
/// it has one, in canonical form and usable in a renewalInfo URL.
fn check_certificate(info: &CertificateInfo) {
    let again = match CertificateInfo::from_der(info.der()) {
        Ok(i) => i,
        Err(e) => panic!("a certificate's own DER does not read again: {e}"),
    };
    assert_eq!(&again, info);
    assert!(info.not_before() <= acme_proto::UnixTime::MAX);
    let Ok(id) = info.cert_id() else {
        assert!(
            info.authority_key_identifier().is_none_or(<[u8]>::is_empty),
            "no certID for a certificate with a key identifier"
        );
        return;
    };
    let aki = info.authority_key_identifier().unwrap_or_default();
    let expected = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(aki),
        URL_SAFE_NO_PAD.encode(info.serial())
    );
    assert_eq!(
        id.as_str(),
        expected,
        "certID is not base64url(AKI).base64url(serial)"
    );
    check_cert_id(&id);
}

/// A certID reads back as itself and names exactly one path segment.
fn check_cert_id(id: &CertId) {
    match CertId::parse(id.as_str()) {
        Ok(parsed) => assert_eq!(&parsed, id),
        Err(e) => panic!("certID {id} does not read back: {e}"),
    }
    let base =
        Url::parse("https://ca.example/acme/renewal-info").unwrap_or_else(|_| unreachable!());
    let url = match renewal_info_url(&base, id) {
        Ok(u) => u,
        Err(e) => panic!("no renewalInfo URL for {id}: {e}"),
    };
    assert_eq!(
        url.as_str(),
        format!("https://ca.example/acme/renewal-info/{}", id.as_str())
    );
}

/// One DER certificate, as the ARI code reads it (RFC 9773 §4.1); the same bytes also
/// as a certID's text, which must be strict base64url and so read back unchanged.
pub fn cert_id(data: &[u8]) {
    if let Ok(info) = CertificateInfo::from_der(data) {
        assert_eq!(info.der(), data, "the DER is not kept as received");
        check_certificate(&info);
        // The single certificate, as a chain, gives the same certID.
        let chain = CertificateChain::from_pem(&strict_pem(core::iter::once(data)));
        match chain {
            Ok(chain) => assert_eq!(chain.cert_id().ok(), info.cert_id().ok()),
            Err(e) => panic!("a certificate read alone is refused in a chain: {e}"),
        }
    }
    if let Ok(text) = core::str::from_utf8(data)
        && let Ok(id) = CertId::parse(text)
    {
        assert_eq!(
            id.as_str(),
            text,
            "a certID read is not its text: strict base64url"
        );
        check_cert_id(&id);
    }
}
