//! String formats as apiextensions validates them: the kube-openapi `strfmt` registry, with formats
//! a CRD may not use stripped (unknown formats are ignored, as upstream).

use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::NaiveDate;

use super::{compiled_regex, Schema};
use crate::apimachinery::quantity::Quantity;
use crate::apimachinery::time::Duration;

/// String formats CRDs support (names normalized by dropping `-`, as go-openapi does).
const SUPPORTED_STRING_FORMATS: &[&str] = &[
    "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3", "uuid4",
    "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor", "byte", "password",
    "date", "duration", "datetime", "quantity", "k8sshortname", "k8slongname",
];

fn normalize(format: &str) -> String {
    format.replace('-', "")
}

/// The format that takes effect for `schema` after upstream's `StripUnsupportedFormatsPostProcess`:
/// supported string formats, `int32`/`int64` on integers, `float`/`double` on numbers; else `None`.
pub fn effective_format(schema: &Schema) -> Option<&'static str> {
    let f = schema.format.filter(|f| !f.is_empty())?;
    let names = schema.type_names();
    let single = if names.len() == 1 { names[0] } else { "" };
    let keep = match single {
        "" | "string" => SUPPORTED_STRING_FORMATS.contains(&normalize(f).as_str()),
        "integer" => f == "int32" || f == "int64",
        "number" => f == "float" || f == "double",
        _ => false,
    };
    keep.then_some(f)
}

/// Checks `value` against a string format. `None` when the format is not a string format of the
/// registry (numeric formats, unknown names): such formats are not checked.
pub fn check_format(format: &str, value: &str) -> Option<bool> {
    let ok = match normalize(format).as_str() {
        "bsonobjectid" => value.len() == 24 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        "uri" => is_request_uri(value),
        "email" => is_email(value),
        "hostname" => is_hostname(value),
        "ipv4" => parse_ip_sloppy(value) && value.contains('.'),
        "ipv6" => value.contains(':') && value.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(value),
        "mac" => is_mac(value),
        "uuid" => re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", value),
        "uuid3" => re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$", value),
        "uuid4" => re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$", value),
        "uuid5" => re(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$", value),
        "isbn" => is_isbn10(value) || is_isbn13(value),
        "isbn10" => is_isbn10(value),
        "isbn13" => is_isbn13(value),
        "creditcard" => is_credit_card(value),
        "ssn" => value.len() == 11 && re(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$", value),
        "hexcolor" => re("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", value),
        "rgbcolor" => re(
            r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
            value,
        ),
        "byte" => re(
            r"^(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=|[A-Za-z0-9+\/]{4})$",
            value,
        ),
        "password" => true,
        "date" => is_date(value),
        "datetime" => is_date_time(value),
        "duration" => is_duration(value),
        "quantity" => Quantity::is_valid(value),
        "k8sshortname" => value.len() <= 63 && re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", value),
        "k8slongname" => {
            value.len() <= 253 && re(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", value)
        }
        _ => return None,
    };
    Some(ok)
}

fn re(pattern: &str, value: &str) -> bool {
    compiled_regex(pattern).is_ok_and(|r| r.is_match(value))
}

/// `net/url.ParseRequestURI` succeeds: an absolute URI (`scheme:...`) or an absolute path.
fn is_request_uri(s: &str) -> bool {
    if s.is_empty() || s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    // Percent escapes must be well formed.
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(x), Some(y)) if x.is_ascii_hexdigit() && y.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    let rest = s.split('#').next().unwrap_or("");
    if rest.starts_with('/') {
        return true;
    }
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
    let Some((scheme, after)) = rest.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return false;
    }
    if let Some(authority) = after.strip_prefix("//") {
        let host_port = authority.split(['/', '?']).next().unwrap_or("");
        let host = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
        if host.contains(' ') || host.contains(['<', '>', '"', '{', '}', '|', '\\', '^', '`']) {
            return false;
        }
    }
    true
}

/// `net/mail.ParseAddress` accepts the text: `local@domain`, optionally as `Name <local@domain>`.
fn is_email(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => s.trim(),
        _ => return false,
    };
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |p: &str| !p.is_empty() && p.split('.').all(|part| !part.is_empty() && part.chars().all(atext));
    let quoted_local = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    (dot_atom(local) || quoted_local) && (dot_atom(domain) || (domain.starts_with('[') && domain.ends_with(']')))
}

fn is_hostname(s: &str) -> bool {
    const HOSTNAME: &str = r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$";
    re(HOSTNAME, s) && s.len() <= 255 && s.split('.').all(|p| p.len() <= 63)
}

/// `dtoi`: leading decimal digits; (value, consumed) when at least one digit.
fn dtoi(s: &str) -> Option<(u32, usize)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let mut v: u32 = 0;
    for b in s.bytes().take(n) {
        v = v.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    Some((v.min(0xFF_FFFF), n))
}

/// Go 1.16 `parseIPv4`, which tolerates leading zeros (`ParseIPSloppy`).
fn parse_ipv4_sloppy(mut s: &str) -> bool {
    for j in 0..4 {
        if j > 0 {
            match s.strip_prefix('.') {
                Some(rest) => s = rest,
                None => return false,
            }
        }
        match dtoi(s) {
            Some((n, c)) if n <= 0xFF => s = &s[c..],
            _ => return false,
        }
    }
    s.is_empty()
}

/// `netutils.ParseIPSloppy(s) != nil`.
fn parse_ip_sloppy(s: &str) -> bool {
    if s.contains(':') {
        s.parse::<Ipv6Addr>().is_ok()
    } else {
        parse_ipv4_sloppy(s) || s.parse::<Ipv4Addr>().is_ok()
    }
}

fn is_cidr(s: &str) -> bool {
    let Some((addr, mask)) = s.split_once('/') else {
        return false;
    };
    let bits = if !addr.contains(':') && parse_ipv4_sloppy(addr) {
        32
    } else if addr.parse::<Ipv6Addr>().is_ok() {
        128
    } else {
        return false;
    };
    matches!(dtoi(mask), Some((n, c)) if c == mask.len() && n <= bits)
}

/// `net.ParseMAC`: 6, 8 or 20 octets as `xx:xx:..`, `xx-xx-..` or `xxxx.xxxx.xxxx`.
fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 14 {
        return false;
    }
    let hex = |x: &[u8]| x.iter().all(u8::is_ascii_hexdigit);
    if b[2] == b':' || b[2] == b'-' {
        if !(b.len() + 1).is_multiple_of(3) {
            return false;
        }
        let n = (b.len() + 1) / 3;
        if n != 6 && n != 8 && n != 20 {
            return false;
        }
        (0..n).all(|i| hex(&b[i * 3..i * 3 + 2]) && (i + 1 == n || b[i * 3 + 2] == b[2]))
    } else if b[4] == b'.' {
        if !(b.len() + 1).is_multiple_of(5) {
            return false;
        }
        let n = 2 * (b.len() + 1) / 5;
        if n != 6 && n != 8 && n != 20 {
            return false;
        }
        (0..(b.len() + 1) / 5).all(|i| hex(&b[i * 5..i * 5 + 4]) && (i * 5 + 4 == b.len() || b[i * 5 + 4] == b'.'))
    } else {
        false
    }
}

fn sanitize_isbn(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

fn is_isbn10(s: &str) -> bool {
    let s = sanitize_isbn(s);
    if !re("^(?:[0-9]{9}X|[0-9]{10})$", &s) {
        return false;
    }
    let b = s.as_bytes();
    let mut sum: u32 = (0..9).map(|i| (i as u32 + 1) * u32::from(b[i] - b'0')).sum();
    sum += if b[9] == b'X' { 100 } else { 10 * u32::from(b[9] - b'0') };
    sum.is_multiple_of(11)
}

fn is_isbn13(s: &str) -> bool {
    let s = sanitize_isbn(s);
    if !re("^(?:[0-9]{13})$", &s) {
        return false;
    }
    let b = s.as_bytes();
    let sum: i32 = (0..12).map(|i| if i % 2 == 0 { 1 } else { 3 } * i32::from(b[i] - b'0')).sum();
    i32::from(b[12] - b'0') - ((10 - (sum % 10)) % 10) == 0
}

fn is_credit_card(s: &str) -> bool {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if !re(
        r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$",
        &digits,
    ) {
        return false;
    }
    let mut sum = 0;
    let mut double = false;
    for b in digits.bytes().rev() {
        let mut d = u32::from(b - b'0');
        if double {
            d *= 2;
            if d >= 10 {
                d = d % 10 + 1;
            }
        }
        sum += d;
        double = !double;
    }
    sum % 10 == 0
}

/// `time.Parse("2006-01-02", s)`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r.clone()].iter().all(u8::is_ascii_digit).then(|| s[r].parse::<u32>().ok()).flatten();
    match (digits(0..4), digits(5..7), digits(8..10)) {
        (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
        _ => false,
    }
}

/// strfmt `IsDateTime`: a date, `t`, then `hh:mm:ss[.frac](z|±hh:mm)` (case-insensitive).
fn is_date_time(s: &str) -> bool {
    if s.len() < 4 {
        return false;
    }
    let lower = s.to_lowercase();
    let parts: Vec<&str> = lower.split('t').collect();
    if parts.len() < 2 || !is_date(parts[0]) {
        return false;
    }
    let Ok(rx) = compiled_regex(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$") else {
        return false;
    };
    match rx.captures(parts[1]) {
        Some(c) => {
            let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
            g(1) <= "23" && g(2) <= "59" && g(3) <= "59"
        }
        None => false,
    }
}

/// strfmt `ParseDuration`: Go's `time.ParseDuration`, or any `<n> <unit>` run in Scala style
/// (`3 days`, `1 hour 2 min`).
fn is_duration(s: &str) -> bool {
    if Duration::parse(s).is_ok() {
        return true;
    }
    const UNITS: &[&[&str]] = &[
        &["ns", "nano"],
        &["us", "\u{b5}s", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let Ok(rx) = compiled_regex("(((?:-\\s?)?[0-9]+)\\s*([A-Za-z\u{b5}]+))") else {
        return false;
    };
    let mut ok = false;
    for c in rx.captures_iter(s) {
        let number = c.get(2).map_or("", |m| m.as_str());
        let number = number.strip_prefix('-').unwrap_or(number);
        if number.trim().parse::<i64>().is_err() {
            return false;
        }
        let unit = c.get(3).map_or("", |m| m.as_str()).trim().to_lowercase();
        for variants in UNITS {
            let last = variants.len() - 1;
            for (i, v) in variants.iter().enumerate() {
                if (i == last && unit.starts_with(v)) || unit.eq_ignore_ascii_case(v) {
                    ok = true;
                }
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::Type;

    fn check(f: &str, v: &str) -> bool {
        check_format(f, v).unwrap_or_else(|| panic!("unknown format {f}"))
    }

    #[test]
    fn effective_formats() {
        let s = |ty, f| Schema { ty, format: Some(f), ..Schema::DEFAULT };
        assert_eq!(effective_format(&s(Type::String, "date-time")), Some("date-time"));
        assert_eq!(effective_format(&s(Type::String, "int32")), None);
        assert_eq!(effective_format(&s(Type::String, "unknown")), None);
        assert_eq!(effective_format(&s(Type::Integer, "int32")), Some("int32"));
        assert_eq!(effective_format(&s(Type::Integer, "uint32")), None);
        assert_eq!(effective_format(&s(Type::Number, "double")), Some("double"));
        assert_eq!(effective_format(&s(Type::Boolean, "byte")), None);
        assert_eq!(effective_format(&s(Type::String, "k8s-short-name")), Some("k8s-short-name"));
        assert_eq!(check_format("int32", "1"), None);
    }

    #[test]
    fn string_formats() {
        assert!(check("date-time", "2026-11-25T12:56:39Z"));
        assert!(check("date-time", "2026-11-25t12:56:39.123+02:00"));
        assert!(!check("date-time", "2026-11-25T25:56:39Z"));
        assert!(!check("date-time", "2026-11-25"));
        assert!(check("date", "2024-02-29"));
        assert!(!check("date", "2023-02-29"));
        assert!(!check("date", "2023-2-09"));
        assert!(check("duration", "1h30m"));
        assert!(check("duration", "3 days"));
        assert!(!check("duration", "forever"));
        assert!(check("byte", "aGVsbG8="));
        assert!(!check("byte", ""));
        assert!(!check("byte", "abc"));
        assert!(check("ipv4", "10.0.0.1"));
        assert!(check("ipv4", "010.0.0.1"));
        assert!(!check("ipv4", "::1"));
        assert!(!check("ipv4", "256.0.0.1"));
        assert!(check("ipv6", "2001:db8::1"));
        assert!(!check("ipv6", "10.0.0.1"));
        assert!(check("cidr", "10.0.0.0/8"));
        assert!(check("cidr", "2001:db8::/32"));
        assert!(!check("cidr", "10.0.0.0/33"));
        assert!(check("mac", "00:00:5e:00:53:01"));
        assert!(check("mac", "00-00-5e-00-53-01"));
        assert!(check("mac", "0000.5e00.5301"));
        assert!(!check("mac", "00:00:5e:00:53"));
        assert!(check("uuid", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(check("uuid4", "123e4567-e89b-42d3-a456-426614174000"));
        assert!(!check("uuid4", "123e4567-e89b-12d3-a456-426614174000"));
        assert!(check("hostname", "example.com"));
        assert!(!check("hostname", "-bad.com"));
        assert!(check("email", "a.b@example.com"));
        assert!(check("email", "Ann <ann@example.com>"));
        assert!(!check("email", "not-an-email"));
        assert!(check("uri", "https://example.com/x?y=1"));
        assert!(check("uri", "/absolute/path"));
        assert!(!check("uri", "relative/path"));
        assert!(!check("uri", "http://a b.com/"));
        assert!(check("isbn10", "0321751043"));
        assert!(check("isbn13", "978-0321751041"));
        assert!(!check("isbn10", "0321751044"));
        assert!(check("creditcard", "4111 1111 1111 1111"));
        assert!(!check("creditcard", "4111 1111 1111 1112"));
        assert!(check("ssn", "123-45-6789"));
        assert!(!check("ssn", "123456789"));
        assert!(check("hexcolor", "#FFF"));
        assert!(check("rgbcolor", "rgb(255, 0, 10)"));
        assert!(check("bsonobjectid", "507f1f77bcf86cd799439011"));
        assert!(check("quantity", "500m"));
        assert!(!check("quantity", "5 00m"));
        assert!(check("k8s-short-name", "my-name"));
        assert!(!check("k8s-short-name", "My-name"));
        assert!(check("k8s-long-name", "a.b-c"));
        assert!(check("password", "anything"));
    }
}
