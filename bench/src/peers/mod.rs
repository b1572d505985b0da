//! The libraries measured, each run the same way: an account created before the timed
//! part, then `certificates` orders, `concurrency` at a time, each answered with http-01
//! by a responder in the same process, on the port Pebble validates against.

pub mod acme_blocking;
pub mod acme_tokio;
pub mod instant;
pub mod lego;

use std::time::Duration;

use acme_proto::Policy;

use crate::child::Polling;

/// The limits of acme-proto's http-01 responders here: every connection of a Pebble on
/// loopback comes from 127.0.0.1, and Pebble validates each challenge three times at
/// once, so c orders of K names open up to 3cK connections from that one source (960 at
/// c = 32, K = 10): a load test from one address, given room for all of them (the
/// defaults serve one source up to half of 256).
pub fn responder_limits() -> acme_proto_tokio::ResponderLimits {
    acme_proto_tokio::ResponderLimits::default()
        .total(1024)
        .per_source(1024)
}

/// acme-proto's policy for `polling` (`None`: the core's defaults, untouched).
pub fn acme_proto_policy(polling: Polling) -> Option<Policy> {
    let mut policy = Policy::default();
    match polling {
        Polling::Defaults => return None,
        Polling::Tuned => {
            policy.poll_initial = Duration::from_millis(5);
            policy.poll_interval = Duration::from_millis(5);
        }
        Polling::Reference => {
            policy.poll_initial = Duration::from_millis(5);
            policy.poll_interval = Duration::from_millis(5);
            policy.poll_max = Duration::from_millis(20);
        }
    }
    Some(policy)
}

/// A multi-thread runtime with one worker per core of the benchmark machine (2), the
/// same for every tokio library.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
