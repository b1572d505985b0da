//! Scenarios against acme2certifier 0.46.3, the second real ACME server, written once and
//! run for each driver: an acme2certifier of the scenario's own (its pure-Python
//! `openssl_ca_handler`, SQLite, a CA made for the run) on a loopback address 127.0.0.N
//! of its own, the driver's built-in responders on N:80 and N:443 (where acme2certifier
//! validates http-01 and tls-alpn-01), and a DNS hook that sets TXT records in the
//! pebble-challtestsrv acme2certifier resolves through (on N:53, answering N for every
//! name). Each issued chain is validated by rustls-webpki up to the CA's root, and every
//! responder is empty once an order is over. Every test is named `a2c_…`.
//!
//! What acme2certifier cannot do, and what the client sees of it:
//!
//! * **newAuthz**: the directory advertises `newAuthz` (`/acme/new-authz`), but no route
//!   serves it: a pre-authorization ends with a 404 whose body is not a problem document
//!   (`a2c_pre_authorization_is_refused`).
//! * **dns-account-01**: never offered: an authorization offers http-01, dns-01 and
//!   tls-alpn-01 (`a2c_offers_no_dns_account_01`; dns-persist-01 is off by default).
//! * **`replaces`** (ARI): renewal information is served (a GET of
//!   `/acme/renewal-info/CERTID`), but an order's `replaces` is neither checked nor
//!   recorded: two renewals of one certificate both issue, where Pebble refuses the
//!   second with `alreadyReplaced` (`a2c_replaces_is_not_enforced`).
//! * **The order list**: an account object has no `orders` URL (RFC 8555 §7.1.2 requires
//!   it), so `list_orders` ends with a typed `Malformed` error
//!   (`a2c_account_operations`).
//! * **Revocation signed by the certificate's key** (RFC 8555 §7.6): refused with
//!   `accountDoesNotExist` (403); only the account key revokes (`a2c_revocation`).
//! * **Profiles** change nothing in what `openssl_ca_handler` issues, and the order
//!   object does not echo `profile`; the validity comes from the handler's config.
//!
//! Where it answers otherwise than Pebble 2.10, asserted where the scenarios meet it: a
//! new account needs a contact (`malformed`, "Contact information is missing");
//! `accountDoesNotExist` is a 403 (Pebble: 400), and is also the answer to a deactivated
//! account's order (Pebble and RFC 8555 §7.3.6: `unauthorized`); challenges are
//! validated within the POST that answers them (`valid` at once) and finalize answers
//! `valid` with the certificate URL at once (Pebble: `processing` first); finalize has a
//! Location header (Pebble 2.9 and later: none); the three challenges of an
//! authorization share one token; renewal information is a window from 85 % of the
//! validity to its end with `Retry-After: 86400` (Pebble: at most two days around two
//! thirds of it, 6 hours).

use std::net::IpAddr;

use acme_proto::client::{NewAccount, NewOrder, RevocationReason};
use acme_proto::crypto::{AccountKey, EabAlgorithm, ExternalAccountBinding, SignatureAlgorithm};
use acme_proto::{Identifier, ProblemType};
use acme_proto_tests::{
    Acme2Certifier, Acme2CertifierOptions, acme2certifier_or_skip, verify_chain,
};

use super::responders::{self, Challenge, Responders};
use crate::driver::{AcmeClient, Certificate, DriverError, generate_account_key};

/// For messages: which driver ran the scenario.
const DRIVER: &str = crate::DRIVER_NAME;

driver_tests!(
    a2c_http01_ip_address,
    a2c_http01_dns_name,
    a2c_tls_alpn01,
    a2c_dns01,
    a2c_eab_required,
    a2c_profiles,
    a2c_renewal_info,
    a2c_revocation,
    a2c_pre_authorization_is_refused,
    a2c_offers_no_dns_account_01,
    a2c_replaces_is_not_enforced,
    a2c_account_operations,
);

/// An acme2certifier of the scenario's own, with the driver's responders on its address.
pub struct Fixture {
    pub a2c: Acme2Certifier,
    pub responders: Responders,
}

impl std::ops::Deref for Fixture {
    type Target = Responders;

    fn deref(&self) -> &Responders {
        &self.responders
    }
}

impl Fixture {
    /// `None` when acme2certifier is not installed and this is not CI.
    pub fn start(options: Acme2CertifierOptions) -> Option<Self> {
        let mut a2c = acme2certifier_or_skip(options)?;
        eprintln!(
            "{DRIVER}: acme2certifier on {} started in {:?}",
            a2c.address(),
            a2c.startup_time()
        );
        let responders = Responders::start(
            a2c.take_http01_listener().expect("port 80"),
            a2c.take_tlsalpn01_listener().expect("port 443"),
            &a2c.challtestsrv().management_url(),
        );
        Some(Self { a2c, responders })
    }

    /// A client for acme2certifier with `key`, trusting only its TLS root.
    pub fn client(&self, key: AccountKey) -> AcmeClient {
        responders::client(&self.a2c.directory_url(), self.a2c.root_pem(), key)
    }

    /// A client with a new ES256 account (no EAB).
    pub async fn account(&self) -> AcmeClient {
        let client = self.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
        let info =
            aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:ops@example.org"])))
                .unwrap_or_else(|e| panic!("{DRIVER}: creating the account: {e}\n{}", self.log()));
        assert!(info.created);
        client
    }

    /// The instance's own address, 127.0.0.N, as a string.
    pub fn ip(&self) -> String {
        self.a2c.address().to_string()
    }

    /// Orders `request` with `challenge`, the error as it came.
    pub async fn try_order(
        &self,
        client: &AcmeClient,
        request: NewOrder,
        challenge: Challenge,
    ) -> Result<Certificate, DriverError> {
        self.responders.issue(client, request, challenge).await
    }

    /// Issues `request` with `challenge`, then checks the chain up to the CA's root for
    /// `names` and that nothing is left presented.
    pub async fn issue(
        &self,
        client: &AcmeClient,
        request: NewOrder,
        names: &[&str],
        challenge: Challenge,
    ) -> Certificate {
        let certificate = self
            .try_order(client, request, challenge)
            .await
            .unwrap_or_else(|e| panic!("{DRIVER}: issuing {names:?}: {e}\n{}", self.log()));
        verify_chain(
            certificate.issued.chain.pem(),
            self.a2c.ca_root_pem(),
            names,
        )
        .unwrap_or_else(|e| panic!("{DRIVER}: {names:?}: {e}"));
        // The leaf and the issuing CA, below the root.
        assert_eq!(
            certificate.issued.chain.into_iter().count(),
            2,
            "{DRIVER}: the chain"
        );
        assert!(self.is_empty(), "{DRIVER}: a challenge was left presented");
        certificate
    }

    /// Issues for `names` (DNS names or IP addresses) with `challenge`.
    pub async fn issue_names(
        &self,
        client: &AcmeClient,
        names: &[&str],
        challenge: Challenge,
    ) -> Certificate {
        self.issue(client, super::pebble::order(names), names, challenge)
            .await
    }

    fn log(&self) -> String {
        self.a2c.log_tail()
    }
}

/// The problem document's type; a panic naming the error when there is none.
fn problem(error: &DriverError) -> ProblemType {
    match error.problem() {
        Some(problem) => problem.kind.clone(),
        None => panic!("{DRIVER}: expected a problem document from acme2certifier: {error:?}"),
    }
}

pub async fn a2c_http01_ip_address() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let ip = f.ip();
    let certificate = f.issue_names(&client, &[&ip], Challenge::Http01).await;
    assert_eq!(
        certificate.issued.chain.end_entity().ip_addresses(),
        &[ip.parse::<IpAddr>().expect("ip")]
    );
}

pub async fn a2c_http01_dns_name() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    // Resolved by challtestsrv (its default answer: the instance's address).
    f.issue_names(&client, &["http01.example.org"], Challenge::Http01)
        .await;
}

pub async fn a2c_tls_alpn01() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    f.issue_names(&client, &["tlsalpn.example.org"], Challenge::TlsAlpn01)
        .await;
}

pub async fn a2c_dns01() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    f.issue_names(&client, &["dns01.example.org"], Challenge::Dns01)
        .await;
    let left = f
        .a2c
        .challtestsrv()
        .lookup_txt("_acme-challenge.dns01.example.org")
        .expect("lookup");
    assert!(left.is_empty(), "{DRIVER}: TXT records left: {left:?}");
}

pub async fn a2c_eab_required() {
    const KID: &str = "kid-1";
    const KEY: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let Some(f) = Fixture::start(Acme2CertifierOptions::default().eab_key(KID, KEY)) else {
        return;
    };
    let client = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let directory = aw!(client.directory()).expect("directory");
    eprintln!(
        "{DRIVER}: acme2certifier's directory says externalAccountRequired: {}",
        directory.meta.external_account_required
    );
    let refused = aw!(client.create_account(NewAccount::agreeing_to_terms(Vec::<String>::new())))
        .expect_err("an account without EAB");
    assert_eq!(
        problem(&refused),
        ProblemType::ExternalAccountRequired,
        "{refused}"
    );
    // A wrong key is refused too.
    let wrong =
        ExternalAccountBinding::new(KID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", EabAlgorithm::Hs256)
            .expect("EAB");
    let refused = aw!(client.create_account(
        NewAccount::agreeing_to_terms(Vec::<String>::new()).with_external_account_binding(wrong)
    ))
    .expect_err("a wrong EAB key");
    eprintln!("{DRIVER}: a wrong EAB key: {refused}");
    assert_eq!(problem(&refused), ProblemType::Unauthorized, "{refused}");

    // acme2certifier refuses an account without a contact (`malformed`, "Contact
    // information is missing") once past the EAB check: RFC 8555 makes it optional.
    let eab = ExternalAccountBinding::new(KID, KEY, EabAlgorithm::Hs256).expect("EAB");
    let no_contact = aw!(client.create_account(
        NewAccount::agreeing_to_terms(Vec::<String>::new()).with_external_account_binding(eab)
    ))
    .expect_err("no contact");
    assert_eq!(problem(&no_contact), ProblemType::Malformed, "{no_contact}");
    let eab = ExternalAccountBinding::new(KID, KEY, EabAlgorithm::Hs256).expect("EAB");
    let info = aw!(client.create_account(
        NewAccount::agreeing_to_terms(["mailto:ops@example.org"])
            .with_external_account_binding(eab)
    ))
    .unwrap_or_else(|e| panic!("{DRIVER}: with EAB: {e}\n{}", f.log()));
    assert!(info.created);
    f.issue_names(&client, &["eab.example.org"], Challenge::Http01)
        .await;
}

pub async fn a2c_profiles() {
    let options = Acme2CertifierOptions::default()
        .profile("classic", "The usual certificate")
        .profile("shortlived", "A short-lived certificate");
    let Some(f) = Fixture::start(options) else {
        return;
    };
    let client = f.account().await;
    let directory = aw!(client.directory()).expect("directory");
    assert_eq!(
        directory.meta.profiles.keys().collect::<Vec<_>>(),
        ["classic", "shortlived"],
        "{DRIVER}"
    );
    let request = super::pebble::order(&["profile.example.org"]).with_profile("shortlived");
    f.issue(
        &client,
        request,
        &["profile.example.org"],
        Challenge::Http01,
    )
    .await;
    // A profile the directory does not list never reaches the server: the client
    // refuses it first (acme2certifier would answer `invalidProfile`).
    let unknown = super::pebble::order(&["unknown.example.org"]).with_profile("nonesuch");
    let error = f
        .try_order(&client, unknown, Challenge::Http01)
        .await
        .expect_err("an unknown profile");
    assert!(
        matches!(error, DriverError::Acme(acme_proto::Error::Misuse(_))),
        "{DRIVER}: {error:?}"
    );
    assert!(
        f.http.is_empty(),
        "{DRIVER}: a challenge was left presented"
    );
}

pub async fn a2c_renewal_info() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let certificate = f
        .issue_names(&client, &["ari.example.org"], Challenge::Http01)
        .await;
    let suggestion = aw!(client.renewal_info(&certificate.issued.chain))
        .unwrap_or_else(|e| panic!("{DRIVER}: renewal_info: {e}\n{}", f.log()));
    let leaf = certificate.issued.chain.end_entity();
    let window = suggestion.info.suggested_window;
    let (not_before, not_after) = (leaf.not_before(), leaf.not_after());
    eprintln!(
        "{DRIVER}: acme2certifier's window {window:?} for {not_before:?} .. {not_after:?}, \
         Retry-After {:?}",
        suggestion.retry_after
    );
    assert!(
        not_before <= window.start && window.start < window.end && window.end <= not_after,
        "{DRIVER}: window {window:?} outside the validity {not_before:?} .. {not_after:?}"
    );
    // acme2certifier's default: from 85 % of the validity to its end.
    let validity = not_after.saturating_duration_since(not_before);
    let into = window.start.saturating_duration_since(not_before);
    assert!(
        into >= validity * 4 / 5,
        "{DRIVER}: window {window:?} starts before 80 % of the validity"
    );
    assert!(
        suggestion.retry_after.is_some(),
        "{DRIVER}: no Retry-After on renewalInfo"
    );
}

pub async fn a2c_revocation() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let first = f
        .issue_names(&client, &["revoke1.example.org"], Challenge::Http01)
        .await;
    aw!(client.revoke(&first.issued.chain, Some(RevocationReason::Superseded)))
        .unwrap_or_else(|e| panic!("{DRIVER}: revoking with the account key: {e}\n{}", f.log()));
    let again = aw!(client.revoke(&first.issued.chain, None)).expect_err("revoked twice");
    eprintln!("{DRIVER}: revoked twice: {again}");
    assert_eq!(problem(&again), ProblemType::AlreadyRevoked, "{again}");

    let second = f
        .issue_names(&client, &["revoke2.example.org"], Challenge::Http01)
        .await;
    // acme2certifier checks a revocation's signature against an account only (its
    // `revokecert` never takes the JWK embedded in the request): a request signed by
    // the certificate's key is refused with `accountDoesNotExist` (RFC 8555 §7.6
    // allows it; Pebble revokes).
    let refused = aw!(client.revoke_with_certificate_key(
        &second.issued.chain,
        &second.private_key_pem,
        None
    ))
    .expect_err("acme2certifier revokes only with an account key");
    assert_eq!(
        problem(&refused),
        ProblemType::AccountDoesNotExist,
        "{refused}"
    );
    // The account key still revokes it.
    aw!(client.revoke(&second.issued.chain, None))
        .unwrap_or_else(|e| panic!("{DRIVER}: revoking the second: {e}\n{}", f.log()));
}

pub async fn a2c_pre_authorization_is_refused() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let directory = aw!(client.directory()).expect("directory");
    assert!(
        directory.new_authz.is_some(),
        "{DRIVER}: acme2certifier advertises newAuthz"
    );
    let identifier = Identifier::dns("pre.example.org").expect("name");
    // acme2certifier advertises `/acme/new-authz` and routes nothing there: its 404 is
    // plain JSON, not a problem document, and the client says so.
    let error = aw!(client.pre_authorize(identifier, &f.http)).expect_err("no newAuthz route");
    assert!(
        matches!(
            &error,
            DriverError::Acme(acme_proto::Error::Malformed(malformed))
                if malformed.kind == acme_proto::MalformedKind::UnexpectedStatus(404)
        ),
        "{DRIVER}: {error:?}"
    );
    assert!(
        f.http.is_empty(),
        "{DRIVER}: a challenge was left presented"
    );
}

pub async fn a2c_offers_no_dns_account_01() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let error = f
        .try_order(
            &client,
            super::pebble::order(&["offers.example.org"]),
            Challenge::Refuse,
        )
        .await
        .expect_err("a solver that chooses nothing");
    match error {
        DriverError::NoChallengeChosen { offered, .. } => {
            assert_eq!(offered, ["http-01", "dns-01", "tls-alpn-01"], "{DRIVER}");
        }
        other => panic!("{DRIVER}: {other:?}"),
    }
}

pub async fn a2c_replaces_is_not_enforced() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let names = ["replaced.example.org"];
    let first = f.issue_names(&client, &names, Challenge::Http01).await;
    let cert_id = first.issued.chain.cert_id().expect("certID");
    // Two renewals of the same certificate: acme2certifier issues both.
    for _ in 0..2 {
        let request = super::pebble::order(&names).replacing(cert_id.clone());
        f.issue(&client, request, &names, Challenge::Http01).await;
    }
}

/// Finding the account by its key, a contact update, a key rollover, the order list (the
/// account has none), a deactivation.
pub async fn a2c_account_operations() {
    let Some(f) = Fixture::start(Acme2CertifierOptions::default()) else {
        return;
    };
    let client = f.account().await;
    let credentials = client.credentials().expect("credentials");
    let same_key = f.client(acme_proto_support::copy_key(credentials.key()).expect("key"));
    let found = aw!(same_key.find_account()).unwrap_or_else(|e| panic!("{DRIVER}: find: {e}"));
    assert_eq!(&found.url, credentials.account_url());
    assert!(!found.created);
    // RFC 8555 §7.1.2 requires `orders` in an account object; acme2certifier sends none.
    assert_eq!(found.account.orders, None, "{DRIVER}");
    let stranger = f.client(generate_account_key(SignatureAlgorithm::Es256).expect("key"));
    let error = aw!(stranger.find_account()).expect_err("no account");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");

    let updated = aw!(client.update_contacts(["mailto:new@example.org"]))
        .unwrap_or_else(|e| panic!("{DRIVER}: contact update: {e}"));
    assert_eq!(updated.account.contact, ["mailto:new@example.org"]);
    // With no `orders` URL the order list is a typed error, not an empty list.
    let listed = aw!(client.list_orders(10)).expect_err("no orders URL");
    assert!(
        matches!(
            &listed,
            DriverError::Acme(acme_proto::Error::Malformed(malformed))
                if malformed.context == "account"
        ),
        "{DRIVER}: {listed:?}"
    );

    let new_key = generate_account_key(SignatureAlgorithm::Es384).expect("key");
    aw!(client.change_key(new_key))
        .map_err(|e| e.error)
        .unwrap_or_else(|e| panic!("{DRIVER}: key change: {e}\n{}", f.log()));
    f.issue_names(&client, &["rollover.example.org"], Challenge::Http01)
        .await;

    let deactivated =
        aw!(client.deactivate_account()).unwrap_or_else(|e| panic!("{DRIVER}: deactivate: {e}"));
    assert_eq!(
        deactivated.account.status,
        acme_proto::AccountStatus::Deactivated
    );
    // RFC 8555 §7.3.6 says `unauthorized` (Pebble's answer); acme2certifier answers
    // `accountDoesNotExist` (403).
    let error = f
        .try_order(
            &client,
            super::pebble::order(&["after.example.org"]),
            Challenge::Http01,
        )
        .await
        .expect_err("a deactivated account");
    assert_eq!(problem(&error), ProblemType::AccountDoesNotExist, "{error}");
    assert!(
        f.http.is_empty(),
        "{DRIVER}: a challenge was left presented"
    );
}
