//! Serde mirror of a schema file: a `CustomResourceDefinition` (apiextensions.k8s.io/v1) plus kapi's
//! `x-kapi-*` extensions. The schemars derive publishes the format's JSON Schema for editors.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A schema file: one resource, written as a CustomResourceDefinition manifest.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "kapi schema file (CustomResourceDefinition + x-kapi-* extensions)")]
pub struct CustomResourceDefinition {
    /// Always `apiextensions.k8s.io/v1`.
    pub api_version: String,
    /// Always `CustomResourceDefinition`.
    pub kind: String,
    /// `metadata.name` must be `<plural>.<group>` (just `<plural>` for the core group).
    pub metadata: CrdMetadata,
    /// The resource.
    pub spec: CrdSpec,
    /// Ignored (present in CRDs exported from a cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// Metadata of the CRD manifest itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrdMetadata {
    /// `<plural>.<group>`.
    pub name: String,
    /// Carried through, ignored by kapi.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Carried through, ignored by kapi.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Any other metadata (creationTimestamp, ...) is accepted and ignored.
    #[serde(flatten)]
    #[schemars(skip)]
    pub other: BTreeMap<String, Value>,
}

/// `spec` of the CRD.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrdSpec {
    /// API group (`""` for the legacy core group, else a DNS subdomain such as `example.com`).
    pub group: String,
    /// Names of the resource.
    pub names: Names,
    /// `Namespaced` or `Cluster`.
    pub scope: Scope,
    /// Versions served; exactly one has `storage: true`.
    pub versions: Vec<CrdVersion>,
    /// Conversion between versions: `None` (only apiVersion changes), `Webhook` (a ConversionReview
    /// webhook), or kapi's typed Rust hook (`x-kapi-hooks: [convert]` with strategy `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion: Option<CustomResourceConversion>,
    /// Legacy CRD field; kapi ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_unknown_fields: Option<bool>,
    /// The kind's strategy module: `<name>.rs` next to the schema file, Rust written against the
    /// generated types for what a schema cannot say (its hooks are listed in `x-kapi-hooks`).
    #[serde(rename = "x-kapi-strategy", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_strategy: Option<String>,
    /// The hooks the strategy module provides: `default`, `prepareForCreate`, `prepareForUpdate`,
    /// `validateCreate`, `validateUpdate`, `convert`.
    #[serde(rename = "x-kapi-hooks", default, skip_serializing_if = "Vec::is_empty")]
    pub x_kapi_hooks: Vec<String>,
    /// The only verbs the resource serves, when not the ordinary full set. `[create]`: a create-only,
    /// never-stored resource (SubjectAccessReview, TokenReview): no store, no list/watch, no list kind.
    #[serde(rename = "x-kapi-verbs", default, skip_serializing_if = "Vec::is_empty")]
    pub x_kapi_verbs: Vec<String>,
}

/// `spec.conversion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomResourceConversion {
    /// `None` or `Webhook`.
    pub strategy: String,
    /// The webhook (strategy `Webhook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConversion>,
}

/// `spec.conversion.webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConversion {
    /// How the webhook is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_config: Option<WebhookClientConfig>,
    /// ConversionReview versions the webhook accepts, in order of preference (kapi sends `v1`).
    #[serde(default)]
    pub conversion_review_versions: Vec<String>,
}

/// `clientConfig` of a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookClientConfig {
    /// `https://host:port/path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A Service in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceReference>,
    /// PEM CA bundle (base64) that signs the webhook's serving certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
}

/// `clientConfig.service`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceReference {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// URL path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port (443 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

/// `Namespaced` or `Cluster`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Scope {
    /// Objects live in a namespace.
    Namespaced,
    /// Objects are cluster-wide.
    Cluster,
}

/// `spec.names`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Names {
    /// CamelCase kind, e.g. `Widget`.
    pub kind: String,
    /// Lower-case plural used in URLs, e.g. `widgets`.
    pub plural: String,
    /// Lower-case singular (default: lower-cased kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singular: Option<String>,
    /// List kind (default: `<kind>List`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_kind: Option<String>,
    /// Short names for kubectl (`po`, `deploy`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short_names: Vec<String>,
    /// Categories (`all`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
}

/// One entry of `spec.versions`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrdVersion {
    /// Version name (`v1`, `v1beta1`, `v2alpha1`).
    pub name: String,
    /// Whether the version is served.
    pub served: bool,
    /// Whether this is the storage version (exactly one).
    pub storage: bool,
    /// Marks the version deprecated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Warning sent to clients using a deprecated version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecation_warning: Option<String>,
    /// The schema of this version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<CrdValidation>,
    /// status / scale subresources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresources: Option<Subresources>,
    /// Columns for `kubectl get` (Name is implicit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_printer_columns: Vec<PrinterColumn>,
    /// Field selectors beyond metadata.name and metadata.namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selectable_fields: Vec<SelectableField>,
    /// Protobuf package of this group-version (default: reversed group labels + version).
    #[serde(rename = "x-kapi-proto-package", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_proto_package: Option<String>,
    /// Extra subresources handled by named runtime hooks (`binding`, ...).
    #[serde(rename = "x-kapi-subresources", default, skip_serializing_if = "Vec::is_empty")]
    pub x_kapi_subresources: Vec<String>,
    /// The texts of the list kind's OpenAPI definition (`PodList`); each defaults to what
    /// apiextensions-apiserver publishes for a CRD's list.
    #[serde(rename = "x-kapi-list", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_list: Option<ListDescriptions>,
}

/// `x-kapi-list`: descriptions of a version's list kind (`<ListKind>`), as its OpenAPI definition carries them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListDescriptions {
    /// The list kind's own description (`PodList is a list of Pods.`); default `<ListKind> is a list of <Kind>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Description of its `items` property; default `List of <plural>. More info: ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_description: Option<String>,
    /// Description of its `metadata` property; default `Standard list metadata. More info: ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_description: Option<String>,
}

/// `schema` of a version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrdValidation {
    /// The structural OpenAPI v3 schema of the object.
    #[serde(rename = "openAPIV3Schema")]
    pub open_api_v3_schema: JsonSchemaProps,
}

/// `subresources` of a version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Subresources {
    /// Enables `/status` (write `status: {}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BTreeMap<String, Value>>,
    /// Enables `/scale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleSubresource>,
}

/// The scale subresource's paths.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleSubresource {
    /// e.g. `.spec.replicas`.
    pub spec_replicas_path: String,
    /// e.g. `.status.replicas`.
    pub status_replicas_path: String,
    /// e.g. `.status.selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector_path: Option<String>,
}

/// One printer column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrinterColumn {
    /// Column header.
    pub name: String,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Optional format (`int32`, `name`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Column description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 0 = shown by default; >0 only with `-o wide`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// Simple JSONPath into the object, e.g. `.spec.replicas`.
    pub json_path: String,
    /// Named runtime printer hook computing the cell (jsonPath is the fallback).
    #[serde(rename = "x-kapi-printer", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_printer: Option<String>,
}

/// One selectable field.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectableField {
    /// e.g. `.spec.color`.
    pub json_path: String,
}

/// A CEL validation rule (`x-kubernetes-validations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidationRule {
    /// The CEL expression.
    pub rule: String,
    /// Message when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// CEL expression producing the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_expression: Option<String>,
    /// `FieldValueInvalid`, `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Path the error is reported at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// Whether the rule applies to updates only where the old value is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_old_self: Option<bool>,
    /// Where the entry is written (set when lowering; not part of the format).
    #[serde(skip)]
    #[schemars(skip)]
    pub source: Option<crate::model::cel_check::RuleSource>,
}

/// A structural OpenAPI v3 schema node (apiextensions `JSONSchemaProps`) plus `x-kapi-*` keys.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JsonSchemaProps {
    /// `object`, `array`, `string`, `integer`, `number` or `boolean`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Human description (shown by `kubectl explain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Title (carried through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Format: int32, int64, float, double, byte, date, date-time, duration, uri, email, hostname, ipv4, ipv6, cidr, mac, uuid, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Default value applied when the field is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Example value (carried through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
    /// Allowed values.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_: Option<Vec<Value>>,
    /// Whether `null` is accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
    /// Regular expression (RE2 syntax) a string must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Minimum string length (in characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum string length (in characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Minimum number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// Maximum number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// Whether `minimum` is exclusive.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_minimum: bool,
    /// Whether `maximum` is exclusive.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive_maximum: bool,
    /// The number must be a multiple of this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple_of: Option<f64>,
    /// Minimum array length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum array length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// Items must be unique (not allowed in structural schemas; use x-kubernetes-list-type: set).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique_items: bool,
    /// Minimum number of properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_properties: Option<u64>,
    /// Maximum number of properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_properties: Option<u64>,
    /// Required property names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Object properties.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, JsonSchemaProps>")]
    pub properties: BTreeMap<String, JsonSchemaProps>,
    /// Schema of map values (an object used as a map).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_properties: Option<Box<AdditionalProperties>>,
    /// Array item schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<JsonSchemaProps>>,
    /// Value validation only (structural schemas allow these below the type-defining schema).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub all_of: Vec<JsonSchemaProps>,
    /// Value validation only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<JsonSchemaProps>,
    /// Value validation only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<JsonSchemaProps>,
    /// Value validation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<JsonSchemaProps>>,
    /// External documentation (carried through).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_docs: Option<Value>,
    /// Keep fields not in the schema.
    #[serde(rename = "x-kubernetes-preserve-unknown-fields", default, skip_serializing_if = "Option::is_none")]
    pub x_preserve_unknown_fields: Option<bool>,
    /// The value is an embedded object with apiVersion/kind/metadata.
    #[serde(rename = "x-kubernetes-embedded-resource", default, skip_serializing_if = "Option::is_none")]
    pub x_embedded_resource: Option<bool>,
    /// Integer or string.
    #[serde(rename = "x-kubernetes-int-or-string", default, skip_serializing_if = "Option::is_none")]
    pub x_int_or_string: Option<bool>,
    /// `atomic`, `set` or `map` (arrays).
    #[serde(rename = "x-kubernetes-list-type", default, skip_serializing_if = "Option::is_none")]
    pub x_list_type: Option<String>,
    /// Keys of a `map` list.
    #[serde(rename = "x-kubernetes-list-map-keys", default, skip_serializing_if = "Vec::is_empty")]
    pub x_list_map_keys: Vec<String>,
    /// `granular` or `atomic` (objects and maps).
    #[serde(rename = "x-kubernetes-map-type", default, skip_serializing_if = "Option::is_none")]
    pub x_map_type: Option<String>,
    /// Strategic merge patch: key identifying list elements.
    #[serde(rename = "x-kubernetes-patch-merge-key", default, skip_serializing_if = "Option::is_none")]
    pub x_patch_merge_key: Option<String>,
    /// Strategic merge patch: `merge`, `replace`, `retainKeys`, `merge,retainKeys`.
    #[serde(rename = "x-kubernetes-patch-strategy", default, skip_serializing_if = "Option::is_none")]
    pub x_patch_strategy: Option<String>,
    /// CEL validation rules.
    #[serde(rename = "x-kubernetes-validations", default, skip_serializing_if = "Vec::is_empty")]
    pub x_validations: Vec<ValidationRule>,
    /// Union discriminators (upstream built-in types; carried to OpenAPI).
    #[serde(rename = "x-kubernetes-unions", default, skip_serializing_if = "Option::is_none")]
    pub x_unions: Option<Value>,
    /// kapi: the definition name of this subschema (`io.k8s.api.core.v1.PodSpec`).
    #[serde(rename = "x-kapi-type", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_type: Option<String>,
    /// kapi: the description of the named type itself (its OpenAPI definition's), when it differs from
    /// this subschema's `description` (which, on a property, describes the property). Needs `x-kapi-type`.
    #[serde(rename = "x-kapi-type-description", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_type_description: Option<String>,
    /// kapi: protobuf field number of this property in its parent message.
    #[serde(rename = "x-kapi-proto", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_proto: Option<u32>,
    /// kapi: protobuf type when it differs from the derived one.
    #[serde(rename = "x-kapi-proto-type", default, skip_serializing_if = "Option::is_none")]
    pub x_kapi_proto_type: Option<String>,
    /// kapi: Go-embedded structs: these properties are flat in JSON but one nested message in protobuf.
    #[serde(rename = "x-kapi-proto-embedded", default, skip_serializing_if = "Vec::is_empty")]
    pub x_kapi_proto_embedded: Vec<ProtoEmbedded>,
}

/// A Go-embedded struct: flat in JSON, a nested message field in protobuf (e.g. `Probe.handler`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProtoEmbedded {
    /// Protobuf field name of the embedded message (`handler`).
    pub field: String,
    /// Its field number.
    pub number: u32,
    /// Fully-qualified message type (`k8s.io.api.core.v1.ProbeHandler`).
    #[serde(rename = "type")]
    pub type_: String,
    /// The JSON properties that live inside the embedded message.
    pub properties: Vec<String>,
}

/// `additionalProperties`: a schema, or a boolean.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AdditionalProperties {
    /// `true`/`false`.
    Bool(bool),
    /// The schema of every value.
    Schema(Box<JsonSchemaProps>),
}

/// The JSON Schema of the schema-file format, for yaml-language-server.
pub fn format_json_schema() -> Value {
    let schema = schemars::schema_for!(CustomResourceDefinition);
    serde_json::to_value(schema).unwrap_or(Value::Null)
}
