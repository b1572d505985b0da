//! Identifiers: STUB.
/// stub
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    /// stub
    Dns(alloc::string::String),
}
