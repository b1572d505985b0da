//! The driver suite (`driver-tests/`, written once for both drivers), on tokio.

use acme_proto_tokio as driver;

/// A driver call, awaited.
macro_rules! aw {
    ($call:expr) => {
        $call.await
    };
}

/// One `#[tokio::test]` per scenario of the module it is used in.
macro_rules! driver_tests {
    ($($scenario:ident),* $(,)?) => {
        mod run {
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario().await;
                }
            )*
        }
    };
}

/// Lets `duration` pass, the runtime going on meanwhile.
async fn pause(duration: std::time::Duration) {
    tokio::time::sleep(duration).await;
}

#[path = "../../driver-tests/mod.rs"]
mod suite;
