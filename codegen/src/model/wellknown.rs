//! Well-known types: `io.k8s.apimachinery.*` definitions implemented by hand in kapi-runtime. Their
//! OpenAPI definitions and protobuf facts come from `codegen/wellknown.json` (written by `cargo xtask import`).

use std::sync::OnceLock;

use serde_json::Value;

/// Definition names kapi-runtime implements, with the runtime type's name (under `kapi_runtime::apimachinery`).
pub const WELL_KNOWN: &[(&str, &str)] = &[
    ("io.k8s.apimachinery.pkg.api.resource.Quantity", "Quantity"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Condition", "Condition"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "DeleteOptions"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Duration", "Duration"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", "FieldSelectorRequirement"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1", "FieldsV1"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", "LabelSelector"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "LabelSelectorRequirement"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "ListMeta"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", "ManagedFieldsEntry"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime", "MicroTime"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ObjectMeta"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", "OwnerReference"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", "Preconditions"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Status", "Status"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.StatusCause", "StatusCause"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", "StatusDetails"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "Time"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent", "WatchEvent"),
    ("io.k8s.apimachinery.pkg.runtime.RawExtension", "RawExtension"),
    ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", "IntOrString"),
];

/// Definition name of ObjectMeta.
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
/// Definition name of ListMeta.
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// The runtime type name for a well-known definition name.
pub fn runtime_type(name: &str) -> Option<&'static str> {
    WELL_KNOWN.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// True for names in the apimachinery namespace (well-known or not).
pub fn is_apimachinery(name: &str) -> bool {
    name.starts_with("io.k8s.apimachinery.")
}

/// `codegen/wellknown.json`: `{definitions: {name: OpenAPI v3 schema}, proto: {name: {package, message, fields}}}`.
pub fn facts() -> &'static Value {
    static FACTS: OnceLock<Value> = OnceLock::new();
    FACTS.get_or_init(|| serde_json::from_str(include_str!("../../wellknown.json")).unwrap_or(Value::Null))
}

/// The OpenAPI v3 definition of an apimachinery type (with `#/components/schemas/` refs).
pub fn definition(name: &str) -> Option<&'static Value> {
    facts().get("definitions").and_then(|d| d.get(name))
}
