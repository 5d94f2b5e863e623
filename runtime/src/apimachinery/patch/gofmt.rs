//! Go `fmt` renderings of decoded JSON values (`map[string]interface{}` trees with int64/float64
//! numbers, as kube-apiserver decodes patches), for error messages that embed values.

use serde_json::Value;

use crate::apimachinery::go;

/// Go's dynamic type of a decoded JSON value, for the type comparisons strategicpatch makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GoType {
    Nil,
    Bool,
    Int64,
    Float64,
    String,
    Slice,
    Map,
}

pub(super) fn go_type(v: &Value) -> GoType {
    match v {
        Value::Null => GoType::Nil,
        Value::Bool(_) => GoType::Bool,
        Value::Number(n) if n.is_i64() => GoType::Int64,
        Value::Number(_) => GoType::Float64,
        Value::String(_) => GoType::String,
        Value::Array(_) => GoType::Slice,
        Value::Object(_) => GoType::Map,
    }
}

/// `reflect.TypeOf(v)` printed with `%s` (`%!s(<nil>)` for nil).
pub(super) fn type_name(v: &Value) -> &'static str {
    match go_type(v) {
        GoType::Nil => "%!s(<nil>)",
        GoType::Bool => "bool",
        GoType::Int64 => "int64",
        GoType::Float64 => "float64",
        GoType::String => "string",
        GoType::Slice => "[]interface {}",
        GoType::Map => "map[string]interface {}",
    }
}

/// The Go type string of an empty `map[string]interface{}`.
pub(super) const MAP_TYPE: &str = "map[string]interface {}";
/// The Go type string of an empty `[]interface{}`.
pub(super) const SLICE_TYPE: &str = "[]interface {}";

/// `fmt.Sprintf("%v", v)`: `map[k:v ...]` with sorted keys, `[a b]`, `<nil>`.
pub(super) fn v(value: &Value) -> String {
    let mut out = String::new();
    write(value, false, &mut out);
    out
}

/// `fmt.Sprintf("%s", v)`: strings as is, other scalars as `%!s(type=value)`.
pub(super) fn s(value: &Value) -> String {
    let mut out = String::new();
    write(value, true, &mut out);
    out
}

fn write(value: &Value, s_verb: bool, out: &mut String) {
    match value {
        Value::Null => out.push_str(if s_verb { "%!s(<nil>)" } else { "<nil>" }),
        Value::String(x) => out.push_str(x),
        Value::Bool(b) if s_verb => out.push_str(&format!("%!s(bool={b})")),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if s_verb => out.push_str(&format!("%!s({}={})", type_name(value), go::format_number(n))),
        Value::Number(n) => out.push_str(&go::format_number(n)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write(item, s_verb, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                if let Some(x) = map.get(k) {
                    write(x, s_verb, out);
                }
            }
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(v(&json!({"b": [1, "x", null], "a": {"c": 1.5}})), "map[a:map[c:1.5] b:[1 x <nil>]]");
        assert_eq!(v(&json!(1e21)), "1e+21");
        assert_eq!(s(&json!("delete")), "delete");
        assert_eq!(s(&json!(1)), "%!s(int64=1)");
        assert_eq!(s(&json!(true)), "%!s(bool=true)");
        assert_eq!(s(&json!(null)), "%!s(<nil>)");
        assert_eq!(type_name(&json!(2.5)), "float64");
        assert_eq!(go_type(&json!(2)), GoType::Int64);
    }
}
