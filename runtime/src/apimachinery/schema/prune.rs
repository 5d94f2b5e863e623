//! Unknown fields (structural pruning): fields a schema does not declare, honouring
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-embedded-resource` and `additionalProperties`;
//! plus removal of `null`s the schema neither allows nor defaults.
//!
//! The value is treated as a resource root: `apiVersion` and `kind` are kept, and `metadata` (at the
//! root and in embedded resources) is checked against `ObjectMeta`, as upstream's metadata coercion does.
//! Paths read like upstream's warnings: `spec.foo`, `spec.containers[0].bar`, `metadata.baz`.

use serde_json::Value;

use super::wellknown::OBJECT_META;
use super::Schema;

const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The paths of fields in `value` that `schema` does not know, sorted (for fieldValidation
/// `Warn`/`Strict`: `unknown field "<path>"`).
pub fn unknown_fields(schema: &Schema, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut copy = value.clone();
    walk(Some(schema), &mut copy, "", &mut out, true, false);
    out.sort();
    out
}

/// Removes the fields [`unknown_fields`] reports (fieldValidation `Ignore`); returns their paths, sorted.
pub fn prune(schema: &Schema, value: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(Some(schema), value, "", &mut out, true, true);
    out.sort();
    out
}

fn walk(schema: Option<&Schema>, value: &mut Value, path: &str, out: &mut Vec<String>, root: bool, remove: bool) {
    if let Some(s) = schema {
        if s.preserves_unknown_fields() {
            skip(s, value, path, out, root, remove);
            return;
        }
    }
    match value {
        Value::Object(map) => {
            let Some(s) = schema else {
                out.extend(map.keys().map(|k| join(path, k)));
                if remove {
                    map.clear();
                }
                return;
            };
            let embedded = root || s.embedded_resource;
            let mut unknown: Vec<String> = Vec::new();
            for (k, v) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    if k == "metadata" {
                        walk(Some(&OBJECT_META), v, &join(path, k), out, false, remove);
                    }
                    continue;
                }
                if let Some(field) = s.field(k) {
                    walk(Some(field), v, &join(path, k), out, false, remove);
                } else {
                    unknown.push(k.clone());
                }
            }
            for k in &unknown {
                if !META_FIELDS.contains(&k.as_str()) || !path.is_empty() {
                    out.push(join(path, k));
                }
            }
            if remove && !unknown.is_empty() {
                map.retain(|k, _| !unknown.contains(k));
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::items);
            for (i, v) in items.iter_mut().enumerate() {
                walk(item_schema, v, &format!("{path}[{i}]"), out, false, remove);
            }
        }
        _ => {}
    }
}

/// Inside `x-kubernetes-preserve-unknown-fields`: unknown fields stay, declared ones are still walked.
fn skip(s: &Schema, value: &mut Value, path: &str, out: &mut Vec<String>, root: bool, remove: bool) {
    match value {
        Value::Object(map) => {
            let embedded = root || s.embedded_resource;
            for (k, v) in map.iter_mut() {
                if embedded && META_FIELDS.contains(&k.as_str()) {
                    if k == "metadata" {
                        walk(Some(&OBJECT_META), v, &join(path, k), out, false, remove);
                    }
                    continue;
                }
                if let Some(field) = s.field(k) {
                    walk(Some(field), v, &join(path, k), out, false, remove);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.items() {
                for (i, v) in items.iter_mut().enumerate() {
                    skip(item_schema, v, &format!("{path}[{i}]"), out, false, remove);
                }
            }
        }
        _ => {}
    }
}

/// `PruneNonNullableNullsWithoutDefaults`: drops object fields whose value is `null` where the
/// schema is not nullable and has no default (nulls with a default are left for defaulting).
pub fn prune_nulls(schema: &Schema, value: &mut Value) {
    prune_nulls_in(Some(schema), value);
}

fn prune_nulls_in(schema: Option<&Schema>, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let mut drop: Vec<String> = Vec::new();
            for (k, v) in map.iter_mut() {
                let sub = schema.and_then(|s| s.field(k));
                match sub {
                    Some(f) if v.is_null() && !f.nullable && f.default_value().is_none() => drop.push(k.clone()),
                    _ => prune_nulls_in(sub, v),
                }
            }
            if !drop.is_empty() {
                map.retain(|k, _| !drop.contains(k));
            }
        }
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::items);
            for v in items.iter_mut() {
                prune_nulls_in(item_schema, v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::schema::{ObjectSchema, Type};
    use serde_json::json;

    static ITEM: ObjectSchema = ObjectSchema {
        name: "Item",
        properties: &[("name", Schema { ty: Type::String, ..Schema::DEFAULT })],
        ..ObjectSchema::DEFAULT
    };
    static SPEC: ObjectSchema = ObjectSchema {
        name: "Spec",
        properties: &[
            ("free", Schema { ty: Type::Any, preserve_unknown_fields: true, ..Schema::DEFAULT }),
            ("items", Schema { ty: Type::Array(&Schema { ty: Type::Object(&ITEM), ..Schema::DEFAULT }), ..Schema::DEFAULT }),
            ("labels", Schema { ty: Type::Map(&Schema { ty: Type::String, ..Schema::DEFAULT }), ..Schema::DEFAULT }),
            ("n", Schema { ty: Type::Integer, default: Some("3"), ..Schema::DEFAULT }),
            ("nullable", Schema { ty: Type::String, nullable: true, ..Schema::DEFAULT }),
            ("s", Schema { ty: Type::String, ..Schema::DEFAULT }),
            ("template", Schema { ty: Type::Object(&ITEM), embedded_resource: true, ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static ROOT_OBJ: ObjectSchema = ObjectSchema {
        name: "Root",
        properties: &[
            ("metadata", Schema { ty: Type::Object(&ObjectSchema::DEFAULT), ..Schema::DEFAULT }),
            ("spec", Schema { ty: Type::Object(&SPEC), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static ROOT: Schema = Schema { ty: Type::Object(&ROOT_OBJ), ..Schema::DEFAULT };

    #[test]
    fn unknown_paths() {
        let obj = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "bogus": 1, "labels": {"a": "b"}},
            "status": {"x": 1},
            "spec": {
                "foo": 1, "labels": {"any": "x"}, "free": {"anything": {"deep": true}},
                "items": [{"name": "a", "extra": 1}],
                "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "nope": 2}, "name": "x", "other": 3}
            }
        });
        assert_eq!(
            unknown_fields(&ROOT, &obj),
            vec![
                "metadata.bogus",
                "spec.foo",
                "spec.items[0].extra",
                "spec.template.metadata.nope",
                "spec.template.other",
                "status",
            ]
        );
        let mut pruned = obj.clone();
        let removed = prune(&ROOT, &mut pruned);
        assert_eq!(removed.len(), 6);
        assert_eq!(pruned["metadata"], json!({"name": "w", "labels": {"a": "b"}}));
        assert_eq!(pruned["spec"]["items"], json!([{"name": "a"}]));
        assert_eq!(pruned["spec"]["free"], json!({"anything": {"deep": true}}));
        assert!(pruned.get("status").is_none());
        assert!(unknown_fields(&ROOT, &pruned).is_empty());
    }

    #[test]
    fn reference_unknown_field_message() {
        // responses/create-unknown-field-warn.http: Warning: 299 - "unknown field \"bogusField\""
        static CM_OBJ: ObjectSchema = ObjectSchema {
            name: "ConfigMap",
            properties: &[
                ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("data", Schema { ty: Type::Map(&Schema { ty: Type::String, ..Schema::DEFAULT }), ..Schema::DEFAULT }),
                ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("metadata", Schema { ty: Type::Object(&super::super::wellknown::OBJECT_META_OBJECT), ..Schema::DEFAULT }),
            ],
            ..ObjectSchema::DEFAULT
        };
        let cm = Schema { ty: Type::Object(&CM_OBJ), ..Schema::DEFAULT };
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unk"}, "data": {"a": "b"}, "bogusField": 1});
        assert_eq!(unknown_fields(&cm, &obj), vec!["bogusField"]);
    }

    #[test]
    fn nulls() {
        let mut obj = json!({"spec": {"s": null, "nullable": null, "n": null, "foo": null, "items": [null]}});
        prune_nulls(&ROOT, &mut obj);
        assert_eq!(obj, json!({"spec": {"nullable": null, "n": null, "foo": null, "items": [null]}}));
    }
}
