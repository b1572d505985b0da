//! Keys, JWK, JWS: STUB, replaced by the crypto work.
use alloc::string::String;
/// stub
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk;
/// stub
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbprint(pub String);
/// stub
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// stub
    Es256,
}
/// stub
pub trait Signer {}
