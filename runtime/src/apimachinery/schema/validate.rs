//! Schema validation of a decoded object as apiextensions validates custom resources: the kube-openapi
//! schema validator (errors converted to field errors), then embedded-resource metadata, then
//! `x-kubernetes-list-type` set/map uniqueness.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::formats::{check_format, effective_format};
use super::{compiled_regex, ListType, Schema};
use crate::apimachinery::field::{FieldError, Path};
use crate::apimachinery::go;
use crate::apimachinery::meta::ObjectMeta;
use crate::apimachinery::validation::{is_dns1035_label, validate_object_meta, validate_path_segment_name};

/// Validates `value` against `schema`. `path` is the field path of `value` (`""` for a whole object);
/// errors read exactly as kube-apiserver reports custom resource validation failures, e.g.
/// `spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0`.
pub fn validate(schema: &Schema, value: &Value, path: &str) -> Vec<FieldError> {
    let mut v = OpenApi { prefix: path, errors: Vec::new() };
    v.node(schema, value, "");
    let mut errors = v.errors;
    let root = if path.is_empty() { Path::root() } else { Path::new(path) };
    embedded(schema, value, &root, &mut errors);
    lists(schema, value, &root, &mut errors);
    errors
}

/// A JSON number as Kubernetes decodes it: int64 when integral and in range, float64 otherwise.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn num(n: &Number) -> Num {
    match n.as_i64() {
        Some(i) => Num::Int(i),
        None => Num::Float(n.as_f64().unwrap_or(0.0)),
    }
}

/// `swag.IsFloat64AJSONInteger`.
fn is_json_integer(f: f64) -> bool {
    const MAX: f64 = 9_007_199_254_740_991.0;
    if !f.is_finite() || !(-MAX..=MAX).contains(&f) {
        return false;
    }
    f.fract() == 0.0 || (f - f.round()).abs() < 1e-9
}

struct OpenApi<'a> {
    prefix: &'a str,
    errors: Vec<FieldError>,
}

impl OpenApi<'_> {
    /// The field path of a kube-openapi name (`.spec.x` or `spec.x`).
    fn field(&self, name: &str) -> String {
        let trimmed = name.strip_prefix('.').unwrap_or(name);
        if name.is_empty() || name == "." {
            if self.prefix.is_empty() {
                "<nil>".to_string()
            } else {
                self.prefix.to_string()
            }
        } else if self.prefix.is_empty() {
            trimmed.to_string()
        } else {
            format!("{}.{trimmed}", self.prefix)
        }
    }

    fn type_error(&mut self, name: &str, type_name: &str, found: &str) {
        let detail = format!("{name} in body must be of type {type_name}: {}", go::quote(found));
        self.errors.push(FieldError::type_invalid(self.field(name), found, detail));
    }

    fn invalid(&mut self, name: &str, value: impl Into<Value>, detail: String) {
        self.errors.push(FieldError::invalid(self.field(name), value, detail));
    }

    fn node(&mut self, s: &Schema, value: &Value, name: &str) {
        if value.is_null() {
            let types = s.type_names();
            if !types.is_empty() && !s.nullable {
                self.type_error(name, &types.join(","), "null");
            }
            self.enumeration(s, value, name);
            return;
        }
        self.types(s, value, name);
        if let Value::String(text) = value {
            self.string(s, text, name);
            if let Some(format) = effective_format(s) {
                if check_format(format, text) == Some(false) {
                    let detail = format!("{name} in body must be of type {format}: {}", go::quote(text));
                    self.errors.push(FieldError::type_invalid(self.field(name), text.as_str(), detail));
                }
            }
        }
        if let Value::Number(n) = value {
            self.number(s, num(n), name);
        }
        if let Value::Array(items) = value {
            self.array(s, items, name);
        }
        self.enumeration(s, value, name);
        if let Value::Object(map) = value {
            self.object(s, map, name);
        }
    }

    /// kube-openapi's `typeValidator`, including its format quirks (conditions kept in upstream's shape).
    #[allow(clippy::nonminimal_bool)]
    fn types(&mut self, s: &Schema, value: &Value, name: &str) {
        let types = s.type_names();
        let format = effective_format(s).unwrap_or("");
        if types.is_empty() && format.is_empty() {
            return;
        }
        let (sch_type, vformat, float) = match value {
            Value::Bool(_) => ("boolean", "", None),
            Value::String(_) => ("string", "", None),
            Value::Number(n) => match num(n) {
                Num::Int(_) => ("integer", "int64", None),
                Num::Float(f) => ("number", "float64", Some(f)),
            },
            Value::Array(_) => ("array", "", None),
            Value::Object(_) => ("object", "", None),
            Value::Null => return,
        };
        let has = |t: &str| types.contains(&t);
        let is_float_int = sch_type == "number" && float.is_some_and(is_json_integer) && has("integer");
        let is_int_float = sch_type == "integer" && has("number");
        let string_or_array = matches!(value, Value::String(_) | Value::Array(_));
        if !string_or_array && !format.is_empty() && !(has(sch_type) || vformat == format || is_float_int || is_int_float) {
            self.type_error(name, format, vformat);
            return;
        }
        if !(has("number") || has("integer")) && !format.is_empty() && string_or_array {
            return;
        }
        if !(has(sch_type) || is_float_int || is_int_float) {
            self.type_error(name, &types.join(","), sch_type);
        }
    }

    fn string(&mut self, s: &Schema, text: &str, name: &str) {
        let chars = text.chars().count() as u64;
        if let Some(max) = s.max_length {
            if chars > max {
                self.errors.push(FieldError::too_long(self.field(name), max as i64));
                return;
            }
        }
        if let Some(min) = s.min_length {
            if chars < min {
                self.invalid(name, text, format!("{name} in body should be at least {min} chars long"));
                return;
            }
        }
        if let Some(pattern) = s.pattern {
            match compiled_regex(pattern) {
                Ok(re) if re.is_match(text) => {}
                Ok(_) => self.invalid(name, text, format!("{name} in body should match '{pattern}'")),
                Err(e) => {
                    self.invalid(name, text, format!("{name} in body should match '{pattern}, but pattern is invalid: {e}'"))
                }
            }
        }
    }

    fn number(&mut self, s: &Schema, n: Num, name: &str) {
        let value = match n {
            Num::Int(i) => Value::from(i),
            Num::Float(f) => Value::from(f),
        };
        let data = match n {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        };
        if let Some(factor) = s.multiple_of {
            match n {
                Num::Int(i) if factor as i64 != 0 => {
                    let f = factor as i64;
                    if factor >= 0.0 && (i / f) * f != i {
                        self.invalid(name, value.clone(), format!("{name} in body should be a multiple of {f}"));
                    }
                }
                _ => {
                    if factor < 0.0 {
                        self.invalid(
                            name,
                            factor,
                            format!("factor MultipleOf declared for {name} must be positive: {}", go::format_float(factor)),
                        );
                    } else {
                        let mult = if factor < 1.0 { 1.0 / factor * data } else { data / factor };
                        if !is_json_integer(mult) {
                            let detail = format!("{name} in body should be a multiple of {}", go::format_float(factor));
                            self.invalid(name, value.clone(), detail);
                        }
                    }
                }
            }
        }
        if let Some(min) = s.minimum {
            let (fails, bound) = match n {
                Num::Int(i) => {
                    let m = min as i64;
                    (if s.exclusive_minimum { i <= m } else { i < m }, m.to_string())
                }
                Num::Float(f) => (if s.exclusive_minimum { f <= min } else { f < min }, go::format_float(min)),
            };
            if fails {
                let op = if s.exclusive_minimum { "greater than" } else { "greater than or equal to" };
                self.invalid(name, value.clone(), format!("{name} in body should be {op} {bound}"));
            }
        }
        if let Some(max) = s.maximum {
            let (fails, bound) = match n {
                Num::Int(i) => {
                    let m = max as i64;
                    (if s.exclusive_maximum { i >= m } else { i > m }, m.to_string())
                }
                Num::Float(f) => (if s.exclusive_maximum { f >= max } else { f > max }, go::format_float(max)),
            };
            if fails {
                let op = if s.exclusive_maximum { "less than" } else { "less than or equal to" };
                self.invalid(name, value, format!("{name} in body should be {op} {bound}"));
            }
        }
    }

    fn array(&mut self, s: &Schema, items: &[Value], name: &str) {
        if let Some(item_schema) = s.items() {
            for (i, item) in items.iter().enumerate() {
                self.node(item_schema, item, &format!("{name}[{i}]"));
            }
        }
        let len = items.len() as u64;
        if let Some(min) = s.min_items {
            if len < min {
                self.invalid(name, len, format!("{name} in body should have at least {min} items"));
            }
        }
        if let Some(max) = s.max_items {
            if len > max {
                self.errors.push(FieldError::too_many(self.field(name), len as i64, max as i64));
            }
        }
        if s.unique_items {
            let dup = items.iter().enumerate().any(|(i, a)| items[..i].iter().any(|b| deep_equal(a, b)));
            if dup {
                self.invalid(name, "", format!("{name} in body shouldn't contain duplicates"));
            }
        }
    }

    fn enumeration(&mut self, s: &Schema, value: &Value, name: &str) {
        if s.enum_values.is_empty() {
            return;
        }
        let allowed = s.enum_list();
        if !value.is_null() && allowed.iter().any(|e| enum_matches(value, e)) {
            return;
        }
        let shown: Vec<String> = allowed
            .iter()
            .map(|e| match e {
                Value::String(t) => t.clone(),
                other => go::json(other),
            })
            .collect();
        self.errors.push(FieldError::not_supported(self.field(name), value.clone(), &shown));
    }

    fn object(&mut self, s: &Schema, map: &Map<String, Value>, name: &str) {
        let count = map.len() as u64;
        if let Some(min) = s.min_properties {
            if count < min {
                self.invalid(name, count, format!("{name} in body should have at least {min} properties"));
                return;
            }
        }
        if let Some(max) = s.max_properties {
            if count > max {
                self.errors.push(FieldError::too_many(self.field(name), count as i64, max as i64));
                return;
            }
        }
        if let Some(additional) = s.additional_properties() {
            for (k, v) in map {
                if s.property(k).is_none() {
                    self.node(additional, v, &format!("{name}.{k}"));
                }
            }
        }
        let Some(obj) = s.object() else {
            return;
        };
        for (prop, prop_schema) in obj.properties {
            if let Some(v) = map.get(*prop) {
                let child = if name.is_empty() { (*prop).to_string() } else { format!("{name}.{prop}") };
                self.node(prop_schema, v, &child);
            }
        }
        for req in obj.required {
            if !map.contains_key(*req) {
                let field = self.field(&format!("{name}.{req}"));
                self.errors.push(FieldError::required(field, ""));
            }
        }
    }
}

/// `reflect.DeepEqual` on decoded JSON: int64 and float64 numbers never compare equal.
fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (num(x), num(y)) {
            (Num::Int(p), Num::Int(q)) => p == q,
            (Num::Float(p), Num::Float(q)) => p == q,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| deep_equal(p, q)))
        }
        _ => a == b,
    }
}

/// kube-openapi's enum match: equal, or equal after Go's reflect conversion to the enum value's type.
fn enum_matches(data: &Value, allowed: &Value) -> bool {
    if deep_equal(data, allowed) {
        return true;
    }
    match (data, allowed) {
        (Value::Number(d), Value::Number(e)) => match (num(d), num(e)) {
            (Num::Int(i), Num::Float(f)) => (i as f64) == f,
            (Num::Float(f), Num::Int(i)) => (f as i64) == i,
            _ => false,
        },
        // Go converts an integer to a string as the rune it encodes.
        (Value::Number(d), Value::String(e)) => match num(d) {
            Num::Int(i) => {
                let c = u32::try_from(i).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
                e.chars().eq(std::iter::once(c))
            }
            Num::Float(_) => false,
        },
        _ => false,
    }
}

/// `objectmeta.Validate` below the root: embedded resources need `apiVersion`, `kind` and valid metadata.
fn embedded(s: &Schema, value: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(map) => {
            if s.embedded_resource {
                embedded_resource(map, path, errors);
            }
            for (k, v) in map {
                if let Some(p) = s.property(k) {
                    embedded(p, v, &path.child(k), errors);
                } else if let Some(a) = s.additional_properties() {
                    embedded(a, v, &path.key(k), errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.items() {
                for (i, v) in items.iter().enumerate() {
                    embedded(item_schema, v, &path.index(i), errors);
                }
            }
        }
        _ => {}
    }
}

fn embedded_resource(map: &Map<String, Value>, path: &Path, errors: &mut Vec<FieldError>) {
    if !map.contains_key("apiVersion") {
        errors.push(FieldError::required(path.child("apiVersion"), ""));
    }
    if !map.contains_key("kind") {
        errors.push(FieldError::required(path.child("kind"), ""));
    }
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" => match v.as_str() {
                None => errors.push(FieldError::invalid(path.child("apiVersion"), v.clone(), "must be a string")),
                Some("") => errors.push(FieldError::required(path.child("apiVersion"), "")),
                Some(av) if av.matches('/').count() > 1 => errors.push(FieldError::invalid(
                    path.child("apiVersion"),
                    av,
                    format!("unexpected GroupVersion string: {av}"),
                )),
                Some(_) => {}
            },
            "kind" => match v.as_str() {
                None => errors.push(FieldError::invalid(path.child("kind"), v.clone(), "must be a string")),
                Some("") => errors.push(FieldError::required(path.child("kind"), "")),
                Some(kind) => {
                    let msgs = is_dns1035_label(&kind.to_lowercase());
                    if !msgs.is_empty() {
                        errors.push(FieldError::invalid(
                            path.child("kind"),
                            kind,
                            format!("may have mixed case, but should otherwise match: {}", msgs.join(",")),
                        ));
                    }
                }
            },
            "metadata" => match serde_json::from_value::<ObjectMeta>(v.clone()) {
                Err(e) => errors.push(FieldError::invalid(path.child("metadata"), v.clone(), e.to_string())),
                Ok(mut meta) => {
                    if meta.name.is_empty() {
                        meta.name = "fakename".to_string();
                    }
                    let namespaced = !meta.namespace.is_empty();
                    errors.extend(validate_object_meta(&meta, namespaced, validate_path_segment_name, &path.child("metadata")));
                }
            },
            _ => {}
        }
    }
}

/// `listtype.ValidateListSetsAndMaps`.
fn lists(s: &Schema, value: &Value, path: &Path, errors: &mut Vec<FieldError>) {
    match value {
        Value::Object(map) => {
            if let Some(a) = s.additional_properties() {
                for (k, v) in map {
                    if s.property(k).is_none() {
                        lists(a, v, &path.key(k), errors);
                    }
                }
            }
            for (k, v) in map {
                if let Some(p) = s.property(k) {
                    lists(p, v, &path.child(k), errors);
                }
            }
        }
        Value::Array(items) => {
            match s.list_type {
                ListType::Set => {
                    for i in non_unique(items.iter().map(SetKey::of)) {
                        errors.push(FieldError::duplicate(path.index(i), items[i].clone()));
                    }
                }
                ListType::Map(keys) => list_map(keys, items, path, errors),
                ListType::Atomic => {}
            }
            if let Some(item_schema) = s.items() {
                for (i, v) in items.iter().enumerate() {
                    lists(item_schema, v, &path.index(i), errors);
                }
            }
        }
        _ => {}
    }
}

/// A comparable key for set semantics: scalars by type and value, compounds by their JSON.
#[derive(PartialEq, Eq, Hash)]
enum SetKey {
    Unspecified,
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Compound(String),
}

impl SetKey {
    fn of(v: &Value) -> SetKey {
        match v {
            Value::Null => SetKey::Null,
            Value::Bool(b) => SetKey::Bool(*b),
            Value::Number(n) => match num(n) {
                Num::Int(i) => SetKey::Int(i),
                Num::Float(f) => SetKey::Float(if f == 0.0 { 0 } else { f.to_bits() }),
            },
            Value::String(s) => SetKey::Str(s.clone()),
            other => SetKey::Compound(go::json(other)),
        }
    }
}

/// Indices of the first repeated appearance of each non-unique key (`validateListSet`).
fn non_unique(keys: impl Iterator<Item = SetKey>) -> Vec<usize> {
    let mut seen: HashMap<SetKey, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, k) in keys.enumerate() {
        let times = seen.entry(k).or_insert(0);
        if *times == 1 {
            out.push(i);
        }
        *times += 1;
    }
    out
}

fn list_map(keys: &[&str], items: &[Value], path: &Path, errors: &mut Vec<FieldError>) {
    for (i, x) in items.iter().enumerate() {
        if !x.is_null() && !x.is_object() {
            errors.push(FieldError::invalid(path.index(i), x.clone(), "must be an object for an array of list-type map"));
            return;
        }
    }
    if items.len() <= 1 {
        return;
    }
    if let [key] = keys {
        let values: Vec<Option<&Value>> = items.iter().map(|x| x.as_object().and_then(|m| m.get(*key))).collect();
        let dup = non_unique(values.iter().map(|v| v.map_or(SetKey::Unspecified, SetKey::of)));
        for i in dup {
            let mut shown = Map::new();
            if let Some(v) = values[i] {
                shown.insert((*key).to_string(), v.clone());
            }
            errors.push(FieldError::duplicate(path.index(i), Value::Object(shown)));
        }
        return;
    }
    let key_maps: Vec<Value> = items
        .iter()
        .map(|x| {
            let mut m = Map::new();
            if let Some(obj) = x.as_object() {
                for k in keys {
                    if let Some(v) = obj.get(*k) {
                        m.insert((*k).to_string(), v.clone());
                    }
                }
            }
            Value::Object(m)
        })
        .collect();
    for i in non_unique(key_maps.iter().map(SetKey::of)) {
        errors.push(FieldError::duplicate(path.index(i), key_maps[i].clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::{ObjectSchema, Type};
    use serde_json::json;

    static PORT: ObjectSchema = ObjectSchema {
        name: "Port",
        properties: &[
            ("name", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("port", Schema { ty: Type::Integer, format: Some("int32"), ..Schema::DEFAULT }),
        ],
        required: &["port"],
        ..ObjectSchema::DEFAULT
    };
    static SPEC: ObjectSchema = ObjectSchema {
        name: "Spec",
        properties: &[
            ("containers", Schema { ty: Type::Array(&Schema { ty: Type::Object(&PORT), ..Schema::DEFAULT }), min_items: Some(1), ..Schema::DEFAULT }),
            ("created", Schema { ty: Type::String, format: Some("date-time"), ..Schema::DEFAULT }),
            ("labels", Schema { ty: Type::Map(&Schema { ty: Type::String, max_length: Some(3), ..Schema::DEFAULT }), max_properties: Some(2), ..Schema::DEFAULT }),
            ("name", Schema { ty: Type::String, min_length: Some(2), max_length: Some(5), pattern: Some("^[a-z]+$"), ..Schema::DEFAULT }),
            ("ports", Schema { ty: Type::Array(&Schema { ty: Type::Object(&PORT), ..Schema::DEFAULT }), list_type: ListType::Map(&["port"]), max_items: Some(3), ..Schema::DEFAULT }),
            ("ratio", Schema { ty: Type::Number, maximum: Some(1.5), exclusive_maximum: true, multiple_of: Some(0.5), ..Schema::DEFAULT }),
            ("replicas", Schema { ty: Type::Integer, minimum: Some(0.0), multiple_of: Some(2.0), ..Schema::DEFAULT }),
            ("restartPolicy", Schema { ty: Type::String, enum_values: &["\"Always\"", "\"Never\"", "\"OnFailure\""], ..Schema::DEFAULT }),
            ("size", Schema { ty: Type::Any, int_or_string: true, ..Schema::DEFAULT }),
            ("tags", Schema { ty: Type::Array(&Schema { ty: Type::String, ..Schema::DEFAULT }), list_type: ListType::Set, unique_items: false, ..Schema::DEFAULT }),
            ("template", Schema { ty: Type::Any, preserve_unknown_fields: true, embedded_resource: true, ..Schema::DEFAULT }),
            ("x", Schema { ty: Type::Integer, ..Schema::DEFAULT }),
        ],
        required: &["containers"],
        ..ObjectSchema::DEFAULT
    };
    static ROOT_OBJ: ObjectSchema = ObjectSchema {
        name: "Root",
        properties: &[
            ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("metadata", Schema { ty: Type::Object(&ObjectSchema::DEFAULT), ..Schema::DEFAULT }),
            ("spec", Schema { ty: Type::Object(&SPEC), ..Schema::DEFAULT }),
        ],
        required: &["spec"],
        ..ObjectSchema::DEFAULT
    };
    static ROOT: Schema = Schema { ty: Type::Object(&ROOT_OBJ), ..Schema::DEFAULT };

    fn errs(spec: Value) -> Vec<String> {
        validate(&ROOT, &json!({"spec": spec}), "").iter().map(ToString::to_string).collect()
    }

    fn one(spec: Value) -> String {
        let e = errs(spec.clone());
        assert_eq!(e.len(), 1, "{spec}: {e:?}");
        e[0].clone()
    }

    const C: &str = r#"[{"port":1}]"#;

    fn with(extra: Value) -> Value {
        let mut spec = json!({"containers": serde_json::from_str::<Value>(C).unwrap_or_default()});
        if let (Some(m), Value::Object(e)) = (spec.as_object_mut(), extra) {
            m.extend(e);
        }
        spec
    }

    #[test]
    fn valid_object_has_no_errors() {
        assert!(errs(with(json!({"name": "abc", "replicas": 4, "size": "10%", "ratio": 1.0}))).is_empty());
        assert!(errs(with(json!({"size": 3, "created": "2026-01-01T00:00:00Z"}))).is_empty());
    }

    #[test]
    fn required_and_types() {
        assert_eq!(validate(&ROOT, &json!({}), "")[0].to_string(), "spec: Required value");
        assert_eq!(one(json!({})), "spec.containers: Required value");
        assert_eq!(one(json!({"containers": [{}]})), "spec.containers[0].port: Required value");
        assert_eq!(one(with(json!({"x": "string"}))), r#"spec.x: Invalid value: "string": spec.x in body must be of type integer: "string""#);
        assert_eq!(one(with(json!({"x": 1.5}))), r#"spec.x: Invalid value: "number": spec.x in body must be of type integer: "number""#);
        assert!(errs(with(json!({"x": 2.0}))).is_empty());
        assert_eq!(
            one(json!({"containers": [{"port": 1.5}]})),
            r#"spec.containers[0].port: Invalid value: "float64": spec.containers[0].port in body must be of type int32: "float64""#
        );
        assert_eq!(one(with(json!({"size": true}))), r#"spec.size: Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean""#);
        assert_eq!(one(with(json!({"x": null}))), r#"spec.x: Invalid value: "null": spec.x in body must be of type integer: "null""#);
        assert_eq!(one(with(json!({"created": 5}))), r#"spec.created: Invalid value: "int64": spec.created in body must be of type date-time: "int64""#);
    }

    #[test]
    fn bounds_and_strings() {
        assert_eq!(one(with(json!({"replicas": -2}))), "spec.replicas: Invalid value: -2: spec.replicas in body should be greater than or equal to 0");
        assert_eq!(one(with(json!({"replicas": 3}))), "spec.replicas: Invalid value: 3: spec.replicas in body should be a multiple of 2");
        assert_eq!(one(with(json!({"ratio": 1.5}))), "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5");
        assert_eq!(one(with(json!({"ratio": 0.7}))), "spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5");
        assert_eq!(one(with(json!({"name": "abcdef"}))), "spec.name: Too long: may not be more than 5 bytes");
        assert_eq!(one(with(json!({"name": "a"}))), r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#);
        assert_eq!(one(with(json!({"name": "AB"}))), r#"spec.name: Invalid value: "AB": spec.name in body should match '^[a-z]+$'"#);
        assert!(errs(with(json!({"name": "ééééé"}))).len() == 1, "pattern, not length: runes are counted");
        assert_eq!(
            one(with(json!({"restartPolicy": "Sometimes"}))),
            r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure""#
        );
        assert_eq!(one(with(json!({"created": "yesterday"}))), r#"spec.created: Invalid value: "yesterday": spec.created in body must be of type date-time: "yesterday""#);
        assert_eq!(one(with(json!({"labels": {"a": "long!"}}))), "spec.labels.a: Too long: may not be more than 3 bytes");
        assert_eq!(one(with(json!({"labels": {"a": "1", "b": "2", "c": "3"}}))), "spec.labels: Too many: 3: must have at most 2 items");
        assert_eq!(one(json!({"containers": []})), "spec.containers: Invalid value: 0: spec.containers in body should have at least 1 items");
    }

    #[test]
    fn list_types() {
        assert_eq!(
            one(with(json!({"ports": [{"port": 80}, {"port": 80, "name": "x"}]}))),
            r#"spec.ports[1]: Duplicate value: {"port":80}"#
        );
        assert_eq!(one(with(json!({"tags": ["a", "b", "a", "a"]}))), r#"spec.tags[2]: Duplicate value: "a""#);
        assert_eq!(
            one(with(json!({"ports": [{"port": 1}, {"port": 2}, {"port": 3}, {"port": 4}]}))),
            "spec.ports: Too many: 4: must have at most 3 items"
        );
    }

    #[test]
    fn embedded_resources() {
        let e = errs(with(json!({"template": {"metadata": {"name": "a/b"}}})));
        assert_eq!(
            e,
            vec![
                "spec.template.apiVersion: Required value".to_string(),
                "spec.template.kind: Required value".to_string(),
                r#"spec.template.metadata.name: Invalid value: "a/b": may not contain '/'"#.to_string(),
            ]
        );
        assert!(errs(with(json!({"template": {"apiVersion": "v1", "kind": "Pod", "anything": 1}}))).is_empty());
    }

    #[test]
    fn prefix_paths() {
        let s = Schema { ty: Type::Object(&SPEC), ..Schema::DEFAULT };
        let e = validate(&s, &json!({"containers": [], "replicas": -2}), "spec");
        assert_eq!(e[0].field, "spec.containers");
        assert_eq!(e[1].to_string(), "spec.replicas: Invalid value: -2: replicas in body should be greater than or equal to 0");
    }
}
