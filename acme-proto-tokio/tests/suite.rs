//! The driver suite (`driver-tests/`, written once for both drivers), on tokio.

use acme_proto_tokio as driver;

/// For messages: the driver under test.
const DRIVER_NAME: &str = "tokio";

#[macro_use]
mod prelude;
use prelude::pause;

mod own;
#[path = "../../driver-tests/mod.rs"]
mod suite;
