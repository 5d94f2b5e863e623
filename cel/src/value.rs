//! JSON to CEL values by declared type (upstream's `UnstructuredToVal`): `number` nodes are doubles
//! even when written `1`, `format: byte` strings are bytes, `date-time` and `duration` strings are
//! timestamps and durations (an unparsable one stays a string, as upstream's lazy conversion errors only
//! when used), objects and maps are CEL maps with string keys.

use std::collections::HashMap;

use cel::common::types::{CelBool, CelBytes, CelDouble, CelDuration, CelInt, CelList, CelMap, CelMapKey, CelNull, CelOptional, CelString, CelTimestamp};
use cel::common::value::Val;
use serde_json::Value as Json;

use crate::decl::{DeclKind, DeclType};

/// Converts `json` as a value of `decl`, for the interpreter: the values cel-rust's `Value`s of the
/// same data convert to, built directly. (They own their strings: values borrowing the JSON would
/// give `Activation` a lifetime its drop depends on, and a caller's `evaluate(&Activation::new(..))`
/// at the end of a block would no longer compile.)
pub(crate) fn to_val(json: &Json, decl: Option<&DeclType>) -> Box<dyn Val> {
    let kind = decl.map(|d| &d.kind);
    match json {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => match (kind, n.as_i64()) {
            (Some(DeclKind::Double), _) | (_, None) => Box::new(CelDouble::from(n.as_f64().unwrap_or(0.0))),
            (_, Some(i)) => Box::new(CelInt::from(i)),
        },
        Json::String(s) => match kind {
            Some(DeclKind::Bytes) => match base64_decode(s) {
                Some(b) => Box::new(CelBytes::from(b)),
                None => Box::new(CelString::from(s.clone())),
            },
            Some(DeclKind::Timestamp) => match chrono::DateTime::parse_from_rfc3339(s) {
                Ok(t) => Box::new(CelTimestamp::from(t)),
                Err(_) => Box::new(CelString::from(s.clone())),
            },
            Some(DeclKind::Duration) => match crate::libs::parse_go_duration(s) {
                Some(d) => Box::new(CelDuration::from(d)),
                None => Box::new(CelString::from(s.clone())),
            },
            _ => Box::new(CelString::from(s.clone())),
        },
        Json::Array(items) => {
            let elem = decl.and_then(DeclType::elem);
            Box::new(CelList::from(items.iter().map(|i| to_val(i, elem)).collect::<Vec<_>>()))
        }
        Json::Object(map) => {
            let mut out: HashMap<CelMapKey<'static>, Box<dyn Val>> = HashMap::with_capacity(map.len());
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
                            (CelMapKey::from(e), f)
                        }
                        None => continue,
                    },
                    Some(DeclKind::Map { value }) => (CelMapKey::from(k.clone()), Some(&**value)),
                    _ => (CelMapKey::from(k.clone()), None),
                };
                out.insert(key, to_val(v, field));
            }
            Box::new(CelMap::from(out))
        }
    }
}

/// `optionalOldSelf`'s `oldSelf`: `optional.of(old)`, or `optional.none()` without an old value.
pub(crate) fn optional(old: Option<&(dyn Val + 'static)>) -> Box<dyn Val> {
    Box::new(match old {
        Some(v) => CelOptional::of(v.clone_as_boxed()),
        None => CelOptional::none(),
    })
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
