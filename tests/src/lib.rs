//! Integration tests of acme-proto against Pebble: the harness comes with the drivers.
#![forbid(unsafe_code)]
