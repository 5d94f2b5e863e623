//! Go-compatible text formatting: `strconv.Quote`, `fmt`'s `%v` for floats and `encoding/json`
//! output, so messages built from values read exactly like kube-apiserver's.

use serde_json::Value;

/// The `time` package's own `quote` (in its `ParseError`s): `"` and `\` escaped, and every byte of
/// a non-ASCII or control character written as `\xNN`.
pub fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c < ' ' || !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `strconv.Quote`: a double-quoted Go string literal, escaping non-printable characters.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0b}' => out.push_str("\\v"),
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space; controls, other spaces, format characters and private-use characters are not.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F
        | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xFFFE | 0xFFFF
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xE0000..=0xE007F)
}

/// Shortest decimal digits of a finite, non-zero `f` and its decimal point position:
/// `f = 0.d1d2d3... * 10^dp`.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    (digits, exp + 1)
}

fn fixed(digits: &str, dp: i32) -> String {
    let nd = digits.len() as i32;
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        let (a, b) = digits.split_at(dp as usize);
        format!("{a}.{b}")
    }
}

fn exponent(digits: &str, dp: i32) -> String {
    let (first, rest) = digits.split_at(1);
    let e = dp - 1;
    let sign = if e < 0 { '-' } else { '+' };
    let mut out = first.to_string();
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push('e');
    out.push(sign);
    out.push_str(&format!("{:02}", e.abs()));
    out
}

/// `fmt.Sprintf("%v", f)` for a float64: the shortest representation, in `%e` form when the decimal
/// exponent is below -4 or at least 6 (Go's rule for shortest `%g`), so `1e6` prints `1e+06`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let (digits, dp) = shortest_digits(f);
    let exp = dp - 1;
    if !(-4..6).contains(&exp) {
        format!("{sign}{}", exponent(&digits, dp))
    } else {
        format!("{sign}{}", fixed(&digits, dp))
    }
}

/// How `encoding/json` writes a float64.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        return "null".into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let abs = f.abs();
    let (digits, dp) = shortest_digits(f);
    if !(1e-6..1e21).contains(&abs) {
        let mut e = exponent(&digits, dp);
        // encoding/json cleans up e-09 to e-9.
        if let Some(pos) = e.find("e-0") {
            e.replace_range(pos..pos + 3, "e-");
        }
        format!("{sign}{e}")
    } else {
        format!("{sign}{}", fixed(&digits, dp))
    }
}

/// How a JSON number decoded by Kubernetes (int64 when integral, float64 otherwise) prints with `%v`.
pub fn format_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        // Beyond int64 Kubernetes decodes a float64.
        format_float(u as f64)
    } else {
        format_float(n.as_f64().unwrap_or(0.0))
    }
}

fn json_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        json_float(u as f64)
    } else {
        json_float(n.as_f64().unwrap_or(0.0))
    }
}

/// A JSON string literal as `encoding/json` writes it (HTML-safe escaping).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `json.Marshal` of a decoded JSON value (`map[string]interface{}`): object keys sorted, Go number
/// and string formatting.
pub fn json(v: &Value) -> String {
    json_with(v, true)
}

/// Go `encoding/json` text of a value: HTML-safe string escaping, integral floats without `.0`,
/// exponents as Go writes them; object keys sorted (unstructured objects) or kept in order (typed
/// structs serialized field by field).
pub fn json_with(v: &Value, sort_keys: bool) -> String {
    let mut out = String::new();
    write_json(v, sort_keys, &mut out);
    out
}

fn write_json(v: &Value, sort: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(n)),
        Value::String(s) => out.push_str(&json_string(s)),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(x, sort, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(k));
                out.push(':');
                if let Some(x) = m.get(k) {
                    write_json(x, sort, out);
                }
            }
            out.push('}');
        }
    }
}

/// `fmt.Sprint` of a scalar decoded JSON value (`<nil>` for null); arrays and objects as JSON.
pub fn sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(n),
        Value::String(s) => s.clone(),
        other => json(other),
    }
}

/// The `Kind.group` form of a group-kind, as `schema.GroupKind.String()` writes it.
pub fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quote_matches_strconv() {
        assert_eq!(quote("UPPER_case"), r#""UPPER_case""#);
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote("\u{1}"), r#""\x01""#);
        assert_eq!(quote("\u{a0}"), r#""\u00a0""#);
        assert_eq!(quote("héllo ✓"), "\"héllo ✓\"");
    }

    #[test]
    fn float_v_matches_fmt() {
        assert_eq!(format_float(0.0), "0");
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(1.5), "1.5");
        assert_eq!(format_float(-0.25), "-0.25");
        assert_eq!(format_float(100000.0), "100000");
        assert_eq!(format_float(1e6), "1e+06");
        assert_eq!(format_float(1234567.0), "1.234567e+06");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(0.00001), "1e-05");
        assert_eq!(format_float(1e21), "1e+21");
        assert_eq!(format_float(1e100), "1e+100");
    }

    #[test]
    fn json_matches_encoding_json() {
        assert_eq!(json(&json!({"b": 1, "a": [true, null, "x<y"]})), r#"{"a":[true,null,"x\u003cy"],"b":1}"#);
        assert_eq!(json(&json!(1.0)), "1");
        assert_eq!(json(&json!(1e21)), "1e+21");
        assert_eq!(json(&json!(1e-7)), "1e-7");
        assert_eq!(json(&json!(0.000001)), "0.000001");
        assert_eq!(json(&json!(123456789.0)), "123456789");
        assert_eq!(json_with(&json!({"b": 1.0, "a": "&"}), false), r#"{"b":1,"a":"\u0026"}"#);
    }

    #[test]
    fn group_kind_string() {
        assert_eq!(group_kind("", "Pod"), "Pod");
        assert_eq!(group_kind("apps", "Deployment"), "Deployment.apps");
    }
}
