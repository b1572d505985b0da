//! What the driver suite (`driver-tests/`) needs of this driver: how a call is
//! awaited, how a scenario becomes a test, how time passes. Used with `#[macro_use]`
//! by the suite's test binaries.
#![allow(unused_macros, dead_code, reason = "each test binary uses a part")]

/// A driver call, awaited.
macro_rules! aw {
    ($call:expr) => {
        $call.await
    };
}

/// A `Solver` method, async.
macro_rules! solver_method {
    ($($method:tt)*) => {
        async $($method)*
    };
}

/// One `#[tokio::test]` per scenario of the module it is used in, on two worker
/// threads: the responders' tasks go on while a scenario blocks (a handshake made with
/// std sockets, say).
macro_rules! driver_tests {
    ($($scenario:ident),* $(,)?) => {
        mod run {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario().await;
                }
            )*
        }
    };
}

/// Lets `duration` pass, the runtime going on meanwhile.
pub(crate) async fn pause(duration: std::time::Duration) {
    tokio::time::sleep(duration).await;
}
