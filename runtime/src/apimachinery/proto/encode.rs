//! JSON value → protobuf message, following the schema tree.

use base64::Engine as _;
use chrono::DateTime;
use serde_json::{Map, Value};

use super::wire::{put_bytes_field, put_fixed64_field, put_varint_field};
use super::{embedded_member, kind, put_int_or_string, Kind, Path, ProtoError};
use crate::apimachinery::schema::{ObjectSchema, ProtoEmbedded, Schema};
use crate::apimachinery::{Duration, Quantity};

/// Writes a JSON object as its protobuf message (the `raw` of a body's envelope, see
/// [`super::encode_object`]): the fields present in the JSON, in field-number order; `apiVersion`
/// and `kind` are left to the envelope. `schema` must be an object whose type has a protobuf message.
pub fn encode(schema: &Schema, object: &Value) -> Result<Vec<u8>, ProtoError> {
    let Some(obj) = schema.object() else {
        return Err(ProtoError::Value { path: String::new(), message: "the schema is not an object".into() });
    };
    let Value::Object(map) = object else {
        return Err(ProtoError::Value { path: String::new(), message: format!("expected an object, got {}", json_type(object)) });
    };
    let mut out = Vec::new();
    let mut path = Path::default();
    message(obj, map, &mut out, &mut path)?;
    Ok(out)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

enum Item<'a> {
    Property(&'static Schema, &'a Value),
    Embedded(&'static ProtoEmbedded),
}

fn message(obj: &'static ObjectSchema, map: &Map<String, Value>, out: &mut Vec<u8>, path: &mut Path) -> Result<(), ProtoError> {
    if !obj.protobuf {
        return Err(ProtoError::NoProtobuf { type_name: obj.name.to_string() });
    }
    path.enter()?;
    fields(obj, None, map, out, path)?;
    path.leave();
    Ok(())
}

/// Writes the fields of `obj`'s message (or of its Go-embedded message `embedded`).
fn fields(obj: &'static ObjectSchema, embedded: Option<&ProtoEmbedded>, map: &Map<String, Value>, out: &mut Vec<u8>, path: &mut Path) -> Result<(), ProtoError> {
    let mut items: Vec<(u32, &'static str, Item<'_>)> = Vec::new();
    for (name, schema) in obj.properties {
        let member = match embedded {
            Some(e) => e.properties.contains(name),
            None => !embedded_member(obj, name),
        };
        if !member {
            continue;
        }
        let Some(value) = map.get(*name).filter(|v| !v.is_null()) else { continue };
        if schema.proto.number == 0 {
            // Go's inline TypeMeta is not on the wire: the envelope carries it.
            if *name == "apiVersion" || *name == "kind" {
                continue;
            }
            let mark = path.push(name);
            let e = ProtoError::NoFieldNumber { path: path.text.clone() };
            path.pop(mark);
            return Err(e);
        }
        items.push((schema.proto.number, name, Item::Property(schema, value)));
    }
    if embedded.is_none() {
        // Go-embedded structs are values: Go writes them even when empty.
        items.extend(obj.proto_embedded.iter().map(|e| (e.number, "", Item::Embedded(e))));
    }
    items.sort_by_key(|(n, _, _)| *n);
    for (number, name, item) in items {
        match item {
            Item::Property(schema, value) => {
                let mark = path.push(name);
                property(number, schema, value, out, path)?;
                path.pop(mark);
            }
            Item::Embedded(e) => {
                let mut inner = Vec::new();
                fields(obj, Some(e), map, &mut inner, path)?;
                put_bytes_field(out, number, &inner);
            }
        }
    }
    Ok(())
}

/// Writes field `number`: every element of a repeated field, every entry of a map, or one value.
fn property(number: u32, schema: &'static Schema, value: &Value, out: &mut Vec<u8>, path: &mut Path) -> Result<(), ProtoError> {
    match kind(schema) {
        Kind::Repeated(items) => {
            let Value::Array(list) = value else { return Err(path.error(format!("expected an array, got {}", json_type(value)))) };
            for (i, element) in list.iter().enumerate() {
                if element.is_null() {
                    continue;
                }
                let mark = path.push(&format!("[{i}]"));
                single(number, items, element, out, path)?;
                path.pop(mark);
            }
        }
        Kind::Map(values) => {
            let Value::Object(map) = value else { return Err(path.error(format!("expected an object, got {}", json_type(value)))) };
            // Go writes entries sorted by key.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let mut entry = Vec::new();
                put_bytes_field(&mut entry, 1, key.as_bytes());
                if let Some(v) = map.get(key).filter(|v| !v.is_null()) {
                    let mark = path.push(&format!("[{key}]"));
                    single(2, values, v, &mut entry, path)?;
                    path.pop(mark);
                }
                put_bytes_field(out, number, &entry);
            }
        }
        _ => single(number, schema, value, out, path)?,
    }
    Ok(())
}

/// Writes one value as field `number`.
fn single(number: u32, schema: &'static Schema, value: &Value, out: &mut Vec<u8>, path: &mut Path) -> Result<(), ProtoError> {
    let want = |what: &str| path.error(format!("expected {what}, got {}", json_type(value)));
    match kind(schema) {
        Kind::String => {
            let Value::String(s) = value else { return Err(want("a string")) };
            put_bytes_field(out, number, s.as_bytes());
        }
        Kind::Bytes => {
            let Value::String(s) = value else { return Err(want("a base64 string")) };
            let engine = &base64::engine::general_purpose::STANDARD;
            let b = engine
                .decode(s)
                .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.trim_end_matches('=')))
                .map_err(|e| path.error(format!("illegal base64 data: {e}")))?;
            put_bytes_field(out, number, &b);
        }
        Kind::Int { int32 } => {
            let n = integer(value).ok_or_else(|| want("an integer"))?;
            if int32 && i32::try_from(n).is_err() {
                return Err(path.error(format!("{n} does not fit in int32")));
            }
            put_varint_field(out, number, n as u64);
        }
        Kind::Bool => {
            let Value::Bool(b) = value else { return Err(want("a boolean")) };
            put_varint_field(out, number, u64::from(*b));
        }
        Kind::Double => {
            let f = value.as_f64().ok_or_else(|| want("a number"))?;
            put_fixed64_field(out, number, f.to_bits());
        }
        Kind::Time | Kind::MicroTime => {
            let Value::String(s) = value else { return Err(want("an RFC 3339 time string")) };
            let t = DateTime::parse_from_rfc3339(s).map_err(|e| path.error(format!("time {s:?}: {e}")))?;
            let micro = matches!(kind(schema), Kind::MicroTime);
            let mut m = Vec::with_capacity(16);
            put_varint_field(&mut m, 1, t.timestamp() as u64);
            // Upstream's Time writes seconds only (nanos 0); MicroTime keeps microseconds.
            let nanos = if micro { t.timestamp_subsec_micros() * 1_000 } else { 0 };
            put_varint_field(&mut m, 2, u64::from(nanos));
            put_bytes_field(out, number, &m);
        }
        Kind::Duration => {
            let Value::String(s) = value else { return Err(want("a duration string")) };
            let d = Duration::parse(s).map_err(|e| path.error(e.to_string()))?;
            let mut m = Vec::with_capacity(11);
            put_varint_field(&mut m, 1, d.as_nanos() as u64);
            put_bytes_field(out, number, &m);
        }
        Kind::Quantity => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Err(want("a quantity")),
            };
            let q = Quantity::parse(&text).map_err(|e| path.error(format!("quantity {text:?}: {e}")))?;
            let mut m = Vec::with_capacity(text.len() + 2);
            put_bytes_field(&mut m, 1, q.as_str().as_bytes());
            put_bytes_field(out, number, &m);
        }
        Kind::IntOrString => {
            let mut m = Vec::with_capacity(16);
            match value {
                Value::String(s) => put_int_or_string(&mut m, None, s),
                v => {
                    let n = integer(v).ok_or_else(|| want("an integer or a string"))?;
                    let n = i32::try_from(n).map_err(|_| path.error(format!("{n} does not fit in int32")))?;
                    put_int_or_string(&mut m, Some(i64::from(n)), "");
                }
            }
            put_bytes_field(out, number, &m);
        }
        Kind::Raw => {
            let json = serde_json::to_vec(value).map_err(|e| path.error(e.to_string()))?;
            let mut m = Vec::with_capacity(json.len() + 4);
            put_bytes_field(&mut m, 1, &json);
            put_bytes_field(out, number, &m);
        }
        Kind::Message(obj) => {
            let Value::Object(map) = value else { return Err(want("an object")) };
            let mut m = Vec::new();
            message(obj, map, &mut m, path)?;
            put_bytes_field(out, number, &m);
        }
        // A nested array or map: a wrapper message `{items = 1}`.
        Kind::Repeated(_) | Kind::Map(_) => {
            path.enter()?;
            let mut m = Vec::new();
            property(1, schema, value, &mut m, path)?;
            path.leave();
            put_bytes_field(out, number, &m);
        }
    }
    Ok(())
}

/// An integral JSON number (`3`, `3.0`).
fn integer(v: &Value) -> Option<i64> {
    let Value::Number(n) = v else { return None };
    n.as_i64().or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok())).or_else(|| {
        n.as_f64().filter(|f| f.fract() == 0.0 && *f >= i64::MIN as f64 && *f <= i64::MAX as f64).map(|f| f as i64)
    })
}
