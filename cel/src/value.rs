//! JSON to CEL values by declared type (upstream's `UnstructuredToVal`): `number` nodes are doubles
//! even when written `1`, `format: byte` strings are bytes, `date-time` and `duration` strings are
//! timestamps and durations (an unparsable one stays a string, as upstream's lazy conversion errors only
//! when used), objects and maps are CEL maps with string keys.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::Value;
use serde_json::Value as Json;

use crate::decl::{DeclKind, DeclType};

/// Converts `json` as a value of `decl`.
pub(crate) fn to_cel(json: &Json, decl: Option<&DeclType>) -> Value {
    let kind = decl.map(|d| &d.kind);
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (kind, n.as_i64()) {
            (Some(DeclKind::Double), _) | (_, None) => Value::Float(n.as_f64().unwrap_or(0.0)),
            (_, Some(i)) => Value::Int(i),
        },
        Json::String(s) => match kind {
            Some(DeclKind::Bytes) => match base64_decode(s) {
                Some(b) => Value::Bytes(Arc::new(b)),
                None => Value::String(Arc::new(s.clone())),
            },
            Some(DeclKind::Timestamp) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) => Value::Timestamp(t),
                Err(_) => Value::String(Arc::new(s.clone())),
            },
            Some(DeclKind::Duration) => match crate::libs::parse_go_duration(s) {
                Some(d) => Value::Duration(d),
                None => Value::String(Arc::new(s.clone())),
            },
            _ => Value::String(Arc::new(s.clone())),
        },
        Json::Array(items) => {
            let elem = decl.and_then(DeclType::elem);
            Value::List(Arc::new(items.iter().map(|i| to_cel(i, elem)).collect()))
        }
        Json::Object(map) => {
            let mut out: HashMap<Key, Value> = HashMap::with_capacity(map.len());
            for (k, v) in map {
                // Nulls of object fields read as absent (upstream's unstructured objects skip them).
                if v.is_null() && matches!(kind, Some(DeclKind::Object { .. })) {
                    continue;
                }
                // Rules name an object's properties escaped (`__namespace__`), a map's keys as they are.
                let (key, field) = match kind {
                    Some(DeclKind::Object { fields, .. }) => match crate::decl::escape(k) {
                        Some(e) => {
                            let f = fields.get(&e);
                            (e, f)
                        }
                        None => continue,
                    },
                    Some(DeclKind::Map { value }) => (k.clone(), Some(&**value)),
                    _ => (k.clone(), None),
                };
                out.insert(Key::String(Arc::new(key)), to_cel(v, field));
            }
            Value::Map(Map { map: Arc::new(out) })
        }
    }
}

/// Standard base64 with padding (Go's `base64.StdEncoding`), as `format: byte` values are written.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { val(*c)? };
            n = (n << 6) | v;
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("abc"), None);
    }
}
