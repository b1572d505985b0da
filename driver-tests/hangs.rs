//! The time bounds with the defaults, through the public `AcmeClient`, against the fake
//! CA's hostile server: what a hung directory server must end with (a transport error
//! naming the request, within 45 s), and a body over the cap that is never resent. How
//! the four hangs run at once is each driver's own (`tests/hangs.rs`), so that the
//! binary takes about the request timeout (30 s), not the sum.

use std::time::{Duration, Instant};

use acme_proto::Method;
use acme_proto::client::NewAccount;
use acme_proto_fake_ca::hostile::{HostileServer, Hostility};

use super::support::{key, keys};
use crate::driver::{AcmeClient, DriverError, Roots, Transport, TransportErrorKind};

driver_tests!(a_body_over_the_cap_is_requested_once);

/// A hung server ends the operation within 45 s of the first request.
pub const BOUND: Duration = Duration::from_secs(45);

/// The hangs the drivers' own tests run at once.
pub const HANGS: [Hostility; 4] = [
    Hostility::Silent,
    Hostility::ReadsHello,
    Hostility::SilentAfterTls,
    Hostility::Dribble,
];

/// Creates an account at `server` with the default policy and the default transport
/// timeouts; the error and how long it took.
pub async fn create_account(server: &HostileServer) -> (DriverError, Duration) {
    let transport = Transport::builder()
        .roots(Roots::None)
        .add_root_pem(&server.root_pem)
        .build()
        .unwrap();
    let client = AcmeClient::new(server.directory_url.clone(), key(keys::P256), transport).unwrap();
    let started = Instant::now();
    let error = aw!(client.create_account(NewAccount::agreeing_to_terms(["mailto:a@example.org"])))
        .unwrap_err();
    (error, started.elapsed())
}

/// What is wrong with how a run against a hung server ended, if anything: it must end
/// with a timeout naming the directory's GET, sent once or twice (once per connection),
/// within [`BOUND`].
pub fn judge(
    hostility: Hostility,
    error: &DriverError,
    elapsed: Duration,
    connections: usize,
) -> Option<String> {
    eprintln!("{hostility:?}: gave up after {elapsed:.1?} ({connections} connection(s)): {error}");
    let named = match error {
        DriverError::Transport {
            attempts,
            last: Some(last),
        } => {
            last.kind() == TransportErrorKind::Timeout
                && last.method() == Some(Method::Get)
                && last.url().is_some_and(|u| u.path() == "/directory")
                && (1..=2).contains(attempts)
                && *attempts as usize == connections
                && error.to_string().contains("GET https://127.0.0.1:")
        }
        _ => false,
    };
    (!named || elapsed >= BOUND).then(|| format!("{hostility:?}: {elapsed:?}, {error:?}"))
}

pub async fn a_body_over_the_cap_is_requested_once() {
    let server = HostileServer::start(Hostility::EndlessBody);
    let (error, elapsed) = create_account(&server).await;
    eprintln!("EndlessBody: gave up after {elapsed:.1?}: {error}");
    match &error {
        DriverError::Transport {
            attempts: 1,
            last: Some(last),
        } => {
            assert_eq!(last.kind(), TransportErrorKind::BodyTooLarge, "{error}");
            assert_eq!(last.method(), Some(Method::Get));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests(), 1, "no resend");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}
