//! What the driver suite (`driver-tests/`) needs of this driver: how a call is
//! awaited, how a scenario becomes a test, how time passes. Used with `#[macro_use]`
//! by the suite's test binaries.
#![allow(unused_macros, dead_code, reason = "each test binary uses a part")]

use std::future::Future;
use std::task::{Context, Poll, Waker};

/// A driver call: blocking, nothing to await.
macro_rules! aw {
    ($call:expr) => {
        $call
    };
}

/// A `Solver` method, as it is.
macro_rules! solver_method {
    ($($method:tt)*) => {
        $($method)*
    };
}

/// One `#[test]` per scenario of the module it is used in.
macro_rules! driver_tests {
    ($($scenario:ident),* $(,)?) => {
        mod run {
            $(
                #[test]
                fn $scenario() {
                    crate::prelude::complete(super::$scenario());
                }
            )*
        }
    };
}

/// Runs a scenario to its end: with the blocking driver it never waits on a future, so
/// one poll completes it (a scenario that did wait would be a mistake in the suite).
pub(crate) fn complete(scenario: impl Future<Output = ()>) {
    complete_with(scenario);
}

/// [`complete`], for a future with an output.
#[allow(clippy::panic, reason = "a test's failure")]
pub(crate) fn complete_with<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a blocking scenario waited on a future"),
    }
}

/// Lets `duration` pass.
pub(crate) fn pause(duration: std::time::Duration) {
    std::thread::sleep(duration);
}
