//! What every real-server fixture has (Pebble's, acme2certifier's): the driver's
//! responders on the server's validation ports with their default limits, a DNS hook
//! setting TXT records in the server's challtestsrv, the challenge a scenario answers
//! with, and a client trusting only the server's TLS root.

use std::net::TcpListener;

use acme_proto::client::{ChallengeOffer, NewOrder};
use acme_proto::crypto::AccountKey;

use crate::driver::{
    AcmeClient, Certificate, DnsHook, DriverError, Http01Responder, ResponderLimits, SolverError,
    TlsAlpn01Responder, Transport,
};

/// The challenge a scenario answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// The built-in http-01 responder, on the server's http-01 port.
    Http01,
    /// The built-in tls-alpn-01 responder, on the server's tls-alpn-01 port.
    TlsAlpn01,
    /// The driver's `DnsHook`, running a script that sets TXT records in challtestsrv.
    Dns01,
    /// A solver that chooses nothing: issuing only works if no challenge is needed.
    Refuse,
}

/// A solver that chooses nothing, for scenarios that expect no challenge.
pub struct Refuse;

impl crate::driver::Solver for Refuse {
    fn choose<'a>(&self, _: &'a [ChallengeOffer]) -> Option<&'a ChallengeOffer> {
        None
    }
    solver_method!(
        fn present(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
            Err("nothing to present".into())
        }
    );
    solver_method!(
        fn cleanup(&self, _: &ChallengeOffer) -> Result<(), SolverError> {
            Ok(())
        }
    );
}

/// The driver's responders on a server's validation ports, and its DNS hook.
pub struct Responders {
    pub http: Http01Responder,
    pub tls: TlsAlpn01Responder,
    pub dns: DnsHook,
    _dir: tempfile::TempDir,
}

impl Responders {
    /// The responders on the listeners the harness held for them, with their default
    /// limits (as a user's: a CA validates each challenge a few times at once, all from
    /// one address, which they serve), and a hook for the challtestsrv at
    /// `challtestsrv_management`.
    pub fn start(
        http01: TcpListener,
        tlsalpn01: TcpListener,
        challtestsrv_management: &str,
    ) -> Self {
        let limits = ResponderLimits::default();
        let http = Http01Responder::from_listener_with(http01, limits).expect("http-01 responder");
        let tls = TlsAlpn01Responder::from_listener_with(tlsalpn01, limits)
            .expect("tls-alpn-01 responder");
        let dir = tempfile::tempdir().expect("temporary directory");
        let (program, args) =
            acme_proto_tests::challtestsrv_hook(dir.path(), challtestsrv_management)
                .expect("the hook script");
        Self {
            http,
            tls,
            dns: DnsHook::new(program).args(args),
            _dir: dir,
        }
    }

    /// Sends `new_order` and answers with `challenge`, the error as it came.
    pub async fn issue(
        &self,
        client: &AcmeClient,
        new_order: NewOrder,
        challenge: Challenge,
    ) -> Result<Certificate, DriverError> {
        match challenge {
            Challenge::Http01 => aw!(client.issue_order(new_order, &self.http)),
            Challenge::TlsAlpn01 => aw!(client.issue_order(new_order, &self.tls)),
            Challenge::Dns01 => aw!(client.issue_order(new_order, &self.dns)),
            Challenge::Refuse => aw!(client.issue_order(new_order, &Refuse)),
        }
    }

    /// Whether the built-in responders have nothing presented.
    pub fn is_empty(&self) -> bool {
        self.http.is_empty() && self.tls.is_empty()
    }
}

/// A transport trusting only `root_pem`, recording exchanges when asked to
/// (`ACME_PROTO_RECORD_DIR`).
pub fn transport(root_pem: &str) -> Transport {
    let builder = Transport::builder().add_root_pem(root_pem);
    match acme_proto_tests::recorder_from_env() {
        Some(record) => builder.observe(record),
        None => builder,
    }
    .build()
    .expect("transport")
}

/// A client for the server at `directory_url` with `key`, trusting only `root_pem`.
pub fn client(directory_url: &str, root_pem: &str, key: AccountKey) -> AcmeClient {
    let url = directory_url.parse().expect("directory URL");
    AcmeClient::new(url, key, transport(root_pem)).expect("client")
}
