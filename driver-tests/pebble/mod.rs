//! Every scenario against real Pebble, written once with the rest of the driver suite
//! and run for each driver: a Pebble of the scenario's own, the driver's built-in
//! responders on Pebble's validation ports, and a DNS hook that sets TXT records in
//! challtestsrv. Each issued chain is validated by rustls-webpki up to Pebble's root
//! (management `/roots/N`), and every responder is empty once an order is over.
//!
//! The scenarios run on Pebble 2.10.3 (the harness's default, built from the Go module
//! proxy); `today.rs` has what only 2.10 has among real servers (`replaces`, profiles,
//! the new DNS challenges, IPv6, an ECDSA hierarchy); `pebble_2_4.rs` runs a few on
//! Debian's Pebble 2.4.0, an older server without ARI.

use acme_proto::Identifier;
use acme_proto::client::{NewAccount, NewOrder};
use acme_proto::crypto::{AccountKey, SignatureAlgorithm};
use acme_proto_tests::{Pebble, PebbleOptions, start_or_skip, verify_chain};

use crate::driver::{AcmeClient, Certificate, DriverError, Transport, generate_account_key};

mod cold_start;
mod pebble_2_4;
mod scenarios;
mod today;

pub use crate::suite::responders::Challenge;
use crate::suite::responders::Responders;

/// A Pebble of the scenario's own, with the driver's responders on its ports.
pub struct Fixture {
    pub pebble: Pebble,
    pub responders: Responders,
}

impl std::ops::Deref for Fixture {
    type Target = Responders;

    fn deref(&self) -> &Responders {
        &self.responders
    }
}

/// A transport trusting Pebble's TLS root, recording exchanges when asked to.
pub fn transport(pebble: &Pebble) -> Transport {
    crate::suite::responders::transport(pebble.root_pem())
}

pub fn order(names: &[&str]) -> NewOrder {
    NewOrder::new(names.iter().map(|name| match name.parse() {
        Ok(ip) => Identifier::Ip(ip),
        Err(_) => Identifier::dns(name).expect("a DNS name"),
    }))
}

/// Checks Pebble 2.10's renewal information for a certificate it issued and has not
/// revoked: a window of at most two days, inside the validity, around two thirds through
/// it (`RenewalInfoSimple`), and a `Retry-After` (6 hours).
pub fn check_window(
    suggestion: &acme_proto::client::RenewalSuggestion,
    certificate: &acme_proto::CertificateInfo,
    driver: &str,
) {
    let window = suggestion.info.suggested_window;
    let (not_before, not_after) = (certificate.not_before(), certificate.not_after());
    assert!(
        not_before <= window.start && window.start < window.end && window.end <= not_after,
        "{driver}: window {window:?} outside the validity {not_before:?} .. {not_after:?}"
    );
    assert!(
        window.duration() <= std::time::Duration::from_secs(2 * 24 * 3600),
        "{driver}: window {window:?}"
    );
    // Centred two thirds through the validity, so it starts past a third of it, whichever
    // profile Pebble picked (at random, for an order that names none: 90 or 6 days).
    let validity = not_after.saturating_duration_since(not_before);
    let into = window.start.saturating_duration_since(not_before);
    assert!(
        into >= validity / 3,
        "{driver}: window {window:?} starts before a third of the validity \
         {not_before:?} .. {not_after:?}"
    );
    assert!(
        suggestion.retry_after.is_some(),
        "{driver}: no Retry-After on renewalInfo"
    );
}

pub fn problem(error: &DriverError) -> acme_proto::ProblemType {
    match error.problem() {
        Some(problem) => problem.kind.clone(),
        None => panic!("expected a problem document from Pebble: {error:?}"),
    }
}

impl Fixture {
    /// `None` when Pebble is not installed and this is not CI.
    pub fn start(options: PebbleOptions) -> Option<Self> {
        let mut pebble = start_or_skip(options)?;
        let responders = Responders::start(
            pebble.take_http01_listener().expect("http-01 port"),
            pebble.take_tlsalpn01_listener().expect("tls-alpn-01 port"),
            &pebble.challtestsrv().management_url(),
        );
        Some(Self { pebble, responders })
    }

    /// A client for Pebble with `key`, trusting only Pebble's TLS root.
    pub fn client(&self, key: AccountKey) -> AcmeClient {
        crate::suite::responders::client(&self.pebble.directory_url(), self.pebble.root_pem(), key)
    }

    /// A client with a new ES256 account.
    pub async fn account(&self) -> AcmeClient {
        self.account_with(SignatureAlgorithm::Es256).await
    }

    pub async fn account_with(&self, algorithm: SignatureAlgorithm) -> AcmeClient {
        let client = self.client(generate_account_key(algorithm).expect("key"));
        let info =
            aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:ops@example.org"])))
                .unwrap_or_else(|e| {
                    panic!("creating the account: {e}\n{}", self.pebble.log_tail())
                });
        assert!(info.created);
        client
    }

    /// Orders `names` with `challenge`, the error as it came.
    pub async fn try_issue(
        &self,
        client: &AcmeClient,
        names: &[&str],
        challenge: Challenge,
    ) -> Result<Certificate, DriverError> {
        self.try_issue_order(client, order(names), challenge).await
    }

    /// Sends `new_order` (a profile, `replaces`…) and answers with `challenge`, the error
    /// as it came.
    pub async fn try_issue_order(
        &self,
        client: &AcmeClient,
        new_order: NewOrder,
        challenge: Challenge,
    ) -> Result<Certificate, DriverError> {
        self.responders.issue(client, new_order, challenge).await
    }

    /// Issues `new_order` with `challenge` and checks the chain as [`Self::issue`] does.
    pub async fn issue_order(
        &self,
        client: &AcmeClient,
        new_order: NewOrder,
        challenge: Challenge,
    ) -> Certificate {
        let names: Vec<String> = new_order
            .identifiers
            .iter()
            .map(ToString::to_string)
            .collect();
        let certificate = self
            .try_issue_order(client, new_order, challenge)
            .await
            .unwrap_or_else(|e| panic!("issuing {names:?}: {e}\n{}", self.pebble.log_tail()));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.check(&certificate, &names);
        certificate
    }

    /// Issues for `names` (DNS names or IP addresses) with `challenge`, then checks the
    /// chain up to `/roots/0` and that nothing is left presented.
    pub async fn issue(
        &self,
        client: &AcmeClient,
        names: &[&str],
        challenge: Challenge,
    ) -> Certificate {
        let certificate = self
            .try_issue(client, names, challenge)
            .await
            .unwrap_or_else(|e| panic!("issuing {names:?}: {e}\n{}", self.pebble.log_tail()));
        self.check(&certificate, names);
        certificate
    }

    pub fn check(&self, certificate: &Certificate, names: &[&str]) {
        let roots = self.pebble.issuer_roots().expect("Pebble's roots");
        let checked: Vec<String> = names.iter().map(|n| n.replace('*', "any")).collect();
        let checked: Vec<&str> = checked.iter().map(String::as_str).collect();
        verify_chain(certificate.issued.chain.pem(), &roots[0], &checked)
            .unwrap_or_else(|e| panic!("{names:?}: {e}"));
        assert!(self.is_empty(), "a challenge was left presented");
    }
}
