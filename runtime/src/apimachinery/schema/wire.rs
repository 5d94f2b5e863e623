//! The wire-type check of a built-in kind's object: kube-apiserver decodes a request body into the
//! kind's Go struct (`encoding/json`, via sigs.k8s.io/json), so a value its Go type cannot hold is
//! refused before anything else runs. [`check`] walks a JSON value along the schema tree as that
//! decoder walks the struct, and answers with the decoder's own message, e.g.
//! `json: cannot unmarshal number 2147483648 into Go struct field ServiceSpec.spec.healthCheckNodePort of type int32`.
//!
//! What it follows from the decoder:
//! - `null` sets nothing, anywhere; unknown fields are skipped (strict decoding reports them apart).
//! - A type mismatch is *saved* and decoding goes on; the first saved one is reported, unless a
//!   later `UnmarshalJSON` (Quantity, Time, MicroTime, Duration, IntOrString) fails: its error ends
//!   decoding at once and wins.
//! - Integers must be integer literals in range (`1.0` and `1e3` are not an int32); the message
//!   repeats the literal. Strings, bools, slices, maps and structs name only the JSON type.
//! - The field path is the JSON names from the root without indices or map keys, prefixed with
//!   the innermost struct's name.
//! - A `[]byte` takes base64 (Go's `illegal base64 data at input byte N`) or an array of uint8,
//!   which is rewritten to its base64 form, as Go would store it.
//!
//! Custom resources are decoded into unstructured maps upstream and validated by their OpenAPI
//! schema instead ([`super::validate`]); only kinds with a protobuf message have a Go struct.
//! Known gaps (message text only, never the verdict): named Go types (`v1.Protocol`,
//! `v1.ResourceList`) are written as their underlying type, and a Go-embedded struct's name
//! (`Probe.….ProbeHandler.exec`) is not part of the field path.

use base64::Engine;
use serde_json::{Number, Value};

use super::{ProtoType, Schema, Type, WireKind};
use crate::apimachinery::quantity::Quantity;
use crate::apimachinery::time::{go_parse_time, Duration, TimeLayout};

/// How the object reached its typed form upstream, which decides what a bad value does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `encoding/json` decoding of a body (create, update, JSON and merge patches): a mismatch is
    /// an error.
    Decode,
    /// `runtime.DefaultUnstructuredConverter` (strategic merge patch, server-side apply): integers
    /// are converted as Go converts them (an int32 field wraps around), other mismatches are errors.
    Convert,
}

/// Checks `value` (a whole object of the kind `schema` describes) against its Go types. The error
/// is the decoder's message (the caller adds `<Kind> in version "v" cannot be handled as ...`).
/// `value` may be rewritten where Go would normalise it (arrays of bytes, wrapped integers).
pub fn check(schema: &'static Schema, value: &mut Value, mode: Mode) -> Result<(), String> {
    let mut d = Decoder {
        mode,
        saved: None,
        structure: "",
        fields: Vec::new(),
    };
    d.node(schema, value)?;
    match d.saved {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whether objects of `schema` are Go structs upstream (built-in kinds, with a protobuf message).
pub fn is_typed(schema: &Schema) -> bool {
    schema.object().is_some_and(|o| o.protobuf)
}

struct Decoder {
    mode: Mode,
    /// The first saved (non-fatal) error.
    saved: Option<String>,
    /// Short name of the innermost struct whose field is being decoded.
    structure: &'static str,
    /// JSON names from the root.
    fields: Vec<&'static str>,
}

/// The JSON type of a value as `UnmarshalTypeError.Value` names it (numbers without the literal).
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A number as it was written (integers exactly; a float as serde_json writes it, which matches
/// the common literals `2.5` and `1.0`, not `1e3`).
fn literal(n: &Number) -> String {
    n.to_string()
}

/// The Go type a schema node decodes into, as `reflect.Type.String()` writes it.
pub fn go_type(s: &Schema) -> String {
    match s.proto.ty {
        ProtoType::Quantity => return "resource.Quantity".into(),
        ProtoType::IntOrString => return "intstr.IntOrString".into(),
        ProtoType::Time => return "v1.Time".into(),
        ProtoType::MicroTime => return "v1.MicroTime".into(),
        ProtoType::Duration => return "v1.Duration".into(),
        ProtoType::RawExtension => return "runtime.RawExtension".into(),
        ProtoType::Bytes => return "[]uint8".into(),
        ProtoType::Implied => {}
    }
    if s.int_or_string {
        return "intstr.IntOrString".into();
    }
    match s.ty {
        Type::Any => "interface {}".into(),
        Type::String if s.format == Some("byte") => "[]uint8".into(),
        Type::String => "string".into(),
        Type::Integer if s.format == Some("int32") => "int32".into(),
        Type::Integer => "int64".into(),
        Type::Number => "float64".into(),
        Type::Boolean => "bool".into(),
        Type::Array(item) => format!("[]{}", go_type(item)),
        Type::Map(value) => format!("map[string]{}", go_type(value)),
        Type::Object(o) => struct_type(o.name),
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `v1.DeploymentSpec` (package name and type name).
fn struct_type(definition: &str) -> String {
    let mut parts = definition.rsplit('.');
    let name = parts.next().unwrap_or(definition);
    match parts.next() {
        Some(pkg) => format!("{pkg}.{name}"),
        None => name.to_string(),
    }
}

fn short_name(definition: &'static str) -> &'static str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// What a node decodes as.
enum Wire {
    Quantity,
    IntOrString,
    Time(TimeLayout),
    Duration,
    Anything,
    Bytes,
    Int { bits32: bool },
    Float,
    Bool,
    Str,
}

fn wire(s: &'static Schema) -> Wire {
    match s.wire_kind() {
        WireKind::Quantity => Wire::Quantity,
        WireKind::IntOrString => Wire::IntOrString,
        WireKind::Time => Wire::Time(TimeLayout::Rfc3339),
        WireKind::MicroTime => Wire::Time(TimeLayout::Rfc3339Micro),
        WireKind::Duration => Wire::Duration,
        WireKind::Bytes => Wire::Bytes,
        WireKind::String => Wire::Str,
        WireKind::Int { int32 } => Wire::Int { bits32: int32 },
        WireKind::Double => Wire::Float,
        WireKind::Bool => Wire::Bool,
        WireKind::Raw | WireKind::Message(_) | WireKind::Repeated(_) | WireKind::Map(_) => Wire::Anything,
    }
}

impl Decoder {
    /// `UnmarshalTypeError` with the decoder's context.
    fn type_error(&self, value: &str, go_type: &str) -> String {
        if self.fields.is_empty() {
            return format!("json: cannot unmarshal {value} into Go value of type {go_type}");
        }
        format!(
            "json: cannot unmarshal {value} into Go struct field {}.{} of type {go_type}",
            self.structure,
            self.fields.join(".")
        )
    }

    fn save(&mut self, error: String) {
        if self.saved.is_none() {
            self.saved = Some(error);
        }
    }

    /// A mismatch: saved when decoding; in conversion, Go's `cannot convert` (also saved, the
    /// converter reports the first).
    fn mismatch(&mut self, s: &Schema, v: &Value) {
        let error = match self.mode {
            Mode::Decode => self.type_error(json_type(v), &go_type(s)),
            Mode::Convert => format!("cannot convert {} to {}", unstructured_type(v), go_type(s)),
        };
        self.save(error);
    }

    /// One value; `Err` is a fatal error (an `UnmarshalJSON` failed).
    fn node(&mut self, s: &'static Schema, v: &mut Value) -> Result<(), String> {
        if v.is_null() {
            return Ok(());
        }
        match wire(s) {
            Wire::Anything => {}
            Wire::Quantity => {
                let text = match v {
                    Value::String(t) => t.clone(),
                    Value::Number(n) => literal(n),
                    other => other.to_string(),
                };
                Quantity::parse(&text).map_err(|e| e.to_string())?;
                return Ok(());
            }
            Wire::IntOrString => {
                return match v {
                    Value::String(_) => Ok(()),
                    Value::Number(n) => match int_in_range(n, true) {
                        Some(_) => Ok(()),
                        None if self.mode == Mode::Convert && n.as_i64().is_some() => {
                            self.wrap(v, true);
                            Ok(())
                        }
                        None => Err(self.type_error(&format!("number {}", literal(n)), "int32")),
                    },
                    other => Err(self.type_error(json_type(other), "int32")),
                };
            }
            Wire::Time(layout) => {
                return match v {
                    Value::String(t) => go_parse_time(t, layout),
                    other => Err(self.type_error(json_type(other), "string")),
                };
            }
            Wire::Duration => {
                return match v {
                    Value::String(t) => Duration::parse(t).map(|_| ()).map_err(|e| e.to_string()),
                    other => Err(self.type_error(json_type(other), "string")),
                };
            }
            Wire::Bytes => {
                self.bytes(s, v);
                return Ok(());
            }
            Wire::Int { bits32 } => {
                match v {
                    Value::Number(n) if int_in_range(n, bits32).is_some() => {}
                    Value::Number(n) if self.mode == Mode::Convert && n.as_i64().is_some() => {
                        self.wrap(v, bits32)
                    }
                    Value::Number(n) if self.mode == Mode::Decode => {
                        let e = self.type_error(
                            &format!("number {}", literal(n)),
                            if bits32 { "int32" } else { "int64" },
                        );
                        self.save(e);
                    }
                    other => self.mismatch(s, other),
                }
                return Ok(());
            }
            Wire::Float => {
                if !v.is_number() {
                    self.mismatch(s, v);
                }
                return Ok(());
            }
            Wire::Bool => {
                if !v.is_boolean() {
                    self.mismatch(s, v);
                }
                return Ok(());
            }
            Wire::Str => {
                if !v.is_string() {
                    self.mismatch(s, v);
                }
                return Ok(());
            }
        }
        match (s.ty, v) {
            (Type::Array(item), Value::Array(items)) => {
                for item_value in items.iter_mut() {
                    self.node(item, item_value)?;
                }
            }
            (Type::Map(value_schema), Value::Object(map)) => {
                for (_, item_value) in map.iter_mut() {
                    self.node(value_schema, item_value)?;
                }
            }
            (Type::Object(o), Value::Object(map)) => {
                let outer = self.structure;
                let depth = self.fields.len();
                for (key, field_value) in map.iter_mut() {
                    let Some((name, field_schema)) = property(o.properties, key) else {
                        if let Some(extra) = o.additional_properties {
                            self.node(extra, field_value)?;
                        }
                        continue;
                    };
                    self.structure = short_name(o.name);
                    self.fields.push(name);
                    self.node(field_schema, field_value)?;
                    self.fields.truncate(depth);
                    self.structure = outer;
                }
            }
            (Type::Array(_) | Type::Map(_) | Type::Object(_), other) => self.mismatch(s, other),
            _ => {}
        }
        Ok(())
    }

    /// Go's integer conversion of an out-of-range int64 (strategic merge patch and apply).
    fn wrap(&mut self, v: &mut Value, bits32: bool) {
        if let Some(i) = v.as_i64() {
            *v = if bits32 {
                Value::from(i as i32)
            } else {
                Value::from(i)
            };
        }
    }

    /// `[]byte`: base64 text, or an array of uint8 (rewritten to base64, as Go stores it).
    fn bytes(&mut self, s: &Schema, v: &mut Value) {
        match v {
            Value::String(text) => {
                if let Err(at) = go_base64_check(text.as_bytes()) {
                    self.save(format!("illegal base64 data at input byte {at}"));
                }
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items.iter() {
                    match item {
                        Value::Number(n) => match n.as_u64().and_then(|u| u8::try_from(u).ok()) {
                            Some(b) => out.push(b),
                            None => {
                                ok = false;
                                let e = self.type_error(&format!("number {}", literal(n)), "uint8");
                                self.save(e);
                            }
                        },
                        Value::Null => out.push(0),
                        other => {
                            ok = false;
                            let e = self.type_error(json_type(other), "uint8");
                            self.save(e);
                        }
                    }
                }
                if ok {
                    *v = Value::String(base64::engine::general_purpose::STANDARD.encode(out));
                }
            }
            other => self.mismatch(s, other),
        }
    }
}

/// A property and its `'static` name (binary search; tables are sorted).
fn property(
    properties: &'static [(&'static str, Schema)],
    key: &str,
) -> Option<(&'static str, &'static Schema)> {
    let found = match properties.binary_search_by(|(n, _)| (*n).cmp(key)) {
        Ok(i) => properties.get(i),
        Err(_) => properties.iter().find(|(n, _)| *n == key),
    };
    found.map(|(n, s)| (*n, s))
}

/// The Go type of an unstructured value (`map[string]interface{}` decoded from JSON).
fn unstructured_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.as_i64().is_some() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// The integer when `n` is an integer literal that fits (int32 or int64).
fn int_in_range(n: &Number, bits32: bool) -> Option<i64> {
    let i = n.as_i64()?;
    if bits32 && i32::try_from(i).is_err() {
        return None;
    }
    Some(i)
}

/// Go's `base64.StdEncoding.Decode` verdict: `Err(offset)` of its `CorruptInputError`.
/// Newlines are skipped; padding is required.
pub fn go_base64_check(src: &[u8]) -> Result<(), usize> {
    let valid = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let newline = |c: u8| c == b'\n' || c == b'\r';
    let mut si = 0;
    while si < src.len() {
        // One quantum (`decodeQuantum`).
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(());
                }
                // StdEncoding pads: a short quantum is corrupt.
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if valid(c) {
                j += 1;
                continue;
            }
            if newline(c) {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && newline(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                return Err(si);
            }
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::{ObjectSchema, Proto};
    use serde_json::json;

    const INT32: Schema = Schema {
        ty: Type::Integer,
        format: Some("int32"),
        ..Schema::DEFAULT
    };
    const STRING: Schema = Schema {
        ty: Type::String,
        ..Schema::DEFAULT
    };
    static PORT_OBJ: ObjectSchema = ObjectSchema {
        name: "io.k8s.api.core.v1.EndpointPort",
        properties: &[("name", STRING), ("port", INT32)],
        protobuf: true,
        ..ObjectSchema::DEFAULT
    };
    static PORT: Schema = Schema {
        ty: Type::Object(&PORT_OBJ),
        ..Schema::DEFAULT
    };
    static SUBSET_OBJ: ObjectSchema = ObjectSchema {
        name: "io.k8s.api.core.v1.EndpointSubset",
        properties: &[(
            "ports",
            Schema {
                ty: Type::Array(&PORT),
                ..Schema::DEFAULT
            },
        )],
        protobuf: true,
        ..ObjectSchema::DEFAULT
    };
    static SUBSET: Schema = Schema {
        ty: Type::Object(&SUBSET_OBJ),
        ..Schema::DEFAULT
    };
    static QUANTITY: Schema = Schema {
        ty: Type::Any,
        proto: Proto {
            ty: ProtoType::Quantity,
            ..Proto::DEFAULT
        },
        ..Schema::DEFAULT
    };
    static MICRO: Schema = Schema {
        ty: Type::String,
        proto: Proto {
            ty: ProtoType::MicroTime,
            ..Proto::DEFAULT
        },
        ..Schema::DEFAULT
    };
    static BYTES: Schema = Schema {
        ty: Type::String,
        format: Some("byte"),
        ..Schema::DEFAULT
    };
    static ROOT_OBJ: ObjectSchema = ObjectSchema {
        name: "io.k8s.api.core.v1.Endpoints",
        properties: &[
            (
                "binary",
                Schema {
                    ty: Type::Map(&BYTES),
                    ..Schema::DEFAULT
                },
            ),
            ("eventTime", MICRO),
            (
                "hard",
                Schema {
                    ty: Type::Map(&QUANTITY),
                    ..Schema::DEFAULT
                },
            ),
            (
                "on",
                Schema {
                    ty: Type::Boolean,
                    ..Schema::DEFAULT
                },
            ),
            (
                "subsets",
                Schema {
                    ty: Type::Array(&SUBSET),
                    ..Schema::DEFAULT
                },
            ),
        ],
        protobuf: true,
        ..ObjectSchema::DEFAULT
    };
    static ROOT: Schema = Schema {
        ty: Type::Object(&ROOT_OBJ),
        ..Schema::DEFAULT
    };

    fn decode(mut v: Value) -> Result<Value, String> {
        check(&ROOT, &mut v, Mode::Decode).map(|()| v)
    }

    #[test]
    fn messages_are_the_go_decoders() {
        let port = |p: Value| json!({"subsets": [{"ports": [{"port": p}]}]});
        assert_eq!(
            decode(port(json!(2147483648u64))).expect_err("refused"),
            "json: cannot unmarshal number 2147483648 into Go struct field EndpointPort.subsets.ports.port of type int32"
        );
        assert_eq!(
            decode(port(json!(1.0))).expect_err("refused"),
            "json: cannot unmarshal number 1.0 into Go struct field EndpointPort.subsets.ports.port of type int32"
        );
        assert_eq!(
            decode(port(json!("80"))).expect_err("refused"),
            "json: cannot unmarshal string into Go struct field EndpointPort.subsets.ports.port of type int32"
        );
        assert!(decode(port(json!(-2147483648i64))).is_ok());
        assert!(decode(port(Value::Null)).is_ok(), "null sets nothing");
        assert_eq!(
            decode(json!({"subsets": {"ports": []}})).expect_err("refused"),
            "json: cannot unmarshal object into Go struct field Endpoints.subsets of type []v1.EndpointSubset"
        );
        assert_eq!(
            decode(json!({"hard": {"cpu": true}})).expect_err("refused"),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
        assert!(decode(json!({"hard": {"cpu": 512, "memory": "1Gi"}})).is_ok());
        assert_eq!(
            decode(json!({"eventTime": []})).expect_err("refused"),
            "json: cannot unmarshal array into Go struct field Endpoints.eventTime of type string"
        );
        assert_eq!(
            decode(json!({"eventTime": "2024-01-01T00:00:00Z"})).expect_err("refused"),
            "parsing time \"2024-01-01T00:00:00Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""
        );
        assert!(decode(json!({"unknown": [], "eventTime": "2024-01-01T00:00:00.000000Z"})).is_ok());
    }

    #[test]
    fn first_saved_error_unless_an_unmarshaler_fails_later() {
        // Both saved: the first in document order.
        assert_eq!(
            decode(json!({"on": "x", "subsets": "y"})).expect_err("refused"),
            "json: cannot unmarshal string into Go struct field Endpoints.on of type bool"
        );
        // A failing UnmarshalJSON ends decoding and wins over an earlier saved error.
        assert_eq!(
            decode(json!({"on": "x", "eventTime": 5})).expect_err("refused"),
            "json: cannot unmarshal number into Go struct field Endpoints.eventTime of type string"
        );
    }

    #[test]
    fn bytes_are_base64_or_uint8_arrays() {
        assert_eq!(
            decode(json!({"binary": {"a": "!!!"}})).expect_err("refused"),
            "illegal base64 data at input byte 0"
        );
        assert_eq!(
            decode(json!({"binary": {"a": 5}})).expect_err("refused"),
            "json: cannot unmarshal number into Go struct field Endpoints.binary of type []uint8"
        );
        let v = decode(json!({"binary": {"a": [1, 2]}})).expect("uint8 array");
        assert_eq!(v["binary"]["a"], "AQI=");
        for (text, want) in [
            ("AQI=", Ok(())),
            ("AQI", Err(0)),
            ("AQ==", Ok(())),
            ("AQ=", Err(3)),
            ("A===", Err(1)),
            ("AQI=x", Err(4)),
            ("AQ\nI=", Ok(())),
        ] {
            assert_eq!(go_base64_check(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn conversion_wraps_integers() {
        let mut v = json!({"subsets": [{"ports": [{"port": 2147483648u64}]}]});
        assert!(check(&ROOT, &mut v, Mode::Convert).is_ok());
        assert_eq!(v["subsets"][0]["ports"][0]["port"], -2147483648i64);
        let mut v = json!({"on": 1});
        assert_eq!(
            check(&ROOT, &mut v, Mode::Convert).expect_err("refused"),
            "cannot convert int64 to bool"
        );
    }
}
