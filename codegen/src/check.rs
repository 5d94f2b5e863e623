//! Shape check of a schema file against the format's own JSON Schema (from schemars): unknown keys, wrong
//! value types and missing keys are all reported at their line:column before typed deserialization.

use serde_json::Value;

use crate::diag::{did_you_mean, Diagnostics};
use crate::source::SourceDoc;

/// Checks `doc` against the JSON Schema `root` (a schemars document with `$defs`). Returns a copy of
/// the document with every offending key or value removed, so later stages can still run and report
/// their own problems (all errors are reported, not just the first stage's).
pub fn check_shape(doc: &SourceDoc, root: &Value, diags: &mut Diagnostics) -> Value {
    let mut path = Vec::new();
    let before = diags.0.len();
    let mut bad = Vec::new();
    walk(doc, root, root, &doc.value, &mut path, diags, &mut bad);
    let mut cleaned = doc.value.clone();
    if diags.0.len() > before {
        // Object keys are removed; list items are replaced by null rather than removed, so the
        // indices (and therefore the positions later stages report) of their siblings never shift.
        for p in bad {
            remove(&mut cleaned, &p);
        }
    }
    cleaned
}

fn remove(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else { return };
    let mut cur = v;
    for seg in parent {
        cur = match cur {
            Value::Object(m) => match m.get_mut(seg) {
                Some(x) => x,
                None => return,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    match cur {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => {
            if let Some(item) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}


fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..16 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
                match target {
                    Some(t) => s = t,
                    None => return s,
                }
            }
            None => return s,
        }
    }
    s
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(allowed: &Value, actual: &str) -> bool {
    let one = |t: &str| t == actual || (t == "number" && actual == "integer");
    match allowed {
        Value::String(t) => one(t),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

/// Returns whether `value` passes (used by oneOf/anyOf trials without recording).
fn passes(root: &Value, schema: &Value, value: &Value) -> bool {
    let mut d = Diagnostics::default();
    let doc = SourceDoc::detached(value.clone());
    let mut path = Vec::new();
    walk(&doc, root, schema, value, &mut path, &mut d, &mut Vec::new());
    d.is_empty()
}

fn walk(doc: &SourceDoc, root: &Value, schema: &Value, value: &Value, path: &mut Vec<String>, diags: &mut Diagnostics, bad: &mut Vec<Vec<String>>) {
    let schema = resolve(root, schema);
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
        return;
    }
    let here_s = path.join(".");
    let here = || here_s.clone();
    if let Some(t) = schema.get("type") {
        let actual = json_type(value);
        if !type_ok(t, actual) {
            let want = match t {
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).filter(|s| *s != "null").collect::<Vec<_>>().join(" or "),
                other => other.as_str().unwrap_or("?").to_string(),
            };
            diags.push(
                doc.locate(path),
                format!("`{}` must be {} {}, found {}", here(), article(&want), want, actual),
                type_help(&want),
            );
            bad.push(path.clone());
            return;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            if !alts.iter().any(|a| passes(root, a, value)) {
                let consts: Vec<String> = alts.iter().filter_map(|a| resolve(root, a).get("const")).map(|c| c.to_string()).collect();
                let enums: Vec<String> = alts
                    .iter()
                    .filter_map(|a| resolve(root, a).get("enum").and_then(Value::as_array))
                    .flatten()
                    .map(|c| c.to_string())
                    .chain(consts)
                    .collect();
                if enums.is_empty() {
                    // Report the errors of the closest alternative (the one whose type matches).
                    let matching = alts.iter().find(|a| {
                        let a = resolve(root, a);
                        a.get("type").is_none_or(|t| type_ok(t, json_type(value)))
                    });
                    match matching {
                        Some(a) => walk(doc, root, a, value, path, diags, bad),
                        None => {
                            diags.push(doc.locate(path), format!("`{}` has the wrong shape", here()), None);
                            bad.push(path.clone());
                        }
                    }
                } else {
                    diags.push(
                        doc.locate(path),
                        format!("`{}` is {}, which is not allowed", here(), value),
                        Some(format!("write one of: {}", enums.join(", "))),
                    );
                    bad.push(path.clone());
                }
            }
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(value) {
            let list: Vec<String> = e.iter().map(|v| v.to_string()).collect();
            let sugg = value.as_str().and_then(|s| did_you_mean(s, e.iter().filter_map(Value::as_str)));
            diags.push(
                doc.locate(path),
                format!("`{}` is {}, which is not allowed", here(), value),
                Some(match sugg {
                    Some(s) => format!("did you mean {s:?}? (allowed: {})", list.join(", ")),
                    None => format!("write one of: {}", list.join(", ")),
                }),
            );
            bad.push(path.clone());
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            diags.push(doc.locate(path), format!("`{}` must be {c}", here()), Some(format!("write {c}")));
            bad.push(path.clone());
        }
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        let place = if path.is_empty() { "the document".to_string() } else { format!("`{}`", here()) };
                        diags.push(doc.locate(path), format!("{place} is missing the required key `{r}`"), Some(format!("add `{r}:`")));
                    }
                }
            }
            for (k, v) in map {
                path.push(k.clone());
                if let Some(ps) = props.and_then(|p| p.get(k)) {
                    walk(doc, root, ps, v, path, diags, bad);
                } else {
                    match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => {
                            let known: Vec<&str> = props.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                            let help = match did_you_mean(k, known.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("known keys here: {}", known.join(", ")),
                            };
                            diags.push(doc.locate_key(path), format!("unknown key `{k}` in `{}`", display_parent(path)), Some(help));
                            bad.push(path.clone());
                        }
                        Some(ap @ Value::Object(_)) => walk(doc, root, ap, v, path, diags, bad),
                        _ => {}
                    }
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            if let Some(is) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(doc, root, is, v, path, diags, bad);
                    path.pop();
                }
            }
        }
        Value::Number(n) => {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                if n.as_f64().is_some_and(|x| x < min) {
                    diags.push(doc.locate(path), format!("`{}` must be at least {min}", here()), None);
                    bad.push(path.clone());
                }
            }
        }
        _ => {}
    }
}

fn display_parent(path: &[String]) -> String {
    if path.len() <= 1 {
        "the document".to_string()
    } else {
        path[..path.len() - 1].join(".")
    }
}

fn article(t: &str) -> &'static str {
    if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn type_help(want: &str) -> Option<String> {
    match want {
        "string" => Some("quote the value, e.g. \"...\"".into()),
        "object" => Some("write a mapping (key: value lines, or {})".into()),
        "array" => Some("write a list (- item lines, or [])".into()),
        "boolean" => Some("write true or false".into()),
        "integer" => Some("write a whole number".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::load_yaml;

    /// Bad list items are nulled in place (never removed), so siblings keep their index and position;
    /// unknown keys inside an item only lose the key.
    #[test]
    fn cleaning_keeps_list_indices() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"xs": {"type": "array", "items": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}}}}},
        });
        let mut text = String::from("xs:\n");
        for i in 0..12 {
            match i {
                2 | 10 => text.push_str("- 7\n"),
                5 => text.push_str("- {a: 1, b: 2}\n"),
                _ => text.push_str(&format!("- {{a: {i}}}\n")),
            }
        }
        let doc = load_yaml(std::path::Path::new("t.yaml"), &text).expect("yaml").remove(0);
        let mut diags = Diagnostics::default();
        let cleaned = check_shape(&doc, &schema, &mut diags);
        assert_eq!(diags.0.len(), 3, "{diags}");
        let xs = cleaned["xs"].as_array().expect("array");
        assert_eq!(xs.len(), 12);
        assert!(xs[2].is_null() && xs[10].is_null());
        assert_eq!(xs[5], serde_json::json!({"a": 1}));
        assert_eq!(xs[11], serde_json::json!({"a": 11}));
        assert_eq!(doc.locate(&["xs".to_string(), "10".to_string()]).pos.line, 12);
    }
}
