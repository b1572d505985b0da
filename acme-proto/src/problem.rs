//! Problem documents: STUB.
use crate::time::UnixTime;
use alloc::string::String;
/// stub
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Problem {
    /// stub
    #[serde(rename = "type")]
    pub kind: ProblemType,
    /// stub
    pub detail: Option<String>,
    /// stub
    #[serde(skip)]
    pub retry_after: Option<UnixTime>,
}
impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}
/// stub
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub enum ProblemType {
    /// stub
    Other(String),
}
/// stub
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subproblem;
