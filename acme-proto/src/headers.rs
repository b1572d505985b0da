//! Header parsers: STUB.
