#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Certificate chains: RFC 9773's example, chains made with rcgen, chain selection,
//! renewal times, and hostile PEM and DER.

mod common;

use std::net::IpAddr;

use acme_proto::certificate::{renewal_info_url, renewal_time, select_chain};
use acme_proto::resource::RenewalInfo;
use acme_proto::{CertificateChain, CertificateInfo, Malformed, MalformedKind, UnixTime};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{TestRng, b64d};
use rand_core::Rng as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod,
    KeyPair, SerialNumber, date_time_ymd,
};
use url::Url;

const RFC9773_EXAMPLE: &str = include_str!("data/rfc9773-example.pem");
const RFC9773_CERT_ID: &str = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";

/// 2025-01-01T00:00:00Z.
const JAN_1_2025: u64 = 1_735_689_600;
/// 2025-04-01T00:00:00Z.
const APR_1_2025: u64 = 1_743_465_600;
/// 2051-01-01T00:00:00Z: after 2049, so written as GeneralizedTime.
const JAN_1_2051: u64 = 2_556_144_000;

const INTERMEDIATE_KEY_ID: [u8; 20] = [
    0xfa, 0xce, 0xb0, 0x0c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x0d, 0x0e, 0x0f, 0x10,
];

fn pem_block(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn malformed(pem: &str) -> Malformed {
    match CertificateChain::from_pem(pem) {
        Err(m) => m,
        Ok(chain) => panic!("accepted: {chain:?}"),
    }
}

fn invalid_reason(m: &Malformed) -> &'static str {
    match m.kind {
        MalformedKind::Invalid(why) => why,
        ref other => panic!("unexpected kind {other:?}"),
    }
}

/// Two roots, one intermediate key cross-signed by both, and a leaf.
struct Pki {
    leaf: rcgen::Certificate,
    intermediate_by_a: rcgen::Certificate,
    intermediate_by_b: rcgen::Certificate,
    root_a: rcgen::Certificate,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.use_authority_key_identifier_extension = true;
    params
}

fn pki() -> Pki {
    let root_a_key = KeyPair::generate().unwrap();
    let root_b_key = KeyPair::generate().unwrap();
    let intermediate_key = KeyPair::generate().unwrap();
    let leaf_key = KeyPair::generate().unwrap();

    let mut root_a_params = ca_params("Test Root A");
    root_a_params.use_authority_key_identifier_extension = false;
    let root_a = root_a_params.self_signed(&root_a_key).unwrap();
    let root_a_issuer = Issuer::new(root_a_params, &root_a_key);
    let root_b_issuer = Issuer::new(ca_params("Test Root B"), &root_b_key);

    let mut intermediate_params = ca_params("Test Intermediate");
    intermediate_params.key_identifier_method =
        KeyIdMethod::PreSpecified(INTERMEDIATE_KEY_ID.to_vec());
    let intermediate_by_a = intermediate_params
        .signed_by(&intermediate_key, &root_a_issuer)
        .unwrap();
    let intermediate_by_b = intermediate_params
        .signed_by(&intermediate_key, &root_b_issuer)
        .unwrap();
    let intermediate = Issuer::new(intermediate_params, &intermediate_key);

    let mut leaf_params = CertificateParams::new(vec![
        "example.com".to_string(),
        "www.example.com".to_string(),
        "192.0.2.1".to_string(),
        "2001:db8::1".to_string(),
    ])
    .unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "example.com");
    leaf_params.not_before = date_time_ymd(2025, 1, 1);
    leaf_params.not_after = date_time_ymd(2025, 4, 1);
    // Top bit set: the DER INTEGER carries a leading zero byte.
    leaf_params.serial_number = Some(SerialNumber::from_slice(&[0x87, 0x65, 0x43, 0x21]));
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf = leaf_params.signed_by(&leaf_key, &intermediate).unwrap();

    Pki {
        leaf,
        intermediate_by_a,
        intermediate_by_b,
        root_a,
    }
}

#[test]
fn rfc9773_example_gives_its_cert_id() {
    let chain = CertificateChain::from_pem(RFC9773_EXAMPLE).unwrap();
    assert_eq!(chain.len(), 1);
    assert!(chain.issuers().is_empty());
    assert_eq!(chain.pem(), RFC9773_EXAMPLE);
    let leaf = chain.end_entity();
    assert_eq!(leaf.subject_common_name(), Some("example.com"));
    assert_eq!(leaf.issuer_common_name(), Some("Example CA"));
    assert_eq!(leaf.serial(), [0x00, 0x87, 0x65, 0x43, 0x21]);
    assert_eq!(
        leaf.authority_key_identifier().unwrap(),
        [
            0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
            0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4
        ]
    );
    // Valid from and to 0001-01-01, before anything UnixTime holds.
    assert_eq!(leaf.not_before(), UnixTime::EPOCH);
    assert_eq!(leaf.not_after(), UnixTime::EPOCH);
    assert!(leaf.dns_names().is_empty());
    assert_eq!(chain.cert_id().unwrap().as_str(), RFC9773_CERT_ID);
    assert_eq!(leaf.cert_id().unwrap().to_string(), RFC9773_CERT_ID);

    let base = Url::parse("https://example.com/acme/renewal-info").unwrap();
    assert_eq!(
        renewal_info_url(&base, &chain.cert_id().unwrap())
            .unwrap()
            .as_str(),
        "https://example.com/acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    );
}

#[test]
fn rfc9773_example_from_der() {
    let der = b64d(
        &RFC9773_EXAMPLE
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
            .replace('+', "-")
            .replace('/', "_"),
    );
    let info = CertificateInfo::from_der(&der).unwrap();
    assert_eq!(info.der(), der);
    assert_eq!(info.cert_id().unwrap().as_str(), RFC9773_CERT_ID);
}

#[test]
fn generated_chain_facts() {
    let pki = pki();
    let pem = format!("{}{}", pki.leaf.pem(), pki.intermediate_by_a.pem());
    let chain = CertificateChain::from_pem(&pem).unwrap();
    assert_eq!(chain.pem(), pem);
    assert_eq!(chain.len(), 2);
    assert!(!chain.is_empty());
    assert_eq!(
        chain.der().collect::<Vec<_>>(),
        [
            pki.leaf.der().as_ref(),
            pki.intermediate_by_a.der().as_ref()
        ]
    );
    assert_eq!(chain.iter().len(), 2);
    assert_eq!((&chain).into_iter().count(), 2);

    let leaf = chain.end_entity();
    assert_eq!(leaf.subject_common_name(), Some("example.com"));
    assert_eq!(leaf.issuer_common_name(), Some("Test Intermediate"));
    assert!(!leaf.is_self_issued());
    assert_eq!(leaf.dns_names(), ["example.com", "www.example.com"]);
    assert_eq!(
        leaf.ip_addresses(),
        [
            "192.0.2.1".parse::<IpAddr>().unwrap(),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        ]
    );
    assert_eq!(leaf.not_before(), UnixTime::from_secs(JAN_1_2025));
    assert_eq!(leaf.not_after(), UnixTime::from_secs(APR_1_2025));
    assert_eq!(leaf.serial(), [0x00, 0x87, 0x65, 0x43, 0x21]);
    assert_eq!(
        leaf.authority_key_identifier(),
        Some(&INTERMEDIATE_KEY_ID[..])
    );

    let id = chain.cert_id().unwrap();
    let (aki, serial) = id.as_str().split_once('.').unwrap();
    assert_eq!(b64d(aki), INTERMEDIATE_KEY_ID);
    assert_eq!(b64d(serial), [0x00, 0x87, 0x65, 0x43, 0x21]);
    assert!(!id.as_str().contains('='));

    let intermediate = &chain.issuers()[0];
    assert_eq!(
        intermediate.subject_common_name(),
        Some("Test Intermediate")
    );
    assert_eq!(intermediate.issuer_common_name(), Some("Test Root A"));
    assert!(std::ptr::eq(chain.top(), intermediate));
    assert_eq!(chain.root_name(), Some("Test Root A"));
}

#[test]
fn self_signed_root_without_aki_has_no_cert_id() {
    let pki = pki();
    let chain = CertificateChain::from_pem(&pki.root_a.pem()).unwrap();
    let root = chain.end_entity();
    assert!(root.is_self_issued());
    assert_eq!(root.subject_common_name(), Some("Test Root A"));
    assert_eq!(chain.root_name(), Some("Test Root A"));
    assert_eq!(root.authority_key_identifier(), None);
    let err = chain.cert_id().unwrap_err();
    assert_eq!(err.context, "ARI certID");
    assert_eq!(
        invalid_reason(&err),
        "the certificate has no Authority Key Identifier extension"
    );
}

#[test]
fn generalized_time_after_2049() {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["late.example".to_string()]).unwrap();
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2051, 1, 1);
    params.distinguished_name = DistinguishedName::new();
    let cert = params.self_signed(&key).unwrap();
    let info = CertificateInfo::from_der(cert.der()).unwrap();
    assert_eq!(info.not_before(), UnixTime::from_secs(JAN_1_2025));
    assert_eq!(info.not_after(), UnixTime::from_secs(JAN_1_2051));
    assert_eq!(info.subject_common_name(), None);
    assert_eq!(info.dns_names(), ["late.example"]);
}

#[test]
fn lax_pem_is_read_and_kept_verbatim() {
    let pki = pki();
    let strict = format!("{}{}", pki.leaf.pem(), pki.intermediate_by_a.pem());
    let lax = format!(
        "Leaf certificate\r\n{}\r\n\r\nIssued by:\r\n{}   \r\n",
        pki.leaf.pem().replace('\n', "\r\n"),
        pem_block(pki.intermediate_by_a.der()).replace('\n', "\n  ")
    );
    let a = CertificateChain::from_pem(&strict).unwrap();
    let b = CertificateChain::from_pem(&lax).unwrap();
    assert_eq!(a.der().collect::<Vec<_>>(), b.der().collect::<Vec<_>>());
    assert_eq!(b.pem(), lax);
    assert_eq!(b.clone().into_pem(), lax);
}

#[test]
fn preferred_chain_selection() {
    let pki = pki();
    let leaf = pki.leaf.pem();
    let default =
        CertificateChain::from_pem(&format!("{leaf}{}", pki.intermediate_by_a.pem())).unwrap();
    let alternate =
        CertificateChain::from_pem(&format!("{leaf}{}", pki.intermediate_by_b.pem())).unwrap();
    let with_root = CertificateChain::from_pem(&format!(
        "{leaf}{}{}",
        pki.intermediate_by_a.pem(),
        pki.root_a.pem()
    ))
    .unwrap();
    assert_eq!(alternate.root_name(), Some("Test Root B"));
    assert_eq!(with_root.root_name(), Some("Test Root A"));

    let alternates = [alternate.clone(), with_root.clone()];
    assert_eq!(
        select_chain(&default, &alternates, "Test Root B"),
        &alternate
    );
    // The default comes first when it matches.
    assert_eq!(select_chain(&default, &alternates, "Test Root A"), &default);
    // The first matching alternate wins.
    let only_alternates = [with_root.clone(), alternate.clone()];
    assert_eq!(
        select_chain(&alternate, &only_alternates, "Test Root A"),
        &with_root
    );
    // No match, a lower certificate's name, or a different case: the default.
    assert_eq!(select_chain(&default, &alternates, "Nobody"), &default);
    assert_eq!(
        select_chain(&default, &alternates, "Test Intermediate"),
        &default
    );
    assert_eq!(select_chain(&default, &alternates, "test root b"), &default);
    assert_eq!(select_chain(&default, [], "Test Root B"), &default);
}

#[test]
fn renewal_time_inside_the_window_or_now() {
    let info: RenewalInfo = serde_json::from_str(
        r#"{"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"}}"#,
    )
    .unwrap();
    let start = UnixTime::from_secs(1_735_790_400);
    let end = UnixTime::from_secs(1_735_876_800);
    let before = UnixTime::from_secs(JAN_1_2025);
    assert_eq!(renewal_time(&info, 0, before), start);
    assert_eq!(
        renewal_time(&info, 1 << 63, before),
        UnixTime::from_secs(1_735_833_600)
    );
    let last = renewal_time(&info, u64::MAX, before);
    assert!(last < end && last > UnixTime::from_secs(1_735_876_799));

    // Inside the window: a time already past means now.
    let inside = UnixTime::from_secs(1_735_833_600);
    assert_eq!(renewal_time(&info, 0, inside), inside);
    assert!(renewal_time(&info, u64::MAX, inside) > inside);
    // After the window: now.
    let after = UnixTime::from_secs(APR_1_2025);
    assert_eq!(renewal_time(&info, u64::MAX, after), after);

    // Uniform: both halves of the window are hit.
    let mut rng = TestRng::new(7);
    let (mut early, mut late) = (0, 0);
    for _ in 0..1000 {
        let t = renewal_time(&info, rng.next_u64(), before);
        assert!(start <= t && t <= end);
        if t < inside {
            early += 1;
        } else {
            late += 1;
        }
    }
    assert!(early > 400 && late > 400, "{early} / {late}");
}

#[test]
fn hostile_pem() {
    let pki = pki();
    let good = pki.leaf.pem();

    let cases: Vec<(&str, String, &str)> = vec![
        ("empty body", String::new(), "no CERTIFICATE block"),
        ("only text", "hello\r\n".into(), "no CERTIFICATE block"),
        (
            "no END line",
            good.replace("-----END CERTIFICATE-----\n", ""),
            "a CERTIFICATE block has no END line",
        ),
        (
            "bad base64 character",
            good.replacen("MII", "M!I", 1),
            "a character outside base64 in a CERTIFICATE block",
        ),
        (
            "base64url alphabet",
            pem_block(&[0xfb, 0xff]).replace("+/", "-_"),
            "a character outside base64 in a CERTIFICATE block",
        ),
        (
            "missing padding",
            "-----BEGIN CERTIFICATE-----\nAQI\n-----END CERTIFICATE-----\n".into(),
            "a CERTIFICATE block is not canonical base64",
        ),
        (
            "wrong label",
            good.replace("CERTIFICATE", "PRIVATE KEY"),
            "a PEM block is not a CERTIFICATE",
        ),
        (
            "mismatched END",
            good.replace("END CERTIFICATE", "END X509 CRL"),
            "a CERTIFICATE block does not end with its END line",
        ),
        (
            "stray END",
            format!("{good}-----END CERTIFICATE-----\n"),
            "a PEM END line without its BEGIN line",
        ),
        (
            "non-ASCII text",
            format!("Zertifikat für example.com\n{good}"),
            "not ASCII PEM text",
        ),
        (
            "1000 blocks",
            good.repeat(1000),
            "more than 16 certificates in the chain",
        ),
    ];
    for (name, pem, why) in cases {
        let m = malformed(&pem);
        assert_eq!(m.context, "certificate chain", "{name}");
        assert_eq!(invalid_reason(&m), why, "{name}");
    }
    assert_eq!(
        CertificateChain::from_pem(&good.repeat(CertificateChain::MAX_CERTIFICATES))
            .unwrap()
            .len(),
        16
    );
}

#[test]
fn hostile_der_in_valid_pem() {
    let pki = pki();
    let der = pki.leaf.der().to_vec();
    let mut trailing = der.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"hello, world".to_vec()),
        ("truncated", der[..der.len() - 10].to_vec()),
        ("header only", der[..4].to_vec()),
        ("trailing byte", trailing),
        ("a bare SEQUENCE", vec![0x30, 0x00]),
        ("indefinite length", vec![0x30, 0x80, 0x00, 0x00]),
        ("huge length", vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]),
    ];
    for (name, bad) in cases {
        // The bad certificate alone, and after a good one.
        for pem in [
            pem_block(&bad),
            format!("{}{}", pki.leaf.pem(), pem_block(&bad)),
        ] {
            let m = malformed(&pem);
            assert_eq!(m.context, "certificate", "{name}");
            assert_eq!(
                invalid_reason(&m),
                "not a DER-encoded X.509 certificate",
                "{name}"
            );
        }
    }
}

/// Random damage to a valid chain's text and DER: errors or chains, never a panic.
#[test]
fn random_damage_never_panics() {
    let pki = pki();
    let pem = format!("{}{}", pki.leaf.pem(), pki.intermediate_by_a.pem());
    let der = pki.leaf.der().to_vec();
    let mut rng = TestRng::new(42);
    let mut pick = |n: usize| usize::try_from(rng.next_u64() % n as u64).unwrap();
    for _ in 0..2000 {
        let mut text = pem.clone().into_bytes();
        for _ in 0..=pick(3) {
            let at = pick(text.len());
            text[at] = b"ABCxyz019+/=-\n\r \t"[pick(17)];
        }
        text.truncate(text.len() - pick(40));
        let _ = CertificateChain::from_pem(std::str::from_utf8(&text).unwrap());

        let mut bytes = der.clone();
        for _ in 0..=pick(3) {
            let at = pick(bytes.len());
            bytes[at] = u8::try_from(pick(256)).unwrap();
        }
        bytes.truncate(bytes.len() - pick(8));
        let _ = CertificateInfo::from_der(&bytes);
    }
}

#[test]
fn chain_from_a_certificate_download() {
    use acme_proto::{Error, Headers, Limits, Response};
    let download = |content_type: &str, body: &str| {
        Response::new(
            200,
            Headers::new().with("Content-Type", content_type),
            body.as_bytes().to_vec(),
        )
    };
    let limits = Limits::default();
    let ok = download("application/pem-certificate-chain", RFC9773_EXAMPLE);
    let chain = CertificateChain::from_response(&ok, &limits, UnixTime::EPOCH).unwrap();
    assert_eq!(chain.cert_id().unwrap().as_str(), RFC9773_CERT_ID);

    let json = download("application/json", RFC9773_EXAMPLE);
    assert!(matches!(
        CertificateChain::from_response(&json, &limits, UnixTime::EPOCH),
        Err(Error::Malformed(Malformed {
            kind: MalformedKind::ContentType { .. },
            ..
        }))
    ));
    let garbage = download("application/pem-certificate-chain", "no certificate here");
    assert!(matches!(
        CertificateChain::from_response(&garbage, &limits, UnixTime::EPOCH),
        Err(Error::Malformed(Malformed {
            context: "certificate chain",
            ..
        }))
    ));
}
