//! End-to-end walker tests against real-world CRDs and the samples a real kube-apiserver accepted
//! (`tests/reference/crds`, a copy of the shared reference). Schemas are converted to leaked `'static` trees for the test.

use serde_json::{json, Value};

use super::{apply_defaults, prune, unknown_fields, validate, CelRule, ListType, MapType, ObjectSchema, Schema, Type};

fn leak_str(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

pub(super) fn leak_schema(v: &Value) -> &'static Schema {
    Box::leak(Box::new(convert(v)))
}

/// An OpenAPI v3 (CRD) schema to a static schema tree, as codegen would emit it.
fn convert(v: &Value) -> Schema {
    let str_of = |k: &str| v.get(k).and_then(Value::as_str).map(leak_str);
    let u64_of = |k: &str| v.get(k).and_then(Value::as_u64);
    let f64_of = |k: &str| v.get(k).and_then(Value::as_f64);
    let bool_of = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let properties = v.get("properties").and_then(Value::as_object);
    let additional = match v.get("additionalProperties") {
        Some(Value::Object(_)) => v.get("additionalProperties").map(leak_schema),
        Some(Value::Bool(true)) => Some(leak_schema(&json!({"x-kubernetes-preserve-unknown-fields": true}))),
        _ => None,
    };
    let ty = match v.get("type").and_then(Value::as_str) {
        Some("string") => Type::String,
        Some("integer") => Type::Integer,
        Some("number") => Type::Number,
        Some("boolean") => Type::Boolean,
        Some("array") => Type::Array(v.get("items").map_or(&Schema::DEFAULT, leak_schema)),
        Some("object") => match (properties, additional) {
            (None, Some(a)) => Type::Map(a),
            _ => {
                let mut props: Vec<(&'static str, Schema)> = properties
                    .map(|m| m.iter().map(|(k, s)| (leak_str(k), convert(s))).collect())
                    .unwrap_or_default();
                props.sort_by(|a, b| a.0.cmp(b.0));
                let required: Vec<&'static str> = v
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(leak_str).collect())
                    .unwrap_or_default();
                Type::Object(Box::leak(Box::new(ObjectSchema {
                    name: "",
                    properties: Box::leak(props.into_boxed_slice()),
                    required: Box::leak(required.into_boxed_slice()),
                    additional_properties: additional,
                    preserve_unknown_fields: false,
                    ..ObjectSchema::DEFAULT
                })))
            }
        },
        _ => Type::Any,
    };
    let enum_values: Vec<&'static str> = v
        .get("enum")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|e| leak_str(&e.to_string())).collect())
        .unwrap_or_default();
    let list_type = match v.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => ListType::Set,
        Some("map") => {
            let keys: Vec<&'static str> = v
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(leak_str).collect())
                .unwrap_or_default();
            ListType::Map(Box::leak(keys.into_boxed_slice()))
        }
        _ => ListType::Atomic,
    };
    let rules: Vec<CelRule> = v
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|r| CelRule {
                    rule: r.get("rule").and_then(Value::as_str).map_or("", leak_str),
                    message: r.get("message").and_then(Value::as_str).map(leak_str),
                    message_expression: r.get("messageExpression").and_then(Value::as_str).map(leak_str),
                    reason: r.get("reason").and_then(Value::as_str).map(leak_str),
                    field_path: r.get("fieldPath").and_then(Value::as_str).map(leak_str),
                    optional_old_self: r.get("optionalOldSelf").and_then(Value::as_bool).unwrap_or(false),
                })
                .collect()
        })
        .unwrap_or_default();
    Schema {
        ty,
        nullable: bool_of("nullable"),
        default: v.get("default").map(|d| leak_str(&d.to_string())),
        enum_values: Box::leak(enum_values.into_boxed_slice()),
        format: str_of("format"),
        pattern: str_of("pattern"),
        min_length: u64_of("minLength"),
        max_length: u64_of("maxLength"),
        min_items: u64_of("minItems"),
        max_items: u64_of("maxItems"),
        min_properties: u64_of("minProperties"),
        max_properties: u64_of("maxProperties"),
        minimum: f64_of("minimum"),
        maximum: f64_of("maximum"),
        exclusive_minimum: bool_of("exclusiveMinimum"),
        exclusive_maximum: bool_of("exclusiveMaximum"),
        multiple_of: f64_of("multipleOf"),
        unique_items: bool_of("uniqueItems"),
        list_type,
        map_type: if v.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic") {
            MapType::Atomic
        } else {
            MapType::Granular
        },
        preserve_unknown_fields: bool_of("x-kubernetes-preserve-unknown-fields"),
        embedded_resource: bool_of("x-kubernetes-embedded-resource"),
        int_or_string: bool_of("x-kubernetes-int-or-string"),
        rules: Box::leak(rules.into_boxed_slice()),
        ..Schema::DEFAULT
    }
}

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/reference/crds");

/// The storage version's schema and the sample object of a reference CRD.
fn load(file: &str) -> Option<(&'static Schema, Value)> {
    let loaded = try_load(file);
    assert!(loaded.is_some(), "{DIR}/{file} did not load");
    loaded
}

fn try_load(file: &str) -> Option<(&'static Schema, Value)> {
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(format!("{DIR}/{file}")).ok()?).ok()?;
    let versions = crd["spec"]["versions"].as_array()?;
    let version = versions.iter().find(|v| v["storage"] == json!(true))?;
    let schema = leak_schema(&version["schema"]["openAPIV3Schema"]);
    let sample: Value = serde_yaml::from_str(&std::fs::read_to_string(format!("{DIR}/samples/{file}")).ok()?).ok()?;
    Some((schema, sample))
}

fn messages(schema: &Schema, obj: &Value) -> Vec<String> {
    validate(schema, obj, "").iter().map(ToString::to_string).collect()
}

#[test]
fn samples_are_valid_and_known() {
    for file in ["cert-manager.io_certificates.yaml", "gateway.networking.k8s.io_httproutes.yaml", "monitoring.coreos.com_servicemonitors.yaml"] {
        let Some((schema, mut sample)) = load(file) else { continue };
        assert!(unknown_fields(schema, &sample).is_empty(), "{file}: {:?}", unknown_fields(schema, &sample));
        apply_defaults(schema, &mut sample);
        assert_eq!(messages(schema, &sample), Vec::<String>::new(), "{file}");
        let again = sample.clone();
        apply_defaults(schema, &mut sample);
        assert_eq!(sample, again, "{file}: defaulting is idempotent");
    }
}

#[test]
fn httproute_defaults() {
    let Some((schema, mut route)) = load("gateway.networking.k8s.io_httproutes.yaml") else { return };
    apply_defaults(schema, &mut route);
    let parent = &route["spec"]["parentRefs"][0];
    assert_eq!(parent["group"], json!("gateway.networking.k8s.io"));
    assert_eq!(parent["kind"], json!("Gateway"));
    let backend = &route["spec"]["rules"][0]["backendRefs"][0];
    assert_eq!(backend["group"], json!(""));
    assert_eq!(backend["kind"], json!("Service"));
    assert_eq!(backend["weight"], json!(1));
}

#[test]
fn servicemonitor_errors_and_unknown_fields() {
    let Some((schema, mut sm)) = load("monitoring.coreos.com_servicemonitors.yaml") else { return };
    sm["spec"]["endpoints"][0]["scheme"] = json!("ftp");
    sm["spec"]["bogus"] = json!(1);
    sm["spec"]["endpoints"][0]["extra"] = json!(true);
    sm["metadata"]["nope"] = json!("x");
    assert_eq!(unknown_fields(schema, &sm), vec!["metadata.nope", "spec.bogus", "spec.endpoints[0].extra"]);
    let errs = messages(schema, &sm);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with(r#"spec.endpoints[0].scheme: Unsupported value: "ftp": supported values: "http", "https""#), "{}", errs[0]);
    let removed = prune(schema, &mut sm);
    assert_eq!(removed.len(), 3);
    assert!(unknown_fields(schema, &sm).is_empty());
}
