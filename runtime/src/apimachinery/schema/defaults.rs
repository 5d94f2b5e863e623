//! Structural defaulting with CRD semantics: defaults fill missing fields of objects that are present,
//! recursively (also inside array items, map values and freshly defaulted values); a `null` on a
//! non-nullable field with a default is replaced by the default.

use serde_json::Value;

use super::prune::prune_nulls;
use super::Schema;

/// Drops non-nullable `null`s that have no default ([`prune_nulls`]), then applies defaults, in the
/// order kube-apiserver decodes custom resources.
pub fn apply_defaults(schema: &Schema, value: &mut Value) {
    prune_nulls(schema, value);
    default(schema, value);
}

fn non_nullable_null(v: &Value, s: &Schema) -> bool {
    v.is_null() && !s.nullable
}

fn default(s: &Schema, value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(obj) = s.object() {
                for (name, prop) in obj.properties {
                    let Some(d) = prop.default_value() else { continue };
                    let missing = match map.get(*name) {
                        None => true,
                        Some(v) => non_nullable_null(v, prop),
                    };
                    if missing {
                        map.insert((*name).to_string(), d);
                    }
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(prop) = s.property(k) {
                    default(prop, v);
                } else if let Some(additional) = s.additional_properties() {
                    if non_nullable_null(v, additional) {
                        if let Some(d) = additional.default_value() {
                            *v = d;
                        }
                    }
                    default(additional, v);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.items() {
                for v in items.iter_mut() {
                    if non_nullable_null(v, item_schema) {
                        if let Some(d) = item_schema.default_value() {
                            *v = d;
                        }
                    }
                    default(item_schema, v);
                }
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

    static PORT: ObjectSchema = ObjectSchema {
        name: "Port",
        properties: &[
            ("port", Schema { ty: Type::Integer, ..Schema::DEFAULT }),
            ("protocol", Schema { ty: Type::String, default: Some("\"TCP\""), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static SPEC: ObjectSchema = ObjectSchema {
        name: "Spec",
        properties: &[
            ("color", Schema { ty: Type::String, default: Some("\"red\""), ..Schema::DEFAULT }),
            ("nullable", Schema { ty: Type::String, nullable: true, default: Some("\"d\""), ..Schema::DEFAULT }),
            ("ports", Schema { ty: Type::Array(&Schema { ty: Type::Object(&PORT), ..Schema::DEFAULT }), ..Schema::DEFAULT }),
            ("replicas", Schema { ty: Type::Integer, default: Some("1"), ..Schema::DEFAULT }),
            ("routes", Schema { ty: Type::Map(&Schema { ty: Type::Object(&PORT), default: Some("{\"port\":8080}"), ..Schema::DEFAULT }), ..Schema::DEFAULT }),
            ("strategy", Schema { ty: Type::Object(&PORT), default: Some("{}"), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static ROOT_OBJ: ObjectSchema = ObjectSchema {
        name: "Root",
        properties: &[
            ("spec", Schema { ty: Type::Object(&SPEC), ..Schema::DEFAULT }),
            ("status", Schema { ty: Type::Object(&PORT), ..Schema::DEFAULT }),
        ],
        ..ObjectSchema::DEFAULT
    };
    static ROOT: Schema = Schema { ty: Type::Object(&ROOT_OBJ), ..Schema::DEFAULT };

    #[test]
    fn defaults_fill_present_objects_only() {
        let mut obj = json!({"spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 81, "protocol": "UDP"}], "routes": {"a": null, "b": {"port": 1}}}});
        apply_defaults(&ROOT, &mut obj);
        assert_eq!(
            obj,
            json!({"spec": {
                "replicas": 3,
                "color": "red",
                "nullable": "d",
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "UDP"}],
                "routes": {"a": {"port": 8080, "protocol": "TCP"}, "b": {"port": 1, "protocol": "TCP"}},
                "strategy": {"protocol": "TCP"}
            }})
        );
        // status is absent: nothing is created for it.
        assert!(obj.get("status").is_none());
    }

    #[test]
    fn nulls_are_defaulted_or_dropped() {
        let mut obj = json!({"spec": {"replicas": null, "nullable": null, "color": "blue"}, "status": null});
        apply_defaults(&ROOT, &mut obj);
        assert_eq!(obj["spec"]["replicas"], json!(1));
        assert_eq!(obj["spec"]["nullable"], Value::Null);
        assert!(obj.get("status").is_none());
    }
}
