//! The declared-type model of a structural schema (upstream's `apiserver/pkg/cel.DeclType` and
//! `apiextensions-apiserver/.../schema/cel/model.SchemaDeclType`): what the checker types `self` by,
//! what JSON values are converted by, and the size bounds the cost estimator multiplies.
//!
//! Callers build it from their own schema types (kapi-runtime from its static schema tree, kapi-codegen
//! from its IR) with the constructors here; the size bounds follow upstream's estimates when the schema
//! declares none (`maxLength`, `maxItems`, `maxProperties` absent: what fits in a 3 MiB request).

use std::collections::BTreeMap;

/// Upstream's `MaxRequestSizeBytes`: the largest request the size estimates assume (3 MiB).
pub const MAX_REQUEST_SIZE_BYTES: u64 = 3 * 1024 * 1024;
/// Largest JSON size of a `duration` string (`apiservercel.MaxDurationSizeJSON`).
const MAX_DURATION_SIZE_JSON: u64 = 32;
/// Largest JSON size of a `date-time` string (`apiservercel.MaxDatetimeSizeJSON`).
const MAX_DATETIME_SIZE_JSON: u64 = 64;
/// JSON size of a `date` string (`apiservercel.JSONDateSize`).
const JSON_DATE_SIZE: u64 = 12;

/// `x-kubernetes-list-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListKind {
    /// `atomic` (the default): not correlated on update.
    #[default]
    Atomic,
    /// `set`: scalar items, unique.
    Set,
    /// `map`: object items keyed by `x-kubernetes-list-map-keys`.
    Map,
}

/// The shape of a declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclKind {
    /// `boolean`.
    Bool,
    /// `integer`.
    Int,
    /// `number`.
    Double,
    /// `string`.
    String,
    /// `string` with `format: byte` (base64 in JSON).
    Bytes,
    /// `string` with `format: duration`.
    Duration,
    /// `string` with `format: date-time`.
    Timestamp,
    /// Any value: `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields` without
    /// properties, untyped nodes.
    Dyn,
    /// `array`.
    List {
        /// The item type.
        elem: Box<DeclType>,
        /// `x-kubernetes-list-type`.
        list_type: ListKind,
        /// `x-kubernetes-list-map-keys` (for `ListKind::Map`).
        map_keys: Vec<String>,
    },
    /// `object` with `additionalProperties` (string keys).
    Map {
        /// The value type.
        value: Box<DeclType>,
    },
    /// `object` with `properties`.
    Object {
        /// A name for messages (`selfType` + path upstream); any stable text.
        name: String,
        /// The properties by name.
        fields: BTreeMap<String, DeclType>,
        /// Required property names.
        required: Vec<String>,
        /// The least JSON size of a value: `{}` and the required properties without a default.
        min_size: u64,
    },
}

/// A declared type: its shape, whether it may be `null`, and the size bound the cost estimator uses.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclType {
    /// The shape.
    pub kind: DeclKind,
    /// `nullable`.
    pub nullable: bool,
    /// Upper bound of the value's size: bytes of a string, items of a list, properties of a map or
    /// object. Set from `maxLength` (×4: characters to bytes), `maxItems`, `maxProperties`, else
    /// upstream's estimate of what fits in a request.
    pub max_elements: u64,
}

impl DeclType {
    fn new(kind: DeclKind, max_elements: u64) -> Self {
        DeclType { kind, nullable: false, max_elements }
    }

    /// `integer`.
    pub fn int() -> Self {
        Self::new(DeclKind::Int, 0)
    }

    /// `number`.
    pub fn double() -> Self {
        Self::new(DeclKind::Double, 0)
    }

    /// `boolean`.
    pub fn bool() -> Self {
        Self::new(DeclKind::Bool, 0)
    }

    /// Any value (int-or-string, preserve-unknown-fields).
    pub fn dyn_type() -> Self {
        Self::new(DeclKind::Dyn, MAX_REQUEST_SIZE_BYTES - 2)
    }

    /// A `string` node: its `format` picks bytes/duration/timestamp as upstream maps them;
    /// `max_length` is in characters.
    pub fn string(format: Option<&str>, max_length: Option<u64>, enum_values: &[&str]) -> Self {
        let kind = match format {
            Some("byte") => DeclKind::Bytes,
            Some("duration") => DeclKind::Duration,
            Some("date-time") => DeclKind::Timestamp,
            _ => DeclKind::String,
        };
        let max = match (kind.clone(), max_length) {
            (DeclKind::Bytes, Some(n)) => n,
            (DeclKind::Duration, _) => MAX_DURATION_SIZE_JSON,
            (DeclKind::Timestamp, _) => MAX_DATETIME_SIZE_JSON,
            (_, Some(n)) => n.saturating_mul(4),
            _ if !enum_values.is_empty() => enum_values.iter().map(|e| e.len() as u64).max().unwrap_or(0),
            _ if format == Some("date") => JSON_DATE_SIZE,
            _ => MAX_REQUEST_SIZE_BYTES - 2,
        };
        Self::new(kind, max)
    }

    /// An `array` of `elem` (`max_items` from the schema, else estimated from the item's size).
    pub fn list(elem: DeclType, list_type: ListKind, map_keys: Vec<String>, max_items: Option<u64>) -> Self {
        let max = max_items.unwrap_or_else(|| (MAX_REQUEST_SIZE_BYTES - 2) / (elem.min_serialized_size() + 1));
        Self::new(DeclKind::List { elem: Box::new(elem), list_type, map_keys }, max)
    }

    /// An `object` with `additionalProperties` of `value`.
    pub fn map(value: DeclType, max_properties: Option<u64>) -> Self {
        // A minimal entry is `"":<value>,`: a key of 2 bytes, a colon and a comma.
        let entry = value.min_serialized_size() + 4;
        let max = max_properties.unwrap_or((MAX_REQUEST_SIZE_BYTES - 2) / entry);
        Self::new(DeclKind::Map { value: Box::new(value) }, max)
    }

    /// An `object` with `properties`, by their JSON names: rules see them [`escape`]d (`x-y` as
    /// `x__dash__y`, `namespace` as `__namespace__`), and not at all when they cannot be.
    /// `required` are the required properties without a default: upstream counts them in the least
    /// size of a value (`"name":<least value>,` each), which bounds how many such objects fit in a
    /// request.
    pub fn object(name: impl Into<String>, fields: BTreeMap<String, DeclType>, required: Vec<String>, max_properties: Option<u64>) -> Self {
        let max = max_properties.unwrap_or(fields.len() as u64);
        let min_size = 2 + required.iter().filter_map(|r| Some(r.len() as u64 + fields.get(r)?.min_serialized_size() + 4)).sum::<u64>();
        let fields = fields.into_iter().filter_map(|(k, v)| Some((escape(&k)?, v))).collect();
        let required = required.iter().filter_map(|r| escape(r)).collect();
        Self::new(DeclKind::Object { name: name.into(), fields, required, min_size }, max)
    }

    /// The same type, `nullable`.
    pub fn nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// The least number of JSON bytes a value of this type takes (upstream's `MinSerializedSize`).
    pub fn min_serialized_size(&self) -> u64 {
        match self.kind {
            DeclKind::Bool => 4,
            DeclKind::Int | DeclKind::Double => 1,
            DeclKind::String | DeclKind::Bytes => 2,
            DeclKind::Duration => 4,
            DeclKind::Timestamp => JSON_DATE_SIZE,
            DeclKind::Dyn => 1,
            DeclKind::List { .. } | DeclKind::Map { .. } => 2,
            DeclKind::Object { min_size, .. } => min_size,
        }
    }

    /// The field `name` of an object type.
    pub fn field(&self, name: &str) -> Option<&DeclType> {
        match &self.kind {
            DeclKind::Object { fields, .. } => fields.get(name),
            _ => None,
        }
    }

    /// The item type of a list, the value type of a map.
    pub fn elem(&self) -> Option<&DeclType> {
        match &self.kind {
            DeclKind::List { elem, .. } => Some(elem),
            DeclKind::Map { value } => Some(value),
            _ => None,
        }
    }

    /// The type name upstream puts in field errors of evaluation failures (`sts.Type`):
    /// `object`, `array`, `string`, `integer`, `number`, `boolean`, or empty for untyped nodes.
    pub fn schema_type_name(&self) -> &'static str {
        match self.kind {
            DeclKind::Bool => "boolean",
            DeclKind::Int => "integer",
            DeclKind::Double => "number",
            DeclKind::String | DeclKind::Bytes | DeclKind::Duration | DeclKind::Timestamp => "string",
            DeclKind::Dyn => "",
            DeclKind::List { .. } => "array",
            DeclKind::Map { .. } | DeclKind::Object { .. } => "object",
        }
    }

    /// The type of `self` at a resource root (`model.WithTypeAndObjectMeta`): `apiVersion`, `kind`
    /// and `metadata` with only `name` and `generateName` visible.
    pub fn with_type_and_object_meta(mut self) -> Self {
        if let DeclKind::Object { fields, .. } = &mut self.kind {
            let s = || DeclType::string(None, None, &[]);
            fields.insert("apiVersion".into(), s());
            fields.insert("kind".into(), s());
            let mut meta = BTreeMap::new();
            meta.insert("name".to_string(), s());
            meta.insert("generateName".to_string(), s());
            fields.insert("metadata".into(), DeclType::object("metadata", meta, Vec::new(), None));
        }
        self
    }
}

/// CEL's reserved words (upstream's `celReservedSymbols`): properties so named are `__<word>__`.
const RESERVED: [&str; 21] = [
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
    "package", "namespace", "return", "var", "void", "while",
];

/// A property name as rules write it (upstream's `apiservercel.Escape`): reserved words become
/// `__<word>__`; `__`, `.`, `-` and `/` become `__underscores__`, `__dot__`, `__dash__` and
/// `__slash__`; `None` for names rules cannot reach (empty, a leading digit, other characters).
pub fn escape(name: &str) -> Option<String> {
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')) {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        let (text, len) = match c {
            '_' if rest.starts_with("__") => ("__underscores__", 2),
            '.' => ("__dot__", 1),
            '-' => ("__dash__", 1),
            '/' => ("__slash__", 1),
            _ => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
        };
        out.push_str(text);
        rest = &rest[len..];
    }
    Some(out)
}

/// `decl` with its size bounds lowered to the sizes of `value` (lists and maps: the largest item
/// seen), so that the cost estimate of a rule becomes a bound of one evaluation's cost.
pub(crate) fn with_actual_sizes(decl: &DeclType, value: &serde_json::Value) -> DeclType {
    use serde_json::Value as Json;
    let mut out = decl.clone();
    match (&mut out.kind, value) {
        (DeclKind::String | DeclKind::Bytes | DeclKind::Dyn, Json::String(s)) => out.max_elements = s.len() as u64,
        (DeclKind::Dyn, other) => out.max_elements = serde_json::to_string(other).map_or(0, |s| s.len() as u64),
        (DeclKind::List { elem, .. }, Json::Array(items)) => {
            out.max_elements = items.len() as u64;
            let mut merged: Option<DeclType> = None;
            for item in items {
                let a = with_actual_sizes(elem, item);
                merged = Some(match merged {
                    None => a,
                    Some(m) => merge_max(m, &a),
                });
            }
            **elem = merged.unwrap_or_else(|| zero_sizes(elem));
        }
        (DeclKind::Map { value: v }, Json::Object(map)) => {
            out.max_elements = map.len() as u64;
            let mut merged: Option<DeclType> = None;
            for item in map.values() {
                let a = with_actual_sizes(v, item);
                merged = Some(match merged {
                    None => a,
                    Some(m) => merge_max(m, &a),
                });
            }
            **v = merged.unwrap_or_else(|| zero_sizes(v));
        }
        (DeclKind::Object { fields, .. }, Json::Object(map)) => {
            let present: std::collections::HashMap<String, &Json> = map.iter().filter_map(|(k, v)| Some((escape(k)?, v))).collect();
            for (name, field) in fields.iter_mut() {
                *field = match present.get(name) {
                    Some(v) => with_actual_sizes(field, v),
                    None => zero_sizes(field),
                };
            }
        }
        _ => {}
    }
    out
}

fn zero_sizes(decl: &DeclType) -> DeclType {
    let mut out = decl.clone();
    out.max_elements = 0;
    match &mut out.kind {
        DeclKind::List { elem, .. } => **elem = zero_sizes(elem),
        DeclKind::Map { value } => **value = zero_sizes(value),
        DeclKind::Object { fields, .. } => {
            for f in fields.values_mut() {
                *f = zero_sizes(f);
            }
        }
        _ => {}
    }
    out
}

fn merge_max(mut a: DeclType, b: &DeclType) -> DeclType {
    a.max_elements = a.max_elements.max(b.max_elements);
    match (&mut a.kind, &b.kind) {
        (DeclKind::List { elem: x, .. }, DeclKind::List { elem: y, .. }) => **x = merge_max((**x).clone(), y),
        (DeclKind::Map { value: x }, DeclKind::Map { value: y }) => **x = merge_max((**x).clone(), y),
        (DeclKind::Object { fields: x, .. }, DeclKind::Object { fields: y, .. }) => {
            for (k, v) in x.iter_mut() {
                if let Some(w) = y.get(k) {
                    *v = merge_max(v.clone(), w);
                }
            }
        }
        _ => {}
    }
    a
}
