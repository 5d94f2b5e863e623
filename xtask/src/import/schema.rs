//! Turning one upstream OpenAPI v3 definition into a self-contained structural CRD schema:
//! `$ref`s inlined (named with `x-kapi-type`), protobuf facts attached, keys in a stable order.
//!
//! Adjustments made so the result is a *structural* CRD schema (each is counted and printed):
//! 1. `oneOf`/`anyOf` whose branches are only `{type: string}` and `{type: integer|number}`
//!    (upstream's `Quantity` = oneOf [string, number] and `IntOrString` = oneOf [integer, string],
//!    the only two in the reference) become `x-kubernetes-int-or-string: true`: structural schemas
//!    forbid `type` inside `oneOf`/`anyOf` (they allow only the exact anyOf [integer, string]
//!    pattern next to int-or-string, which would add nothing). IntOrString keeps its upstream
//!    `format: int-or-string`; Quantity has no format upstream and gets none.
//! 2. `type: object` with neither `properties` nor `additionalProperties` (FieldsV1, RawExtension:
//!    arbitrary JSON upstream) gets `x-kubernetes-preserve-unknown-fields: true`; without it a
//!    structural schema would prune the content to `{}`.
//! 3. The root's `metadata` is `{type: object, x-kapi-type: ...ObjectMeta, description}` (a CRD's
//!    root metadata may not declare properties); its upstream `default: {}` is dropped too.
//! 4. `x-kubernetes-group-version-kind` is dropped everywhere (implied by the manifest).
//! 5. A `$ref` (or `allOf: [{$ref}]`) is replaced by the definition; keys next to it (description,
//!    default, x-kubernetes-patch-strategy, x-kubernetes-map-type) are use-site facts and
//!    override the definition's own. So two subschemas with the same `x-kapi-type` are identical
//!    except for these use-site keys and the parent's `x-kapi-proto*` numbers.
//! 6. Where such a use's description is not the definition's own, the definition's is kept as
//!    `x-kapi-type-description` (right after `description`), so the OpenAPI emitter can publish the
//!    type's text on its definition and the property's text at the use, as upstream does.

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub(super) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const TIME: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
const PROTO_TIME: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
const PROTO_INT_OR_STRING: &str = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";

/// Keys a use site may set next to a `$ref`; they override the definition's.
const USE_SITE_KEYS: &[&str] = &[
    "description",
    "default",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-map-type",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
];

/// Value-validation keys, in their output order.
const VALIDATION_KEYS: &[&str] = &[
    "nullable",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
];

/// Upstream protobuf facts: `packages[<pkg>][<Message>].fields[]` from reference/proto/fields.json.
pub(super) struct Proto {
    pub(super) packages: Map<String, Value>,
}

impl Proto {
    /// The fields of a fully qualified message (`k8s.io.api.core.v1.PodSpec`), if it exists.
    pub(super) fn message(&self, full: &str) -> Option<&Vec<Value>> {
        let (pkg, msg) = full.rsplit_once('.')?;
        self.packages.get(pkg)?.get(msg)?.get("fields")?.as_array()
    }
}

/// `io.k8s.api.core.v1.PodSpec` -> `k8s.io.api.core.v1.PodSpec` (the upstream proto message).
pub(super) fn message_name(definition: &str) -> Option<String> {
    definition
        .strip_prefix("io.k8s.")
        .map(|rest| format!("k8s.io.{rest}"))
}

/// `k8s.io.api.core.v1.PodSpec` -> `io.k8s.api.core.v1.PodSpec`.
pub(super) fn definition_name(message: &str) -> Option<String> {
    message
        .strip_prefix("k8s.io.")
        .map(|rest| format!("io.k8s.{rest}"))
}

/// What the import saw, for the summary (all sets: deterministic output).
#[derive(Default)]
pub(super) struct Stats {
    pub(super) named_types: BTreeSet<String>,
    /// (type, property) pairs that got an `x-kapi-proto`.
    pub(super) numbered: BTreeSet<(String, String)>,
    /// (type, property) without an upstream proto field.
    pub(super) json_only: BTreeSet<(String, String)>,
    /// (type, proto field) without a JSON property.
    pub(super) proto_only: BTreeSet<(String, String)>,
    /// (type, embedded field, message) flattened into the JSON object.
    pub(super) embedded: BTreeSet<(String, String, String)>,
    /// (type, property) -> (derived type, upstream type) where `x-kapi-proto-type` was written.
    pub(super) proto_types: BTreeMap<(String, String), (String, String)>,
    /// (type, property): JSON array vs proto `repeated` disagree.
    pub(super) label_mismatch: BTreeSet<(String, String, String)>,
    /// Named types without an upstream message.
    pub(super) no_message: BTreeSet<String>,
    /// Named JSON scalars backed by a proto message (custom JSON marshaling upstream).
    pub(super) scalar_messages: BTreeSet<String>,
    /// Structural adjustments made (see the module docs).
    pub(super) adjustments: BTreeSet<String>,
    /// Named types met inside themselves.
    pub(super) recursion: BTreeSet<String>,
    /// Named types given an `x-kapi-type-description` (at some use).
    pub(super) type_descriptions: BTreeSet<String>,
}

/// Inlines the definitions of one OpenAPI document.
pub(super) struct Inliner<'a> {
    pub(super) defs: &'a Map<String, Value>,
    pub(super) proto: &'a Proto,
    /// Finished named types of this document (every use of a name gets the same content).
    pub(super) memo: &'a mut BTreeMap<String, Map<String, Value>>,
    pub(super) stats: &'a mut Stats,
    pub(super) stack: Vec<String>,
}

impl Inliner<'_> {
    /// The schema of a kind's root definition.
    pub(super) fn root(&mut self, name: &str) -> Result<Map<String, Value>> {
        let def = self
            .defs
            .get(name)
            .with_context(|| format!("no definition {name}"))?;
        let mut def = def
            .as_object()
            .context("definition is not an object")?
            .clone();
        let props = def
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .context("root without properties")?;
        let meta = props
            .shift_remove("metadata")
            .context("root without metadata")?;
        let meta_ref = ref_target(meta.as_object().context("metadata")?)?;
        if meta_ref.as_deref() != Some(OBJECT_META) {
            bail!("{name}.metadata is {meta_ref:?}, not ObjectMeta");
        }
        self.stack.push(name.to_string());
        let mut out = self.convert(&Value::Object(def))?;
        self.stack.pop();
        let mut meta_schema = Map::new();
        meta_schema.insert("type".into(), "object".into());
        meta_schema.insert("x-kapi-type".into(), OBJECT_META.into());
        if let Some(d) = meta.get("description") {
            meta_schema.insert("description".into(), d.clone());
        }
        let props = out
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .context("props")?;
        props.insert("metadata".into(), Value::Object(meta_schema));
        sort_properties(props);
        out.insert("x-kapi-type".into(), name.into());
        self.annotate_proto(name, &mut out);
        self.stats.named_types.insert(name.to_string());
        Ok(order(out))
    }

    /// Converts any schema object.
    fn convert(&mut self, schema: &Value) -> Result<Map<String, Value>> {
        let obj = schema.as_object().context("schema is not an object")?;
        if let Some(name) = ref_target(obj)? {
            let mut out = self.named(&name)?;
            for (k, v) in obj {
                match k.as_str() {
                    "$ref" | "allOf" => {}
                    k if USE_SITE_KEYS.contains(&k) => {
                        out.insert(k.to_string(), v.clone());
                    }
                    other => bail!("unexpected {other:?} next to a $ref to {name}"),
                }
            }
            self.type_description(&name, &mut out);
            return Ok(order(out));
        }
        let mut out = Map::new();
        for (k, v) in obj {
            match k.as_str() {
                "x-kubernetes-group-version-kind" => {}
                "$ref" => unreachable!("handled above"),
                "properties" => {
                    let mut props = Map::new();
                    for (pn, pv) in v.as_object().context("properties")? {
                        props.insert(pn.clone(), Value::Object(self.convert(pv)?));
                    }
                    sort_properties(&mut props);
                    out.insert(k.clone(), Value::Object(props));
                }
                "items" | "additionalProperties" | "not" if v.is_object() => {
                    out.insert(k.clone(), Value::Object(self.convert(v)?));
                }
                "oneOf" | "anyOf" | "allOf" => {
                    let mut branches = Vec::new();
                    for b in v.as_array().context("branches")? {
                        branches.push(Value::Object(self.convert(b)?));
                    }
                    out.insert(k.clone(), Value::Array(branches));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        self.make_structural(&mut out)?;
        Ok(order(out))
    }

    /// A named type, inlined (memoized per document).
    fn named(&mut self, name: &str) -> Result<Map<String, Value>> {
        if let Some(done) = self.memo.get(name) {
            return Ok(done.clone());
        }
        if self.stack.iter().any(|s| s == name) {
            self.stats.recursion.insert(name.to_string());
            let mut stub = Map::new();
            stub.insert("type".into(), "object".into());
            stub.insert("x-kapi-type".into(), name.into());
            return Ok(stub);
        }
        let def = self
            .defs
            .get(name)
            .with_context(|| format!("no definition {name}"))?;
        self.stack.push(name.to_string());
        let mut out = self.convert(def)?;
        self.stack.pop();
        out.insert("x-kapi-type".into(), name.into());
        self.annotate_proto(name, &mut out);
        let out = order(out);
        self.stats.named_types.insert(name.to_string());
        self.memo.insert(name.to_string(), out.clone());
        Ok(out)
    }

    /// Adjustment 6 of the module docs: `x-kapi-type-description` where the use's description is
    /// not the named type's own (well-known types are skipped: their definitions come from
    /// `codegen/wellknown.json`).
    fn type_description(&mut self, name: &str, out: &mut Map<String, Value>) {
        if name.starts_with(super::WELLKNOWN_PREFIX) {
            return;
        }
        let own = self.defs.get(name).and_then(|d| d.get("description"));
        match (own, out.get("description")) {
            (Some(own), Some(here)) if own != here => {
                out.insert("x-kapi-type-description".into(), own.clone());
                self.stats.type_descriptions.insert(name.to_string());
            }
            (None, Some(_)) => {
                self.stats.adjustments.insert(format!(
                    "{name}: no description of its own, but a use has one (the definition will carry the use's)"
                ));
            }
            _ => {}
        }
    }

    /// Adjustments 1 and 2 of the module docs.
    fn make_structural(&mut self, out: &mut Map<String, Value>) -> Result<()> {
        let context = self.stack.last().cloned().unwrap_or_default();
        for key in ["oneOf", "anyOf"] {
            let Some(branches) = out.get(key).and_then(Value::as_array) else {
                continue;
            };
            let types: BTreeSet<&str> = branches
                .iter()
                .map(|b| {
                    let b = b.as_object()?;
                    if b.len() != 1 {
                        return None;
                    }
                    b.get("type")?.as_str()
                })
                .collect::<Option<_>>()
                .with_context(|| format!("{context}: unsupported {key}: {branches:?}"))?;
            let int_or_string = types.contains("string")
                && (types.contains("integer") || types.contains("number"))
                && types
                    .iter()
                    .all(|t| ["string", "integer", "number"].contains(t));
            if !int_or_string || out.contains_key("type") {
                bail!("{context}: unsupported {key}: {branches:?}");
            }
            let shown: Vec<String> = branches
                .iter()
                .filter_map(|b| b["type"].as_str().map(str::to_string))
                .collect();
            out.shift_remove(key);
            out.insert("x-kubernetes-int-or-string".into(), true.into());
            self.stats.adjustments.insert(format!(
                "{context}: {key} {shown:?} -> x-kubernetes-int-or-string: true"
            ));
        }
        let is_object = out.get("type").and_then(Value::as_str) == Some("object");
        if is_object
            && !out.contains_key("properties")
            && !out.contains_key("additionalProperties")
            && !out.contains_key("x-kubernetes-preserve-unknown-fields")
        {
            out.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
            self.stats.adjustments.insert(format!(
                "{context}: empty object -> x-kubernetes-preserve-unknown-fields: true"
            ));
        }
        Ok(())
    }

    /// Writes `x-kapi-proto` (and `x-kapi-proto-type` where the derivation rule of SCHEMA.md would
    /// give another type) on every property of a named type from its upstream message. Go-embedded
    /// structs (JSON-inlined, a nested message in proto) are listed on the object as
    /// `x-kapi-proto-embedded: [{field, number, type, properties}]`; their properties carry their
    /// number *inside* the embedded message.
    fn annotate_proto(&mut self, name: &str, out: &mut Map<String, Value>) {
        let Some(fields) = message_name(name).and_then(|m| self.proto.message(&m)) else {
            self.stats.no_message.insert(name.to_string());
            return;
        };
        let Some(props) = out.get_mut("properties").and_then(Value::as_object_mut) else {
            if !fields.is_empty() {
                self.stats.scalar_messages.insert(name.to_string());
            }
            return;
        };
        let mut matched = BTreeSet::new();
        for f in fields {
            let fname = f["name"].as_str().unwrap_or_default();
            if let Some(Value::Object(p)) = props.get_mut(fname) {
                self.set_proto(name, fname, p, f);
                matched.insert(fname.to_string());
            }
        }
        let mut embedded = Vec::new();
        for f in fields {
            let fname = f["name"].as_str().unwrap_or_default();
            if props.contains_key(fname) {
                continue;
            }
            let ftype = f["type"].as_str().unwrap_or_default();
            let inner = (f["label"] == "optional")
                .then(|| self.proto.message(ftype))
                .flatten();
            let hits: Vec<&Value> = inner
                .map(|inner| {
                    inner
                        .iter()
                        .filter(|i| {
                            let n = i["name"].as_str().unwrap_or_default();
                            props.contains_key(n) && !matched.contains(n)
                        })
                        .collect()
                })
                .unwrap_or_default();
            if hits.is_empty() {
                self.stats
                    .proto_only
                    .insert((name.to_string(), fname.to_string()));
                continue;
            }
            let mut names = Vec::new();
            for i in &hits {
                let n = i["name"].as_str().unwrap_or_default();
                if let Some(Value::Object(p)) = props.get_mut(n) {
                    self.set_proto(name, n, p, i);
                }
                matched.insert(n.to_string());
                names.push(Value::from(n));
            }
            for i in inner.into_iter().flatten() {
                let n = i["name"].as_str().unwrap_or_default();
                if !names.iter().any(|x| x == n) {
                    self.stats
                        .proto_only
                        .insert((name.to_string(), format!("{fname}.{n}")));
                }
            }
            self.stats
                .embedded
                .insert((name.to_string(), fname.to_string(), ftype.to_string()));
            let mut e = Map::new();
            e.insert("field".into(), fname.into());
            e.insert("number".into(), f["number"].clone());
            e.insert("type".into(), ftype.into());
            e.insert("properties".into(), Value::Array(names));
            embedded.push(Value::Object(e));
        }
        for p in props.keys() {
            if !matched.contains(p) {
                self.stats.json_only.insert((name.to_string(), p.clone()));
            }
        }
        if !embedded.is_empty() {
            out.insert("x-kapi-proto-embedded".into(), Value::Array(embedded));
        }
    }

    fn set_proto(&mut self, owner: &str, prop: &str, schema: &mut Map<String, Value>, f: &Value) {
        let key = (owner.to_string(), prop.to_string());
        schema.insert("x-kapi-proto".into(), f["number"].clone());
        let upstream = upstream_type(f);
        let repeated = f["label"] == "repeated" && f["type"] != "map";
        let is_array = schema.get("type").and_then(Value::as_str) == Some("array");
        if repeated != is_array {
            self.stats.label_mismatch.insert((
                owner.to_string(),
                prop.to_string(),
                format!(
                    "proto {} {upstream}",
                    f["label"].as_str().unwrap_or_default()
                ),
            ));
        }
        let derived = derive_type(schema).unwrap_or_else(|| "?".into());
        if derived != upstream {
            schema.insert("x-kapi-proto-type".into(), upstream.clone().into());
            self.stats
                .proto_types
                .insert(key.clone(), (derived, upstream));
        }
        self.stats.numbered.insert(key);
        let ordered = order(std::mem::take(schema));
        *schema = ordered;
    }
}

/// The proto type of an upstream field as written in a `.proto` (without the label).
fn upstream_type(f: &Value) -> String {
    let t = f["type"].as_str().unwrap_or_default();
    if t == "map" {
        format!(
            "map<{}, {}>",
            f["map_key"].as_str().unwrap_or_default(),
            f["map_value"].as_str().unwrap_or_default()
        )
    } else {
        t.to_string()
    }
}

/// The proto type SCHEMA.md's rule derives from a property schema (arrays: the element type).
pub(super) fn derive_type(s: &Map<String, Value>) -> Option<String> {
    let ty = s.get("type").and_then(Value::as_str);
    if ty == Some("array") {
        return s
            .get("items")
            .and_then(Value::as_object)
            .and_then(derive_type);
    }
    if let Some(ap) = s.get("additionalProperties").and_then(Value::as_object) {
        return Some(format!("map<string, {}>", derive_type(ap)?));
    }
    let format = s.get("format").and_then(Value::as_str);
    let xtype = s.get("x-kapi-type").and_then(Value::as_str);
    if format == Some("byte") {
        return Some("bytes".into());
    }
    if format == Some("date-time") || xtype == Some(TIME) {
        return Some(PROTO_TIME.into());
    }
    if s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return Some(PROTO_INT_OR_STRING.into());
    }
    match ty {
        Some("string") => Some("string".into()),
        Some("integer") if format == Some("int32") => Some("int32".into()),
        Some("integer") => Some("int64".into()),
        Some("number") => Some("double".into()),
        Some("boolean") => Some("bool".into()),
        _ => xtype.and_then(message_name),
    }
}

/// The definition a `{$ref}` or `{allOf: [{$ref}]}` schema points at.
fn ref_target(obj: &Map<String, Value>) -> Result<Option<String>> {
    let r = if let Some(r) = obj.get("$ref") {
        r
    } else if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
        match all.as_slice() {
            [one] if one.get("$ref").is_some() && one.as_object().map(Map::len) == Some(1) => {
                &one["$ref"]
            }
            _ => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let r = r.as_str().context("$ref is not a string")?;
    let name = r
        .strip_prefix("#/components/schemas/")
        .with_context(|| format!("unsupported $ref {r}"))?;
    Ok(Some(name.to_string()))
}

fn sort_properties(props: &mut Map<String, Value>) {
    let mut entries: Vec<(String, Value)> = std::mem::take(props).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    props.extend(entries);
}

/// The stable key order of a schema object (see the brief in import.rs).
pub(super) fn order(obj: Map<String, Value>) -> Map<String, Value> {
    fn rank(k: &str) -> (u8, usize) {
        const HEAD: &[&str] = &[
            "type",
            "x-kapi-type",
            "description",
            "x-kapi-type-description",
            "format",
            "enum",
            "default",
        ];
        const PROTO: &[&str] = &["x-kapi-proto", "x-kapi-proto-type", "x-kapi-proto-embedded"];
        const TAIL: &[&str] = &["items", "additionalProperties", "required", "properties"];
        if let Some(i) = HEAD.iter().position(|h| *h == k) {
            (0, i)
        } else if let Some(i) = VALIDATION_KEYS.iter().position(|h| *h == k) {
            (1, i)
        } else if k.starts_with("x-kubernetes-") {
            (2, 0)
        } else if let Some(i) = PROTO.iter().position(|h| *h == k) {
            (3, i)
        } else if let Some(i) = TAIL.iter().position(|h| *h == k) {
            (5, i)
        } else {
            (4, 0)
        }
    }
    let mut entries: Vec<(String, Value)> = obj.into_iter().collect();
    entries.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    entries.into_iter().collect()
}
