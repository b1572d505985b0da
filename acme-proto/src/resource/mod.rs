//! ACME resources: STUB.
