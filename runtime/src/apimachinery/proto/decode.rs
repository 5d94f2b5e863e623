//! Protobuf message → JSON value, following the schema tree.

use base64::Engine as _;
use chrono::DateTime;
use serde_json::{Map, Number, Value};

use super::wire::{Reader, WireValue};
use super::{kind, Kind, Path, ProtoError, Target};
use crate::apimachinery::schema::{ObjectSchema, ProtoEmbedded, Schema};
use crate::apimachinery::{Duration, MicroTime, Quantity, Time};

/// Reads an object's message (the `raw` of a body's envelope) as the JSON object upstream would
/// serve, without `apiVersion`/`kind` (see [`super::decode_object`]). `schema` must be an object
/// whose type has a protobuf message.
pub fn decode(schema: &Schema, raw: &[u8]) -> Result<Value, ProtoError> {
    let Some(obj) = schema.object() else {
        return Err(ProtoError::Value { path: String::new(), message: "the schema is not an object".into() });
    };
    let mut path = Path::default();
    message(obj, raw, &mut path).map(Value::Object)
}

/// Reads a list message `{1 ListMeta, 2 repeated item}` as `{"metadata": .., "items": [..]}`.
pub fn decode_list(item_schema: &Schema, raw: &[u8]) -> Result<Value, ProtoError> {
    let Some(obj) = item_schema.object() else {
        return Err(ProtoError::Value { path: String::new(), message: "the item schema is not an object".into() });
    };
    let mut path = Path::default();
    let mut metadata = Map::new();
    let mut items = Vec::new();
    let mut r = Reader::new(raw);
    while let Some((number, v)) = r.next_field()? {
        match (number, v) {
            (1, WireValue::Bytes(b)) => {
                let mark = path.push("metadata");
                metadata = message(&crate::apimachinery::schema::wellknown::LIST_META_OBJECT, b, &mut path)?;
                path.pop(mark);
            }
            (2, WireValue::Bytes(b)) => {
                let mark = path.push(&format!("items[{}]", items.len()));
                items.push(Value::Object(message(obj, b, &mut path)?));
                path.pop(mark);
            }
            (1 | 2, v) => return Err(path.wire(v, "length-delimited bytes")),
            _ => {}
        }
    }
    let mut out = Map::new();
    out.insert("metadata".into(), Value::Object(metadata));
    out.insert("items".into(), Value::Array(items));
    Ok(Value::Object(out))
}

fn message(obj: &'static ObjectSchema, raw: &[u8], path: &mut Path) -> Result<Map<String, Value>, ProtoError> {
    if !obj.protobuf {
        return Err(ProtoError::NoProtobuf { type_name: obj.name.to_string() });
    }
    path.enter()?;
    let mut out = Map::new();
    fields(obj, None, raw, &mut out, path)?;
    path.leave();
    Ok(out)
}

/// Reads the fields of `obj`'s message (or of its Go-embedded message `embedded`) into `out`.
fn fields(obj: &'static ObjectSchema, embedded: Option<&ProtoEmbedded>, raw: &[u8], out: &mut Map<String, Value>, path: &mut Path) -> Result<(), ProtoError> {
    let mut r = Reader::new(raw);
    while let Some((number, v)) = r.next_field()? {
        match super::target(obj, embedded, number) {
            Some(Target::Property(name, schema)) => {
                let mark = path.push(name);
                property(name, schema, v, out, path)?;
                path.pop(mark);
            }
            Some(Target::Embedded(e)) => match v {
                WireValue::Bytes(b) => fields(obj, Some(e), b, out, path)?,
                v => return Err(path.wire(v, "an embedded message")),
            },
            // Unknown fields are skipped, as upstream's generated code does.
            None => {}
        }
    }
    Ok(())
}

/// One occurrence of field `name` (schema `schema`): appended to a repeated field, added to a map,
/// or set.
fn property(name: &str, schema: &'static Schema, v: WireValue<'_>, out: &mut Map<String, Value>, path: &mut Path) -> Result<(), ProtoError> {
    match kind(schema) {
        Kind::Repeated(items) => {
            let list = out.entry(name.to_string()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                repeated(items, v, list, path)?;
            }
        }
        Kind::Map(values) => {
            let WireValue::Bytes(entry) = v else { return Err(path.wire(v, "a map entry")) };
            let (key, value) = map_entry(values, entry, path)?;
            let map = out.entry(name.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = map {
                map.insert(key, value);
            }
        }
        _ => {
            let Some(value) = single(schema, v, path)? else { return Ok(()) };
            match (out.get_mut(name), value) {
                // A message field seen twice is merged, as protobuf does.
                (Some(Value::Object(prev)), Value::Object(next)) => prev.extend(next),
                (_, value) => {
                    out.insert(name.to_string(), value);
                }
            }
        }
    }
    Ok(())
}

/// One occurrence of a repeated field: one element, or several packed scalars.
fn repeated(items: &'static Schema, v: WireValue<'_>, list: &mut Vec<Value>, path: &mut Path) -> Result<(), ProtoError> {
    let packable = matches!(kind(items), Kind::Int { .. } | Kind::Bool | Kind::Double);
    if let (true, WireValue::Bytes(b)) = (packable, v) {
        let mut r = Reader::new(b);
        while !r.is_empty() {
            let element = match kind(items) {
                Kind::Double => WireValue::Fixed64(r.fixed64()?),
                _ => WireValue::Varint(r.varint()?),
            };
            list.push(element_value(items, element, list.len(), path)?);
        }
        return Ok(());
    }
    let i = list.len();
    list.push(element_value(items, v, i, path)?);
    Ok(())
}

/// An array element or map value (never omitted: Go keeps zero elements).
fn element_value(items: &'static Schema, v: WireValue<'_>, index: usize, path: &mut Path) -> Result<Value, ProtoError> {
    let mark = path.push(&format!("[{index}]"));
    let value = match kind(items) {
        Kind::Repeated(_) | Kind::Map(_) => wrapper(items, v, path)?,
        _ => single_keep_zero(items, v, path)?,
    };
    path.pop(mark);
    Ok(value)
}

/// A nested array or map inside a wrapper message `{items = 1}`.
fn wrapper(schema: &'static Schema, v: WireValue<'_>, path: &mut Path) -> Result<Value, ProtoError> {
    let WireValue::Bytes(b) = v else { return Err(path.wire(v, "a wrapper message")) };
    path.enter()?;
    let mut out = Map::new();
    let mut r = Reader::new(b);
    while let Some((number, v)) = r.next_field()? {
        if number == 1 {
            property("items", schema, v, &mut out, path)?;
        }
    }
    path.leave();
    Ok(out.remove("items").unwrap_or_else(|| match kind(schema) {
        Kind::Map(_) => Value::Object(Map::new()),
        _ => Value::Array(Vec::new()),
    }))
}

fn map_entry(values: &'static Schema, entry: &[u8], path: &mut Path) -> Result<(String, Value), ProtoError> {
    let mut key = String::new();
    let mut value = None;
    let mut r = Reader::new(entry);
    while let Some((number, v)) = r.next_field()? {
        match (number, v) {
            (1, WireValue::Bytes(b)) => key = String::from_utf8_lossy(b).into_owned(),
            (1, v) => return Err(path.wire(v, "a string map key")),
            (2, v) => value = Some(v),
            _ => {}
        }
    }
    let mark = path.push(&format!("[{key}]"));
    let value = match (value, kind(values)) {
        (Some(v), Kind::Repeated(_) | Kind::Map(_)) => wrapper(values, v, path)?,
        (Some(v), _) => single_keep_zero(values, v, path)?,
        // An entry without a value holds the zero value.
        (None, k) => zero(k),
    };
    path.pop(mark);
    Ok((key, value))
}

/// Go's zero value of a map value that was not written.
fn zero(k: Kind) -> Value {
    match k {
        Kind::String | Kind::Bytes => Value::String(String::new()),
        Kind::Int { .. } => Value::from(0),
        Kind::Double => Value::from(0.0),
        Kind::Bool => Value::Bool(false),
        Kind::Quantity => Value::String("0".into()),
        Kind::IntOrString => Value::from(0),
        Kind::Message(_) | Kind::Map(_) => Value::Object(Map::new()),
        Kind::Repeated(_) => Value::Array(Vec::new()),
        Kind::Time | Kind::MicroTime | Kind::Duration | Kind::Raw => Value::Null,
    }
}

fn single_keep_zero(schema: &'static Schema, v: WireValue<'_>, path: &mut Path) -> Result<Value, ProtoError> {
    Ok(value_of(schema, v, path)?.0)
}

/// A singular field's value; `None` when it is the zero of a Go value field upstream's JSON omits.
fn single(schema: &'static Schema, v: WireValue<'_>, path: &mut Path) -> Result<Option<Value>, ProtoError> {
    let (value, is_zero) = value_of(schema, v, path)?;
    Ok((!(is_zero && schema.proto.omit_zero)).then_some(value))
}

/// The JSON value of one wire value, and whether it is Go's zero value (`""`, 0, false, the zero
/// time, an empty message).
fn value_of<'a>(schema: &'static Schema, v: WireValue<'a>, path: &mut Path) -> Result<(Value, bool), ProtoError> {
    fn bytes<'a>(v: WireValue<'a>, path: &Path) -> Result<&'a [u8], ProtoError> {
        match v {
            WireValue::Bytes(b) => Ok(b),
            v => Err(path.wire(v, "length-delimited bytes")),
        }
    }
    Ok(match kind(schema) {
        Kind::String => {
            let s = String::from_utf8_lossy(bytes(v, path)?).into_owned();
            let zero = s.is_empty();
            (Value::String(s), zero)
        }
        Kind::Bytes => (Value::String(base64::engine::general_purpose::STANDARD.encode(bytes(v, path)?)), false),
        Kind::Int { int32 } => {
            let WireValue::Varint(u) = v else { return Err(path.wire(v, "a varint")) };
            let n = if int32 { i64::from(u as i32) } else { u as i64 };
            (Value::from(n), n == 0)
        }
        Kind::Bool => {
            let WireValue::Varint(u) = v else { return Err(path.wire(v, "a varint")) };
            (Value::Bool(u != 0), u == 0)
        }
        Kind::Double => {
            let f = match v {
                WireValue::Fixed64(u) => f64::from_bits(u),
                WireValue::Fixed32(u) => f64::from(f32::from_bits(u)),
                v => return Err(path.wire(v, "a 64-bit double")),
            };
            let n = Number::from_f64(f).ok_or_else(|| path.error(format!("{f} is not a JSON number")))?;
            (Value::Number(n), f == 0.0)
        }
        Kind::Time | Kind::MicroTime => {
            let t = timestamp(bytes(v, path)?, matches!(kind(schema), Kind::MicroTime), path)?;
            let zero = t.is_null();
            (t, zero)
        }
        Kind::Duration => {
            let mut nanos = 0i64;
            let mut r = Reader::new(bytes(v, path)?);
            while let Some((n, x)) = r.next_field()? {
                match (n, x) {
                    (1, WireValue::Varint(u)) => nanos = u as i64,
                    (1, x) => return Err(path.wire(x, "a varint")),
                    _ => {}
                }
            }
            (Value::String(Duration::from_nanos(nanos).to_string()), false)
        }
        Kind::Quantity => {
            let mut text = None;
            let mut r = Reader::new(bytes(v, path)?);
            while let Some((n, x)) = r.next_field()? {
                match (n, x) {
                    (1, WireValue::Bytes(b)) => text = Some(String::from_utf8_lossy(b).into_owned()),
                    (1, x) => return Err(path.wire(x, "a string")),
                    _ => {}
                }
            }
            // An empty message is the zero Quantity, "0" in JSON.
            let q = match text {
                Some(t) => Quantity::parse(&t).map_err(|e| path.error(format!("quantity {t:?}: {e}")))?,
                None => Quantity::default(),
            };
            (Value::String(q.to_string()), false)
        }
        Kind::IntOrString => {
            let (mut ty, mut int, mut string) = (0u64, 0i64, String::new());
            let mut r = Reader::new(bytes(v, path)?);
            while let Some((n, x)) = r.next_field()? {
                match (n, x) {
                    (1, WireValue::Varint(u)) => ty = u,
                    (2, WireValue::Varint(u)) => int = i64::from(u as i32),
                    (3, WireValue::Bytes(b)) => string = String::from_utf8_lossy(b).into_owned(),
                    (1 | 2, x) => return Err(path.wire(x, "a varint")),
                    (3, x) => return Err(path.wire(x, "a string")),
                    _ => {}
                }
            }
            (if ty == 1 { Value::String(string) } else { Value::from(int) }, false)
        }
        Kind::Raw => {
            let mut raw: &[u8] = &[];
            let mut r = Reader::new(bytes(v, path)?);
            while let Some((n, x)) = r.next_field()? {
                match (n, x) {
                    (1, WireValue::Bytes(b)) => raw = b,
                    (1, x) => return Err(path.wire(x, "bytes")),
                    _ => {}
                }
            }
            if raw.is_empty() {
                (Value::Null, false)
            } else if raw.starts_with(&super::MAGIC) {
                return Err(path.error("an embedded object in protobuf (not JSON) is not supported here"));
            } else {
                (crate::apimachinery::json::from_slice(raw).map_err(|e| path.error(format!("embedded JSON: {e}")))?, false)
            }
        }
        Kind::Message(obj) => {
            let m = message(obj, bytes(v, path)?, path)?;
            let zero = m.is_empty();
            (Value::Object(m), zero)
        }
        Kind::Repeated(_) | Kind::Map(_) => (wrapper(schema, v, path)?, false),
    })
}

/// `{1 seconds, 2 nanos}` → RFC 3339 (Time: seconds, as upstream's Unmarshal drops nanos;
/// MicroTime: microseconds); an empty message is Go's zero time, `null` in JSON.
fn timestamp(b: &[u8], micro: bool, path: &Path) -> Result<Value, ProtoError> {
    if b.is_empty() {
        return Ok(Value::Null);
    }
    let (mut seconds, mut nanos) = (0i64, 0i64);
    let mut r = Reader::new(b);
    while let Some((n, x)) = r.next_field()? {
        match (n, x) {
            (1, WireValue::Varint(u)) => seconds = u as i64,
            (2, WireValue::Varint(u)) => nanos = i64::from(u as i32),
            (1 | 2, x) => return Err(path.wire(x, "a varint")),
            _ => {}
        }
    }
    let nanos = if micro { nanos } else { 0 };
    let nanos = u32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000).ok_or_else(|| path.error(format!("nanos {nanos} out of range")))?;
    // Only years 0 to 9999 have an RFC 3339 text that reads back (Go's time.Parse refuses others).
    let t = DateTime::from_timestamp(seconds, nanos)
        .filter(|t| (0..=9999).contains(&chrono::Datelike::year(t)))
        .ok_or_else(|| path.error(format!("seconds {seconds} out of range")))?;
    Ok(if micro {
        let t = MicroTime(t);
        if t.is_zero() { Value::Null } else { Value::String(t.to_rfc3339()) }
    } else {
        let t = Time(t);
        if t.is_zero() { Value::Null } else { Value::String(t.to_rfc3339()) }
    })
}
