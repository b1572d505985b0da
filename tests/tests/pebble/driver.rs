//! One interface over both drivers, so that every scenario is written once and run
//! against each: the tokio driver's futures are run to completion on a runtime the
//! session owns, the blocking driver is called as is.

use std::path::Path;

use acme_proto::CertificateChain;
use acme_proto::client::{
    AccountCredentials, AccountInfo, NewAccount, NewOrder, RenewalSuggestion, RevocationReason,
};
use acme_proto::crypto::AccountKey;
use acme_proto_support::{Certificate, DriverError};
use acme_proto_tests::Pebble;
use url::Url;

/// The challenge a scenario answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// The built-in http-01 responder, on Pebble's http-01 port.
    Http01,
    /// The built-in tls-alpn-01 responder, on Pebble's tls-alpn-01 port.
    TlsAlpn01,
    /// The driver's `DnsHook`, running a script that sets TXT records in challtestsrv.
    Dns01,
    /// A solver that chooses nothing: issuing only works if no challenge is needed.
    Refuse,
}

pub type Result<T> = std::result::Result<T, DriverError>;

/// A driver under test, with its responders bound on the ports Pebble validates.
pub trait Driver: Sized {
    /// The driver's `AcmeClient`.
    type Client;
    /// For messages.
    const NAME: &'static str;

    /// Starts the responders on `pebble`'s ports; `dir` is for the DNS hook script.
    fn start(pebble: &mut Pebble, dir: &Path) -> Self;
    /// A client for `pebble` with `key`, trusting only Pebble's TLS root.
    fn client(&self, pebble: &Pebble, key: AccountKey) -> Self::Client;
    /// A client from saved credentials.
    fn client_from_credentials(
        &self,
        pebble: &Pebble,
        credentials: AccountCredentials,
    ) -> Self::Client;
    fn credentials(&self, client: &Self::Client) -> Option<AccountCredentials>;
    fn create_account(&self, client: &Self::Client, request: NewAccount) -> Result<AccountInfo>;
    fn find_account(&self, client: &Self::Client) -> Result<AccountInfo>;
    fn fetch_account(&self, client: &Self::Client) -> Result<AccountInfo>;
    fn update_contacts(&self, client: &Self::Client, contacts: Vec<String>) -> Result<AccountInfo>;
    fn deactivate_account(&self, client: &Self::Client) -> Result<AccountInfo>;
    fn change_key(&self, client: &Self::Client, key: AccountKey) -> Result<()>;
    fn list_orders(&self, client: &Self::Client, max_pages: u32) -> Result<Vec<Url>>;
    fn issue(
        &self,
        client: &Self::Client,
        order: NewOrder,
        challenge: Challenge,
    ) -> Result<Certificate>;
    fn revoke(
        &self,
        client: &Self::Client,
        chain: &CertificateChain,
        reason: Option<RevocationReason>,
    ) -> Result<()>;
    fn revoke_with_certificate_key(
        &self,
        client: &Self::Client,
        chain: &CertificateChain,
        key_pem: &str,
        reason: Option<RevocationReason>,
    ) -> Result<()>;
    fn renewal_info(
        &self,
        client: &Self::Client,
        chain: &CertificateChain,
    ) -> Result<RenewalSuggestion>;
    /// How many challenges the built-in responders still serve (0 once cleaned up).
    fn still_presented(&self) -> usize;
}

/// The DNS hook both drivers run: the harness's script for challtestsrv.
pub fn dns_hook(pebble: &Pebble, dir: &Path) -> acme_proto_support::DnsHook {
    let (program, args) =
        acme_proto_tests::challtestsrv_hook(dir, &pebble.challtestsrv().management_url())
            .expect("the hook script");
    acme_proto_support::DnsHook::new(program).args(args)
}

/// A solver that chooses nothing, for scenarios that expect no challenge.
pub struct Refuse;

pub mod tokio_driver {
    use super::*;
    use acme_proto::client::ChallengeOffer;
    use acme_proto_tokio::{
        AcmeClient, DnsHook, Http01Responder, Solver, SolverError, TlsAlpn01Responder, Transport,
    };

    pub struct Tokio {
        runtime: tokio::runtime::Runtime,
        http: Http01Responder,
        tls: TlsAlpn01Responder,
        dns: DnsHook,
    }

    impl Solver for Refuse {
        fn choose<'a>(&self, _: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
            None
        }
        async fn present(&self, _: &ChallengeOffer) -> std::result::Result<(), SolverError> {
            Err("nothing to present".into())
        }
        async fn cleanup(&self, _: &ChallengeOffer) -> std::result::Result<(), SolverError> {
            Ok(())
        }
    }

    impl Tokio {
        pub fn block_on<F: Future>(&self, future: F) -> F::Output {
            self.runtime.block_on(future)
        }
    }

    pub fn transport(pebble: &Pebble) -> Transport {
        let builder = Transport::builder().add_root_pem(pebble.root_pem());
        match acme_proto_tests::recorder_from_env() {
            Some(record) => builder.observe(record),
            None => builder,
        }
        .build()
        .expect("transport")
    }

    impl Driver for Tokio {
        type Client = AcmeClient;
        const NAME: &'static str = "tokio";

        fn start(pebble: &mut Pebble, dir: &Path) -> Self {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let _entered = runtime.enter();
            let http = Http01Responder::from_listener(
                pebble.take_http01_listener().expect("http-01 port"),
            )
            .expect("http-01 responder");
            let tls = TlsAlpn01Responder::from_listener(
                pebble.take_tlsalpn01_listener().expect("tls-alpn-01 port"),
            )
            .expect("tls-alpn-01 responder");
            let dns = dns_hook(pebble, dir);
            drop(_entered);
            Self {
                runtime,
                http,
                tls,
                dns,
            }
        }

        fn client(&self, pebble: &Pebble, key: AccountKey) -> AcmeClient {
            let url = Url::parse(&pebble.directory_url()).expect("directory URL");
            AcmeClient::new(url, key, transport(pebble)).expect("client")
        }

        fn client_from_credentials(
            &self,
            pebble: &Pebble,
            credentials: AccountCredentials,
        ) -> AcmeClient {
            AcmeClient::from_credentials(credentials, transport(pebble)).expect("client")
        }

        fn credentials(&self, client: &AcmeClient) -> Option<AccountCredentials> {
            client.credentials()
        }

        fn create_account(&self, client: &AcmeClient, request: NewAccount) -> Result<AccountInfo> {
            self.block_on(client.create_account(request))
        }

        fn find_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            self.block_on(client.find_account())
        }

        fn fetch_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            self.block_on(client.fetch_account())
        }

        fn update_contacts(
            &self,
            client: &AcmeClient,
            contacts: Vec<String>,
        ) -> Result<AccountInfo> {
            self.block_on(client.update_contacts(contacts))
        }

        fn deactivate_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            self.block_on(client.deactivate_account())
        }

        fn change_key(&self, client: &AcmeClient, key: AccountKey) -> Result<()> {
            self.block_on(client.change_key(key)).map_err(|e| e.error)
        }

        fn list_orders(&self, client: &AcmeClient, max_pages: u32) -> Result<Vec<Url>> {
            self.block_on(client.list_orders(max_pages))
        }

        fn issue(
            &self,
            client: &AcmeClient,
            order: NewOrder,
            challenge: Challenge,
        ) -> Result<Certificate> {
            self.block_on(async {
                match challenge {
                    Challenge::Http01 => client.issue_order(order, &self.http).await,
                    Challenge::TlsAlpn01 => client.issue_order(order, &self.tls).await,
                    Challenge::Dns01 => client.issue_order(order, &self.dns).await,
                    Challenge::Refuse => client.issue_order(order, &Refuse).await,
                }
            })
        }

        fn revoke(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
            reason: Option<RevocationReason>,
        ) -> Result<()> {
            self.block_on(client.revoke(chain, reason))
        }

        fn revoke_with_certificate_key(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
            key_pem: &str,
            reason: Option<RevocationReason>,
        ) -> Result<()> {
            self.block_on(client.revoke_with_certificate_key(chain, key_pem, reason))
        }

        fn renewal_info(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
        ) -> Result<RenewalSuggestion> {
            self.block_on(client.renewal_info(chain))
        }

        fn still_presented(&self) -> usize {
            self.http.len() + self.tls.len()
        }
    }
}

pub mod blocking_driver {
    use super::*;
    use acme_proto::client::ChallengeOffer;
    use acme_proto_blocking::{
        AcmeClient, DnsHook, Http01Responder, Solver, SolverError, TlsAlpn01Responder, Transport,
    };

    pub struct Blocking {
        http: Http01Responder,
        tls: TlsAlpn01Responder,
        dns: DnsHook,
    }

    impl Solver for Refuse {
        fn choose<'a>(&self, _: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
            None
        }
        fn present(&self, _: &ChallengeOffer) -> std::result::Result<(), SolverError> {
            Err("nothing to present".into())
        }
        fn cleanup(&self, _: &ChallengeOffer) -> std::result::Result<(), SolverError> {
            Ok(())
        }
    }

    fn transport(pebble: &Pebble) -> Transport {
        let builder = Transport::builder().add_root_pem(pebble.root_pem());
        match acme_proto_tests::recorder_from_env() {
            Some(record) => builder.observe(record),
            None => builder,
        }
        .build()
        .expect("transport")
    }

    impl Driver for Blocking {
        type Client = AcmeClient;
        const NAME: &'static str = "blocking";

        fn start(pebble: &mut Pebble, dir: &Path) -> Self {
            let http = Http01Responder::from_listener(
                pebble.take_http01_listener().expect("http-01 port"),
            )
            .expect("http-01 responder");
            let tls = TlsAlpn01Responder::from_listener(
                pebble.take_tlsalpn01_listener().expect("tls-alpn-01 port"),
            )
            .expect("tls-alpn-01 responder");
            let dns = dns_hook(pebble, dir);
            Self { http, tls, dns }
        }

        fn client(&self, pebble: &Pebble, key: AccountKey) -> AcmeClient {
            let url = Url::parse(&pebble.directory_url()).expect("directory URL");
            AcmeClient::new(url, key, transport(pebble)).expect("client")
        }

        fn client_from_credentials(
            &self,
            pebble: &Pebble,
            credentials: AccountCredentials,
        ) -> AcmeClient {
            AcmeClient::from_credentials(credentials, transport(pebble)).expect("client")
        }

        fn credentials(&self, client: &AcmeClient) -> Option<AccountCredentials> {
            client.credentials()
        }

        fn create_account(&self, client: &AcmeClient, request: NewAccount) -> Result<AccountInfo> {
            client.create_account(request)
        }

        fn find_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            client.find_account()
        }

        fn fetch_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            client.fetch_account()
        }

        fn update_contacts(
            &self,
            client: &AcmeClient,
            contacts: Vec<String>,
        ) -> Result<AccountInfo> {
            client.update_contacts(contacts)
        }

        fn deactivate_account(&self, client: &AcmeClient) -> Result<AccountInfo> {
            client.deactivate_account()
        }

        fn change_key(&self, client: &AcmeClient, key: AccountKey) -> Result<()> {
            client.change_key(key).map_err(|e| e.error)
        }

        fn list_orders(&self, client: &AcmeClient, max_pages: u32) -> Result<Vec<Url>> {
            client.list_orders(max_pages)
        }

        fn issue(
            &self,
            client: &AcmeClient,
            order: NewOrder,
            challenge: Challenge,
        ) -> Result<Certificate> {
            match challenge {
                Challenge::Http01 => client.issue_order(order, &self.http),
                Challenge::TlsAlpn01 => client.issue_order(order, &self.tls),
                Challenge::Dns01 => client.issue_order(order, &self.dns),
                Challenge::Refuse => client.issue_order(order, &Refuse),
            }
        }

        fn revoke(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
            reason: Option<RevocationReason>,
        ) -> Result<()> {
            client.revoke(chain, reason)
        }

        fn revoke_with_certificate_key(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
            key_pem: &str,
            reason: Option<RevocationReason>,
        ) -> Result<()> {
            client.revoke_with_certificate_key(chain, key_pem, reason)
        }

        fn renewal_info(
            &self,
            client: &AcmeClient,
            chain: &CertificateChain,
        ) -> Result<RenewalSuggestion> {
            client.renewal_info(chain)
        }

        fn still_presented(&self) -> usize {
            self.http.len() + self.tls.len()
        }
    }
}
