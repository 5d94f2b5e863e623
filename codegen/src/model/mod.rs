//! The IR: kinds and named types, in `BTreeMap`s so every emitter's output order is stable.
//! `load` reads and checks schema files, `lower` turns them into this model; emitters only read it.

pub mod cel_check;
pub mod gofacts;
pub mod hooks;
mod lower;
pub mod wellknown;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

pub use lower::{is_dns_label, is_dns_subdomain, is_version_name, load_dir, load_dir_partial, load_files, lower_docs};

/// Everything the emitters need.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// One entry per kind per version, sorted by (group, version, kind).
    pub kinds: Vec<Kind>,
    /// Every named type (object definitions and well-known types), by definition name.
    pub types: BTreeMap<String, NamedType>,
    /// Every schema file read, sorted (for rebuild tracking).
    pub files: Vec<PathBuf>,
}

/// A Rust module for a group-version: `core::v1`, `apps::v1`, `example_com::v1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Module {
    /// Group module identifier (`core`, `apps`, `rbac`, `example_com`).
    pub group: String,
    /// Version identifier (`v1`).
    pub version: String,
}

/// One kind in one version.
#[derive(Debug, Clone)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: String,
    /// Version (`v1`).
    pub version: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// List kind (`PodList`).
    pub list_kind: String,
    /// Plural resource (`pods`).
    pub plural: String,
    /// Singular (`pod`).
    pub singular: String,
    /// Short names (`po`).
    pub short_names: Vec<String>,
    /// Categories (`all`).
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Served.
    pub served: bool,
    /// The storage version.
    pub storage: bool,
    /// Deprecated version.
    pub deprecated: bool,
    /// Warning for a deprecated version.
    pub deprecation_warning: Option<String>,
    /// Definition name of the root type (`io.k8s.api.core.v1.Pod`).
    pub definition: String,
    /// Has `/status`.
    pub status: bool,
    /// Has `/scale`.
    pub scale: Option<Scale>,
    /// Extra named subresources (`binding`).
    pub extra_subresources: Vec<String>,
    /// Descriptions of the list kind's definition (`x-kapi-list`; unset texts take the defaults).
    pub list: crate::schema::ListDescriptions,
    /// The strategy module (`x-kapi-strategy`).
    pub strategy: Option<String>,
    /// `<strategy>.rs` next to the schema file, when a strategy is named.
    pub strategy_file: Option<PathBuf>,
    /// The schema file the kind is defined in.
    pub file: PathBuf,
    /// The hooks the strategy module provides (`x-kapi-hooks`).
    pub hooks: Vec<Hook>,
    /// How objects convert between the resource's versions.
    pub conversion: Conversion,
    /// The resource's storage version (`v1`).
    pub storage_version: String,
    /// The verbs served (`x-kapi-verbs`); empty for the ordinary full set.
    pub verbs: Vec<String>,
    /// Printer columns (Name is implicit).
    pub printer_columns: Vec<PrinterColumn>,
    /// Selectable fields (paths without the leading dot).
    pub selectable_fields: Vec<String>,
    /// Protobuf package.
    pub proto_package: String,
    /// Has a protobuf form: the version declares `x-kapi-proto-package` or numbers a field with
    /// `x-kapi-proto` (built-in kinds). Otherwise JSON only, as upstream serves custom resources.
    pub protobuf: bool,
    /// Rust module.
    pub module: Module,
    /// The schema file.
    pub source: PathBuf,
}

impl Kind {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// A create-only kind (`x-kapi-verbs: [create]`): served by a runtime handler, never stored, so it
    /// has no list kind, no list/watch paths and no store.
    pub fn create_only(&self) -> bool {
        self.verbs.len() == 1 && self.verbs[0] == "create"
    }

    /// The Rust type name of the kind.
    pub fn rust_name(&self) -> &str {
        &self.kind
    }
}

/// A typed hook of a strategy module (`x-kapi-hooks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hook {
    /// `default(&mut T)`.
    Default,
    /// `prepare_for_create(&mut T)`.
    PrepareForCreate,
    /// `prepare_for_update(&mut T, &T)`.
    PrepareForUpdate,
    /// `validate_create(&T) -> Vec<FieldError>`.
    ValidateCreate,
    /// `validate_update(&T, &T) -> Vec<FieldError>`.
    ValidateUpdate,
    /// `convert_<from>_to_<to>` between the storage version and every other version.
    Convert,
}

impl Hook {
    /// Every hook with its `x-kapi-hooks` name and its Rust function name.
    pub const ALL: [(Hook, &'static str, &'static str); 6] = [
        (Hook::Default, "default", "default"),
        (Hook::PrepareForCreate, "prepareForCreate", "prepare_for_create"),
        (Hook::PrepareForUpdate, "prepareForUpdate", "prepare_for_update"),
        (Hook::ValidateCreate, "validateCreate", "validate_create"),
        (Hook::ValidateUpdate, "validateUpdate", "validate_update"),
        (Hook::Convert, "convert", "convert_<from>_to_<to>"),
    ];

    /// The `x-kapi-hooks` name.
    pub fn name(self) -> &'static str {
        Hook::ALL.iter().find(|(h, _, _)| *h == self).map(|(_, n, _)| *n).unwrap_or_default()
    }

    /// The Rust function name (`convert_<from>_to_<to>` for conversions).
    pub fn function(self) -> &'static str {
        Hook::ALL.iter().find(|(h, _, _)| *h == self).map(|(_, _, f)| *f).unwrap_or_default()
    }
}

/// How a resource converts between versions (`spec.conversion`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Conversion {
    /// Only apiVersion changes (or the typed `convert` hook, when the strategy module has one).
    #[default]
    None,
    /// A ConversionReview webhook.
    Webhook {
        /// `clientConfig.url`.
        url: Option<String>,
        /// `clientConfig.service`: namespace, name, path, port.
        service: Option<(String, String, Option<String>, u16)>,
        /// `clientConfig.caBundle`.
        ca_bundle: Option<String>,
        /// `conversionReviewVersions`.
        review_versions: Vec<String>,
    },
}

/// Scale subresource paths.
#[derive(Debug, Clone)]
pub struct Scale {
    /// `.spec.replicas`.
    pub spec_replicas_path: String,
    /// `.status.replicas`.
    pub status_replicas_path: String,
    /// `.status.selector`.
    pub label_selector_path: Option<String>,
}

/// A printer column.
#[derive(Debug, Clone)]
pub struct PrinterColumn {
    /// Header.
    pub name: String,
    /// integer | number | string | boolean | date.
    pub type_: String,
    /// Format.
    pub format: String,
    /// Description.
    pub description: String,
    /// Priority (0 = default view).
    pub priority: i32,
    /// JSONPath.
    pub json_path: String,
    /// Named printer hook.
    pub printer: Option<String>,
}

/// A named type: an object definition (one Rust struct, one OpenAPI definition) or a well-known type.
#[derive(Debug, Clone)]
pub struct NamedType {
    /// Definition name (`io.k8s.api.core.v1.PodSpec`).
    pub name: String,
    /// Rust type name (`PodSpec`).
    pub rust_name: String,
    /// Module it is emitted in; `None` for well-known types implemented by kapi-runtime.
    pub module: Option<Module>,
    /// Path of the runtime type for well-known types (`ObjectMeta`).
    pub well_known: Option<String>,
    /// The type's own description (its OpenAPI definition's, its Rust doc): `x-kapi-type-description`
    /// where a use gives one, else the description of an array-item or map-value use, else the
    /// description where it is first defined. Not part of the type's shape: uses keep their own
    /// descriptions (`schema.description` is the first definition's node, i.e. a use-site text).
    pub description: Option<String>,
    /// The type's own schema (`Ty::Object` for objects).
    pub schema: Schema,
    /// Synthesized name of an unnamed nested object: inlined in OpenAPI, as upstream does for CRDs.
    pub inline: bool,
    /// Protobuf package of its message.
    pub proto_package: String,
    /// Has a protobuf message (first defined in a version with a protobuf form; see [`Kind::protobuf`]).
    pub protobuf: bool,
    /// Where it was first defined.
    pub source: PathBuf,
}

impl NamedType {
    /// The object shape, if this is an object type.
    pub fn object(&self) -> Option<&Object> {
        match &self.schema.ty {
            Ty::Object(o) => Some(o),
            _ => None,
        }
    }
}

/// A schema node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// The type.
    pub ty: Ty,
    /// Description.
    pub description: Option<String>,
    /// Accepts null.
    pub nullable: bool,
    /// Default value.
    pub default: Option<Value>,
    /// Allowed values.
    pub enum_values: Vec<Value>,
    /// Format.
    pub format: Option<String>,
    /// Regex.
    pub pattern: Option<String>,
    /// String length bounds (characters).
    pub min_length: Option<u64>,
    /// String length bounds (characters).
    pub max_length: Option<u64>,
    /// Item count bounds.
    pub min_items: Option<u64>,
    /// Item count bounds.
    pub max_items: Option<u64>,
    /// Property count bounds.
    pub min_properties: Option<u64>,
    /// Property count bounds.
    pub max_properties: Option<u64>,
    /// Numeric bounds.
    pub minimum: Option<f64>,
    /// Numeric bounds.
    pub maximum: Option<f64>,
    /// Exclusive bounds.
    pub exclusive_minimum: bool,
    /// Exclusive bounds.
    pub exclusive_maximum: bool,
    /// Multiple of.
    pub multiple_of: Option<f64>,
    /// uniqueItems.
    pub unique_items: bool,
    /// x-kubernetes-list-type.
    pub list_type: Option<String>,
    /// x-kubernetes-list-map-keys.
    pub list_map_keys: Vec<String>,
    /// x-kubernetes-map-type.
    pub map_type: Option<String>,
    /// x-kubernetes-patch-merge-key.
    pub patch_merge_key: Option<String>,
    /// x-kubernetes-patch-strategy.
    pub patch_strategy: Option<String>,
    /// x-kubernetes-preserve-unknown-fields.
    pub preserve_unknown_fields: bool,
    /// x-kubernetes-embedded-resource.
    pub embedded_resource: bool,
    /// x-kubernetes-validations.
    pub rules: Vec<crate::schema::ValidationRule>,
    /// Keys carried to OpenAPI unchanged (title, example, externalDocs, x-kubernetes-unions, allOf/anyOf/oneOf/not).
    pub extra: Map<String, Value>,
    /// Protobuf field number (on a property).
    pub proto: Option<u32>,
    /// Protobuf type override (on a property).
    pub proto_type: Option<String>,
    /// A property whose zero value means unset (a Go value field with `omitempty`/`omitzero`, from
    /// [`gofacts`]): protobuf decoding leaves a zero read from the wire out of the JSON.
    pub omit_zero: bool,
}

/// The type of a schema node.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Ty {
    /// Anything (no type, or an object that preserves unknown fields without properties).
    #[default]
    Any,
    /// An object without declared properties (`type: object` alone).
    FreeObject,
    /// string.
    String,
    /// integer.
    Integer,
    /// number.
    Number,
    /// boolean.
    Boolean,
    /// x-kubernetes-int-or-string.
    IntOrString,
    /// array.
    Array(Box<Schema>),
    /// object used as a map (additionalProperties).
    Map(Box<Schema>),
    /// A named type (object definition or well-known type).
    Named(String),
    /// An object's shape (only as a `NamedType`'s own schema).
    Object(Object),
}

/// An object's shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    /// Properties by JSON name.
    pub properties: BTreeMap<String, Schema>,
    /// Required property names (in source order).
    pub required: Vec<String>,
    /// Go-embedded structs: properties that are one nested message in protobuf.
    pub proto_embedded: Vec<crate::schema::ProtoEmbedded>,
}

impl Model {
    /// Kinds grouped by (group, version), in order.
    pub fn group_versions(&self) -> BTreeMap<(String, String), Vec<&Kind>> {
        let mut m: BTreeMap<(String, String), Vec<&Kind>> = BTreeMap::new();
        for k in &self.kinds {
            m.entry((k.group.clone(), k.version.clone())).or_default().push(k);
        }
        m
    }

    /// The named type `name`.
    pub fn named(&self, name: &str) -> Option<&NamedType> {
        self.types.get(name)
    }
}
