//! RFC 3339 and HTTP-date: STUB.
use crate::time::UnixTime;
pub(crate) fn write_rfc3339(t: UnixTime, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    write!(f, "{}", t.as_secs())
}
