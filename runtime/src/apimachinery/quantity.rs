//! `resource.Quantity`: the fixed-point number with a suffix (`500m`, `1Gi`, `1e3`), parsed and
//! written in canonical form exactly as `k8s.io/apimachinery/pkg/api/resource` does.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// The three ways a quantity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// `12e6`.
    DecimalExponent,
    /// `12Mi` (powers of 1024).
    BinarySI,
    /// `12M` (powers of 1000).
    DecimalSI,
}

/// Why a string is not a quantity; messages are upstream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// `ErrFormatWrong`.
    #[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")]
    FormatWrong,
    /// `ErrNumeric`.
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    /// `ErrSuffix`.
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// A parsed quantity: `(-1)^negative * digits * 10^exponent`, plus the format it was written in.
/// Arbitrary precision (decimal quantities are not capped at int64), rounded up to nano on parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityValue {
    negative: bool,
    /// Big-endian decimal digits without leading zeros; empty means zero.
    digits: Vec<u8>,
    exponent: i64,
    /// The format used when writing the value.
    pub format: QuantityFormat,
}

const MAX_INT64_DIGITS: &[u8] = b"9223372036854775807";

struct Scanned<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// Port of `parseQuantityString`: splits sign, integer digits, fraction digits and suffix.
fn scan(s: &str) -> Result<Scanned<'_>, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut positive = true;
    let mut pos = 0;
    if pos < end {
        match b[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
    }
    // Strip leading zeros.
    loop {
        if pos >= end {
            return Ok(Scanned { positive, num: "0", denom: "", suffix: "" });
        }
        if b[pos] == b'0' {
            pos += 1;
        } else {
            break;
        }
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let mut num = &s[num_start..pos];
    if pos >= end {
        return Ok(Scanned { positive, num: if num.is_empty() { "0" } else { num }, denom: "", suffix: "" });
    }
    if num.is_empty() {
        num = "0";
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &s[denom_start..pos];
        if pos >= end {
            return Ok(Scanned { positive, num, denom, suffix: "" });
        }
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong);
    }
    Ok(Scanned { positive, num, denom, suffix: &s[suffix_start..] })
}

/// `quantitySuffixer.interpret`: (base, exponent, format).
fn interpret(suffix: &str) -> Option<(u32, i64, QuantityFormat)> {
    use QuantityFormat::*;
    let dec = |e| Some((10, e, DecimalSI));
    let bin = |e| Some((2, e, BinarySI));
    match suffix {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(10),
        "Mi" => bin(20),
        "Gi" => bin(30),
        "Ti" => bin(40),
        "Pi" => bin(50),
        "Ei" => bin(60),
        s if s.len() > 1 && (s.starts_with('e') || s.starts_with('E')) => {
            let e: i64 = s[1..].parse().ok()?;
            // Upstream keeps the exponent in an int32.
            Some((10, i64::from(e as i32), DecimalExponent))
        }
        _ => None,
    }
}

fn strip_leading_zeros(d: &mut Vec<u8>) {
    let n = d.iter().take_while(|&&x| x == 0).count();
    d.drain(..n);
}

fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().map(|c| c - b'0').collect()
}

/// Multiplies a big-endian digit vector by a small factor.
fn mul_small(d: &mut Vec<u8>, factor: u32) {
    let mut carry: u64 = 0;
    for x in d.iter_mut().rev() {
        let v = u64::from(*x) * u64::from(factor) + carry;
        *x = (v % 10) as u8;
        carry = v / 10;
    }
    while carry > 0 {
        d.insert(0, (carry % 10) as u8);
        carry /= 10;
    }
}

/// Adds one to a big-endian digit vector.
fn increment(d: &mut Vec<u8>) {
    for x in d.iter_mut().rev() {
        if *x == 9 {
            *x = 0;
        } else {
            *x += 1;
            return;
        }
    }
    d.insert(0, 1);
}

/// Compares two non-negative `(digits, exponent)` magnitudes.
fn cmp_magnitude(a: &[u8], ae: i64, b: &[u8], be: i64) -> Ordering {
    let a_zero = a.iter().all(|&x| x == 0);
    let b_zero = b.iter().all(|&x| x == 0);
    match (a_zero, b_zero) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    // Position of the most significant digit.
    let a_top = a.len() as i64 + ae;
    let b_top = b.len() as i64 + be;
    if a_top != b_top {
        return a_top.cmp(&b_top);
    }
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        if x != y {
            return x.cmp(&y);
        }
    }
    Ordering::Equal
}

impl QuantityValue {
    /// Zero in DecimalSI.
    pub fn zero() -> QuantityValue {
        QuantityValue { negative: false, digits: Vec::new(), exponent: 0, format: QuantityFormat::DecimalSI }
    }

    /// `value * 10^scale` in the given format (`NewScaledQuantity`, `NewMilliQuantity` with -3).
    pub fn from_scaled(value: i64, scale: i32, format: QuantityFormat) -> QuantityValue {
        let mut digits = digits_of(&value.unsigned_abs().to_string());
        strip_leading_zeros(&mut digits);
        QuantityValue { negative: value < 0 && !digits.is_empty(), digits, exponent: i64::from(scale), format }
    }

    /// Parses a quantity string (`ParseQuantity`).
    pub fn parse(s: &str) -> Result<QuantityValue, QuantityError> {
        Self::parse_with_string(s).map(|(v, _)| v)
    }

    /// Parses and also returns the string `String()` yields: the input itself when upstream keeps it
    /// (already canonical, e.g. `100m`, `12Ki`, `+1`), the canonical form otherwise.
    fn parse_with_string(s: &str) -> Result<(QuantityValue, String), QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        if s == "0" {
            return Ok((QuantityValue::zero(), "0".to_string()));
        }
        let sc = scan(s)?;
        let (base, exponent, mut format) = interpret(sc.suffix).ok_or(QuantityError::Suffix)?;

        // Does upstream's int64 fast path keep the original string?
        let keep = {
            let (precision, scale, mantissa_shift) = match format {
                QuantityFormat::DecimalExponent | QuantityFormat::DecimalSI => {
                    (18 - (sc.num.len() + sc.denom.len()) as i64, exponent - sc.denom.len() as i64, 0)
                }
                QuantityFormat::BinarySI => {
                    if exponent >= 0 && sc.denom.is_empty() {
                        let p = 15 - sc.num.len() as i64 - ((exponent as f32) * 3.0 / 10.0) as i64 - 1;
                        (p, -(sc.denom.len() as i64), exponent)
                    } else {
                        (-1, 0, 0)
                    }
                }
            };
            if precision >= 0 && scale >= -9 {
                let shifted = format!("{}{}", sc.num, sc.denom);
                match shifted.parse::<i64>() {
                    Ok(value) => {
                        let fits = value.checked_mul(1i64 << mantissa_shift).is_some();
                        fits && match format {
                            QuantityFormat::BinarySI => exponent % 10 == 0 && (value & 0x07) != 0,
                            _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
                        }
                    }
                    Err(_) => return Err(QuantityError::Numeric),
                }
            } else {
                false
            }
        };

        let mut digits = digits_of(sc.num);
        digits.extend(digits_of(sc.denom));
        strip_leading_zeros(&mut digits);
        let mut exp = -(sc.denom.len() as i64);
        if base == 10 {
            exp += exponent;
        } else {
            for _ in 0..exponent / 10 {
                mul_small(&mut digits, 1024);
            }
        }
        let nonzero = !digits.is_empty();
        // Round non-zero values up to the nearest nano, away from zero.
        if nonzero && exp < -9 {
            let cut = (-9 - exp) as usize;
            if cut >= digits.len() {
                digits = vec![1];
            } else {
                let removed_nonzero = digits[digits.len() - cut..].iter().any(|&x| x != 0);
                digits.truncate(digits.len() - cut);
                if removed_nonzero {
                    increment(&mut digits);
                }
                strip_leading_zeros(&mut digits);
                if digits.is_empty() {
                    digits = vec![1];
                }
            }
            exp = -9;
        }
        if format == QuantityFormat::BinarySI {
            let max = digits_of(std::str::from_utf8(MAX_INT64_DIGITS).unwrap_or("0"));
            if cmp_magnitude(&digits, exp, &max, 0) == Ordering::Greater {
                digits = max;
                exp = 0;
            }
            if nonzero && cmp_magnitude(&digits, exp, &[1], 0) == Ordering::Less {
                format = QuantityFormat::DecimalSI;
            }
        }
        let value = QuantityValue { negative: !sc.positive && nonzero, digits, exponent: exp, format };
        let text = if keep { s.to_string() } else { value.canonical() };
        Ok((value, text))
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits.iter().all(|&d| d == 0)
    }

    /// True for values below zero.
    pub fn is_negative(&self) -> bool {
        self.negative && !self.is_zero()
    }

    /// Orders two quantities by value (`Cmp`), ignoring format.
    pub fn cmp_value(&self, other: &QuantityValue) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_magnitude(&self.digits, self.exponent, &other.digits, other.exponent),
            (true, true) => cmp_magnitude(&other.digits, other.exponent, &self.digits, self.exponent),
        }
    }

    /// An approximate float (`AsApproximateFloat64`).
    pub fn as_f64(&self) -> f64 {
        let text: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let text = if text.is_empty() { "0".to_string() } else { text };
        let v: f64 = format!("{text}e{}", self.exponent).parse().unwrap_or(0.0);
        if self.negative {
            -v
        } else {
            v
        }
    }

    /// `ScaledValue(scale)`: `ceil(q / 10^scale)` rounded away from zero; `None` beyond int64.
    pub fn scaled_value(&self, scale: i32) -> Option<i64> {
        let shift = self.exponent - i64::from(scale);
        let mut digits = self.digits.clone();
        if shift >= 0 {
            if digits.len() as i64 + shift > 19 && !self.is_zero() {
                return None;
            }
            digits.extend(std::iter::repeat_n(0, shift as usize));
        } else {
            let cut = (-shift) as usize;
            let removed_nonzero = if cut >= digits.len() {
                let nz = !self.is_zero();
                digits.clear();
                nz
            } else {
                let nz = digits[digits.len() - cut..].iter().any(|&x| x != 0);
                digits.truncate(digits.len() - cut);
                nz
            };
            if removed_nonzero {
                increment(&mut digits);
            }
        }
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let v: i64 = if text.is_empty() { 0 } else { text.parse().ok()? };
        Some(if self.negative { -v } else { v })
    }

    /// `Value()`: the value rounded up to an integer.
    pub fn value(&self) -> Option<i64> {
        self.scaled_value(0)
    }

    /// `MilliValue()`: `ceil(q * 1000)`.
    pub fn milli_value(&self) -> Option<i64> {
        self.scaled_value(-3)
    }

    /// The canonical string (`CanonicalizeBytes`): no fractional digits, the largest suffix that
    /// loses no precision, in the value's format.
    pub fn canonical(&self) -> String {
        if self.is_zero() {
            return "0".to_string();
        }
        let sign = if self.negative { "-" } else { "" };
        let mut format = self.format;
        if format == QuantityFormat::BinarySI {
            let small = cmp_magnitude(&self.digits, self.exponent, &[1, 0, 2, 4], 0) == Ordering::Less;
            let exact_int = self.exponent >= 0
                || self.digits[self.digits.len().saturating_sub((-self.exponent) as usize)..].iter().all(|&d| d == 0);
            if small || !exact_int {
                format = QuantityFormat::DecimalSI;
            } else if let Some(mut n) = self.scaled_value(0).map(|v| v.unsigned_abs()) {
                let mut times = 0;
                while n >= 1024 && n % 1024 == 0 {
                    n /= 1024;
                    times += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].get(times).copied().unwrap_or("");
                return format!("{sign}{n}{suffix}");
            } else {
                format = QuantityFormat::DecimalSI;
            }
        }
        let mut digits = self.digits.clone();
        let mut exp = self.exponent;
        while digits.len() > 1 && digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        while exp.rem_euclid(3) != 0 {
            digits.push(0);
            exp -= 1;
        }
        let number: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let suffix = match format {
            QuantityFormat::DecimalSI => match exp {
                -9 => "n".to_string(),
                -6 => "u".to_string(),
                -3 => "m".to_string(),
                0 => String::new(),
                3 => "k".to_string(),
                6 => "M".to_string(),
                9 => "G".to_string(),
                12 => "T".to_string(),
                15 => "P".to_string(),
                18 => "E".to_string(),
                e => format!("e{e}"),
            },
            _ => {
                if exp == 0 {
                    String::new()
                } else {
                    format!("e{exp}")
                }
            }
        };
        format!("{sign}{number}{suffix}")
    }
}

impl fmt::Display for QuantityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// `resource.Quantity` on the wire: the string `String()` gives for a parsed quantity (canonical
/// form, or the input when upstream keeps it). Decodes from a JSON string or number; invalid text
/// is a decoding error, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Quantity(String);

impl Quantity {
    /// Parses `s` (surrounding whitespace is trimmed, as `UnmarshalJSON` does).
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        QuantityValue::parse_with_string(s.trim()).map(|(_, text)| Quantity(text))
    }

    /// True when `s` parses as a quantity (the `quantity` format check).
    pub fn is_valid(s: &str) -> bool {
        QuantityValue::parse(s).is_ok()
    }

    /// The quantity's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric value.
    pub fn value(&self) -> QuantityValue {
        QuantityValue::parse(&self.0).unwrap_or_else(|_| QuantityValue::zero())
    }

    /// A quantity holding `v` in canonical form.
    pub fn from_value(v: &QuantityValue) -> Quantity {
        Quantity(v.canonical())
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity("0".to_string())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Quantity::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).0
    }

    fn dec(mantissa: i64, exp: i32) -> QuantityValue {
        QuantityValue::from_scaled(mantissa, exp, QuantityFormat::DecimalSI)
    }

    #[test]
    fn parse_values_from_upstream_table() {
        use QuantityFormat::*;
        let table: &[(&str, i64, i32, QuantityFormat)] = &[
            ("0", 0, 0, DecimalSI),
            ("0n", 0, 0, DecimalSI),
            ("0Ki", 0, 0, BinarySI),
            ("1", 1, 0, DecimalSI),
            ("1Ki", 1024, 0, BinarySI),
            ("8Ki", 8 * 1024, 0, BinarySI),
            ("7Mi", 7 * 1024 * 1024, 0, BinarySI),
            ("6Gi", 6 * 1024 * 1024 * 1024, 0, BinarySI),
            ("5Ti", 5 * (1 << 40), 0, BinarySI),
            ("4Pi", 4 * (1 << 50), 0, BinarySI),
            ("3Ei", 3 * (1 << 60), 0, BinarySI),
            ("5n", 5, -9, DecimalSI),
            ("4u", 4, -6, DecimalSI),
            ("3m", 3, -3, DecimalSI),
            ("8k", 8, 3, DecimalSI),
            ("50k", 5, 4, DecimalSI),
            ("1E", 1, 18, DecimalSI),
            ("1E-3", 1, -3, DecimalExponent),
            ("1e3", 1, 3, DecimalExponent),
            ("1E18", 1, 18, DecimalExponent),
            ("100.035k", 100035, 0, DecimalSI),
            ("0.001", 1, -3, DecimalSI),
            ("0.0005k", 5, -1, DecimalSI),
            ("0.5e-2", 5, -3, DecimalExponent),
            ("10.035M", 10035, 3, DecimalSI),
            ("1.3E+6", 13, 5, DecimalExponent),
            ("6.987654321G", 6987654321, 0, DecimalSI),
            ("1.01E", 101, 16, DecimalSI),
            ("3.001n", 4, -9, DecimalSI),
            ("1.1E-9", 2, -9, DecimalExponent),
            ("0.0000000001", 1, -9, DecimalSI),
            ("0.9n", 1, -9, DecimalSI),
            ("0.00000012345", 124, -9, DecimalSI),
            ("12E", 12, 18, DecimalSI),
            ("100.035Ki", 10243584, -2, BinarySI),
            ("0.5Mi", 524288, 0, BinarySI),
            ("0.05Gi", 536870912, -1, BinarySI),
            ("0.000000000001Ki", 2, -9, DecimalSI),
            (".001", 1, -3, DecimalSI),
            (".0001k", 100, -3, DecimalSI),
            ("1.", 1, 0, DecimalSI),
            ("1.G", 1, 9, DecimalSI),
        ];
        for &(input, mantissa, exp, format) in table {
            for sign in ["", "-", "+"] {
                let text = format!("{sign}{input}");
                let got = QuantityValue::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                let want = QuantityValue::from_scaled(if sign == "-" { -mantissa } else { mantissa }, exp, format);
                assert_eq!(got.cmp_value(&want), Ordering::Equal, "{text}: got {got}");
                assert_eq!(got.format, format, "{text}");
            }
        }
        let max = QuantityValue::parse("9Ei").expect("9Ei");
        assert_eq!(max.value(), Some(i64::MAX));
        assert_eq!(QuantityValue::parse("9223372036854775807Ki").expect("cap").value(), Some(i64::MAX));
    }

    #[test]
    fn invalid_from_upstream_table() {
        for s in ["", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 ", "1e"] {
            assert!(QuantityValue::parse(s).is_err(), "{s:?} parsed");
        }
        assert_eq!(QuantityValue::parse("aoeu").expect_err("must fail"), QuantityError::FormatWrong);
        assert_eq!(QuantityValue::parse("1i").expect_err("must fail"), QuantityError::Suffix);
        assert!(!Quantity::is_valid("1.1.M"));
    }

    #[test]
    fn canonical_strings() {
        let table = [
            (dec(1024 * 1024 * 1024, 0), QuantityFormat::BinarySI, "1Gi"),
            (dec(300 * 1024 * 1024, 0), QuantityFormat::BinarySI, "300Mi"),
            (dec(6 * 1024, 0), QuantityFormat::BinarySI, "6Ki"),
            (dec(5, 0), QuantityFormat::BinarySI, "5"),
            (dec(500, -3), QuantityFormat::BinarySI, "500m"),
            (dec(1, 9), QuantityFormat::DecimalSI, "1G"),
            (dec(1000, 6), QuantityFormat::DecimalSI, "1G"),
            (dec(1080, -3), QuantityFormat::DecimalSI, "1080m"),
            (dec(108, -2), QuantityFormat::DecimalSI, "1080m"),
            (dec(10800, -4), QuantityFormat::DecimalSI, "1080m"),
            (dec(1, 21), QuantityFormat::DecimalSI, "1e21"),
            (dec(5, 21), QuantityFormat::DecimalSI, "5e21"),
            (dec(1234567, -3), QuantityFormat::BinarySI, "1234567m"),
            (dec(1025, 0), QuantityFormat::BinarySI, "1025"),
            (dec(0, 0), QuantityFormat::DecimalExponent, "0"),
            (dec(80, -3), QuantityFormat::DecimalExponent, "80e-3"),
            (dec(300, 6), QuantityFormat::DecimalExponent, "300e6"),
            (dec(1, -9), QuantityFormat::DecimalExponent, "1e-9"),
            (dec(10800, -10), QuantityFormat::DecimalSI, "1080n"),
            (dec(1080, -6), QuantityFormat::DecimalSI, "1080u"),
        ];
        for (mut v, format, want) in table {
            v.format = format;
            assert_eq!(v.canonical(), want);
            if !v.is_zero() {
                v.negative = true;
                assert_eq!(v.canonical(), format!("-{want}"));
            }
        }
    }

    #[test]
    fn parse_emit() {
        for (input, want) in [
            ("1Ki", "1Ki"),
            ("1024Mi", "1Gi"),
            ("1000M", "1G"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
            ("1.5", "1500m"),
            ("0.5", "500m"),
            ("1.5Gi", "1536Mi"),
            ("1000m", "1"),
            ("100m", "100m"),
            ("1000E", "1e21"),
            ("2048Ki", "2Mi"),
            ("12Ki", "12Ki"),
        ] {
            assert_eq!(canon(input), want, "{input}");
            if want != "0" {
                assert_eq!(canon(&format!("-{input}")), format!("-{want}"), "-{input}");
            }
        }
        // Strings upstream keeps verbatim.
        assert_eq!(canon("+1"), "+1");
        assert_eq!(canon("1E3"), "1E3");
        assert_eq!(canon("010"), "010");
        assert_eq!(canon("0"), "0");
        assert_eq!(canon("-0"), "0");
        assert_eq!(canon("."), "0");
    }

    #[test]
    fn json_forms() {
        for (json, want) in [(r#"" 1""#, "1"), (r#""1 ""#, "1"), ("1", "1"), ("10", "10"), ("-1", "-1"), ("1.5", "1500m"), ("null", "0")] {
            let q: Quantity = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(q.as_str(), want, "{json}");
        }
        assert!(serde_json::from_str::<Quantity>(r#""abc""#).is_err());
        let q = Quantity::parse("250m").expect("250m");
        assert_eq!(serde_json::to_string(&q).expect("ser"), r#""250m""#);
    }

    #[test]
    fn values_and_ordering() {
        let q = QuantityValue::parse("1.5").expect("1.5");
        assert_eq!(q.milli_value(), Some(1500));
        assert_eq!(q.value(), Some(2));
        assert_eq!(QuantityValue::parse("-9.01").expect("n").value(), Some(-10));
        assert_eq!(QuantityValue::parse("10000T").expect("a").cmp_value(&QuantityValue::parse("100Gi").expect("b")), Ordering::Greater);
        assert_eq!(QuantityValue::parse("50m").expect("a").cmp_value(&QuantityValue::parse("100m").expect("b")), Ordering::Less);
        assert!((QuantityValue::parse("1Ki").expect("k").as_f64() - 1024.0).abs() < f64::EPSILON);
    }
}
