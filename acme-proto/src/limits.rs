//! Limits: STUB.
/// stub
#[derive(Debug)]
pub struct Limits;
/// stub
#[derive(Debug)]
pub enum ResponseKind {}
