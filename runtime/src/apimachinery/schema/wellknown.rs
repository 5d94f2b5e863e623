//! Static schemas of the well-known apimachinery types (ObjectMeta, ListMeta, LabelSelector, Time,
//! Quantity, IntOrString, ...), so generated schemas can point at them, and [`by_name`] to find
//! one by its definition name. Properties carry upstream's protobuf field numbers
//! (k8s.io/apimachinery `generated.proto`), so the protobuf codec can write these types.

use super::{ListType, ObjectSchema, Proto, ProtoType, Schema, Type};

/// `s` as protobuf field `number`.
const fn field(number: u32, s: Schema) -> Schema {
    Schema { proto: Proto { number, ..s.proto }, ..s }
}

/// `s` as protobuf field `number` of a Go value field that upstream's JSON omits when empty
/// (`string` / `int64` with `omitempty`, a Time with `omitzero`): a zero on the wire means unset.
const fn value_field(number: u32, s: Schema) -> Schema {
    Schema { proto: Proto { number, omit_zero: true, ..s.proto }, ..s }
}

/// A `metav1.Time` property (RFC 3339 in JSON).
const TIME_FIELD: Schema =
    Schema { ty: Type::String, format: Some("date-time"), proto: Proto { ty: ProtoType::Time, ..Proto::DEFAULT }, ..Schema::DEFAULT };

const STRING: Schema = Schema { ty: Type::String, ..Schema::DEFAULT };
const BOOLEAN: Schema = Schema { ty: Type::Boolean, ..Schema::DEFAULT };
const INT64: Schema = Schema { ty: Type::Integer, format: Some("int64"), ..Schema::DEFAULT };
const INT32: Schema = Schema { ty: Type::Integer, format: Some("int32"), ..Schema::DEFAULT };
const STRING_LIST: Schema = Schema { ty: Type::Array(&STRING), ..Schema::DEFAULT };
const STRING_MAP: Schema = Schema { ty: Type::Map(&STRING), ..Schema::DEFAULT };

/// `metav1.Time`: an RFC 3339 date-time string.
pub static TIME: Schema = TIME_FIELD;
/// `metav1.MicroTime`.
pub static MICRO_TIME: Schema = Schema {
    ty: Type::String,
    format: Some("date-time"),
    proto: Proto { ty: ProtoType::MicroTime, ..Proto::DEFAULT },
    ..Schema::DEFAULT
};
/// `metav1.Duration`: a Go duration string.
pub static DURATION: Schema = Schema { ty: Type::String, proto: Proto { ty: ProtoType::Duration, ..Proto::DEFAULT }, ..Schema::DEFAULT };
/// `resource.Quantity`: a string or a number (checked when decoding).
pub static QUANTITY: Schema = Schema { ty: Type::Any, proto: Proto { ty: ProtoType::Quantity, ..Proto::DEFAULT }, ..Schema::DEFAULT };
/// `intstr.IntOrString`.
pub static INT_OR_STRING: Schema = Schema {
    ty: Type::Any,
    int_or_string: true,
    format: Some("int-or-string"),
    proto: Proto { ty: ProtoType::IntOrString, ..Proto::DEFAULT },
    ..Schema::DEFAULT
};
/// `runtime.RawExtension`: any object.
pub static RAW_EXTENSION: Schema = Schema {
    ty: Type::Any,
    preserve_unknown_fields: true,
    proto: Proto { ty: ProtoType::RawExtension, ..Proto::DEFAULT },
    ..Schema::DEFAULT
};
/// `metav1.FieldsV1`: any object.
pub static FIELDS_V1: Schema = Schema {
    ty: Type::Any,
    preserve_unknown_fields: true,
    proto: Proto { ty: ProtoType::RawExtension, ..Proto::DEFAULT },
    ..Schema::DEFAULT
};

/// `metav1.OwnerReference`.
pub static OWNER_REFERENCE_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    properties: &[
        ("apiVersion", field(5, STRING)),
        ("blockOwnerDeletion", field(7, BOOLEAN)),
        ("controller", field(6, BOOLEAN)),
        ("kind", field(1, STRING)),
        ("name", field(3, STRING)),
        ("uid", field(4, STRING)),
    ],
    required: &["apiVersion", "kind", "name", "uid"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.OwnerReference`.
pub static OWNER_REFERENCE: Schema = Schema { ty: Type::Object(&OWNER_REFERENCE_OBJECT), ..Schema::DEFAULT };

/// `metav1.ManagedFieldsEntry`.
pub static MANAGED_FIELDS_ENTRY_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
    properties: &[
        ("apiVersion", value_field(3, STRING)),
        ("fieldsType", value_field(6, STRING)),
        (
            "fieldsV1",
            Schema {
                ty: Type::Any,
                preserve_unknown_fields: true,
                proto: Proto { number: 7, ty: ProtoType::RawExtension, omit_zero: false },
                ..Schema::DEFAULT
            },
        ),
        ("manager", value_field(1, STRING)),
        ("operation", value_field(2, STRING)),
        ("subresource", value_field(8, STRING)),
        ("time", field(4, TIME_FIELD)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.ManagedFieldsEntry`.
pub static MANAGED_FIELDS_ENTRY: Schema = Schema { ty: Type::Object(&MANAGED_FIELDS_ENTRY_OBJECT), ..Schema::DEFAULT };

/// `metav1.ObjectMeta`.
pub static OBJECT_META_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    properties: &[
        ("annotations", field(12, STRING_MAP)),
        ("creationTimestamp", value_field(8, TIME_FIELD)),
        ("deletionGracePeriodSeconds", field(10, INT64)),
        ("deletionTimestamp", field(9, TIME_FIELD)),
        (
            "finalizers",
            field(14, Schema { ty: Type::Array(&STRING), list_type: ListType::Set, patch_strategy: Some("merge"), ..Schema::DEFAULT }),
        ),
        ("generateName", value_field(2, STRING)),
        ("generation", value_field(7, INT64)),
        ("labels", field(11, STRING_MAP)),
        ("managedFields", field(17, Schema { ty: Type::Array(&MANAGED_FIELDS_ENTRY), ..Schema::DEFAULT })),
        ("name", value_field(1, STRING)),
        ("namespace", value_field(3, STRING)),
        (
            "ownerReferences",
            field(
                13,
                Schema {
                    ty: Type::Array(&OWNER_REFERENCE),
                    list_type: ListType::Map(&["uid"]),
                    patch_strategy: Some("merge"),
                    patch_merge_key: Some("uid"),
                    ..Schema::DEFAULT
                },
            ),
        ),
        ("resourceVersion", value_field(6, STRING)),
        ("selfLink", value_field(4, STRING)),
        ("uid", value_field(5, STRING)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.ObjectMeta`.
pub static OBJECT_META: Schema = Schema { ty: Type::Object(&OBJECT_META_OBJECT), ..Schema::DEFAULT };

/// `metav1.ShardInfo`.
pub static SHARD_INFO_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ShardInfo",
    properties: &[("selector", field(1, STRING))],
    required: &["selector"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};

/// `metav1.ListMeta`.
pub static LIST_META_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    properties: &[
        ("continue", value_field(3, STRING)),
        ("remainingItemCount", field(4, INT64)),
        ("resourceVersion", value_field(2, STRING)),
        ("selfLink", value_field(1, STRING)),
        ("shardInfo", field(5, Schema { ty: Type::Object(&SHARD_INFO_OBJECT), ..Schema::DEFAULT })),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.ListMeta`.
pub static LIST_META: Schema = Schema { ty: Type::Object(&LIST_META_OBJECT), ..Schema::DEFAULT };

/// `metav1.LabelSelectorRequirement`.
pub static LABEL_SELECTOR_REQUIREMENT_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    properties: &[("key", field(1, STRING)), ("operator", field(2, STRING)), ("values", field(3, STRING_LIST))],
    required: &["key", "operator"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.LabelSelectorRequirement`.
pub static LABEL_SELECTOR_REQUIREMENT: Schema =
    Schema { ty: Type::Object(&LABEL_SELECTOR_REQUIREMENT_OBJECT), ..Schema::DEFAULT };

/// `metav1.FieldSelectorRequirement` (authorization reviews' field selectors).
pub static FIELD_SELECTOR_REQUIREMENT_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement",
    properties: &[("key", field(1, STRING)), ("operator", field(2, STRING)), ("values", field(3, STRING_LIST))],
    required: &["key", "operator"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.FieldSelectorRequirement`.
pub static FIELD_SELECTOR_REQUIREMENT: Schema =
    Schema { ty: Type::Object(&FIELD_SELECTOR_REQUIREMENT_OBJECT), ..Schema::DEFAULT };

/// authentication.k8s.io/v1 `BoundObjectReference` (TokenRequest's `spec.boundObjectRef`).
static BOUND_OBJECT_REFERENCE_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.authentication.v1.BoundObjectReference",
    properties: &[
        ("kind", value_field(1, STRING)),
        ("apiVersion", value_field(2, STRING)),
        ("name", value_field(3, STRING)),
        ("uid", value_field(4, STRING)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static TOKEN_REQUEST_SPEC_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.authentication.v1.TokenRequestSpec",
    properties: &[
        ("audiences", field(1, STRING_LIST)),
        ("boundObjectRef", field(3, Schema { ty: Type::Object(&BOUND_OBJECT_REFERENCE_OBJECT), ..Schema::DEFAULT })),
        ("expirationSeconds", field(4, INT64)),
    ],
    required: &["audiences"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static TOKEN_REQUEST_STATUS_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.authentication.v1.TokenRequestStatus",
    properties: &[("token", field(1, STRING)), ("expirationTimestamp", field(2, TIME_FIELD))],
    required: &["token", "expirationTimestamp"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
static TOKEN_REQUEST_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.api.authentication.v1.TokenRequest",
    properties: &[
        ("apiVersion", STRING),
        ("kind", STRING),
        ("metadata", field(1, OBJECT_META)),
        ("spec", field(2, Schema { ty: Type::Object(&TOKEN_REQUEST_SPEC_OBJECT), ..Schema::DEFAULT })),
        ("status", field(3, Schema { ty: Type::Object(&TOKEN_REQUEST_STATUS_OBJECT), ..Schema::DEFAULT })),
    ],
    required: &["spec"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// authentication.k8s.io/v1 `TokenRequest`, the body of the `serviceaccounts/token` subresource
/// (not a resource of its own, so no schema file declares it; kubectl sends it as protobuf).
pub static TOKEN_REQUEST: Schema = Schema { ty: Type::Object(&TOKEN_REQUEST_OBJECT), ..Schema::DEFAULT };

/// `metav1.LabelSelector`.
pub static LABEL_SELECTOR_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    properties: &[
        ("matchExpressions", field(2, Schema { ty: Type::Array(&LABEL_SELECTOR_REQUIREMENT), ..Schema::DEFAULT })),
        ("matchLabels", field(1, STRING_MAP)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.LabelSelector`.
pub static LABEL_SELECTOR: Schema = Schema { ty: Type::Object(&LABEL_SELECTOR_OBJECT), ..Schema::DEFAULT };

/// `metav1.Condition`.
pub static CONDITION_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Condition",
    properties: &[
        ("lastTransitionTime", field(4, TIME_FIELD)),
        ("message", field(6, STRING)),
        ("observedGeneration", value_field(3, INT64)),
        ("reason", field(5, STRING)),
        ("status", field(2, STRING)),
        ("type", field(1, STRING)),
    ],
    required: &["type", "status", "lastTransitionTime", "reason", "message"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.Condition`.
pub static CONDITION: Schema = Schema { ty: Type::Object(&CONDITION_OBJECT), ..Schema::DEFAULT };

/// `metav1.Preconditions`.
pub static PRECONDITIONS_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions",
    properties: &[("resourceVersion", field(2, STRING)), ("uid", field(1, STRING))],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};

/// `metav1.DeleteOptions`.
pub static DELETE_OPTIONS_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    properties: &[
        ("apiVersion", STRING),
        ("dryRun", field(5, STRING_LIST)),
        ("gracePeriodSeconds", field(1, INT64)),
        ("ignoreStoreReadErrorWithClusterBreakingPotential", field(6, BOOLEAN)),
        ("kind", STRING),
        ("orphanDependents", field(3, BOOLEAN)),
        ("preconditions", field(2, Schema { ty: Type::Object(&PRECONDITIONS_OBJECT), ..Schema::DEFAULT })),
        ("propagationPolicy", field(4, STRING)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.DeleteOptions`.
pub static DELETE_OPTIONS: Schema = Schema { ty: Type::Object(&DELETE_OPTIONS_OBJECT), ..Schema::DEFAULT };

/// `metav1.StatusCause`.
pub static STATUS_CAUSE_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause",
    properties: &[("field", value_field(3, STRING)), ("message", value_field(2, STRING)), ("reason", value_field(1, STRING))],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};

/// `metav1.StatusDetails`.
pub static STATUS_DETAILS_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails",
    properties: &[
        (
            "causes",
            field(4, Schema { ty: Type::Array(&Schema { ty: Type::Object(&STATUS_CAUSE_OBJECT), ..Schema::DEFAULT }), ..Schema::DEFAULT }),
        ),
        ("group", value_field(2, STRING)),
        ("kind", value_field(3, STRING)),
        ("name", value_field(1, STRING)),
        ("retryAfterSeconds", value_field(5, INT32)),
        ("uid", value_field(6, STRING)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};

/// `metav1.Status`.
pub static STATUS_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    properties: &[
        ("apiVersion", STRING),
        ("code", value_field(6, INT32)),
        ("details", field(5, Schema { ty: Type::Object(&STATUS_DETAILS_OBJECT), ..Schema::DEFAULT })),
        ("kind", STRING),
        ("message", value_field(3, STRING)),
        ("metadata", field(1, Schema { ty: Type::Object(&LIST_META_OBJECT), ..Schema::DEFAULT })),
        ("reason", value_field(4, STRING)),
        ("status", value_field(2, STRING)),
    ],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.Status`.
pub static STATUS: Schema = Schema { ty: Type::Object(&STATUS_OBJECT), ..Schema::DEFAULT };

/// `metav1.WatchEvent`.
pub static WATCH_EVENT_OBJECT: ObjectSchema = ObjectSchema {
    name: "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    properties: &[
        (
            "object",
            Schema {
                ty: Type::Any,
                preserve_unknown_fields: true,
                proto: Proto { number: 2, ty: ProtoType::RawExtension, omit_zero: false },
                ..Schema::DEFAULT
            },
        ),
        ("type", field(1, STRING)),
    ],
    required: &["type", "object"],
    protobuf: true,
    ..ObjectSchema::DEFAULT
};
/// `metav1.WatchEvent`.
pub static WATCH_EVENT: Schema = Schema { ty: Type::Object(&WATCH_EVENT_OBJECT), ..Schema::DEFAULT };

/// The static schema of a well-known definition name (`io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`).
pub fn by_name(definition: &str) -> Option<&'static Schema> {
    let short = definition.rsplit('.').next().unwrap_or(definition);
    if !definition.starts_with("io.k8s.apimachinery.") {
        return None;
    }
    Some(match short {
        "ObjectMeta" => &OBJECT_META,
        "ListMeta" => &LIST_META,
        "OwnerReference" => &OWNER_REFERENCE,
        "ManagedFieldsEntry" => &MANAGED_FIELDS_ENTRY,
        "LabelSelector" => &LABEL_SELECTOR,
        "LabelSelectorRequirement" => &LABEL_SELECTOR_REQUIREMENT,
        "FieldSelectorRequirement" => &FIELD_SELECTOR_REQUIREMENT,
        "Condition" => &CONDITION,
        "DeleteOptions" => &DELETE_OPTIONS,
        "Status" => &STATUS,
        "WatchEvent" => &WATCH_EVENT,
        "Time" => &TIME,
        "MicroTime" => &MICRO_TIME,
        "Duration" => &DURATION,
        "Quantity" => &QUANTITY,
        "IntOrString" => &INT_OR_STRING,
        "RawExtension" => &RAW_EXTENSION,
        "FieldsV1" => &FIELDS_V1,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_named() {
        for name in [
            "ObjectMeta", "ListMeta", "OwnerReference", "ManagedFieldsEntry", "LabelSelector",
            "LabelSelectorRequirement", "Condition", "DeleteOptions", "Status", "WatchEvent",
        ] {
            let s = by_name(&format!("io.k8s.apimachinery.pkg.apis.meta.v1.{name}")).expect(name);
            let o = s.object().expect("object");
            assert!(o.is_sorted(), "{name}");
            assert!(o.name.ends_with(name));
        }
        for name in ["Time", "MicroTime", "Duration", "FieldsV1"] {
            assert!(by_name(&format!("io.k8s.apimachinery.pkg.apis.meta.v1.{name}")).is_some(), "{name}");
        }
        assert!(by_name("io.k8s.apimachinery.pkg.api.resource.Quantity").is_some());
        assert!(by_name("io.k8s.api.core.v1.Pod").is_none());
    }

    #[test]
    fn object_meta_matches_reference_openapi() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/reference/openapi/v3/api__v1.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let doc = serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        for (def, obj) in [
            ("ObjectMeta", &OBJECT_META_OBJECT),
            ("ListMeta", &LIST_META_OBJECT),
            ("OwnerReference", &OWNER_REFERENCE_OBJECT),
            ("ManagedFieldsEntry", &MANAGED_FIELDS_ENTRY_OBJECT),
            ("LabelSelector", &LABEL_SELECTOR_OBJECT),
            ("Condition", &CONDITION_OBJECT),
            ("DeleteOptions", &DELETE_OPTIONS_OBJECT),
            ("Status", &STATUS_OBJECT),
            ("StatusDetails", &STATUS_DETAILS_OBJECT),
            ("WatchEvent", &WATCH_EVENT_OBJECT),
        ] {
            let key = format!("io.k8s.apimachinery.pkg.apis.meta.v1.{def}");
            let props = doc["components"]["schemas"][&key]["properties"].as_object().cloned().unwrap_or_default();
            let mut want: Vec<&String> = props.keys().collect();
            want.sort();
            let got: Vec<&str> = obj.properties.iter().map(|(n, _)| *n).collect();
            assert_eq!(got, want, "{def}");
        }
    }
}
