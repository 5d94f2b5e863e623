//! JSON values under upstream's rules: the total order and the equality structured-merge-diff uses
//! (numbers compare numerically, so `80` and `80.0` are one key), and Go's renderings of values
//! (`encoding/json` text with HTML escaping and sorted keys, `%q`, `%v`, and smd's `value.ToString`).

use std::cmp::Ordering;
use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Rank of a value's type in smd's total order: numbers, strings, booleans, lists, maps, null.
fn rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

fn integer(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

fn compare_numbers(a: &Number, b: &Number) -> Ordering {
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

/// smd's `value.Compare`: a total order over values, even of different types.
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = compare(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((kx, vx), (ky, vy)) in xs.iter().zip(&ys) {
                let c = kx.cmp(ky).then_with(|| compare(vx, vy));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// smd's `value.Equals`: deep equality where numbers compare numerically and map order is irrelevant.
pub(crate) fn equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equals(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equals(v, w))),
        _ => a == b,
    }
}

/// Whether Go's `unicode.IsPrint` holds (approximately: letters, marks, numbers, punctuation, symbols
/// and the ASCII space; no other spaces, controls or format characters).
pub(crate) fn is_go_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'))
}

/// Go's `%q` of a string (`strconv.Quote`).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_go_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// Appends `s` as a JSON string the way Go's `encoding/json` writes it (HTML-safe escaping).
pub(crate) fn write_go_string(s: &str, out: &mut String) {
    out.push_str(&crate::apimachinery::go::json_string(s));
}

/// A float as `encoding/json` writes it: plain decimals, exponent form below 1e-6 and from 1e21.
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        return match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        };
    }
    if f.fract() == 0.0 && abs < 1e21 {
        return format!("{}", f as i128);
    }
    format!("{f}")
}

fn write_go_number(n: &Number, out: &mut String) {
    match integer(n) {
        Some(i) => {
            let _ = write!(out, "{i}");
        }
        None => out.push_str(&go_json_float(n.as_f64().unwrap_or(0.0))),
    }
}

/// Appends `v` as Go's `encoding/json` would marshal the equivalent `interface{}`: compact, object keys
/// sorted, HTML characters escaped.
pub(crate) fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_go_number(n, out),
        Value::String(s) => write_go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                write_go_json(x, out);
            }
            out.push('}');
        }
    }
}

/// [`write_go_json`] into a new string.
pub(crate) fn go_json(v: &Value) -> String {
    let mut out = String::new();
    write_go_json(v, &mut out);
    out
}

/// A float as Go's `%v` prints it (`%g` with the shortest digits: exponent form below 1e-4 and from 1e6).
fn go_float_v(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => return sci,
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    if f.fract() == 0.0 {
        return format!("{}", f as i64);
    }
    format!("{f}")
}

fn number_v(n: &Number) -> String {
    match integer(n) {
        Some(i) => i.to_string(),
        None => go_float_v(n.as_f64().unwrap_or(0.0)),
    }
}

/// smd's `value.ToString`, used in field paths (`[name="nginx"]`, `[=80]`).
pub(crate) fn to_display(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Number(n) => number_v(n),
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(to_display).collect::<Vec<_>>().join(",")),
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            entries.into_iter().map(|(k, x)| format!("{k}={}", to_display(x))).collect()
        }
    }
}

/// Go's `%v` of the decoded `interface{}` behind a value (`map[a:b]`, `[1 2]`, `<nil>`).
pub(crate) fn go_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Number(n) => number_v(n),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => format!("[{}]", items.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries.into_iter().map(|(k, x)| format!("{k}:{}", go_v(x))).collect();
            format!("map[{}]", inner.join(" "))
        }
    }
}

/// Go's `%T` of the decoded `interface{}` behind a value.
pub(crate) fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Number(n) if integer(n).is_some() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go's `%#v` of the decoded `interface{}` behind a value.
pub(crate) fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Number(n) => number_v(n),
        Value::String(s) => go_quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            format!("[]interface {{}}{{{}}}", items.iter().map(go_sharp_v).collect::<Vec<_>>().join(", "))
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries.into_iter().map(|(k, x)| format!("{}:{}", go_quote(k), go_sharp_v(x))).collect();
            format!("map[string]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_matches_smd() {
        assert_eq!(compare(&json!(80), &json!(80.0)), Ordering::Equal);
        assert!(equals(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert_eq!(compare(&json!(1), &json!("a")), Ordering::Less);
        assert_eq!(compare(&json!("a"), &json!(true)), Ordering::Less);
        assert_eq!(compare(&json!(true), &json!([])), Ordering::Less);
        assert_eq!(compare(&json!([]), &json!({})), Ordering::Less);
        assert_eq!(compare(&json!({}), &json!(null)), Ordering::Less);
        assert_eq!(compare(&json!([1, 2]), &json!([1, 3])), Ordering::Less);
        assert_eq!(compare(&json!({"a": 1}), &json!({"a": 1, "b": 0})), Ordering::Less);
        assert!(!equals(&json!({"a": 1}), &json!({"b": 1})));
    }

    #[test]
    fn go_renderings() {
        assert_eq!(go_json(&json!({"b": "<x>", "a": [1, 2.5, null, true]})), r#"{"a":[1,2.5,null,true],"b":"\u003cx\u003e"}"#);
        assert_eq!(go_json(&json!(80.0)), "80");
        assert_eq!(go_json(&json!(1e21)), "1e+21");
        assert_eq!(go_json(&json!(1.5e-7)), "1.5e-7");
        assert_eq!(go_quote("a\"b\n\u{1}"), r#""a\"b\n\x01""#);
        assert_eq!(to_display(&json!("nginx")), r#""nginx""#);
        assert_eq!(to_display(&json!(80)), "80");
        assert_eq!(to_display(&json!(1e6)), "1e+06");
        assert_eq!(to_display(&json!(0.5)), "0.5");
        assert_eq!(go_v(&json!({"b": [1, "x"], "a": null})), "map[a:<nil> b:[1 x]]");
        assert_eq!(go_type_name(&json!("x")), "string");
        assert_eq!(go_sharp_v(&json!(1)), "1");
    }
}
