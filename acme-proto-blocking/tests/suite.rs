//! The driver suite (`driver-tests/`, written once for both drivers), on the calling
//! thread.

use acme_proto_blocking as driver;

/// For messages: the driver under test.
const DRIVER_NAME: &str = "blocking";

#[macro_use]
mod prelude;
use prelude::pause;

mod own;
#[path = "../../driver-tests/mod.rs"]
mod suite;
