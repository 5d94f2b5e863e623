//! The `Resource` trait every generated kind implements, and `KindInfo`, the static description of a
//! kind (group, version, names, scope, subresources, printer columns, schema) the runtime works from.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::jsonpath::JsonPath;
use super::meta::ObjectMeta;
use super::schema::Schema;

/// Whether objects live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Namespaced (`/namespaces/{ns}/{plural}`).
    Namespaced,
    /// Cluster-scoped.
    Cluster,
}

/// The scale subresource's JSON paths (`.spec.replicas` form, as in a CRD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleInfo {
    /// `.spec.replicas`.
    pub spec_replicas_path: &'static str,
    /// `.status.replicas`.
    pub status_replicas_path: &'static str,
    /// `.status.selector`.
    pub label_selector_path: Option<&'static str>,
}

/// An additional printer column (`kubectl get` table column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterColumn {
    /// Header.
    pub name: &'static str,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    pub type_: &'static str,
    /// OpenAPI format (e.g. `name`).
    pub format: &'static str,
    /// Description.
    pub description: &'static str,
    /// 0 for the default view, higher for `-o wide`.
    pub priority: i32,
    /// JSONPath of the cell (`.status.phase`).
    pub json_path: &'static str,
    /// Named runtime printer hook computing the cell instead.
    pub printer: Option<&'static str>,
}

/// The static description of one kind in one version. All fields are `'static` so generated code can
/// write `pub static POD_INFO: KindInfo = KindInfo { .. };`.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version (`v1`).
    pub version: &'static str,
    /// Kind (`Pod`).
    pub kind: &'static str,
    /// List kind (`PodList`).
    pub list_kind: &'static str,
    /// Resource name (`pods`).
    pub plural: &'static str,
    /// Singular name (`pod`).
    pub singular: &'static str,
    /// Short names (`po`).
    pub short_names: &'static [&'static str],
    /// Categories (`all`).
    pub categories: &'static [&'static str],
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
    /// Served.
    pub served: bool,
    /// The storage version.
    pub storage: bool,
    /// Deprecated version.
    pub deprecated: bool,
    /// Custom deprecation warning.
    pub deprecation_warning: Option<&'static str>,
    /// OpenAPI definition name (`io.k8s.api.core.v1.Pod`).
    pub definition: &'static str,
    /// The root schema.
    pub schema: &'static Schema,
    /// Has a `/status` subresource.
    pub status_subresource: bool,
    /// The `/scale` subresource, if any.
    pub scale: Option<ScaleInfo>,
    /// Extra subresources handled by named hooks (`binding`, `eviction`, ...).
    pub extra_subresources: &'static [&'static str],
    /// Named strategy hook.
    pub strategy: Option<&'static str>,
    /// Printer columns (besides `Name` and `Age`).
    pub printer_columns: &'static [PrinterColumn],
    /// Selectable fields beyond `metadata.name`/`metadata.namespace`, without leading dot (`spec.nodeName`).
    pub selectable_fields: &'static [&'static str],
    /// Protobuf package (`k8s.io.api.core.v1`).
    pub proto_package: &'static str,
    /// The only verbs the resource serves (`x-kapi-verbs`); empty for the ordinary full set.
    /// `["create"]` is a create-only, never-stored resource (SubjectAccessReview, TokenReview).
    pub verbs: &'static [&'static str],
    /// How objects convert between the resource's versions (`spec.conversion`; the same in every
    /// version's `KindInfo`).
    pub conversion: super::conversion::Conversion,
    /// The kind's typed hooks (`x-kapi-hooks`), run on objects at the storage version.
    pub hooks: Hooks,
}

/// A kind's typed Rust hooks (`x-kapi-strategy` names their module next to the schema,
/// `x-kapi-hooks` lists them), glued by codegen to JSON objects at the kind's storage version. An
/// `Err` is the object failing to decode into the generated type (schema validation then reports
/// why); the hook was not run.
/// A mutating hook's glue: the object (JSON, at the storage version) changed in place.
pub type MutateFn = fn(&mut serde_json::Value) -> Result<(), String>;
/// A mutating hook's glue on update: the object and the old object.
pub type MutateUpdateFn = fn(&mut serde_json::Value, &serde_json::Value) -> Result<(), String>;
/// A validation hook's glue: the object's field errors.
pub type ValidateFn = fn(&serde_json::Value) -> Result<Vec<super::FieldError>, String>;
/// A validation hook's glue on update: the object and the old object.
pub type ValidateUpdateFn = fn(&serde_json::Value, &serde_json::Value) -> Result<Vec<super::FieldError>, String>;

#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// `default(&mut T)`: defaults the schema cannot say (computed from other fields).
    pub default: Option<MutateFn>,
    /// `prepare_for_create(&mut T)`: clears or sets what a create may not choose.
    pub prepare_for_create: Option<MutateFn>,
    /// `prepare_for_update(&mut T, &T)`: the same on update, with the old object.
    pub prepare_for_update: Option<MutateUpdateFn>,
    /// `validate_create(&T) -> Vec<FieldError>`.
    pub validate_create: Option<ValidateFn>,
    /// `validate_update(&T, &T) -> Vec<FieldError>` (new, old).
    pub validate_update: Option<ValidateUpdateFn>,
}

impl Hooks {
    /// No hooks.
    pub const NONE: Hooks = Hooks { default: None, prepare_for_create: None, prepare_for_update: None, validate_create: None, validate_update: None };
}

impl KindInfo {
    /// A served, stored, namespaced `v1` kind with no names, schema, subresources or columns: the
    /// base of hand-written kinds and test fixtures (`KindInfo { kind: "Widget", ..KindInfo::BLANK }`).
    pub const BLANK: KindInfo = KindInfo {
        group: "",
        version: "v1",
        kind: "",
        list_kind: "",
        plural: "",
        singular: "",
        short_names: &[],
        categories: &[],
        scope: Scope::Namespaced,
        served: true,
        storage: true,
        deprecated: false,
        deprecation_warning: None,
        definition: "",
        schema: &Schema::DEFAULT,
        status_subresource: false,
        scale: None,
        extra_subresources: &[],
        strategy: None,
        printer_columns: &[],
        selectable_fields: &[],
        proto_package: "",
        verbs: &[],
        conversion: super::conversion::Conversion::None,
        hooks: Hooks::NONE,
    };

    /// `group/version`, or just the version for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True for namespaced kinds.
    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// `Kind.group` (`Deployment.apps`), as used in error messages.
    pub fn group_kind(&self) -> String {
        super::go::group_kind(self.group, self.kind)
    }

    /// `plural.group` (`deployments.apps`), or just the plural for core.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// True for a create-only resource (`verbs == ["create"]`): its POSTs go to a runtime handler,
    /// and it has no store, no list and no watch.
    pub fn create_only(&self) -> bool {
        self.verbs == ["create"]
    }

    /// True if `name` is one of this kind's subresources.
    pub fn has_subresource(&self, name: &str) -> bool {
        match name {
            "status" => self.status_subresource,
            "scale" => self.scale.is_some(),
            other => self.extra_subresources.contains(&other),
        }
    }
}

/// A generated kind. The runtime is generic over this trait and never names a kind.
pub trait Resource: Serialize + DeserializeOwned + Clone + Default + Send + Sync + 'static {
    /// Static facts about the kind.
    const INFO: &'static KindInfo;

    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;

    /// The object's metadata, mutably.
    fn metadata_mut(&mut self) -> &mut ObjectMeta;

    /// `group/version` (or `v1`).
    fn api_version() -> String {
        Self::INFO.api_version()
    }

    /// The kind.
    fn kind() -> &'static str {
        Self::INFO.kind
    }

    /// The API group.
    fn group() -> &'static str {
        Self::INFO.group
    }

    /// The version.
    fn version() -> &'static str {
        Self::INFO.version
    }

    /// The resource (plural) name.
    fn plural() -> &'static str {
        Self::INFO.plural
    }

    /// The scope.
    fn scope() -> Scope {
        Self::INFO.scope
    }

    /// The value of a field selector path (`metadata.name`, `spec.nodeName`, `status.phase`) as a
    /// field selector compares it; `None` when the field is not selectable. The default handles
    /// `metadata.name`, `metadata.namespace` and the kind's `selectable_fields` generically through
    /// JSON; generated code may override it with direct field access.
    fn field_value(&self, field: &str) -> Option<String> {
        let meta = self.metadata();
        match field {
            "metadata.name" => return Some(meta.name.clone()),
            "metadata.namespace" => return Some(meta.namespace.clone()),
            _ => {}
        }
        if !Self::INFO.selectable_fields.contains(&field) {
            return None;
        }
        let json = serde_json::to_value(self).ok()?;
        Some(selectable_field_value(&json, field))
    }
}

/// A selectable field's value in an object as JSON: strings as is, numbers and booleans as text,
/// missing fields as the empty string (CRD selectable field semantics).
pub fn selectable_field_value(object: &Value, field: &str) -> String {
    let path = if field.starts_with('.') { field.to_string() } else { format!(".{field}") };
    let Ok(jp) = JsonPath::parse(&path) else { return String::new() };
    match jp.find(object).into_iter().next() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => super::go::format_number(n),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    static WIDGET_INFO: KindInfo = KindInfo {
        group: "example.com",
        version: "v1",
        kind: "Widget",
        list_kind: "WidgetList",
        plural: "widgets",
        singular: "widget",
        short_names: &["wd"],
        categories: &["all"],
        scope: Scope::Namespaced,
        served: true,
        storage: true,
        deprecated: false,
        deprecation_warning: None,
        definition: "com.example.v1.Widget",
        schema: &Schema::DEFAULT,
        status_subresource: true,
        scale: Some(ScaleInfo { spec_replicas_path: ".spec.replicas", status_replicas_path: ".status.replicas", label_selector_path: None }),
        extra_subresources: &[],
        strategy: None,
        printer_columns: &[PrinterColumn {
            name: "Color",
            type_: "string",
            format: "",
            description: "",
            priority: 0,
            json_path: ".spec.color",
            printer: None,
        }],
        selectable_fields: &["spec.color", "spec.size"],
        proto_package: "com.example.v1",
        verbs: &[],
        conversion: crate::apimachinery::conversion::Conversion::None,
        hooks: Hooks::NONE,
    };

    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    struct Widget {
        metadata: ObjectMeta,
        spec: Value,
    }

    impl Resource for Widget {
        const INFO: &'static KindInfo = &WIDGET_INFO;
        fn metadata(&self) -> &ObjectMeta {
            &self.metadata
        }
        fn metadata_mut(&mut self) -> &mut ObjectMeta {
            &mut self.metadata
        }
    }

    #[test]
    fn provided_methods() {
        assert_eq!(Widget::api_version(), "example.com/v1");
        assert_eq!(Widget::kind(), "Widget");
        assert_eq!(Widget::INFO.group_kind(), "Widget.example.com");
        assert_eq!(Widget::INFO.group_resource(), "widgets.example.com");
        assert!(Widget::INFO.has_subresource("scale"));
        assert!(!Widget::INFO.has_subresource("binding"));
        assert!(!Widget::INFO.create_only());
        let review = KindInfo { verbs: &["create"], ..WIDGET_INFO };
        assert!(review.create_only());
        assert!(!KindInfo { verbs: &["create", "get"], ..WIDGET_INFO }.create_only());
        let w = Widget {
            metadata: ObjectMeta { name: "w".into(), ..Default::default() },
            spec: serde_json::json!({"color": "red", "size": 3}),
        };
        assert_eq!(w.field_value("metadata.name").as_deref(), Some("w"));
        assert_eq!(w.field_value("spec.color").as_deref(), Some("red"));
        assert_eq!(w.field_value("spec.size").as_deref(), Some("3"));
        assert_eq!(w.field_value("spec.other"), None);
    }
}
