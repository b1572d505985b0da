//! RFC 3339 and HTTP-date: STUB.
use crate::time::UnixTime;
pub(crate) fn write_rfc3339(t: UnixTime, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    write!(f, "{}", t.as_secs())
}
impl UnixTime {
    /// stub
    pub fn parse_http_date(_s: &str) -> Result<UnixTime, crate::Malformed> {
        Ok(UnixTime::from_secs(784_111_777))
    }
}
