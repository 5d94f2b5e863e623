//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) ↔ JSON, driven by the static schema
//! trees: the field numbers, wire types and Go-embedded groupings codegen writes into them
//! ([`Schema::proto`], [`ObjectSchema::protobuf`], [`ObjectSchema::proto_embedded`]).
//!
//! Upstream's wire format (k8s.io/apimachinery `runtime/serializer/protobuf`):
//! - A body is the magic `k8s\0` and a `runtime.Unknown` {1 TypeMeta {1 apiVersion, 2 kind}, 2 raw,
//!   3 contentEncoding, 4 contentType}; `raw` is the object's message ([`decode_envelope`],
//!   [`encode_envelope`], [`decode_object`], [`encode_object`]).
//! - Objects are proto2 messages of k8s.io/api `generated.proto` ([`decode`], [`encode`]); `apiVersion`
//!   and `kind` travel in the envelope only. Lists are `{1 ListMeta, 2 repeated item}` ([`encode_list`]).
//! - Maps are repeated entries `{1 key, 2 value}`, sorted by key; repeated scalars are not packed
//!   (packed ones are read too); `metav1.Time` is `{1 seconds, 2 nanos}`, MicroTime likewise with
//!   microseconds, Quantity `{1 string}`, IntOrString `{1 type, 2 intVal, 3 strVal}`, RawExtension and
//!   FieldsV1 `{1 raw}` (JSON text), Duration `{1 nanoseconds}`; `format: byte` strings are bytes.
//! - A watch stream over protobuf is a sequence of frames, each a 4-byte big-endian length and a
//!   bare `metav1.WatchEvent` message {1 type, 2 RawExtension {1 raw}} (the stream serializer writes
//!   no envelope), whose raw holds the object as a full body (magic + Unknown) ([`watch_frame`]).
//!
//! Decoding returns the JSON upstream would serve: fields in wire order, Go-embedded structs flattened,
//! empty messages kept (Go value structs: `resources: {}`), an empty Time as `null`, and zeros of
//! Go value fields that upstream's JSON omits (`omit_zero`) left out. Encoding writes the fields
//! present in the JSON (nulls skipped) in field-number order, as Go does, and Go-embedded messages
//! always. Custom resources have no protobuf form ([`ProtoError::NoProtobuf`]): upstream serves them
//! as JSON only.

mod decode;
mod encode;
mod wire;

use serde_json::{Map, Value};

use super::schema::{ObjectSchema, Schema, WireKind as Kind};
use wire::{put_bytes_field, put_varint_field, Reader, WireValue};

pub use decode::{decode, decode_list};
pub use encode::encode;

/// The media type of Kubernetes protobuf.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The 4-byte prefix of every protobuf body (`k8s\0`).
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// Deepest nesting of messages the codec follows (Kubernetes objects nest about 15 deep).
const MAX_DEPTH: usize = 100;

/// Why a protobuf body could not be read or a value could not be written. Every variant but
/// [`ProtoError::NoProtobuf`] is the client's malformed input (HTTP 400 BadRequest); `NoProtobuf`
/// means the kind has no protobuf form (415 for a request body, 406 for an `Accept`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The body does not start with `k8s\0`.
    #[error("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")]
    NotProtobuf,
    /// The bytes are not a well-formed protobuf message.
    #[error("protobuf: {0}")]
    Malformed(String),
    /// A field arrived with a wire type its schema does not allow.
    #[error("protobuf: field {path}: wire type {got} where {want} was expected")]
    WireType {
        /// JSON path of the field.
        path: String,
        /// The wire type read.
        got: u8,
        /// What the schema wants (`a varint`, `length-delimited bytes`, ...).
        want: &'static str,
    },
    /// A value does not fit its schema (a bad Quantity, time, base64 text, or a JSON value of the wrong type).
    #[error("protobuf: field {path}: {message}")]
    Value {
        /// JSON path of the field.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The type has no protobuf message: a custom resource (upstream serves those as JSON only).
    #[error("{type_name} has no protobuf serialization; custom resources are served as JSON only")]
    NoProtobuf {
        /// Definition name of the object type.
        type_name: String,
    },
    /// A property without a field number in a type that has a protobuf message.
    #[error("protobuf: field {path} has no protobuf field number")]
    NoFieldNumber {
        /// JSON path of the property.
        path: String,
    },
    /// Messages nested deeper than the codec follows.
    #[error("protobuf: field {path}: messages nested more than {MAX_DEPTH} deep")]
    TooDeep {
        /// JSON path where the limit was hit.
        path: String,
    },
}

/// A decoded protobuf body: the `runtime.Unknown` envelope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `typeMeta.apiVersion` (`v1`, `apps/v1`); may be empty (the request's is meant).
    pub api_version: String,
    /// `typeMeta.kind`; may be empty.
    pub kind: String,
    /// The object's message.
    pub raw: Vec<u8>,
    /// `contentEncoding` (upstream writes `""`).
    pub content_encoding: String,
    /// `contentType` (upstream writes `""`).
    pub content_type: String,
}

/// Reads a protobuf body: the magic prefix and the `runtime.Unknown` envelope.
pub fn decode_envelope(body: &[u8]) -> Result<Envelope, ProtoError> {
    let Some(data) = body.strip_prefix(&MAGIC) else {
        return Err(ProtoError::NotProtobuf);
    };
    let mut env = Envelope::default();
    let mut r = Reader::new(data);
    while let Some((number, value)) = r.next_field()? {
        match (number, value) {
            (1, WireValue::Bytes(tm)) => {
                let mut t = Reader::new(tm);
                while let Some((n, v)) = t.next_field()? {
                    match (n, v) {
                        (1, WireValue::Bytes(b)) => env.api_version = String::from_utf8_lossy(b).into_owned(),
                        (2, WireValue::Bytes(b)) => env.kind = String::from_utf8_lossy(b).into_owned(),
                        (1 | 2, v) => return Err(wire_type_error(if n == 1 { "typeMeta.apiVersion" } else { "typeMeta.kind" }, v, "length-delimited bytes")),
                        _ => {}
                    }
                }
            }
            (2, WireValue::Bytes(b)) => env.raw = b.to_vec(),
            (3, WireValue::Bytes(b)) => env.content_encoding = String::from_utf8_lossy(b).into_owned(),
            (4, WireValue::Bytes(b)) => env.content_type = String::from_utf8_lossy(b).into_owned(),
            (1..=4, v) => return Err(wire_type_error(["typeMeta", "raw", "contentEncoding", "contentType"][number as usize - 1], v, "length-delimited bytes")),
            _ => {}
        }
    }
    Ok(env)
}

/// Writes a protobuf body: `k8s\0` and `runtime.Unknown {typeMeta {apiVersion, kind}, raw,
/// contentEncoding "", contentType ""}`, byte for byte as upstream's serializer.
pub fn encode_envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::with_capacity(api_version.len() + kind.len() + 4);
    put_bytes_field(&mut type_meta, 1, api_version.as_bytes());
    put_bytes_field(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    out.extend_from_slice(&MAGIC);
    put_bytes_field(&mut out, 1, &type_meta);
    put_bytes_field(&mut out, 2, raw);
    put_bytes_field(&mut out, 3, b"");
    put_bytes_field(&mut out, 4, b"");
    out
}

/// Reads a protobuf body as the JSON object upstream would serve: `kind` and `apiVersion` from the
/// envelope (left out when the envelope has none), then the object's fields.
pub fn decode_object(schema: &Schema, body: &[u8]) -> Result<Value, ProtoError> {
    let env = decode_envelope(body)?;
    let Value::Object(fields) = decode(schema, &env.raw)? else {
        return Err(ProtoError::Value { path: String::new(), message: "the schema is not an object".into() });
    };
    // Go's JSON of a built-in object starts `{"kind":..,"apiVersion":..`.
    let mut out = Map::with_capacity(fields.len() + 2);
    if !env.kind.is_empty() {
        out.insert("kind".into(), Value::String(env.kind));
    }
    if !env.api_version.is_empty() {
        out.insert("apiVersion".into(), Value::String(env.api_version));
    }
    for (k, v) in fields {
        out.entry(k).or_insert(v);
    }
    Ok(Value::Object(out))
}

/// Writes a JSON object as a protobuf body, its `apiVersion` and `kind` in the envelope.
pub fn encode_object(schema: &Schema, object: &Value) -> Result<Vec<u8>, ProtoError> {
    let raw = encode(schema, object)?;
    let s = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("");
    Ok(encode_envelope(s("apiVersion"), s("kind"), &raw))
}

/// Writes a list message `{1 ListMeta, 2 repeated item}` (`ConfigMapList`, ...): `list_meta` is the
/// list's JSON `metadata`, `items` the items' messages (from [`encode`], made once per object and
/// shared). Wrap the result with [`encode_envelope`] (kind `<Kind>List`).
pub fn encode_list(list_meta: &Value, items: &[&[u8]]) -> Result<Vec<u8>, ProtoError> {
    let meta = if list_meta.is_null() { Vec::new() } else { encode(&super::schema::wellknown::LIST_META, list_meta)? };
    let mut out = Vec::with_capacity(meta.len() + 8 + items.iter().map(|i| i.len() + 6).sum::<usize>());
    // Go writes ListMeta (a value struct) even when empty.
    put_bytes_field(&mut out, 1, &meta);
    for item in items {
        put_bytes_field(&mut out, 2, item);
    }
    Ok(out)
}

/// A bare `metav1.WatchEvent` message `{1 type, 2 RawExtension {1 raw = object}}`; `object` is the
/// event's object as a full protobuf body ([`encode_envelope`]), or an encoded Status for `ERROR`.
pub fn encode_watch_event(event_type: &str, object: &[u8]) -> Vec<u8> {
    let mut raw_ext = Vec::with_capacity(object.len() + 6);
    put_bytes_field(&mut raw_ext, 1, object);
    let mut out = Vec::with_capacity(raw_ext.len() + event_type.len() + 8);
    put_bytes_field(&mut out, 1, event_type.as_bytes());
    put_bytes_field(&mut out, 2, &raw_ext);
    out
}

/// Reads a bare `metav1.WatchEvent` message: the event type and the object's bytes (a full body).
pub fn decode_watch_event(message: &[u8]) -> Result<(String, Vec<u8>), ProtoError> {
    let mut event_type = String::new();
    let mut object = Vec::new();
    let mut r = Reader::new(message);
    while let Some((number, value)) = r.next_field()? {
        match (number, value) {
            (1, WireValue::Bytes(b)) => event_type = String::from_utf8_lossy(b).into_owned(),
            (2, WireValue::Bytes(b)) => {
                let mut x = Reader::new(b);
                while let Some((n, v)) = x.next_field()? {
                    if let (1, WireValue::Bytes(raw)) = (n, v) {
                        object = raw.to_vec();
                    }
                }
            }
            (1, v) => return Err(wire_type_error("type", v, "length-delimited bytes")),
            (2, v) => return Err(wire_type_error("object", v, "length-delimited bytes")),
            _ => {}
        }
    }
    Ok((event_type, object))
}

/// Prefixes a message with its length (4 bytes, big-endian): one frame of a protobuf watch stream.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 4);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// One frame of a protobuf watch stream: [`frame`] of [`encode_watch_event`].
pub fn watch_frame(event_type: &str, object: &[u8]) -> Vec<u8> {
    frame(&encode_watch_event(event_type, object))
}

/// Splits the first frame off a protobuf watch stream: `Some((message, rest))`, or `None` when
/// `buf` does not hold a whole frame yet.
pub fn split_frame(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut n = [0u8; 4];
    n.copy_from_slice(buf.get(..4)?);
    let rest = buf.get(4..)?;
    let n = u32::from_be_bytes(n) as usize;
    (rest.len() >= n).then(|| rest.split_at(n))
}

fn wire_type_error(path: &str, got: WireValue<'_>, want: &'static str) -> ProtoError {
    ProtoError::WireType { path: path.to_string(), got: got.wire_type(), want }
}

/// How one value of a schema node is written (the schema's one classification).
fn kind(s: &'static Schema) -> Kind {
    s.wire_kind()
}

/// The property of `obj` carried by field `number` (of the Go-embedded message `embedded`, or of
/// the object's own message), or the embedded message with that number.
enum Target {
    Property(&'static str, &'static Schema),
    Embedded(&'static super::schema::ProtoEmbedded),
}

fn embedded_member(obj: &ObjectSchema, name: &str) -> bool {
    obj.proto_embedded.iter().any(|e| e.properties.contains(&name))
}

fn target(obj: &'static ObjectSchema, embedded: Option<&super::schema::ProtoEmbedded>, number: u32) -> Option<Target> {
    match embedded {
        Some(e) => obj
            .properties
            .iter()
            .find(|(n, s)| s.proto.number == number && e.properties.contains(n))
            .map(|(n, s)| Target::Property(n, s)),
        None => {
            if let Some(e) = obj.proto_embedded.iter().find(|e| e.number == number) {
                return Some(Target::Embedded(e));
            }
            obj.properties
                .iter()
                .find(|(n, s)| s.proto.number == number && !embedded_member(obj, n))
                .map(|(n, s)| Target::Property(n, s))
        }
    }
}

/// A JSON path being walked, for error messages.
#[derive(Debug, Default)]
struct Path {
    text: String,
    depth: usize,
}

impl Path {
    /// Enters `name` (a property) or `[i]`/`[key]` (when `name` starts with `[`).
    fn push(&mut self, name: &str) -> usize {
        let len = self.text.len();
        if !self.text.is_empty() && !name.starts_with('[') {
            self.text.push('.');
        }
        self.text.push_str(name);
        len
    }

    fn pop(&mut self, len: usize) {
        self.text.truncate(len);
    }

    fn enter(&mut self) -> Result<(), ProtoError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ProtoError::TooDeep { path: self.text.clone() });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn error(&self, message: impl Into<String>) -> ProtoError {
        ProtoError::Value { path: self.text.clone(), message: message.into() }
    }

    fn wire(&self, got: WireValue<'_>, want: &'static str) -> ProtoError {
        ProtoError::WireType { path: self.text.clone(), got: got.wire_type(), want }
    }
}

/// Writes `{1 type, 2 intVal, 3 strVal}` as Go does (all three fields).
fn put_int_or_string(out: &mut Vec<u8>, int: Option<i64>, string: &str) {
    put_varint_field(out, 1, u64::from(int.is_none()));
    put_varint_field(out, 2, int.unwrap_or(0) as u64);
    put_bytes_field(out, 3, string.as_bytes());
}

#[cfg(test)]
mod tests;
