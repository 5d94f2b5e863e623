//! `metav1.Time` (RFC 3339, seconds, UTC `Z`), `metav1.MicroTime` (microseconds), `metav1.Duration`
//! (Go duration strings like `1h2m3s`) and `HumanDuration` (the `Age` column's `5m10s`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Go's zero `time.Time` (`0001-01-01T00:00:00Z`), which `metav1.Time` serializes as `null`.
fn go_zero() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| Utc.from_utc_datetime(&n))
        .unwrap_or_default()
}

/// `time.Parse(time.RFC3339, s)`, which `metav1.Time` decodes with: Go's layout-driven parser, whose
/// rules differ from RFC 3339's grammar both ways. Refused: a lower-case `t` or `z`, a space for
/// `T`, second 60 (leap seconds), a day past the month's end. Accepted: a one-digit hour, a comma
/// before the fraction, any number of fraction digits (nanoseconds kept), offsets up to `+24:60`.
/// Errors are Go's `ParseError` texts (`cannot parse "z" as "Z07:00"`, `second out of range`, ...).
fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, String> {
    parse_layout(s, TimeLayout::Rfc3339)
}

/// Go's `time.Parse(layout, s)` for the two RFC 3339 layouts kube-apiserver decodes timestamps
/// with; `metav1.RFC3339Micro` requires its six fraction digits where `time.RFC3339` reads any.
fn parse_layout(s: &str, layout: TimeLayout) -> Result<DateTime<Utc>, String> {
    let q = super::go::time_quote;
    // "cannot parse <rest> as <layout element>".
    let bad = |rest: &str, elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            q(s),
            q(layout.text()),
            q(rest),
            q(elem)
        )
    };
    let range = |what: &str| format!("parsing time {}: {what} out of range", q(s));
    let digit = |v: &str, i: usize| v.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    // Go's getnum: one or two digits (two when `fixed`).
    let getnum = |v: &'_ str, fixed: bool| -> Option<(u32, usize)> {
        let b = v.as_bytes();
        if !digit(v, 0) {
            return None;
        }
        if !digit(v, 1) {
            return (!fixed).then(|| (u32::from(b[0] - b'0'), 1));
        }
        Some((u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'), 2))
    };
    let mut v = s;

    // "2006": four digits.
    let year = match v.get(..4) {
        Some(y) if y.bytes().all(|b| b.is_ascii_digit()) => y.parse::<i32>().unwrap_or(0),
        _ => return Err(bad(v, "2006")),
    };
    v = &v[4..];
    let expect = |v: &'_ str, lit: &str| -> Result<usize, String> {
        if v.starts_with(lit) {
            Ok(lit.len())
        } else {
            Err(bad(v, lit))
        }
    };
    v = &v[expect(v, "-")?..];
    let Some((month, n)) = getnum(v, true) else {
        return Err(bad(v, "01"));
    };
    if !(1..=12).contains(&month) {
        return Err(range("month"));
    }
    v = &v[n..];
    v = &v[expect(v, "-")?..];
    let Some((day, n)) = getnum(v, true) else {
        return Err(bad(v, "02"));
    };
    v = &v[n..];
    v = &v[expect(v, "T")?..];
    let Some((hour, n)) = getnum(v, false) else {
        return Err(bad(v, "15"));
    };
    if hour >= 24 {
        return Err(range("hour"));
    }
    v = &v[n..];
    v = &v[expect(v, ":")?..];
    let Some((minute, n)) = getnum(v, true) else {
        return Err(bad(v, "04"));
    };
    if minute >= 60 {
        return Err(range("minute"));
    }
    v = &v[n..];
    v = &v[expect(v, ":")?..];
    let Some((second, n)) = getnum(v, true) else {
        return Err(bad(v, "05"));
    };
    if second >= 60 {
        return Err(range("second"));
    }
    v = &v[n..];
    let mut nanos = 0u32;
    if layout == TimeLayout::Rfc3339Micro {
        // ".000000": a separator and six digits (Go's atoi: a sign is read, and refused as a range).
        let Some(frac) = v.get(1..7).filter(|_| matches!(v.as_bytes().first(), Some(b'.' | b','))) else {
            return Err(bad(v, ".000000"));
        };
        let unsigned = frac.strip_prefix(['+', '-']).unwrap_or(frac);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(v, ".000000"));
        }
        if frac.starts_with('-') && unsigned.bytes().any(|b| b != b'0') {
            return Err(range("fractional second"));
        }
        nanos = unsigned.parse::<u32>().unwrap_or(0) * 1000; // Go's parseNanoseconds scales by 10^3
        v = &v[7..];
    } else if matches!(v.as_bytes().first(), Some(b'.' | b',')) && digit(v, 1) {
        // A fraction the layout does not name is read all the same (its first nine digits).
        let n = 1 + v[1..].bytes().take_while(u8::is_ascii_digit).count();
        let digits: String = v[1..n]
            .chars()
            .chain(std::iter::repeat('0'))
            .take(9)
            .collect();
        nanos = digits.parse().unwrap_or(0);
        v = &v[n..];
    }
    // "Z07:00": `Z`, or a sign and hh:mm (hours up to 24, minutes up to 60, as Go allows).
    let offset_secs: i64 = if let Some(rest) = v.strip_prefix('Z') {
        v = rest;
        0
    } else {
        let b = v.as_bytes();
        if b.len() < 6 || b[3] != b':' {
            return Err(bad(v, "Z07:00"));
        }
        let (Some((hh, 2)), Some((mm, 2))) = (getnum(&v[1..3], true), getnum(&v[4..6], true))
        else {
            return Err(bad(v, "Z07:00"));
        };
        if hh > 24 {
            return Err(range("time zone offset hour"));
        }
        if mm > 60 {
            return Err(range("time zone offset minute"));
        }
        let secs = i64::from(hh * 60 + mm) * 60;
        let secs = match b[0] {
            b'+' => secs,
            b'-' => -secs,
            _ => return Err(bad(v, "Z07:00")),
        };
        v = &v[6..];
        secs
    };
    if !v.is_empty() {
        return Err(format!("parsing time {}: extra text: {}", q(s), q(v)));
    }
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| range("day"))?;
    let local = date
        .and_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| range("second"))?;
    let utc = local - chrono::Duration::seconds(offset_secs);
    Ok(Utc.from_utc_datetime(&utc))
}

/// RFC 3339 as `time.RFC3339Nano` writes it, for `MicroTime` (whose parse is not Go's yet).
fn parse_rfc3339_lenient(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "parsing time {} as \"2006-01-02T15:04:05.000000Z07:00\": {e}",
                super::go::quote(s)
            )
        })
}

/// `metav1.Time`: serialized as RFC 3339 in UTC with second precision (`2024-01-02T03:04:05Z`).
/// Use `Option<Time>` for optional fields; the Go zero time serializes as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub DateTime<Utc>);

impl Time {
    /// The current time, truncated to seconds as it will be stored.
    pub fn now() -> Time {
        Time(Utc::now()).truncated()
    }

    /// This time with sub-second precision dropped.
    pub fn truncated(self) -> Time {
        Time(DateTime::from_timestamp(self.0.timestamp(), 0).unwrap_or(self.0))
    }

    /// True for Go's zero time.
    pub fn is_zero(&self) -> bool {
        self.0 == go_zero()
    }

    /// The RFC 3339 text (`2006-01-02T15:04:05Z`).
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

impl Default for Time {
    /// Go's zero time.
    fn default() -> Self {
        Time(go_zero())
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(t: DateTime<Utc>) -> Self {
        Time(t)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl FromStr for Time {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rfc3339(s).map(Time)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_zero() {
            s.serialize_none()
        } else {
            s.serialize_str(&self.to_rfc3339())
        }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Time::default()),
            Some(s) => parse_rfc3339(&s).map(Time).map_err(de::Error::custom),
        }
    }
}

/// `metav1.MicroTime`: RFC 3339 in UTC with exactly six fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub DateTime<Utc>);

impl MicroTime {
    /// The current time, truncated to microseconds.
    pub fn now() -> MicroTime {
        let t = Utc::now();
        MicroTime(DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t))
    }

    /// True for Go's zero time.
    pub fn is_zero(&self) -> bool {
        self.0 == go_zero()
    }

    /// The RFC 3339 text with microseconds (`2006-01-02T15:04:05.000000Z`).
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl Default for MicroTime {
    fn default() -> Self {
        MicroTime(go_zero())
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_zero() {
            s.serialize_none()
        } else {
            s.serialize_str(&self.to_rfc3339())
        }
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(MicroTime::default()),
            Some(s) => parse_rfc3339_lenient(&s).map(MicroTime).map_err(de::Error::custom),
        }
    }
}

/// `metav1.Duration`: a signed nanosecond count written as Go's `time.Duration.String()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub i64);

/// A malformed Go duration string; the message is `time.ParseDuration`'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

const NANOS_PER_UNIT: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

impl Duration {
    /// From nanoseconds.
    pub fn from_nanos(n: i64) -> Duration {
        Duration(n)
    }

    /// From whole seconds (saturating).
    pub fn from_secs(s: i64) -> Duration {
        Duration(s.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds.
    pub fn as_nanos(&self) -> i64 {
        self.0
    }

    /// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns us µs ms s m h, or `0`.
    pub fn parse(orig: &str) -> Result<Duration, DurationError> {
        let invalid = || DurationError(format!("time: invalid duration {}", super::go::quote(orig)));
        let mut s = orig;
        let mut neg = false;
        if let Some(rest) = s.strip_prefix('-') {
            neg = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if s == "0" {
            return Ok(Duration(0));
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !s.is_empty() {
            // The next character must be [0-9.].
            if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
                return Err(invalid());
            }
            let int_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let int_part = &s[..int_len];
            s = &s[int_len..];
            let mut frac_part = "";
            let had_dot = s.starts_with('.');
            if had_dot {
                s = &s[1..];
                let frac_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
                frac_part = &s[..frac_len];
                s = &s[frac_len..];
            }
            if int_part.is_empty() && frac_part.is_empty() {
                return Err(invalid());
            }
            let unit_len = s.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(s.len());
            let unit = &s[..unit_len];
            s = &s[unit_len..];
            if unit.is_empty() {
                return Err(DurationError(format!("time: missing unit in duration {}", super::go::quote(orig))));
            }
            let Some(&(_, scale)) = NANOS_PER_UNIT.iter().find(|(u, _)| *u == unit) else {
                return Err(DurationError(format!(
                    "time: unknown unit {} in duration {}",
                    super::go::quote(unit),
                    super::go::quote(orig)
                )));
            };
            let v: u64 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| invalid())? };
            let mut v = v.checked_mul(scale).ok_or_else(invalid)?;
            if !frac_part.is_empty() {
                // Accumulate the fraction with at most 18 digits of precision, like Go.
                let mut f: u64 = 0;
                let mut div: f64 = 1.0;
                for c in frac_part.chars().take(18) {
                    f = f * 10 + u64::from(c.to_digit(10).unwrap_or(0));
                    div *= 10.0;
                }
                v = v.checked_add((f as f64 * (scale as f64 / div)) as u64).ok_or_else(invalid)?;
            }
            total = total.checked_add(v).ok_or_else(invalid)?;
            if total > i64::MAX as u64 + u64::from(neg) {
                return Err(invalid());
            }
        }
        if neg {
            Ok(Duration((total as i128).wrapping_neg() as i64))
        } else {
            Ok(Duration(total as i64))
        }
    }
}

/// Writes `v / 10^prec` as a fraction (`.123`), dropping trailing zeros; returns the integer part.
fn fmt_frac(buf: &mut Vec<u8>, mut v: u64, prec: usize) -> u64 {
    let mut print = false;
    for _ in 0..prec {
        let digit = (v % 10) as u8;
        print = print || digit != 0;
        if print {
            buf.push(b'0' + digit);
        }
        v /= 10;
    }
    if print {
        buf.push(b'.');
    }
    v
}

fn fmt_int(buf: &mut Vec<u8>, mut v: u64) {
    if v == 0 {
        buf.push(b'0');
    } else {
        while v > 0 {
            buf.push(b'0' + (v % 10) as u8);
            v /= 10;
        }
    }
}

impl fmt::Display for Duration {
    /// `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Built backwards, then reversed.
        let mut buf: Vec<u8> = Vec::with_capacity(32);
        let neg = self.0 < 0;
        let mut u = self.0.unsigned_abs();
        if u < 1_000_000_000 {
            if u == 0 {
                return f.write_str("0s");
            }
            buf.push(b's');
            let prec = if u < 1_000 {
                buf.push(b'n');
                0
            } else if u < 1_000_000 {
                // "µ" (U+00B5) as UTF-8, reversed.
                buf.extend_from_slice(&[0xB5, 0xC2]);
                3
            } else {
                buf.push(b'm');
                6
            };
            u = fmt_frac(&mut buf, u, prec);
            fmt_int(&mut buf, u);
        } else {
            buf.push(b's');
            u = fmt_frac(&mut buf, u, 9);
            fmt_int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.push(b'm');
                fmt_int(&mut buf, u % 60);
                u /= 60;
                if u > 0 {
                    buf.push(b'h');
                    fmt_int(&mut buf, u);
                }
            }
        }
        if neg {
            buf.push(b'-');
        }
        buf.reverse();
        f.write_str(&String::from_utf8_lossy(&buf))
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(de::Error::custom)
    }
}

/// `duration.HumanDuration`: a short, 2-3 significant figure age like `45s`, `5m10s`, `3h`, `2d4h`, `3y`.
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d.num_minutes();
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d.num_hours();
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{}h", hours / 24, h);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{}d", hours / 24 / 365, dy);
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        let t: Time = serde_json::from_str(r#""2026-11-25T12:56:39Z""#).expect("parse");
        assert_eq!(serde_json::to_string(&t).expect("ser"), r#""2026-11-25T12:56:39Z""#);
        // Offsets are converted to UTC, fractions dropped on output.
        let t: Time = serde_json::from_str(r#""2026-11-25T14:56:39.75+02:00""#).expect("parse");
        assert_eq!(t.to_string(), "2026-11-25T12:56:39Z");
        let none: Option<Time> = serde_json::from_str("null").expect("null");
        assert_eq!(none, None);
        assert_eq!(serde_json::to_string(&Time::default()).expect("ser"), "null");
        assert!(serde_json::from_str::<Time>(r#""yesterday""#).is_err());
    }

    /// `metav1.Time` reads text as Go's `time.Parse(time.RFC3339, s)` does; each case is what
    /// kube-apiserver v1.36 answered for a ConfigMap created with that `creationTimestamp`.
    #[test]
    fn time_parses_as_go_does() {
        let err = |s: &str| s.parse::<Time>().expect_err(s);
        let ok = |s: &str| {
            s.parse::<Time>()
                .unwrap_or_else(|e| panic!("{s}: {e}"))
                .0
                .to_rfc3339_opts(SecondsFormat::Nanos, true)
        };
        assert_eq!(
            err("2024-01-03T16:33:15z"),
            r#"parsing time "2024-01-03T16:33:15z" as "2006-01-02T15:04:05Z07:00": cannot parse "z" as "Z07:00""#
        );
        assert_eq!(
            err("0000-05-31t12:56:54Z"),
            r#"parsing time "0000-05-31t12:56:54Z" as "2006-01-02T15:04:05Z07:00": cannot parse "t12:56:54Z" as "T""#
        );
        assert_eq!(
            err("9999-05-25 02:30:17-23:59"),
            r#"parsing time "9999-05-25 02:30:17-23:59" as "2006-01-02T15:04:05Z07:00": cannot parse " 02:30:17-23:59" as "T""#
        );
        assert_eq!(
            err("2024-12-31T23:59:60Z"),
            r#"parsing time "2024-12-31T23:59:60Z": second out of range"#
        );
        assert_eq!(
            err("2024-01-01T00:00:00+25:00"),
            r#"parsing time "2024-01-01T00:00:00+25:00": time zone offset hour out of range"#
        );
        assert_eq!(
            err("2024-01-01T00:00:00Zjunk"),
            r#"parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk""#
        );
        assert_eq!(
            err("2024-02-30T00:00:00Z"),
            r#"parsing time "2024-02-30T00:00:00Z": day out of range"#
        );
        assert_eq!(
            err("2024-13-01T00:00:00Z"),
            r#"parsing time "2024-13-01T00:00:00Z": month out of range"#
        );
        assert_eq!(
            ok("2024-01-01T00:00:00+24:00"),
            "2023-12-31T00:00:00.000000000Z"
        );
        assert_eq!(
            ok("2024-01-01T00:00:00+24:60"),
            "2023-12-30T23:00:00.000000000Z"
        );
        assert_eq!(
            ok("2024-01-01T00:00:00,5Z"),
            "2024-01-01T00:00:00.500000000Z"
        );
        assert_eq!(ok("2024-01-01T1:00:00Z"), "2024-01-01T01:00:00.000000000Z");
        assert_eq!(
            ok("2024-01-01T00:00:00.1234567891234-00:30"),
            "2024-01-01T00:30:00.123456789Z"
        );
        assert_eq!(ok("0000-01-01T00:00:00Z"), "0000-01-01T00:00:00.000000000Z");
    }

    #[test]
    fn micro_time() {
        let t: MicroTime = serde_json::from_str(r#""2026-11-25T12:56:39.123456Z""#).expect("parse");
        assert_eq!(serde_json::to_string(&t).expect("ser"), r#""2026-11-25T12:56:39.123456Z""#);
        let t: MicroTime = serde_json::from_str(r#""2026-11-25T12:56:39Z""#).expect("parse");
        assert_eq!(t.to_string(), "2026-11-25T12:56:39.000000Z");
    }

    #[test]
    fn duration_strings() {
        let cases = [
            ("1h2m3s", 3_723_000_000_000i64, "1h2m3s"),
            ("90s", 90_000_000_000, "1m30s"),
            ("1.5s", 1_500_000_000, "1.5s"),
            ("500ms", 500_000_000, "500ms"),
            ("1us", 1_000, "1µs"),
            ("1µs", 1_000, "1µs"),
            ("3ns", 3, "3ns"),
            ("0", 0, "0s"),
            ("-1m", -60_000_000_000, "-1m0s"),
            ("1h", 3_600_000_000_000, "1h0m0s"),
            (".5m", 30_000_000_000, "30s"),
        ];
        for (input, nanos, canonical) in cases {
            let d = Duration::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d.0, nanos, "{input}");
            assert_eq!(d.to_string(), canonical, "{input}");
        }
        assert_eq!(Duration::parse("1").expect_err("must fail").to_string(), r#"time: missing unit in duration "1""#);
        assert_eq!(Duration::parse("1x").expect_err("must fail").to_string(), r#"time: unknown unit "x" in duration "1x""#);
        assert_eq!(Duration::parse("").expect_err("must fail").to_string(), r#"time: invalid duration """#);
        assert!(Duration::parse(".s").is_err());
        let d: Duration = serde_json::from_str(r#""2m""#).expect("json");
        assert_eq!(serde_json::to_string(&d).expect("ser"), r#""2m0s""#);
    }

    #[test]
    fn human_durations() {
        let s = chrono::Duration::seconds;
        assert_eq!(human_duration(s(-5)), "<invalid>");
        assert_eq!(human_duration(s(-1)), "0s");
        assert_eq!(human_duration(s(1)), "1s");
        assert_eq!(human_duration(s(119)), "119s");
        assert_eq!(human_duration(s(130)), "2m10s");
        assert_eq!(human_duration(s(600)), "10m");
        assert_eq!(human_duration(s(3 * 3600 + 120)), "3h2m");
        assert_eq!(human_duration(s(10 * 3600)), "10h");
        assert_eq!(human_duration(s(50 * 3600)), "2d2h");
        assert_eq!(human_duration(s(30 * 86400)), "30d");
        assert_eq!(human_duration(s(3 * 365 * 86400 + 86400)), "3y1d");
        assert_eq!(human_duration(s(9 * 365 * 86400)), "9y");
    }
}

/// A `time.Parse` layout kube-apiserver decodes timestamps with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLayout {
    /// `time.RFC3339` (`metav1.Time`).
    Rfc3339,
    /// `metav1.RFC3339Micro` (`metav1.MicroTime`): exactly six fractional digits.
    Rfc3339Micro,
}

impl TimeLayout {
    fn text(self) -> &'static str {
        match self {
            TimeLayout::Rfc3339 => "2006-01-02T15:04:05Z07:00",
            TimeLayout::Rfc3339Micro => "2006-01-02T15:04:05.000000Z07:00",
        }
    }
}

/// Go's `time.Parse(layout, s)` verdict for the RFC 3339 layouts, with its `ParseError` text
/// (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`, `parsing time
/// "2024-13-01T00:00:00Z": month out of range`).
pub fn go_parse_time(s: &str, layout: TimeLayout) -> Result<(), String> {
    parse_layout(s, layout).map(|_| ())
}

#[cfg(test)]
mod go_parse_tests {
    use super::*;

    #[test]
    fn errors_read_as_go_time_parse() {
        let rfc = |s| go_parse_time(s, TimeLayout::Rfc3339);
        let micro = |s| go_parse_time(s, TimeLayout::Rfc3339Micro);
        assert_eq!(rfc("2024-01-01T00:00:00Z"), Ok(()));
        assert_eq!(rfc("2024-01-01T00:00:00.123+02:00"), Ok(()));
        assert_eq!(
            rfc("garbage"),
            Err("parsing time \"garbage\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"garbage\" as \"2006\"".into())
        );
        assert_eq!(
            rfc("2024-13-01T00:00:00Z"),
            Err("parsing time \"2024-13-01T00:00:00Z\": month out of range".into())
        );
        assert_eq!(
            rfc("2023-02-29T00:00:00Z"),
            Err("parsing time \"2023-02-29T00:00:00Z\": day out of range".into())
        );
        assert_eq!(
            rfc("2024-01-01 00:00:00Z"),
            Err("parsing time \"2024-01-01 00:00:00Z\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \" 00:00:00Z\" as \"T\"".into())
        );
        assert_eq!(
            rfc("2024-01-01T00:00:00Zx"),
            Err("parsing time \"2024-01-01T00:00:00Zx\": extra text: \"x\"".into())
        );
        assert_eq!(micro("2024-01-01T00:00:00.000000Z"), Ok(()));
        assert_eq!(
            micro("2024-01-01T00:00:00Z"),
            Err("parsing time \"2024-01-01T00:00:00Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\"".into())
        );
        assert_eq!(
            micro("garbage"),
            Err("parsing time \"garbage\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"garbage\" as \"2006\"".into())
        );
        assert!(rfc("é").is_err());
    }
}
