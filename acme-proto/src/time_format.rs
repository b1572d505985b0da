//! Timestamps on the wire: RFC 3339 in JSON bodies, HTTP-date in `Retry-After`.
//!
//! ACME's JSON timestamps (`expires`, `notBefore`, ARI windows, …) are RFC 3339
//! date-times (RFC 8555 §7.1); `Retry-After` may be an HTTP-date (RFC 9110 §5.6.7,
//! §10.2.3). The civil-date arithmetic is done here, on integers, so that no input
//! can overflow or panic.

use alloc::borrow::Cow;
use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fault::{Malformed, MalformedKind};
use crate::time::UnixTime;

const SECS_PER_DAY: u64 = 86_400;
/// Longest timestamp text looked at; real ones are under 40 bytes.
const MAX_LEN: usize = 64;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Weekday abbreviations, starting on Thursday because 1970-01-01 was one.
const WEEKDAYS_FROM_THURSDAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const WEEKDAYS_LONG: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (valid for any `i64` year
/// within ±10^12; callers pass at most four-digit years).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so that the leap day is the last day of it.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
///
/// Any day count a `UnixTime` can produce (at most `u64::MAX / 86_400`) fits.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // `day` is 1..=31 and `month` 1..=12 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A broken-down UTC time, as read from text, before it is checked and converted.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    /// 0..=60: a leap second is accepted and counted as the next second.
    second: u32,
    nanos: u32,
}

impl Civil {
    /// Seconds since the epoch, after checking every field's range.
    fn to_unix_secs(&self) -> Result<i64, &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("month out of range");
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err("day out of range for its month");
        }
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return Err("time of day out of range");
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs_of_day = i64::from(self.hour * 3600 + self.minute * 60 + self.second);
        Ok(days * 86_400 + secs_of_day)
    }
}

/// 9999-12-31T23:59:59Z: the last second a four-digit year can write.
const LAST_SECOND_OF_9999: u64 = 253_402_300_799;

fn to_unix_time(secs: i64, nanos: u32) -> Result<UnixTime, &'static str> {
    let secs = u64::try_from(secs).map_err(|_| "before 1970")?;
    // A UTC offset or a leap second can carry 9999-12-31 into the year 10000, which
    // neither form can write back: refused, so that every time read can be written and
    // read again (found by the order fuzz target's round trip).
    if secs > LAST_SECOND_OF_9999 {
        return Err("after the year 9999");
    }
    Ok(UnixTime::new(Duration::new(secs, nanos)))
}

/// A cursor over ASCII text that never indexes out of bounds.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text.as_bytes(),
        }
    }

    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Result<u32, &'static str> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or("truncated")?;
        let mut value: u32 = 0;
        for &b in head {
            if !b.is_ascii_digit() {
                return Err("expected a digit");
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.rest = tail;
        Ok(value)
    }

    fn byte(&mut self) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(first)
    }

    fn expect(&mut self, b: u8, why: &'static str) -> Result<(), &'static str> {
        if self.byte() == Some(b) {
            Ok(())
        } else {
            Err(why)
        }
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Text up to (not including) `stop`, or all of the rest.
    fn take_until(&mut self, stop: u8) -> &'a [u8] {
        let end = self
            .rest
            .iter()
            .position(|&b| b == stop)
            .unwrap_or(self.rest.len());
        let (head, tail) = self.rest.split_at(end);
        self.rest = tail;
        head
    }

    fn expect_word(&mut self, word: &str, why: &'static str) -> Result<(), &'static str> {
        let (head, tail) = self.rest.split_at_checked(word.len()).ok_or(why)?;
        if !head.eq_ignore_ascii_case(word.as_bytes()) {
            return Err(why);
        }
        self.rest = tail;
        Ok(())
    }

    fn month(&mut self) -> Result<u32, &'static str> {
        let (head, tail) = self.rest.split_at_checked(3).ok_or("truncated")?;
        let index = MONTHS
            .iter()
            .position(|m| m.as_bytes().eq_ignore_ascii_case(head))
            .ok_or("unknown month name")?;
        self.rest = tail;
        // `index` is below 12.
        Ok(u32::try_from(index).unwrap_or(0) + 1)
    }

    /// `hh:mm:ss`.
    fn time_of_day(&mut self) -> Result<(u32, u32, u32), &'static str> {
        let hour = self.digits(2)?;
        self.expect(b':', "expected ':' in the time")?;
        let minute = self.digits(2)?;
        self.expect(b':', "expected ':' in the time")?;
        let second = self.digits(2)?;
        Ok((hour, minute, second))
    }

    fn end(&self) -> Result<(), &'static str> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err("unexpected text after the time")
        }
    }
}

fn check_text(text: &str) -> Result<(), &'static str> {
    if text.len() > MAX_LEN {
        return Err("too long");
    }
    if !text.is_ascii() {
        return Err("not ASCII");
    }
    Ok(())
}

fn parse_rfc3339(text: &str) -> Result<UnixTime, &'static str> {
    check_text(text)?;
    let mut c = Cursor::new(text);
    let year = c.digits(4)?;
    c.expect(b'-', "expected '-' after the year")?;
    let month = c.digits(2)?;
    c.expect(b'-', "expected '-' after the month")?;
    let day = c.digits(2)?;
    match c.byte() {
        Some(b'T' | b't') => {}
        _ => return Err("expected 'T' between date and time"),
    }
    let (hour, minute, second) = c.time_of_day()?;
    let mut nanos = 0;
    if c.peek() == Some(b'.') {
        c.byte();
        let mut count = 0;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            if count == 9 {
                return Err("more than nine fractional digits");
            }
            nanos = nanos * 10 + u32::from(b - b'0');
            count += 1;
            c.byte();
        }
        if count == 0 {
            return Err("expected a digit after '.'");
        }
        nanos *= 10u32.pow(9 - count);
    }
    let offset_secs: i64 = match c.byte() {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = c.digits(2)?;
            c.expect(b':', "expected ':' in the UTC offset")?;
            let om = c.digits(2)?;
            if oh > 23 || om > 59 {
                return Err("UTC offset out of range");
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -secs } else { secs }
        }
        _ => return Err("expected 'Z' or a UTC offset"),
    };
    c.end()?;
    let civil = Civil {
        year: i64::from(year),
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    // Local time minus its offset is UTC.
    to_unix_time(civil.to_unix_secs()? - offset_secs, civil.nanos)
}

fn parse_http_date(text: &str) -> Result<UnixTime, &'static str> {
    check_text(text)?;
    let mut c = Cursor::new(text);
    let day_name = c.take_until(b' ');
    let civil = if let Some(short) = day_name.strip_suffix(b",") {
        if short.len() == 3 {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            check_weekday(short, &WEEKDAYS_FROM_THURSDAY)?;
            c.expect(b' ', "expected a space")?;
            let day = c.digits(2)?;
            c.expect(b' ', "expected a space")?;
            let month = c.month()?;
            c.expect(b' ', "expected a space")?;
            let year = c.digits(4)?;
            c.expect(b' ', "expected a space")?;
            let (hour, minute, second) = c.time_of_day()?;
            c.expect_word(" GMT", "expected GMT")?;
            Civil {
                year: i64::from(year),
                month,
                day,
                hour,
                minute,
                second,
                nanos: 0,
            }
        } else {
            // obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            check_weekday(short, &WEEKDAYS_LONG)?;
            c.expect(b' ', "expected a space")?;
            let day = c.digits(2)?;
            c.expect(b'-', "expected '-' in the date")?;
            let month = c.month()?;
            c.expect(b'-', "expected '-' in the date")?;
            let yy = c.digits(2)?;
            c.expect(b' ', "expected a space")?;
            let (hour, minute, second) = c.time_of_day()?;
            c.expect_word(" GMT", "expected GMT")?;
            Civil {
                year: two_digit_year(yy),
                month,
                day,
                hour,
                minute,
                second,
                nanos: 0,
            }
        }
    } else {
        // obsolete asctime: Sun Nov  6 08:49:37 1994
        check_weekday(day_name, &WEEKDAYS_FROM_THURSDAY)?;
        c.expect(b' ', "expected a space")?;
        let month = c.month()?;
        c.expect(b' ', "expected a space")?;
        let day = if c.peek() == Some(b' ') {
            c.byte();
            c.digits(1)?
        } else {
            c.digits(2)?
        };
        c.expect(b' ', "expected a space")?;
        let (hour, minute, second) = c.time_of_day()?;
        c.expect(b' ', "expected a space")?;
        let year = c.digits(4)?;
        Civil {
            year: i64::from(year),
            month,
            day,
            hour,
            minute,
            second,
            nanos: 0,
        }
    };
    c.end()?;
    // RFC 9110 §5.6.7 allows second 60 for a leap second; it counts as the next second.
    to_unix_time(civil.to_unix_secs()?, 0)
}

/// The year of an RFC 850 two-digit year.
///
/// RFC 9110 §5.6.7 reads a year "more than 50 years in the future" as the most recent
/// past year with the same last two digits. The core has no clock, so the rule is
/// applied as of 2026: `00`–`76` are 2000–2076, `77`–`99` are 1977–1999. The form has
/// been obsolete since 1996, so the pivot's drift matters less than determinism.
fn two_digit_year(yy: u32) -> i64 {
    let yy = i64::from(yy);
    if yy <= 76 { 2000 + yy } else { 1900 + yy }
}

/// The day name must be one of the names (its agreement with the date is not checked,
/// as RFC 9110 does not require recipients to).
fn check_weekday(name: &[u8], names: &[&str]) -> Result<(), &'static str> {
    if names
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
    {
        Ok(())
    } else {
        Err("unknown day name")
    }
}

/// Writes `t` as an RFC 3339 UTC date-time: `2016-01-01T00:04:00Z`, with fractional
/// seconds only when there are any, and without trailing zeros.
///
/// Years past 9999 (only reachable near [`UnixTime::MAX`]) are written with more digits;
/// the text is then not RFC 3339, but writing never fails or panics.
pub(crate) fn write_rfc3339(t: UnixTime, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let d = t.since_epoch();
    let secs = d.as_secs();
    let (year, month, day, hour, minute, second) = split_secs(secs);
    write!(
        f,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}"
    )?;
    let mut nanos = d.subsec_nanos();
    if nanos != 0 {
        let mut width = 9;
        while nanos.is_multiple_of(10) {
            nanos /= 10;
            width -= 1;
        }
        write!(f, ".{nanos:0width$}")?;
    }
    f.write_str("Z")
}

/// `(year, month, day, hour, minute, second)` of whole seconds since the epoch.
fn split_secs(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    // u64::MAX / 86_400 is about 2.1e14, far inside i64.
    let days = i64::try_from(secs / SECS_PER_DAY).unwrap_or(i64::MAX);
    let rem = secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// An IMF-fixdate (RFC 9110 §5.6.7), from [`UnixTime::http_date`].
struct HttpDate(UnixTime);

impl fmt::Display for HttpDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let (year, month, day, hour, minute, second) = split_secs(secs);
        let weekday = WEEKDAYS_FROM_THURSDAY
            .get(usize::try_from(secs / SECS_PER_DAY % 7).unwrap_or(0))
            .copied()
            .unwrap_or("Thu");
        let month = MONTHS
            .get(usize::try_from(month).unwrap_or(1).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        write!(
            f,
            "{weekday}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} GMT"
        )
    }
}

impl UnixTime {
    /// Parses an RFC 3339 date-time (RFC 8555 §7.1 timestamps): any UTC offset,
    /// `T`/`t` and `Z`/`z`, up to nine fractional digits, and a leap second `:60`
    /// (counted as the next second). Times before 1970 are refused.
    pub fn parse_rfc3339(text: &str) -> Result<Self, Malformed> {
        parse_rfc3339(text)
            .map_err(|why| Malformed::new("RFC 3339 timestamp", MalformedKind::Invalid(why)))
    }

    /// Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the two obsolete forms
    /// every recipient must accept, RFC 850 (two-digit year) and asctime.
    pub fn parse_http_date(text: &str) -> Result<Self, Malformed> {
        parse_http_date(text)
            .map_err(|why| Malformed::new("HTTP-date", MalformedKind::Invalid(why)))
    }

    /// This time as an IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`; fractions of a
    /// second are dropped.
    pub fn http_date(self) -> impl fmt::Display {
        HttpDate(self)
    }
}

impl Serialize for UnixTime {
    /// As an RFC 3339 string.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UnixTime {
    /// From an RFC 3339 string.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        parse_rfc3339(&text).map_err(|why| {
            serde::de::Error::custom(format_args!("invalid RFC 3339 timestamp: {why}"))
        })
    }
}

impl fmt::Debug for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for UnixTime {
    /// RFC 3339 in UTC, with fractional seconds only when there are any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rfc3339(*self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    fn rfc3339(text: &str) -> u64 {
        UnixTime::parse_rfc3339(text).unwrap().as_secs()
    }

    #[test]
    fn times_past_the_year_9999_are_refused() {
        for text in [
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:60Z",
            "9999-12-31T23:30:00-00:30",
        ] {
            assert!(UnixTime::parse_rfc3339(text).is_err(), "{text}");
        }
        assert!(UnixTime::parse_http_date("Fri, 31 Dec 9999 23:59:60 GMT").is_err());
        let last = UnixTime::parse_rfc3339("9999-12-31T23:59:59.999999999Z").unwrap();
        assert_eq!(last.to_string(), "9999-12-31T23:59:59.999999999Z");
        assert_eq!(
            UnixTime::parse_rfc3339("9999-12-31T23:59:59+01:00")
                .unwrap()
                .to_string(),
            "9999-12-31T22:59:59Z"
        );
        let date = UnixTime::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert_eq!(
            UnixTime::parse_http_date(&date.http_date().to_string()).unwrap(),
            date
        );
    }

    #[test]
    fn civil_round_trip_over_many_days() {
        for days in (0..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parses_valid_rfc3339() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), 0);
        assert_eq!(rfc3339("2016-01-01T00:04:00Z"), 1_451_606_640);
        assert_eq!(
            rfc3339("2016-01-01T00:04:00+04:00"),
            1_451_606_640 - 4 * 3600
        );
        assert_eq!(rfc3339("2015-12-31T19:04:00-05:00"), 1_451_606_640);
        assert_eq!(rfc3339("2016-01-01t00:04:00z"), 1_451_606_640);
        assert_eq!(rfc3339("2000-02-29T12:00:00Z"), 951_825_600);
        let t = UnixTime::parse_rfc3339("2025-01-02T03:04:05.123456789Z").unwrap();
        assert_eq!(t.since_epoch().subsec_nanos(), 123_456_789);
        let t = UnixTime::parse_rfc3339("2025-01-02T03:04:05.5Z").unwrap();
        assert_eq!(t.since_epoch().subsec_nanos(), 500_000_000);
    }

    #[test]
    fn parses_odd_but_legal_rfc3339() {
        // Leap second: 23:59:60 is the first second of the next day.
        assert_eq!(
            rfc3339("2016-12-31T23:59:60Z"),
            rfc3339("2017-01-01T00:00:00Z")
        );
        // An offset can bring a 1969 local date into 1970 UTC.
        assert_eq!(rfc3339("1969-12-31T23:00:00-01:00"), 0);
        assert_eq!(rfc3339("9999-12-31T23:59:59Z"), 253_402_300_799);
        assert_eq!(
            rfc3339("2024-06-01T00:00:00.000000000Z"),
            rfc3339("2024-06-01T00:00:00Z")
        );
    }

    #[test]
    fn rejects_hostile_rfc3339() {
        let long = "9".repeat(100_000);
        for bad in [
            "",
            "2016",
            "2016-01-01",
            "2016-01-01T00:04",
            "2016-01-01T00:04:00",
            "2016-01-01T00:04:00.Z",
            "2016-01-01T00:04:00.1234567890Z",
            "2016-01-01T00:04:00+04",
            "2016-01-01T00:04:00+24:00",
            "2016-01-01T00:04:00Zjunk",
            "2016-01-01 00:04:00Z",
            "2016-13-01T00:04:00Z",
            "2016-00-01T00:04:00Z",
            "2015-02-29T00:04:00Z",
            "2016-02-30T00:04:00Z",
            "2016-04-31T00:04:00Z",
            "2016-01-01T24:00:00Z",
            "2016-01-01T00:60:00Z",
            "2016-01-01T00:00:61Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            "0000-01-01T00:00:00Z",
            "+2016-01-01T00:04:00Z",
            "-016-01-01T00:04:00Z",
            "２016-01-01T00:04:00Z",
            "2016-01-01T00:04:00Ｚ",
            "99999999999999999999-01-01T00:00:00Z",
            &long,
        ] {
            assert!(UnixTime::parse_rfc3339(bad).is_err(), "{bad:?} accepted");
        }
        let err = UnixTime::parse_rfc3339("1969-12-31T23:59:59Z").unwrap_err();
        assert_eq!(err.context, "RFC 3339 timestamp");
        assert_eq!(err.kind, MalformedKind::Invalid("before 1970"));
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(UnixTime::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixTime::from_secs(1_451_606_640).to_string(),
            "2016-01-01T00:04:00Z"
        );
        assert_eq!(
            UnixTime::from_millis(1_500).to_string(),
            "1970-01-01T00:00:01.5Z"
        );
        let t = UnixTime::new(Duration::new(1, 120));
        assert_eq!(t.to_string(), "1970-01-01T00:00:01.00000012Z");
        // Never panics, even at the end of time.
        let max = UnixTime::MAX.to_string();
        assert!(max.ends_with(".999999999Z"), "{max}");
        assert!(format!("{}", UnixTime::MAX.http_date()).ends_with(" GMT"));
    }

    #[test]
    fn rfc3339_round_trips() {
        for secs in [0, 1, 951_825_600, 1_451_606_640, 253_402_300_799] {
            for nanos in [0, 1, 500_000_000, 999_999_999] {
                let t = UnixTime::new(Duration::new(secs, nanos));
                assert_eq!(UnixTime::parse_rfc3339(&t.to_string()).unwrap(), t);
            }
        }
    }

    #[test]
    fn parses_http_dates_in_all_three_forms() {
        let expected = 784_111_777;
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun Nov 06 08:49:37 1994",
        ] {
            assert_eq!(
                UnixTime::parse_http_date(text).unwrap().as_secs(),
                expected,
                "{text}"
            );
        }
        assert_eq!(
            UnixTime::parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT").unwrap(),
            UnixTime::parse_rfc3339("2026-01-01T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn rejects_hostile_http_dates() {
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun Nov  6 08:49:37",
            "Sun Nov 6 08:49:37 1994",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\u{e9}",
            "120",
        ] {
            assert!(UnixTime::parse_http_date(bad).is_err(), "{bad:?} accepted");
        }
        let err = UnixTime::parse_http_date("nope").unwrap_err();
        assert_eq!(err.context, "HTTP-date");
    }

    #[test]
    fn formats_http_date() {
        let t = UnixTime::from_secs(784_111_777);
        assert_eq!(t.http_date().to_string(), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            UnixTime::EPOCH.http_date().to_string(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let back = UnixTime::parse_http_date(&t.http_date().to_string()).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn serde_uses_rfc3339() {
        let t = UnixTime::from_secs(1_451_606_640);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2016-01-01T00:04:00Z\""
        );
        let back: UnixTime = serde_json::from_str("\"2016-01-01T00:04:00Z\"").unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<UnixTime>("1451606640").is_err());
        assert!(serde_json::from_str::<UnixTime>("\"2016-02-30T00:00:00Z\"").is_err());
    }
}
