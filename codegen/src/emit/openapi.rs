//! OpenAPI emitter: the IR → `openapi/v2.json` (Swagger 2.0, like kube-apiserver's `/openapi/v2`) and
//! `openapi/v3/<api__v1 | apis__<group>__<version>>.json` (OpenAPI 3.0, one document per group-version,
//! like `/openapi/v3/api/v1`). The server serves these files; it computes the v3 index's hash URLs itself.
//!
//! The documents are shaped like upstream's, which the tests compare against the reference documents:
//! - definitions: a named type is `components.schemas[<x-kapi-type>]`; a kind's root is its
//!   `definition` (`io.k8s.api.core.v1.Pod`, `com.coreos.monitoring.v1.ServiceMonitor`); unnamed nested
//!   objects stay inline (as upstream publishes CRDs); `io.k8s.apimachinery.*` come from
//!   `codegen/wellknown.json`; lists are `<definition prefix>.<ListKind>`. Only definitions reachable
//!   from the document's paths are included, as upstream does.
//! - a property that uses a named type is `{description, default, allOf: [{$ref}]}` in v3 and
//!   `{description, $ref}` in v2 (the property's description); array items and map values are a
//!   plain `{$ref}`. The definition carries the type's own description (`x-kapi-type-description`,
//!   see `NamedType::description`); a list's texts come from `x-kapi-list`.
//! - keys are in the order kube-openapi marshals them; paths, properties and definitions sorted.
//! - paths and operations as kube-apiserver's installer builds them for a built-in kind (collection,
//!   item, all-namespaces list, deprecated watch paths, `status`, `scale`, extra subresources), and as
//!   apiextensions-apiserver publishes a CRD for kinds whose definition is not under `io.k8s.`
//!   (no watch paths, JSON/YAML only, deletes answer a Status).
//! - v2 shares parameters under `parameters` named `<name>-<hash>` exactly like kube-openapi
//!   (FNV-1 64 of the parameter's Go JSON encoding); v3 keeps them inline, as upstream does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::GeneratedFile;
use crate::model::{Kind, Model};

mod paths;
mod schema;

/// `info["x-kapi-generated-by"]` of every emitted document (JSON has no comments).
pub const GENERATED_BY: &str = "cargo xtask generate (from schemas/); do not edit by hand";

/// `info.version` as the reference kube-apiserver v1.36 serves it.
const INFO_VERSION: &str = "1.36";

/// Reference prefix of OpenAPI v3 schemas.
const V3_REF: &str = "#/components/schemas/";
/// Reference prefix of Swagger 2.0 definitions.
const V2_REF: &str = "#/definitions/";

/// Emits `openapi/v2.json` and one `openapi/v3/<gv>.json` per served group-version.
pub fn emit(model: &Model) -> Vec<GeneratedFile> {
    let r = schema::Renderer::new(model);
    let mut by_gv: BTreeMap<(String, String), Vec<&Kind>> = BTreeMap::new();
    for k in model.kinds.iter().filter(|k| k.served) {
        by_gv.entry((k.group.clone(), k.version.clone())).or_default().push(k);
    }
    // Non-core built-in group-versions: upstream lists each in DeleteOptions' and WatchEvent's GVKs
    // (custom resources' groups are not: kube-apiserver's own definitions win when CRDs' are merged).
    let builtin_gvs: Vec<(String, String)> =
        by_gv.iter().filter(|((g, _), kinds)| !g.is_empty() && kinds.iter().any(|k| schema::is_builtin(k))).map(|(gv, _)| gv.clone()).collect();

    let mut files = Vec::new();
    let mut v2_paths: BTreeMap<String, Value> = BTreeMap::new();
    let mut v2_roots = BTreeSet::new();
    for ((group, version), kinds) in &by_gv {
        let items = paths::group_version(&r, group, version, kinds);
        let mut v3_paths = Map::new();
        for (path, item) in &items {
            v3_paths.insert(path.clone(), item.to_v3());
            v2_paths.insert(path.clone(), item.to_v2());
        }
        let v3_paths = Value::Object(v3_paths);
        let mut roots = BTreeSet::new();
        collect_refs(&v3_paths, V3_REF, &mut roots);
        v2_roots.extend(roots.iter().cloned());
        let gvs: Vec<(String, String)> = builtin_gvs.iter().filter(|gv| gv.0 == *group && gv.1 == *version).cloned().collect();
        let schemas: Map<String, Value> = r.closure(roots, &gvs).into_iter().collect();
        let doc = json!({
            "openapi": "3.0.0",
            "info": info(),
            "paths": v3_paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization", "in": "header"}
                }
            }
        });
        files.push(GeneratedFile {
            path: PathBuf::from("openapi/v3").join(format!("{}.json", v3_document_name(group, version))),
            contents: pretty(&doc),
        });
    }

    let definitions: Map<String, Value> = r
        .closure(v2_roots, &builtin_gvs)
        .into_iter()
        .map(|(name, v3)| {
            let mut v2 = to_v2_schema(&v3);
            order_schema(&mut v2, true);
            (name, v2)
        })
        .collect();
    let mut v2_paths: Map<String, Value> = v2_paths.into_iter().collect();
    let parameters = share_parameters(&mut v2_paths);
    let doc = json!({
        "swagger": "2.0",
        "info": info(),
        "paths": v2_paths,
        "definitions": definitions,
        "parameters": parameters,
        "securityDefinitions": {
            "BearerToken": {"description": "Bearer Token authentication", "type": "apiKey", "name": "authorization", "in": "header"}
        },
        "security": [{"BearerToken": []}]
    });
    files.push(GeneratedFile { path: PathBuf::from("openapi/v2.json"), contents: pretty(&doc) });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The v3 document's file stem for a group-version: `api__v1`, `apis__apps__v1` (upstream's
/// `/openapi/v3/api/v1`, `/openapi/v3/apis/apps/v1` with `/` → `__`).
pub fn v3_document_name(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api__{version}")
    } else {
        format!("apis__{group}__{version}")
    }
}

/// The URL path a v3 document is served at (`api/v1`, `apis/apps/v1`), relative to `/openapi/v3/`.
pub fn v3_document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": INFO_VERSION, "x-kapi-generated-by": GENERATED_BY})
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Every `$ref` target under `prefix` in `v`.
fn collect_refs(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => {
                        if let Some(name) = r.strip_prefix(prefix) {
                            out.insert(name.to_string());
                        }
                    }
                    _ => collect_refs(x, prefix, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, prefix, out)),
        _ => {}
    }
}

/// Upstream-only data the IR does not carry and `wellknown.json` does not hold.
fn embedded_definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    // `io.k8s.api.autoscaling.v1.Scale{,Spec,Status}`: the body of every `/scale` subresource; copied
    // from the reference kube-apiserver v1.36's `/openapi/v3/apis/apps/v1` (v3 form).
    // `io.k8s.api.authentication.v1.TokenRequest{,Spec,Status}` and `BoundObjectReference`: the body
    // of `serviceaccounts/token`, not a resource of its own; from the reference's `/openapi/v3/api/v1`.
    DEFS.get_or_init(|| {
        let mut all: Map<String, Value> = serde_json::from_str(include_str!("openapi/autoscaling_v1.json")).unwrap_or_default();
        let tokens: Map<String, Value> = serde_json::from_str(include_str!("openapi/authentication_v1.json")).unwrap_or_default();
        all.extend(tokens);
        all
    })
}

/// The shared request parameters kube-apiserver documents (v2 form, upstream's texts), by a local id:
/// the field name, except `fieldManagerPatch` (PATCH's fieldManager text differs from POST/PUT's).
fn parameter(id: &str) -> Map<String, Value> {
    static PARAMS: OnceLock<Map<String, Value>> = OnceLock::new();
    let all = PARAMS.get_or_init(|| serde_json::from_str(include_str!("openapi/parameters.json")).unwrap_or_default());
    match all.get(id) {
        Some(Value::Object(m)) => m.clone(),
        _ => panic!("openapi/parameters.json has no parameter {id:?}"),
    }
}

/// kube-openapi's marshalling order of schema keys (`SchemaProps`, then `SwaggerSchemaProps`, then
/// extensions sorted by name). Swagger 2.0 puts `$ref` after `description`.
const SCHEMA_KEY_ORDER: &[&str] = &[
    "$ref", "description", "type", "nullable", "format", "title", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
    "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties",
    "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions", "discriminator",
    "readOnly", "externalDocs", "example",
];

fn key_rank(k: &str, v2: bool) -> (usize, usize) {
    if v2 && k == "$ref" {
        return (0, 2); // between description (1) and type (2)
    }
    match SCHEMA_KEY_ORDER.iter().position(|x| *x == k) {
        Some(i) if !(v2 && k == "description") => (0, i * 2),
        Some(_) => (0, 1),
        None => (1, 0), // extensions last, by name (the sort is stable on a name-sorted list)
    }
}

/// Puts a schema's keys (recursively) in kube-openapi's order.
fn order_schema(v: &mut Value, v2: bool) {
    let Value::Object(m) = v else { return };
    let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.sort_by_key(|(k, _)| key_rank(k, v2));
    for (k, x) in entries.iter_mut() {
        match k.as_str() {
            "properties" | "patternProperties" => {
                if let Value::Object(props) = x {
                    props.values_mut().for_each(|p| order_schema(p, v2));
                }
            }
            "items" | "additionalProperties" | "not" | "additionalItems" => match x {
                Value::Array(a) => a.iter_mut().for_each(|p| order_schema(p, v2)),
                other => order_schema(other, v2),
            },
            "allOf" | "oneOf" | "anyOf" => {
                if let Value::Array(a) = x {
                    a.iter_mut().for_each(|p| order_schema(p, v2));
                }
            }
            _ => {}
        }
    }
    m.extend(entries);
}

/// A v3 schema as Swagger 2.0 publishes it: `allOf: [{$ref}]` becomes `$ref` (use-site siblings
/// other than `default` stay), `default`s are dropped (upstream's v2 has none), `oneOf` of plain types
/// (Quantity, IntOrString) becomes `type: string`, and apiextensions' `ToStructuralOpenAPIV2` rules
/// apply to CRD schemas (no allOf/anyOf/oneOf/not, `nullable` drops the type, unknown fields drop
/// `properties`/`items`, an array without items drops its type, nullable properties are not required).
fn to_v2_schema(v: &Value) -> Value {
    let Value::Object(m) = v else { return v.clone() };
    let single_ref = m
        .get("allOf")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 1)
        .and_then(|a| a[0].as_object())
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("$ref"))
        .and_then(Value::as_str);
    let mut out = Map::new();
    for (k, x) in m {
        match k.as_str() {
            "default" | "nullable" | "anyOf" | "not" => {}
            "allOf" => {
                if let Some(r) = single_ref {
                    out.insert("$ref".into(), Value::String(v2_ref(r)));
                }
            }
            "oneOf" => {
                let plain = x.as_array().is_some_and(|a| a.iter().all(|b| b.get("type").is_some()));
                if plain && !m.contains_key("type") {
                    out.insert("type".into(), json!("string"));
                }
            }
            "$ref" => match x {
                Value::String(r) => {
                    out.insert(k.clone(), Value::String(v2_ref(r)));
                }
                other => {
                    out.insert(k.clone(), other.clone());
                }
            },
            "properties" => {
                let props = x.as_object().map(|p| p.iter().map(|(n, s)| (n.clone(), to_v2_schema(s))).collect()).unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" => {
                let items = match x {
                    Value::Array(a) => Value::Array(a.iter().map(to_v2_schema).collect()),
                    other => to_v2_schema(other),
                };
                out.insert(k.clone(), items);
            }
            "additionalProperties" => {
                out.insert(k.clone(), to_v2_schema(x));
            }
            _ => {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    let is_true = |m: &Map<String, Value>, key: &str| m.get(key) == Some(&Value::Bool(true));
    if is_true(m, "nullable") {
        for key in ["type", "items", "properties"] {
            out.remove(key);
        }
    }
    if is_true(m, "x-kubernetes-preserve-unknown-fields") {
        out.remove("items");
        // An embedded resource keeps the apiVersion/kind/metadata upstream adds after this step.
        let embedded = is_true(m, "x-kubernetes-embedded-resource");
        match out.get_mut("properties") {
            Some(Value::Object(props)) if embedded => props.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata")),
            _ => {
                out.remove("properties");
            }
        }
    }
    if out.get("type") == Some(&json!("array")) && !out.contains_key("items") {
        out.remove("type");
    }
    if let (Some(Value::Array(req)), Some(Value::Object(props))) = (out.get("required").cloned(), m.get("properties")) {
        let kept: Vec<Value> = req.into_iter().filter(|r| !r.as_str().and_then(|n| props.get(n)).is_some_and(|p| is_true_v(p, "nullable"))).collect();
        if kept.is_empty() {
            out.remove("required");
        } else {
            out.insert("required".into(), Value::Array(kept));
        }
    }
    Value::Object(out)
}

fn is_true_v(v: &Value, key: &str) -> bool {
    v.get(key) == Some(&Value::Bool(true))
}

fn v2_ref(r: &str) -> String {
    match r.strip_prefix(V3_REF) {
        Some(name) => format!("{V2_REF}{name}"),
        None => r.to_string(),
    }
}

/// kube-openapi's `deduplicateParameters`: every parameter of every operation and path item moves to
/// the document's `parameters`, named `<name>-<base64url(fnv1-64(Go JSON))[:8]>`, and is replaced by a
/// `$ref` — except `name` (its description names the kind), `dryRun` and `fieldValidation` (kubectl
/// detects server support by finding them inline), and bodies other than apimachinery types.
fn share_parameters(paths: &mut Map<String, Value>) -> Map<String, Value> {
    fn shareable(p: &Value) -> bool {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        let within = p.get("in").and_then(Value::as_str).unwrap_or("");
        match within {
            "query" | "path" if name == "name" => false,
            "query" if name == "dryRun" || name == "fieldValidation" => false,
            "body" => p
                .pointer("/schema/$ref")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with(&format!("{V2_REF}io.k8s.apimachinery"))),
            _ => p.get("$ref").is_none(),
        }
    }
    fn param_lists(item: &mut Value) -> Vec<&mut Vec<Value>> {
        let mut lists = Vec::new();
        if let Value::Object(m) = item {
            for (k, v) in m.iter_mut() {
                let list = if k == "parameters" { Some(v) } else { v.get_mut("parameters") };
                if let Some(Value::Array(a)) = list {
                    lists.push(a);
                }
            }
        }
        lists
    }
    let mut shared: BTreeMap<String, Value> = BTreeMap::new();
    for item in paths.values_mut() {
        for list in param_lists(item) {
            for p in list.iter().filter(|p| shareable(p)) {
                shared.entry(go_json(p)).or_insert_with(|| p.clone());
            }
        }
    }
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for (key, p) in &shared {
        let base = p.get("name").and_then(Value::as_str).unwrap_or("param");
        let mut name = format!("{base}-{}", short_hash(key));
        let mut i = 0;
        while out.contains_key(&name) {
            i += 1;
            name = format!("{base}-{i}");
        }
        out.insert(name.clone(), p.clone());
        names.insert(key.clone(), name);
    }
    for item in paths.values_mut() {
        for list in param_lists(item) {
            for p in list.iter_mut() {
                if shareable(p) {
                    if let Some(name) = names.get(&go_json(p)) {
                        *p = json!({"$ref": format!("#/parameters/{name}")});
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The compact JSON Go's `encoding/json` writes for `v` (keys in `v`'s order; `<`, `>`, `&`, U+2028
/// and U+2029 escaped as Go does).
fn go_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `base64.URLEncoding(fnv.New64(s).Sum()[:6])`: 8 characters.
fn short_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        h ^= u64::from(b);
    }
    let bytes = h.to_be_bytes();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(8);
    for chunk in bytes[..6].chunks(3) {
        let n = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_hash_like_kube_openapi() {
        // From the reference kube-apiserver v1.36's /openapi/v2: `pretty-tJGM1-ng`, `namespace-vgWSWtn3`.
        for (id, want) in [("pretty", "tJGM1-ng"), ("namespace", "vgWSWtn3"), ("fieldManagerPatch", "7c6nTn1T"), ("fieldManager", "Qy4HdaTW")] {
            assert_eq!(short_hash(&go_json(&Value::Object(parameter(id)))), want, "{id}");
        }
        let body = json!({"name": "body", "in": "body", "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}});
        assert_eq!(short_hash(&go_json(&body)), "2Y1dVQaQ");
    }

    #[test]
    fn embedded_data_parses() {
        for name in [
            "io.k8s.api.autoscaling.v1.Scale",
            "io.k8s.api.autoscaling.v1.ScaleSpec",
            "io.k8s.api.autoscaling.v1.ScaleStatus",
            "io.k8s.api.authentication.v1.TokenRequest",
            "io.k8s.api.authentication.v1.TokenRequestSpec",
            "io.k8s.api.authentication.v1.TokenRequestStatus",
            "io.k8s.api.authentication.v1.BoundObjectReference",
        ] {
            assert!(embedded_definitions().contains_key(name), "{name}");
        }
        assert_eq!(parameter("watch").get("type"), Some(&json!("boolean")));
    }

    #[test]
    fn go_json_escapes_html() {
        assert_eq!(go_json(&json!("a<b>&c")), r#""a\u003cb\u003e\u0026c""#);
    }

    #[test]
    fn v2_schema_conversion() {
        let v3 = json!({"description": "d", "default": {}, "allOf": [{"$ref": "#/components/schemas/X"}]});
        let mut v2 = to_v2_schema(&v3);
        order_schema(&mut v2, true);
        assert_eq!(serde_json::to_string(&v2).unwrap_or_default(), r##"{"description":"d","$ref":"#/definitions/X"}"##);
        let q = json!({"description": "q", "oneOf": [{"type": "string"}, {"type": "number"}]});
        assert_eq!(to_v2_schema(&q), json!({"description": "q", "type": "string"}));
    }
}
