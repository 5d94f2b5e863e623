//! The static schema tree codegen emits for every kind (a structural OpenAPI v3 schema as `static`
//! items, cycles allowed), and generic walkers over `serde_json::Value` that follow it:
//! [`validate`], [`validate_cel`] (`x-kubernetes-validations`), [`unknown_fields`], [`prune`],
//! [`prune_nulls`], [`apply_defaults`] and the Go wire-type check [`wire::check`].
//!
//! Generated code writes, for example:
//! ```
//! use kapi_runtime::apimachinery::schema::{ObjectSchema, Schema, Type};
//! static WIDGET_SPEC: ObjectSchema = ObjectSchema {
//!     name: "com.example.v1.WidgetSpec",
//!     properties: &[
//!         ("color", Schema { ty: Type::String, enum_values: &["\"red\"", "\"blue\""], ..Schema::DEFAULT }),
//!         ("size", Schema { ty: Type::Integer, minimum: Some(0.0), default: Some("1"), ..Schema::DEFAULT }),
//!     ],
//!     required: &["color"],
//!     ..ObjectSchema::DEFAULT
//! };
//! static WIDGET: Schema = Schema { ty: Type::Object(&WIDGET_SPEC), ..Schema::DEFAULT };
//! ```
//! `properties` must be sorted by name. Patterns are plain strings; compiled regexes are cached.

mod cel;
#[cfg(test)]
mod crd_tests;
mod defaults;
mod formats;
mod prune;
mod validate;
pub mod wellknown;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use regex::Regex;
use serde_json::Value;

pub use cel::validate_cel;
pub use defaults::apply_defaults;
pub use formats::{check_format, effective_format};
pub use prune::{prune, prune_nulls, unknown_fields};
pub use validate::validate;

/// The type of a schema node.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    /// No type: any JSON value (with `x-kubernetes-preserve-unknown-fields` or int-or-string).
    Any,
    /// `type: string`.
    String,
    /// `type: integer`.
    Integer,
    /// `type: number`.
    Number,
    /// `type: boolean`.
    Boolean,
    /// `type: array` with its item schema.
    Array(&'static Schema),
    /// `type: object` with `additionalProperties` (a map).
    Map(&'static Schema),
    /// `type: object` with `properties`.
    Object(&'static ObjectSchema),
}

/// `x-kubernetes-list-type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListType {
    /// `atomic` (the default).
    #[default]
    Atomic,
    /// `set`: scalar items, unique.
    Set,
    /// `map`: object items keyed by `x-kubernetes-list-map-keys`.
    Map(&'static [&'static str]),
}

/// `x-kubernetes-map-type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MapType {
    /// `granular` (the default).
    #[default]
    Granular,
    /// `atomic`.
    Atomic,
}

/// One `x-kubernetes-validations` rule (carried for a CEL evaluator).
#[derive(Debug, Clone, Copy, Default)]
pub struct CelRule {
    /// The CEL expression.
    pub rule: &'static str,
    /// Fixed failure message.
    pub message: Option<&'static str>,
    /// CEL expression producing the failure message.
    pub message_expression: Option<&'static str>,
    /// `FieldValueInvalid`, `FieldValueForbidden`, ...
    pub reason: Option<&'static str>,
    /// Relative JSON path the failure is reported at.
    pub field_path: Option<&'static str>,
    /// Whether `oldSelf` is optional (transition rules).
    pub optional_old_self: bool,
}

/// How a value is written in Kubernetes protobuf when its JSON type does not say it (the codec in
/// [`crate::apimachinery::proto`] reads this).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProtoType {
    /// Implied by the node: `string` → string (`format: byte` → bytes, `format: date-time` → Time),
    /// `integer` → int64/int32 varint, `number` → double, `boolean` → bool, int-or-string →
    /// IntOrString, objects → their message, arrays → repeated fields (a nested array or map is a
    /// wrapper message `{items = 1}`), maps → repeated entries `{key = 1, value = 2}`, untyped and
    /// free-form values → RawExtension.
    #[default]
    Implied,
    /// `bytes`, base64 in JSON.
    Bytes,
    /// `metav1.Time` `{int64 seconds = 1; int32 nanos = 2}`, an RFC 3339 string (seconds) in JSON.
    Time,
    /// `metav1.MicroTime`: as Time, with microseconds.
    MicroTime,
    /// `metav1.Duration` `{int64 duration = 1}` (nanoseconds), a Go duration string in JSON.
    Duration,
    /// `resource.Quantity` `{string string = 1}`.
    Quantity,
    /// `intstr.IntOrString` `{int64 type = 1; int32 intVal = 2; string strVal = 3}`.
    IntOrString,
    /// `runtime.RawExtension` (and `metav1.FieldsV1`) `{bytes raw = 1}`: the value's JSON text.
    RawExtension,
}

/// What one value of a schema node is on the wire, its protobuf form included: the one
/// classification the protobuf codec writes by and the JSON wire check holds values to (two
/// classifications drifted once: a `date-time` string the codec wrote as a Time passed the check
/// as a plain string).
#[derive(Debug, Clone, Copy)]
pub enum WireKind {
    /// A string.
    String,
    /// Bytes (base64 in JSON).
    Bytes,
    /// An integer (int64, or int32).
    Int {
        /// `format: int32`.
        int32: bool,
    },
    /// A boolean.
    Bool,
    /// A double.
    Double,
    /// `metav1.Time`.
    Time,
    /// `metav1.MicroTime`.
    MicroTime,
    /// `metav1.Duration`.
    Duration,
    /// `resource.Quantity`.
    Quantity,
    /// `intstr.IntOrString`.
    IntOrString,
    /// Any JSON value (`runtime.RawExtension`, untyped and free-form nodes).
    Raw,
    /// An object: its message.
    Message(&'static ObjectSchema),
    /// An array of the items schema.
    Repeated(&'static Schema),
    /// A map of the values schema.
    Map(&'static Schema),
}

impl Schema {
    /// How this node's values are carried: its protobuf type, or what its JSON type implies.
    pub fn wire_kind(&'static self) -> WireKind {
        match self.proto.ty {
            ProtoType::Bytes => return WireKind::Bytes,
            ProtoType::Time => return WireKind::Time,
            ProtoType::MicroTime => return WireKind::MicroTime,
            ProtoType::Duration => return WireKind::Duration,
            ProtoType::Quantity => return WireKind::Quantity,
            ProtoType::IntOrString => return WireKind::IntOrString,
            ProtoType::RawExtension => return WireKind::Raw,
            ProtoType::Implied => {}
        }
        if self.int_or_string {
            return WireKind::IntOrString;
        }
        match self.ty {
            Type::String => match self.format {
                Some("byte") => WireKind::Bytes,
                // metav1.Time fields whose proto type is implied by the format
                // (Event.firstTimestamp, ObjectMeta.creationTimestamp).
                Some("date-time") => WireKind::Time,
                _ => WireKind::String,
            },
            Type::Integer => WireKind::Int { int32: self.format == Some("int32") },
            Type::Number => WireKind::Double,
            Type::Boolean => WireKind::Bool,
            Type::Object(o) => WireKind::Message(o),
            Type::Array(items) => WireKind::Repeated(items),
            Type::Map(values) => WireKind::Map(values),
            Type::Any => WireKind::Raw,
        }
    }
}

/// The protobuf facts of a schema node: its field number in the parent message and how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proto {
    /// Field number in the parent message; 0 when the node is not a numbered property (array items,
    /// map values, roots) or has no protobuf form.
    pub number: u32,
    /// The wire type when the JSON schema does not imply it.
    pub ty: ProtoType,
    /// A Go value field (not a pointer) that upstream's JSON omits when empty: Go writes it to the
    /// wire even when zero, so a zero read from protobuf means "unset" and is left out of the JSON.
    pub omit_zero: bool,
}

impl Proto {
    /// No field number, implied type; use as `..Proto::DEFAULT`.
    pub const DEFAULT: Proto = Proto { number: 0, ty: ProtoType::Implied, omit_zero: false };
}

impl Default for Proto {
    fn default() -> Self {
        Proto::DEFAULT
    }
}

/// A Go-embedded struct: properties that are flat in JSON but one nested message on the wire
/// (`Probe.handler` = ProbeHandler {exec, httpGet, tcpSocket, grpc}). The listed properties carry
/// their field numbers within the embedded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoEmbedded {
    /// Field number of the embedded message in the outer message.
    pub number: u32,
    /// JSON names of the properties that live in the embedded message.
    pub properties: &'static [&'static str],
}

/// A schema node. All data is `'static` so whole trees live in `static` items.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The type (and its children).
    pub ty: Type,
    /// `nullable`.
    pub nullable: bool,
    /// JSON text of `default`.
    pub default: Option<&'static str>,
    /// JSON texts of the `enum` values.
    pub enum_values: &'static [&'static str],
    /// `format`.
    pub format: Option<&'static str>,
    /// `pattern` (RE2 syntax).
    pub pattern: Option<&'static str>,
    /// `minLength` (characters).
    pub min_length: Option<u64>,
    /// `maxLength` (characters).
    pub max_length: Option<u64>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `minProperties`.
    pub min_properties: Option<u64>,
    /// `maxProperties`.
    pub max_properties: Option<u64>,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `exclusiveMinimum`.
    pub exclusive_minimum: bool,
    /// `exclusiveMaximum`.
    pub exclusive_maximum: bool,
    /// `multipleOf`.
    pub multiple_of: Option<f64>,
    /// `uniqueItems`.
    pub unique_items: bool,
    /// `x-kubernetes-list-type` (with map keys).
    pub list_type: ListType,
    /// `x-kubernetes-map-type`.
    pub map_type: MapType,
    /// `x-kubernetes-patch-strategy`.
    pub patch_strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<&'static str>,
    /// `x-kubernetes-preserve-unknown-fields`.
    pub preserve_unknown_fields: bool,
    /// `x-kubernetes-embedded-resource`.
    pub embedded_resource: bool,
    /// `x-kubernetes-int-or-string`.
    pub int_or_string: bool,
    /// `x-kubernetes-validations`.
    pub rules: &'static [CelRule],
    /// Protobuf field number and wire type (`x-kapi-proto`, `x-kapi-proto-type`).
    pub proto: Proto,
}

impl Schema {
    /// A node with no type and no constraints; use as `..Schema::DEFAULT`.
    pub const DEFAULT: Schema = Schema {
        ty: Type::Any,
        nullable: false,
        default: None,
        enum_values: &[],
        format: None,
        pattern: None,
        min_length: None,
        max_length: None,
        min_items: None,
        max_items: None,
        min_properties: None,
        max_properties: None,
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        multiple_of: None,
        unique_items: false,
        list_type: ListType::Atomic,
        map_type: MapType::Granular,
        patch_strategy: None,
        patch_merge_key: None,
        preserve_unknown_fields: false,
        embedded_resource: false,
        int_or_string: false,
        rules: &[],
        proto: Proto::DEFAULT,
    };

    /// The OpenAPI type names of this node (`["integer","string"]` for int-or-string, none for `Any`).
    pub fn type_names(&self) -> &'static [&'static str] {
        if self.int_or_string {
            return &["integer", "string"];
        }
        match self.ty {
            Type::Any => &[],
            Type::String => &["string"],
            Type::Integer => &["integer"],
            Type::Number => &["number"],
            Type::Boolean => &["boolean"],
            Type::Array(_) => &["array"],
            Type::Map(_) | Type::Object(_) => &["object"],
        }
    }

    /// The schema of property `name`, if this is an object with that property.
    pub fn property(&self, name: &str) -> Option<&'static Schema> {
        match self.ty {
            Type::Object(o) => o.property(name),
            _ => None,
        }
    }

    /// The schema of values not named in `properties` (`additionalProperties`).
    pub fn additional_properties(&self) -> Option<&'static Schema> {
        match self.ty {
            Type::Map(s) => Some(s),
            Type::Object(o) => o.additional_properties,
            _ => None,
        }
    }

    /// The schema of a field: its property schema, else `additionalProperties`.
    pub fn field(&self, name: &str) -> Option<&'static Schema> {
        self.property(name).or_else(|| self.additional_properties())
    }

    /// The item schema of an array.
    pub fn items(&self) -> Option<&'static Schema> {
        match self.ty {
            Type::Array(s) => Some(s),
            _ => None,
        }
    }

    /// The object shape, if any.
    pub fn object(&self) -> Option<&'static ObjectSchema> {
        match self.ty {
            Type::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether unknown fields are kept here (`x-kubernetes-preserve-unknown-fields`).
    pub fn preserves_unknown_fields(&self) -> bool {
        self.preserve_unknown_fields || matches!(self.ty, Type::Object(o) if o.preserve_unknown_fields)
    }

    /// The parsed default; `None` when absent, unparsable or `null` (upstream ignores a null default).
    pub fn default_value(&self) -> Option<Value> {
        let v: Value = serde_json::from_str(self.default?).ok()?;
        (!v.is_null()).then_some(v)
    }

    /// The parsed enum values (unparsable texts are skipped).
    pub fn enum_list(&self) -> Vec<Value> {
        self.enum_values.iter().filter_map(|t| serde_json::from_str(t).ok()).collect()
    }
}

impl Default for Schema {
    fn default() -> Self {
        Schema::DEFAULT
    }
}

/// An object's shape: properties (sorted by name), required names, additional properties.
#[derive(Debug, Clone, Copy)]
pub struct ObjectSchema {
    /// Definition name (`io.k8s.api.core.v1.PodSpec`), or a synthesized one for inline objects.
    pub name: &'static str,
    /// Properties, sorted by name.
    pub properties: &'static [(&'static str, Schema)],
    /// Required property names.
    pub required: &'static [&'static str],
    /// `additionalProperties` besides `properties` (rare; structural schemas use one or the other).
    pub additional_properties: Option<&'static Schema>,
    /// `x-kubernetes-preserve-unknown-fields` on the object.
    pub preserve_unknown_fields: bool,
    /// Whether the object has a protobuf message: every property but `apiVersion`/`kind` has a
    /// field number (built-in kinds). Custom resources have none; upstream serves them as JSON only.
    pub protobuf: bool,
    /// Go-embedded structs (`x-kapi-proto-embedded`): properties that are a nested message on the wire.
    pub proto_embedded: &'static [ProtoEmbedded],
}

impl ObjectSchema {
    /// An empty object shape; use as `..ObjectSchema::DEFAULT`.
    pub const DEFAULT: ObjectSchema = ObjectSchema {
        name: "",
        properties: &[],
        required: &[],
        additional_properties: None,
        preserve_unknown_fields: false,
        protobuf: false,
        proto_embedded: &[],
    };

    /// The schema of property `name` (binary search; properties must be sorted).
    pub fn property(&self, name: &str) -> Option<&'static Schema> {
        let props: &'static [(&'static str, Schema)] = self.properties;
        match props.binary_search_by(|(n, _)| (*n).cmp(name)) {
            Ok(i) => props.get(i).map(|(_, s)| s),
            // Tolerate unsorted tables rather than silently losing properties.
            Err(_) => props.iter().find(|(n, _)| *n == name).map(|(_, s)| s),
        }
    }

    /// True when `properties` is sorted by name (as lookups assume).
    pub fn is_sorted(&self) -> bool {
        self.properties.windows(2).all(|w| w[0].0 < w[1].0)
    }
}

impl Default for ObjectSchema {
    fn default() -> Self {
        ObjectSchema::DEFAULT
    }
}

/// Translates Go RE2's ASCII-only Perl classes (`\d`, `\w`, `\s`) for Rust's Unicode-aware regex.
fn go_regex_source(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Compiles (once, cached) a Go-syntax regular expression; the error text when it does not compile.
/// Shared, not cloned: a cloned `Regex` starts with empty matching caches, which made every
/// validated `date-time` field rebuild its DFA (5% of a create's CPU, measured).
pub fn compiled_regex(pattern: &str) -> Result<Arc<Regex>, String> {
    type Compiled = Result<Arc<Regex>, String>;
    static CACHE: OnceLock<RwLock<HashMap<String, Compiled>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| RwLock::new(HashMap::new()));
    if let Ok(map) = cache.read() {
        if let Some(r) = map.get(pattern) {
            return r.clone();
        }
    }
    let compiled = Regex::new(&go_regex_source(pattern)).map(Arc::new).map_err(|e| e.to_string());
    if let Ok(mut map) = cache.write() {
        map.insert(pattern.to_string(), compiled.clone());
    }
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;

    // Cyclic statics: a recursive JSONSchemaProps-like node.
    static NODE_OBJ: ObjectSchema = ObjectSchema {
        name: "test.Node",
        properties: &[
            ("children", Schema { ty: Type::Array(&NODE), ..Schema::DEFAULT }),
            ("name", Schema { ty: Type::String, pattern: Some("^[a-z]+$"), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static NODE: Schema = Schema { ty: Type::Object(&NODE_OBJ), ..Schema::DEFAULT };

    #[test]
    fn statics_can_be_cyclic() {
        let children = NODE.property("children").and_then(|s| s.items()).expect("items");
        assert!(std::ptr::eq(children, &NODE));
        assert!(NODE_OBJ.is_sorted());
        assert!(NODE.property("missing").is_none());
        assert_eq!(NODE.type_names(), &["object"]);
    }

    #[test]
    fn go_regex_classes_are_ascii() {
        let re = compiled_regex(r"^\d+$").expect("compile");
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"));
        let re = compiled_regex(r"^[\w-]+\\d$").expect("compile");
        assert!(re.is_match("a-b\\d"));
        assert!(compiled_regex("(").is_err());
    }

    #[test]
    fn defaults_and_enums_parse() {
        let s = Schema { default: Some("{\"a\":1}"), enum_values: &["\"x\"", "1", "bad json"], ..Schema::DEFAULT };
        assert_eq!(s.default_value(), Some(serde_json::json!({"a": 1})));
        assert_eq!(s.enum_list().len(), 2);
        assert_eq!(Schema { default: Some("null"), ..Schema::DEFAULT }.default_value(), None);
    }
}
