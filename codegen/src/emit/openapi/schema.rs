//! Schemas: IR types → OpenAPI v3 definitions (v2 is derived from these by `to_v2_schema`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::{embedded_definitions, order_schema, V3_REF};
use crate::model::{wellknown, Kind, Model, NamedType, Object, Schema, Ty};

/// ObjectMeta's definition name.
pub(super) const OBJECT_META: &str = wellknown::OBJECT_META;
/// ListMeta's definition name.
const LIST_META: &str = wellknown::LIST_META;

const API_VERSION_DESC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DESC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const OBJECT_META_DESC: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const LIST_META_DESC: &str = "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
// apiextensions-apiserver's texts for the fields it adds to `x-kubernetes-embedded-resource` objects.
const EMBEDDED_API_VERSION_DESC: &str = "apiVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND_DESC: &str = "kind is a string value representing the type of this object. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

/// Where a schema is used: a property carries use-site keys next to a `$ref`; items and map values
/// are a bare `$ref`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    Property,
    Item,
    Value,
}

/// Facts about a named type gathered from all its use sites.
#[derive(Default)]
struct TypeFacts {
    /// `x-kubernetes-map-type` of the definition: the value most use sites carry.
    map_type: Option<String>,
}

/// Renders definitions from the model.
pub(super) struct Renderer<'a> {
    pub(super) model: &'a Model,
    facts: BTreeMap<String, TypeFacts>,
    /// List definition name → its kind.
    lists: BTreeMap<String, &'a Kind>,
    /// Root definition name → the served kinds using it.
    roots: BTreeMap<String, Vec<&'a Kind>>,
}

/// Whether a kind is built in (published like kube-apiserver's own types: its definition is under
/// `io.k8s.api.`) or CRD-style (published like apiextensions-apiserver publishes a CRD).
pub(super) fn is_builtin(k: &Kind) -> bool {
    k.definition.starts_with("io.k8s.api.")
}

/// `io.k8s.api.core.v1.Pod` → `io.k8s.api.core.v1.PodList`; `com.example.v1.Widget` → `com.example.v1.WidgetList`.
pub(super) fn list_definition_name(k: &Kind) -> String {
    match k.definition.rsplit_once('.') {
        Some((prefix, _)) => format!("{prefix}.{}", k.list_kind),
        None => k.list_kind.clone(),
    }
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("{V3_REF}{name}")})
}

fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

/// Drops kapi's own `x-kapi-*` keys from carried-through values (`allOf`, `example`, ...).
fn strip_kapi(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(k, _)| !k.starts_with("x-kapi-")).map(|(k, x)| (k.clone(), strip_kapi(x))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(strip_kapi).collect()),
        other => other.clone(),
    }
}

fn gvk(group: &str, kind: &str, version: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

impl<'a> Renderer<'a> {
    pub(super) fn new(model: &'a Model) -> Self {
        let mut r = Renderer { model, facts: BTreeMap::new(), lists: BTreeMap::new(), roots: BTreeMap::new() };
        for k in model.kinds.iter().filter(|k| k.served) {
            if !k.create_only() {
                r.lists.insert(list_definition_name(k), k);
            }
            r.roots.entry(k.definition.clone()).or_default().push(k);
        }
        // Use sites of every named type, for the definition-level facts.
        let mut map_types: BTreeMap<String, BTreeMap<Option<String>, usize>> = BTreeMap::new();
        fn visit(s: &Schema, map_types: &mut BTreeMap<String, BTreeMap<Option<String>, usize>>) {
            match &s.ty {
                Ty::Named(n) => {
                    *map_types.entry(n.clone()).or_default().entry(s.map_type.clone()).or_default() += 1;
                }
                Ty::Array(i) | Ty::Map(i) => visit(i, map_types),
                _ => {}
            }
        }
        for t in model.types.values() {
            if let Some(o) = t.object() {
                for s in o.properties.values() {
                    visit(s, &mut map_types);
                }
            }
        }
        for t in model.types.values().filter(|t| t.well_known.is_none() && !t.inline) {
            let own = t.schema.map_type.clone();
            let map_type = match map_types.get(&t.name) {
                Some(counts) => {
                    let own_count = counts.get(&own).copied().unwrap_or(0);
                    counts.iter().filter(|(_, c)| **c > own_count).max_by_key(|(_, c)| **c).map(|(m, _)| m.clone()).unwrap_or(own)
                }
                None => own,
            };
            r.facts.insert(t.name.clone(), TypeFacts { map_type });
        }
        r
    }

    fn model_type(&self, name: &str) -> Option<(&'a NamedType, &'a Object)> {
        let t = self.model.types.get(name)?;
        if t.well_known.is_some() || t.inline {
            return None;
        }
        Some((t, t.object()?))
    }

    /// Whether `name` can be `$ref`ed (the document will hold its definition).
    pub(super) fn has_definition(&self, name: &str) -> bool {
        self.lists.contains_key(name) || self.model_type(name).is_some() || wellknown::definition(name).is_some() || embedded_definitions().contains_key(name)
    }

    /// The definitions reachable from `roots`, sorted, in v3 form. `gvs` are the non-core
    /// group-versions the document covers (listed in DeleteOptions' and WatchEvent's GVKs).
    pub(super) fn closure(&self, roots: BTreeSet<String>, gvs: &[(String, String)]) -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        let mut todo: Vec<String> = roots.into_iter().collect();
        while let Some(name) = todo.pop() {
            if out.contains_key(&name) {
                continue;
            }
            let Some(def) = self.definition(&name, gvs) else { continue };
            let mut refs = BTreeSet::new();
            super::collect_refs(&def, V3_REF, &mut refs);
            todo.extend(refs.into_iter().filter(|r| !out.contains_key(r)));
            out.insert(name, def);
        }
        out
    }

    /// One definition (v3 form, keys in upstream's order).
    pub(super) fn definition(&self, name: &str, gvs: &[(String, String)]) -> Option<Value> {
        let mut def = if let Some(k) = self.lists.get(name) {
            self.list_definition(k)
        } else if let Some((t, o)) = self.model_type(name) {
            self.type_definition(t, o)
        } else if let Some(d) = wellknown::definition(name) {
            let mut d = d.clone();
            expand_gvk(&mut d, gvs);
            d
        } else {
            embedded_definitions().get(name)?.clone()
        };
        order_schema(&mut def, false);
        Some(def)
    }

    fn type_definition(&self, t: &NamedType, o: &Object) -> Value {
        let facts = self.facts.get(&t.name);
        let mut m = Map::new();
        // The type's own description; where it is used as a property, the use's text stays there.
        if let Some(d) = &t.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("type".into(), json!("object"));
        self.object_body(o, &mut m);
        // Type-level keys only: use-site ones (default, patch strategy, list type) stay at the uses.
        let s = &t.schema;
        if let Some(n) = s.min_properties {
            m.insert("minProperties".into(), json!(n));
        }
        if let Some(n) = s.max_properties {
            m.insert("maxProperties".into(), json!(n));
        }
        if s.nullable {
            m.insert("nullable".into(), json!(true));
        }
        if let Some(mt) = facts.map(|f| f.map_type.clone()).unwrap_or_else(|| s.map_type.clone()) {
            m.insert("x-kubernetes-map-type".into(), json!(mt));
        }
        if s.preserve_unknown_fields {
            m.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
        }
        if s.embedded_resource {
            m.insert("x-kubernetes-embedded-resource".into(), json!(true));
            add_embedded_properties(&mut m);
        }
        if !s.rules.is_empty() {
            m.insert("x-kubernetes-validations".into(), serde_json::to_value(&s.rules).unwrap_or_default());
        }
        for (k, v) in &s.extra {
            m.insert(k.clone(), strip_kapi(v));
        }
        if let Some(kinds) = self.roots.get(&t.name) {
            let builtin = kinds.iter().all(|k| is_builtin(k));
            root_properties(&mut m, builtin);
            let mut gvks: Vec<(String, String, String)> = kinds.iter().map(|k| (k.group.clone(), k.kind.clone(), k.version.clone())).collect();
            gvks.sort();
            gvks.dedup();
            m.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks.iter().map(|(g, k, v)| gvk(g, k, v)).collect()));
        } else if let Some((group, version, kind)) = self.unserved_kind(t, o) {
            // Upstream marks every registered kind, served here or not (a StatefulSet's
            // PersistentVolumeClaim templates).
            m.insert("x-kubernetes-group-version-kind".into(), json!([gvk(&group, &kind, &version)]));
        }
        Value::Object(m)
    }

    /// A built-in type that is a kind kapi does not serve: `io.k8s.api.<package>.<version>.<Kind>`
    /// with apiVersion, kind and ObjectMeta metadata, in a package whose group a served kind names.
    fn unserved_kind(&self, t: &NamedType, o: &Object) -> Option<(String, String, String)> {
        let rest = t.name.strip_prefix("io.k8s.api.")?;
        let mut parts = rest.split('.');
        let (package, version, kind) = (parts.next()?, parts.next()?, parts.next()?);
        let is_object_meta = |s: &Schema| matches!(&s.ty, Ty::Named(n) if n == OBJECT_META);
        if parts.next().is_some() || !o.properties.contains_key("apiVersion") || !o.properties.contains_key("kind") || !o.properties.get("metadata").is_some_and(is_object_meta) {
            return None;
        }
        let prefix = format!("io.k8s.api.{package}.");
        let group = self.model.kinds.iter().find(|k| k.definition.starts_with(&prefix))?.group.clone();
        Some((group, version.to_string(), kind.to_string()))
    }

    /// `<Kind>List`, as kube-apiserver and apiextensions-apiserver publish lists; the texts default
    /// to apiextensions-apiserver's (built-in kinds carry upstream's in `x-kapi-list`).
    fn list_definition(&self, k: &Kind) -> Value {
        let texts = &k.list;
        let description = texts.description.clone().unwrap_or_else(|| format!("{} is a list of {}", k.list_kind, k.kind));
        let items_description = texts
            .items_description
            .clone()
            .unwrap_or_else(|| format!("List of {}. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md", k.plural));
        let mut metadata = Map::new();
        metadata.insert("description".into(), json!(texts.metadata_description.as_deref().unwrap_or(LIST_META_DESC)));
        if is_builtin(k) {
            metadata.insert("default".into(), json!({}));
        }
        metadata.insert("allOf".into(), json!([reference(LIST_META)]));
        json!({
            "description": description,
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"description": API_VERSION_DESC, "type": "string"},
                "items": {
                    "description": items_description,
                    "type": "array",
                    "items": reference(&k.definition),
                },
                "kind": {"description": KIND_DESC, "type": "string"},
                "metadata": metadata,
            },
            "x-kubernetes-group-version-kind": [gvk(&k.group, &k.list_kind, &k.version)],
        })
    }

    fn object_body(&self, o: &Object, m: &mut Map<String, Value>) {
        if !o.required.is_empty() {
            m.insert("required".into(), json!(o.required));
        }
        if !o.properties.is_empty() {
            let props: Map<String, Value> = o.properties.iter().map(|(k, s)| (k.clone(), self.render_use(s, Pos::Property))).collect();
            m.insert("properties".into(), Value::Object(props));
        }
    }

    /// The definition-level map type of a named type.
    fn def_map_type(&self, name: &str) -> Option<String> {
        match self.facts.get(name) {
            Some(f) => f.map_type.clone(),
            None => wellknown::definition(name).and_then(|d| d.get("x-kubernetes-map-type")).and_then(Value::as_str).map(str::to_string),
        }
    }

    fn render_use(&self, s: &Schema, pos: Pos) -> Value {
        let Ty::Named(name) = &s.ty else { return self.render_plain(s) };
        if let Some(t) = self.model.types.get(name).filter(|t| t.inline) {
            // An unnamed nested object: inline, with the use site's keys (it has exactly one use).
            let mut inline = s.clone();
            inline.ty = t.schema.ty.clone();
            return self.render_plain(&inline);
        }
        if !self.has_definition(name) {
            // A well-known type without a published definition: keep what the use site says.
            let mut plain = s.clone();
            plain.ty = Ty::Any;
            return self.render_plain(&plain);
        }
        let r = reference(name);
        if pos != Pos::Property {
            return r;
        }
        let mut m = Map::new();
        if let Some(d) = &s.description {
            m.insert("description".into(), json!(d));
        }
        if let Some(d) = &s.default {
            m.insert("default".into(), d.clone());
        }
        if s.map_type.is_some() && s.map_type != self.def_map_type(name) {
            m.insert("x-kubernetes-map-type".into(), json!(s.map_type));
        }
        if let Some(p) = &s.patch_strategy {
            m.insert("x-kubernetes-patch-strategy".into(), json!(p));
        }
        if let Some(p) = &s.patch_merge_key {
            m.insert("x-kubernetes-patch-merge-key".into(), json!(p));
        }
        if m.is_empty() {
            return r;
        }
        m.insert("allOf".into(), json!([r]));
        Value::Object(m)
    }

    /// A schema that is not a `$ref`: its own keys plus its type's shape.
    fn render_plain(&self, s: &Schema) -> Value {
        let mut m = Map::new();
        common_keys(s, &mut m);
        match &s.ty {
            Ty::Any => {
                if s.embedded_resource {
                    m.insert("type".into(), json!("object"));
                    add_embedded_properties(&mut m);
                }
            }
            Ty::FreeObject => {
                m.insert("type".into(), json!("object"));
            }
            Ty::String => {
                m.insert("type".into(), json!("string"));
            }
            Ty::Integer => {
                m.insert("type".into(), json!("integer"));
            }
            Ty::Number => {
                m.insert("type".into(), json!("number"));
            }
            Ty::Boolean => {
                m.insert("type".into(), json!("boolean"));
            }
            Ty::IntOrString => {
                m.insert("x-kubernetes-int-or-string".into(), json!(true));
            }
            Ty::Array(items) => {
                m.insert("type".into(), json!("array"));
                m.insert("items".into(), self.render_use(items, Pos::Item));
            }
            Ty::Map(v) => {
                m.insert("type".into(), json!("object"));
                let ap = if **v == Schema::default() { json!(true) } else { self.render_use(v, Pos::Value) };
                m.insert("additionalProperties".into(), ap);
            }
            Ty::Object(o) => {
                m.insert("type".into(), json!("object"));
                self.object_body(o, &mut m);
                if s.embedded_resource {
                    add_embedded_properties(&mut m);
                }
            }
            Ty::Named(_) => {}
        }
        Value::Object(m)
    }
}

/// A schema node's own keys (not its type's shape).
fn common_keys(s: &Schema, m: &mut Map<String, Value>) {
    if let Some(d) = &s.description {
        m.insert("description".into(), json!(d));
    }
    if s.nullable {
        m.insert("nullable".into(), json!(true));
    }
    if let Some(f) = &s.format {
        m.insert("format".into(), json!(f));
    }
    if let Some(d) = &s.default {
        m.insert("default".into(), d.clone());
    }
    if let Some(x) = s.maximum {
        m.insert("maximum".into(), num(x));
    }
    if s.exclusive_maximum {
        m.insert("exclusiveMaximum".into(), json!(true));
    }
    if let Some(x) = s.minimum {
        m.insert("minimum".into(), num(x));
    }
    if s.exclusive_minimum {
        m.insert("exclusiveMinimum".into(), json!(true));
    }
    for (key, v) in [
        ("maxLength", s.max_length),
        ("minLength", s.min_length),
        ("maxItems", s.max_items),
        ("minItems", s.min_items),
        ("maxProperties", s.max_properties),
        ("minProperties", s.min_properties),
    ] {
        if let Some(n) = v {
            m.insert(key.into(), json!(n));
        }
    }
    if let Some(p) = &s.pattern {
        m.insert("pattern".into(), json!(p));
    }
    if s.unique_items {
        m.insert("uniqueItems".into(), json!(true));
    }
    if let Some(x) = s.multiple_of {
        m.insert("multipleOf".into(), num(x));
    }
    if !s.enum_values.is_empty() {
        m.insert("enum".into(), json!(s.enum_values));
    }
    if let Some(x) = &s.list_type {
        m.insert("x-kubernetes-list-type".into(), json!(x));
    }
    if !s.list_map_keys.is_empty() {
        m.insert("x-kubernetes-list-map-keys".into(), json!(s.list_map_keys));
    }
    if let Some(x) = &s.map_type {
        m.insert("x-kubernetes-map-type".into(), json!(x));
    }
    if let Some(x) = &s.patch_merge_key {
        m.insert("x-kubernetes-patch-merge-key".into(), json!(x));
    }
    if let Some(x) = &s.patch_strategy {
        m.insert("x-kubernetes-patch-strategy".into(), json!(x));
    }
    if s.preserve_unknown_fields {
        m.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    if s.embedded_resource {
        m.insert("x-kubernetes-embedded-resource".into(), json!(true));
    }
    if !s.rules.is_empty() {
        m.insert("x-kubernetes-validations".into(), serde_json::to_value(&s.rules).unwrap_or_default());
    }
    for (k, v) in &s.extra {
        m.insert(k.clone(), strip_kapi(v));
    }
}

fn sorted_properties(m: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let props = match m.remove("properties") {
        Some(Value::Object(p)) => p,
        _ => Map::new(),
    };
    let sorted: BTreeMap<String, Value> = props.into_iter().collect();
    m.insert("properties".into(), Value::Object(sorted.into_iter().collect()));
    match m.get_mut("properties") {
        Some(Value::Object(p)) => p,
        _ => unreachable!("just inserted"),
    }
}

/// A kind's root: upstream always publishes apiVersion, kind and metadata. Built-in kinds keep
/// their own texts (and ObjectMeta's `default: {}`); CRDs get apiextensions-apiserver's.
fn root_properties(m: &mut Map<String, Value>, builtin: bool) {
    let props = sorted_properties(m);
    let type_meta = |d: &str| json!({"description": d, "type": "string"});
    if builtin {
        props.entry("apiVersion").or_insert_with(|| type_meta(API_VERSION_DESC));
        props.entry("kind").or_insert_with(|| type_meta(KIND_DESC));
        let meta = props.entry("metadata").or_insert_with(|| json!({"description": OBJECT_META_DESC}));
        if let Value::Object(meta) = meta {
            if let Some(r) = meta.remove("$ref") {
                meta.insert("allOf".into(), json!([{"$ref": r}]));
            }
            if !meta.contains_key("allOf") {
                meta.insert("allOf".into(), json!([reference(OBJECT_META)]));
            }
            meta.entry("default").or_insert_with(|| json!({}));
        }
    } else {
        props.insert("apiVersion".into(), type_meta(API_VERSION_DESC));
        props.insert("kind".into(), type_meta(KIND_DESC));
        props.insert("metadata".into(), json!({"description": OBJECT_META_DESC, "allOf": [reference(OBJECT_META)]}));
    }
    sorted_properties(m);
}

/// apiextensions-apiserver's `addEmbeddedProperties` for `x-kubernetes-embedded-resource` objects.
fn add_embedded_properties(m: &mut Map<String, Value>) {
    let props = sorted_properties(m);
    props.insert("apiVersion".into(), json!({"description": EMBEDDED_API_VERSION_DESC, "type": "string"}));
    props.insert("kind".into(), json!({"description": EMBEDDED_KIND_DESC, "type": "string"}));
    props.insert("metadata".into(), json!({"description": OBJECT_META_DESC, "allOf": [reference(OBJECT_META)]}));
    sorted_properties(m);
    let mut required: Vec<Value> = m.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    for r in ["kind", "apiVersion"] {
        if !required.iter().any(|x| x == r) {
            required.push(json!(r));
        }
    }
    m.insert("required".into(), Value::Array(required));
}

/// DeleteOptions and WatchEvent are registered in every group-version: upstream lists the core one
/// and then each (non-core) group-version the document covers.
fn expand_gvk(def: &mut Value, gvs: &[(String, String)]) {
    let Some(Value::Array(list)) = def.get_mut("x-kubernetes-group-version-kind") else { return };
    let Some(kind) = list.first().and_then(|g| g.get("kind")).and_then(Value::as_str).map(str::to_string) else { return };
    if !matches!(kind.as_str(), "DeleteOptions" | "WatchEvent") {
        return;
    }
    for (g, v) in gvs {
        let entry = gvk(g, &kind, v);
        if !list.contains(&entry) {
            list.push(entry);
        }
    }
}
