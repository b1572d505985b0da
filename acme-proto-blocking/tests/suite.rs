//! The driver suite (`driver-tests/`, written once for both drivers), on the calling
//! thread.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use acme_proto_blocking as driver;

/// A driver call: blocking, nothing to await.
macro_rules! aw {
    ($call:expr) => {
        $call
    };
}

/// One `#[test]` per scenario of the module it is used in.
macro_rules! driver_tests {
    ($($scenario:ident),* $(,)?) => {
        mod run {
            $(
                #[test]
                fn $scenario() {
                    crate::complete(super::$scenario());
                }
            )*
        }
    };
}

/// Runs a scenario to its end: with the blocking driver it never waits on a future, so
/// one poll completes it (a scenario that did wait would be a mistake in the suite).
#[allow(clippy::panic, reason = "a test's failure")]
fn complete(scenario: impl Future<Output = ()>) {
    let mut scenario = std::pin::pin!(scenario);
    let mut context = Context::from_waker(Waker::noop());
    match scenario.as_mut().poll(&mut context) {
        Poll::Ready(()) => {}
        Poll::Pending => panic!("a blocking scenario waited on a future"),
    }
}

/// Lets `duration` pass.
fn pause(duration: std::time::Duration) {
    std::thread::sleep(duration);
}

#[path = "../../driver-tests/mod.rs"]
mod suite;
