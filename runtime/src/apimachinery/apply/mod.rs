//! Server-side apply: merging an applied configuration into the live object, field ownership in
//! `metadata.managedFields` (FieldsV1), and conflict detection, as kube-apiserver's field manager
//! (k8s.io/apimachinery `managedfields`, sigs.k8s.io/structured-merge-diff) does it.
//!
//! The HTTP layer calls [`FieldManager::apply`] for `PATCH` with `application/apply-patch+yaml` and
//! [`FieldManager::update`] after every other create, update and patch. Both work on JSON values and
//! the kind's static [`Schema`]; neither touches storage.
//!
//! What the caller still does, as upstream's handlers do around the field manager: require
//! `fieldManager` for apply (else [`default_manager`] of the User-Agent for other writes), apply
//! defaults to the result of an apply, run the strategy's resets (the fields passed as
//! [`FieldManager::ignored`], e.g. `status` on the main resource, are neither owned nor protected,
//! but an apply still merges them), validate, and store.

mod fieldpath;
mod managed;
mod typed;
mod updater;
mod value;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::apimachinery::schema::{ObjectSchema, Schema};
use fieldpath::{path_string, FieldSet, PathElement};
use managed::{Managed, MAX_UPDATE_MANAGERS};
use typed::Ty;
use updater::{ConflictSets, Updater, UpdaterError};
use value::{equals, go_json, is_go_print};

/// The annotation client-side `kubectl apply` keeps its last configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The manager upstream records for the fields an object had before its first apply, when the
/// object carries no managed fields.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// Upstream's limit on a field manager name (and on the User-Agent prefix used as one).
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// Upstream's limit on the total size of an object's annotations (keys and values), in bytes.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// One field another manager owns that an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's identifier, upstream's JSON form
    /// (`{"manager":"m","operation":"Update","apiVersion":"v1"}`).
    pub manager: String,
    /// The field as upstream prints it: `.spec.replicas`, `.spec.containers[name="nginx"].image`.
    pub field: String,
}

impl Conflict {
    /// How upstream names the manager: `"kubectl"`, `"kube-controller-manager" using apps/v1`,
    /// `"m" with subresource "status" using v1`.
    pub fn manager_display(&self) -> String {
        managed::print_manager(&self.manager)
    }
}

/// Why an apply (or, never in practice, an update) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Other managers own fields the apply changes: 409 Conflict, reason `Conflict`, with
    /// [`ApplyError::causes`] as the Status details.
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The request is wrong (`metadata.managedFields` set in an apply, another kind or version, not
    /// an object): 400 BadRequest.
    #[error("{0}")]
    BadRequest(String),
    /// The configuration does not fit the schema (undeclared field, wrong type, duplicate or missing
    /// list keys) or stored managed fields are corrupt. Upstream answers these with a plain error:
    /// 500 with no reason.
    #[error("{0}")]
    Invalid(String),
}

impl ApplyError {
    /// The HTTP status code upstream answers with.
    pub fn code(&self) -> u16 {
        match self {
            ApplyError::Conflicts(_) => 409,
            ApplyError::BadRequest(_) => 400,
            ApplyError::Invalid(_) => 500,
        }
    }

    /// The Status `reason` upstream sets (`""` when it sets none).
    pub fn reason(&self) -> &'static str {
        match self {
            ApplyError::Conflicts(_) => "Conflict",
            ApplyError::BadRequest(_) => "BadRequest",
            ApplyError::Invalid(_) => "",
        }
    }

    /// The Status details causes of a conflict: `(type, message, field)` per conflicting field, type
    /// `FieldManagerConflict`, message `conflict with "<manager>"...`. Empty for other errors.
    pub fn causes(&self) -> Vec<(String, String, String)> {
        let ApplyError::Conflicts(conflicts) = self else { return Vec::new() };
        conflicts
            .iter()
            .map(|c| ("FieldManagerConflict".to_string(), format!("conflict with {}", c.manager_display()), c.field.clone()))
            .collect()
    }
}

/// Upstream's conflict message: `Apply failed with 1 conflict: conflict with "m" using v1: .data.key`,
/// or `Apply failed with N conflicts: conflicts with "m" using v1:\n- .a\n- .b` grouped by manager.
fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [c] = conflicts {
        return format!("Apply failed with 1 conflict: conflict with {}: {}", c.manager_display(), c.field);
    }
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.sort_unstable();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {}:", managed::print_manager(m)));
        lines.extend(conflicts.iter().filter(|c| c.manager == m).map(|c| format!("- {}", c.field)));
    }
    format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
}

fn to_conflicts(sets: &ConflictSets) -> Vec<Conflict> {
    let mut sets: Vec<&(String, FieldSet)> = sets.iter().collect();
    sets.sort_by(|a, b| a.0.cmp(&b.0));
    sets.iter()
        .flat_map(|(id, set)| set.paths().into_iter().map(move |p| Conflict { manager: id.clone(), field: path_string(&p) }))
        .collect()
}

/// The field manager name upstream uses when a request names none: the User-Agent up to its first
/// `/`, without unprintable characters, cut at 128 bytes (`kubectl/v1.30 (linux)` → `kubectl`).
pub fn default_manager(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in prefix.chars().filter(|c| is_go_print(*c)) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// The fields a strategy resets for a kind with a status subresource, as upstream's custom resources
/// do: writes to the main resource ignore `status`, writes to `status` ignore `spec`. (Built-in
/// kinds reset a few more, e.g. Deployment status also `metadata.labels`; pass those explicitly.)
pub fn status_reset_fields(subresource: &str) -> &'static [&'static str] {
    match subresource {
        "" => &["status"],
        "status" => &["spec"],
        _ => &[],
    }
}

/// Whether upstream treats the kind as a built-in Go type (its definition name is under
/// `io.k8s.api.`), whose objects compare as Go structs (see [`FieldManager::go_structs`]).
pub fn is_builtin_kind(schema: &Schema) -> bool {
    schema.object().is_some_and(|o: &ObjectSchema| o.name.starts_with("io.k8s.api."))
}

/// The field manager of one endpoint: a kind at one version, the main resource or a subresource.
#[derive(Debug, Clone, Copy)]
pub struct FieldManager<'a> {
    /// The kind's schema (root object).
    pub schema: &'static Schema,
    /// The served `group/version` (`v1` for the core group); applied objects must carry it.
    pub api_version: &'a str,
    /// The kind; applied objects must carry it (not checked when empty).
    pub kind: &'a str,
    /// `""` for the main resource, else the subresource (`status`, `scale`).
    pub subresource: &'a str,
    /// Dotted field paths the endpoint's strategy resets (`status`, `spec`, `metadata.labels`):
    /// nobody owns them through this endpoint and changing them is never a conflict.
    pub ignored: &'a [&'a str],
    /// Compare objects as upstream's Go structs read them (struct fields always present, required
    /// pointers null, empty optional maps and lists absent), which decides where `"."` appears in an
    /// `Update` entry. On for built-in kinds ([`is_builtin_kind`]), off for custom resources.
    pub go_structs: bool,
    /// For a resource served at several versions: converts objects to the version a manager's
    /// entry was recorded at, so its ownership is compared there (structured-merge-diff's
    /// `Converter`). `None`: every entry is compared at this version.
    pub versions: Option<&'a dyn VersionConverter>,
}

/// Converts objects between the versions of a resource, for managed fields recorded at another
/// version than the request's.
pub trait VersionConverter: Sync + std::fmt::Debug {
    /// `object` at `api_version`, with that version's schema; `None` when it cannot be converted
    /// (the entry is then compared at the request's version).
    fn convert(&self, object: &Value, api_version: &str) -> Option<(Value, &'static Schema)>;
}

/// What the apply machinery needs to hand back from one layer of upstream's manager chain.
enum Failure {
    Conflicts(ConflictSets),
    Error(ApplyError),
}

impl From<ApplyError> for Failure {
    fn from(e: ApplyError) -> Self {
        Failure::Error(e)
    }
}

fn managed_fields_of(obj: &Value) -> Option<&Value> {
    obj.get("metadata").and_then(|m| m.get("managedFields"))
}

fn remove_managed_fields(obj: &mut Value) {
    if let Some(Value::Object(m)) = obj.get_mut("metadata") {
        m.remove("managedFields");
    }
}

fn set_managed_fields(obj: &mut Value, entries: Option<Value>) {
    let Value::Object(root) = obj else { return };
    match entries {
        Some(e) => {
            let meta = root.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
            if !meta.is_object() {
                *meta = Value::Object(Map::new());
            }
            if let Value::Object(m) = meta {
                m.insert("managedFields".into(), e);
            }
        }
        None => remove_managed_fields(obj),
    }
}

/// Upstream's `isResetManagedFields`: `[]`, or one entry with every field empty.
fn is_reset(entries: Option<&Value>) -> bool {
    match entries {
        Some(Value::Array(items)) => match items.as_slice() {
            [] => true,
            [Value::Object(e)] => e.values().all(|v| match v {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                _ => false,
            }),
            _ => false,
        },
        _ => false,
    }
}

/// `(group, version)` of an apiVersion as Go's `schema.ParseGroupVersion` reads it; `None` if invalid.
fn parse_group_version(api_version: &str) -> Option<(&str, &str)> {
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [""] => Some(("", "")),
        [v] => Some(("", v)),
        [g, v] => Some((g, v)),
        _ => None,
    }
}

/// A GroupVersionKind as Go prints it: `apps/v1, Kind=Deployment`, `/v1, Kind=ConfigMap`.
fn gvk_string(api_version: &str, kind: &str) -> String {
    let (g, v) = parse_group_version(api_version).unwrap_or(("", ""));
    format!("{g}/{v}, Kind={kind}")
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or_default()
}

/// Upstream's `objectGVKNN`: `namespace/name; group/version, Kind=kind`.
fn object_gvknn(obj: &Value) -> String {
    format!(
        "{}/{}; {}",
        str_at(obj, &["metadata", "namespace"]),
        str_at(obj, &["metadata", "name"]),
        gvk_string(str_at(obj, &["apiVersion"]), str_at(obj, &["kind"]))
    )
}

fn annotations(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata")?.get("annotations")?.as_object()
}

/// Upstream's `buildLastApplied`: the applied configuration without the annotation itself, as Go's
/// JSON encoder writes it (sorted keys, trailing newline).
fn build_last_applied(applied: &Value) -> String {
    let mut obj = applied.clone();
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        let empty = match meta.get_mut("annotations") {
            Some(Value::Object(a)) => {
                a.remove(LAST_APPLIED_ANNOTATION);
                a.is_empty()
            }
            _ => false,
        };
        if empty {
            meta.remove("annotations");
        }
    }
    let mut text = go_json(&obj);
    text.push('\n');
    text
}

/// Upstream's `setLastApplied`: sets the annotation unless the annotations would grow too large.
fn set_last_applied(obj: &mut Value, text: String) {
    let Some(Value::Object(meta)) = obj.get_mut("metadata") else { return };
    let ann = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(a) = ann else { return };
    a.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    let size: usize = a.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        a.remove(LAST_APPLIED_ANNOTATION);
    }
}

fn has_last_applied(obj: &Value) -> bool {
    annotations(obj).and_then(|a| a.get(LAST_APPLIED_ANNOTATION)).and_then(Value::as_str).is_some_and(|s| !s.is_empty())
}

/// Upstream's `IgnoreManagedFieldsTimestampsTransformer`: when nothing but managed-field timestamps
/// changed, keep the old managed fields so the write is a no-op.
fn revert_noop_timestamps(old: &Value, new: &mut Value) {
    let empty = Vec::new();
    let list = |v: &Value| -> Vec<Value> { managed_fields_of(v).and_then(Value::as_array).unwrap_or(&empty).clone() };
    let (om, nm) = (list(old), list(new));
    if om.len() != nm.len() {
        return;
    }
    let without_time = |e: &Value| {
        let mut e = e.clone();
        if let Value::Object(m) = &mut e {
            m.remove("time");
        }
        e
    };
    if !om.iter().zip(&nm).all(|(a, b)| equals(&without_time(a), &without_time(b))) {
        return;
    }
    let (mut o, mut n) = (old.clone(), new.clone());
    remove_managed_fields(&mut o);
    remove_managed_fields(&mut n);
    if !equals(&o, &n) {
        return;
    }
    set_managed_fields(new, managed_fields_of(old).cloned());
}

impl<'a> FieldManager<'a> {
    /// A field manager for the main resource of a kind, nothing ignored, Go-struct comparison for
    /// built-in kinds.
    pub fn new(schema: &'static Schema, api_version: &'a str, kind: &'a str) -> Self {
        FieldManager { schema, api_version, kind, subresource: "", ignored: &[], go_structs: is_builtin_kind(schema), versions: None }
    }

    /// The same manager comparing other versions' entries at their version.
    pub fn with_versions(self, versions: &'a dyn VersionConverter) -> Self {
        FieldManager { versions: Some(versions), ..self }
    }

    /// The same manager for a subresource (`status`, `scale`).
    pub fn with_subresource(self, subresource: &'a str) -> Self {
        FieldManager { subresource, ..self }
    }

    /// The same manager ignoring the given dotted paths (see [`FieldManager::ignored`]).
    pub fn ignoring(self, ignored: &'a [&'a str]) -> Self {
        FieldManager { ignored, ..self }
    }

    fn ignored_set(&self) -> FieldSet {
        let mut set = FieldSet::default();
        for p in self.ignored {
            let path: Vec<PathElement> = p.split('.').filter(|s| !s.is_empty()).map(|s| PathElement::Field(s.to_string())).collect();
            set.insert(&path);
        }
        set
    }

    fn root(&self) -> Ty {
        Ty::root(self.schema)
    }

    /// Server-side apply of `applied` (the request body, parsed) by `manager` onto `live` (`None` when
    /// the apply creates the object). Returns the object to store, with `metadata.managedFields`: the
    /// configuration merged in, `manager` (operation `Apply`) owning exactly the fields it sets, and
    /// fields it owned before but no longer sets removed unless another manager owns them.
    ///
    /// A field set to a different value than another manager's fails with
    /// [`ApplyError::Conflicts`] unless `force`, which moves the field to `manager`. `now` is the
    /// RFC 3339 time recorded for the entry. When nothing changes, the live object comes back as it
    /// was (timestamps included).
    pub fn apply(&self, live: Option<&Value>, applied: &Value, manager: &str, force: bool, now: &str) -> Result<Value, ApplyError> {
        if !applied.is_object() {
            return Err(ApplyError::BadRequest(format!(
                "error decoding YAML: an apply configuration must be an object, got {}",
                value::go_type_name(applied)
            )));
        }
        let now = managed::normalize_time(now).unwrap_or_else(|| now.to_string());
        let mut live_obj = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
        let managed = managed::decode(managed_fields_of(&live_obj))
            .map_err(|e| ApplyError::Invalid(format!("failed to decode managed fields: {e}")))?;
        remove_managed_fields(&mut live_obj);

        // versionCheckManager
        let (av, kind) = (str_at(applied, &["apiVersion"]), str_at(applied, &["kind"]));
        if parse_group_version(av) != parse_group_version(self.api_version) || (!self.kind.is_empty() && kind != self.kind) {
            return Err(ApplyError::BadRequest(format!("invalid object type: {}", gvk_string(av, kind))));
        }

        // lastAppliedManager: kubectl upgrading from client-side apply may take the fields its
        // last-applied annotation still describes.
        let result = match self.apply_chain(&live_obj, applied, managed.clone(), manager, force, &now) {
            Err(Failure::Conflicts(sets)) if manager == "kubectl" => match self.allowed_from_last_applied(&live_obj) {
                Some(allowed) => {
                    let rest: ConflictSets =
                        sets.iter().map(|(id, s)| (id.clone(), s.difference(&allowed))).filter(|(_, s)| !s.is_empty()).collect();
                    if rest.is_empty() {
                        self.apply_chain(&live_obj, applied, managed, manager, true, &now)
                    } else {
                        Err(Failure::Conflicts(rest))
                    }
                }
                None => Err(Failure::Conflicts(sets)),
            },
            other => other,
        };
        let (mut object, managed) = match result {
            Ok(r) => r,
            Err(Failure::Conflicts(sets)) => return Err(ApplyError::Conflicts(to_conflicts(&sets))),
            Err(Failure::Error(e)) => return Err(e),
        };

        // lastAppliedUpdater: keep the client-side annotation in step for kubectl.
        if manager == "kubectl" && has_last_applied(&object) {
            set_last_applied(&mut object, build_last_applied(applied));
        }
        set_managed_fields(&mut object, managed::encode(&managed));
        if let Some(live) = live {
            revert_noop_timestamps(live, &mut object);
        }
        Ok(object)
    }

    /// Upstream's chain below the last-applied layers: skip-non-applied, build-manager-info,
    /// managed-fields-updater, strip-meta and the structured merge.
    fn apply_chain(
        &self,
        live: &Value,
        applied: &Value,
        mut managed: Managed,
        manager: &str,
        force: bool,
        now: &str,
    ) -> Result<(Value, Managed), Failure> {
        // skipNonAppliedManager: an object without managed fields gets its existing fields recorded
        // for `before-first-apply`, so the apply conflicts with them.
        if managed.fields.is_empty() {
            let empty = Value::Object(Map::new());
            managed = self.update_chain(&empty, live, managed, BEFORE_FIRST_APPLY, now);
        }
        let name = if manager.is_empty() { "unknown" } else { manager };
        let id = managed::identifier(name, "Apply", "", self.subresource);

        // structuredMergeManager
        if managed_fields_of(applied).is_some_and(Value::is_array) {
            return Err(ApplyError::BadRequest("metadata.managedFields must be nil".into()).into());
        }
        let mut errs = Vec::new();
        typed::validate(self.root(), applied, "", &mut errs);
        if !errs.is_empty() {
            return Err(ApplyError::Invalid(format!(
                "failed to create typed patch object ({}): {}",
                object_gvknn(applied),
                typed::errors_text(&errs)
            ))
            .into());
        }
        let ignored = self.ignored_set();
        let updater = Updater { root: self.root(), ignored: &ignored, go_structs: self.go_structs, version: self.api_version, versions: self.versions };
        let (new, fields) = match updater.apply(live, applied, self.api_version, managed.fields, &id, force) {
            Ok(r) => r,
            Err(UpdaterError::Conflicts(c)) => return Err(Failure::Conflicts(c)),
            Err(UpdaterError::Merge(errs)) => {
                return Err(ApplyError::Invalid(format!("failed to merge config: {}", typed::errors_text(&errs))).into())
            }
        };
        managed.fields = fields;
        // stripMetaManager, then managedFieldsUpdater
        managed::strip(&mut managed.fields, &id);
        let object = match new {
            Some(o) => {
                managed.times.insert(id, Some(now.to_string()));
                o
            }
            None => live.clone(),
        };
        Ok((object, managed))
    }

    /// Upstream's update chain: cap-managers, build-manager-info, managed-fields-updater, strip-meta
    /// and the structured merge's ownership update.
    fn update_chain(&self, live: &Value, new: &Value, mut managed: Managed, manager: &str, now: &str) -> Managed {
        const CURRENT: &str = "current-operation";
        let name = if manager.is_empty() { "unknown" } else { manager };
        let id = managed::identifier(name, "Update", self.api_version, self.subresource);
        let ignored = self.ignored_set();
        let updater = Updater { root: self.root(), ignored: &ignored, go_structs: self.go_structs, version: self.api_version, versions: self.versions };
        managed.fields = updater.update_ownership(live, new, managed.fields, CURRENT, self.api_version);
        managed::strip(&mut managed.fields, CURRENT);
        if let Some(vs) = managed.fields.remove(CURRENT) {
            let set = match managed.fields.get(&id) {
                Some(previous) => vs.set.union(&previous.set),
                None => vs.set,
            };
            managed.fields.insert(id.clone(), managed::VersionedSet { set, ..vs });
            managed.times.insert(id, Some(now.to_string()));
        }
        managed::cap_update_managers(&mut managed, MAX_UPDATE_MANAGERS);
        managed
    }

    /// Upstream's `allowedConflictsFromLastApplied`: the fields of the live object's last-applied
    /// configuration that still hold the values it gave them.
    fn allowed_from_last_applied(&self, live: &Value) -> Option<FieldSet> {
        let text = annotations(live)?.get(LAST_APPLIED_ANNOTATION)?.as_str().filter(|s| !s.is_empty())?;
        let last: Value = crate::apimachinery::json::from_str(text).ok()?;
        if !last.is_object() || str_at(&last, &["apiVersion"]) != self.api_version {
            return None;
        }
        let mut errs = Vec::new();
        typed::validate(self.root(), &last, "", &mut errs);
        typed::validate(self.root(), live, "", &mut errs);
        if !errs.is_empty() {
            return None;
        }
        let set = typed::field_set(self.root(), &last);
        let cmp = typed::compare(self.root(), &last, live);
        Some(set.difference(&cmp.modified).difference(&cmp.added).difference(&cmp.removed))
    }

    /// Records a non-apply write by `manager` (create when `old` is `None`, update, patch) in
    /// `new`'s `metadata.managedFields`: `manager` (operation `Update`, this endpoint's version and
    /// subresource) gains the fields that changed, other managers lose them, removed fields leave
    /// every set, empty entries go, and at most ten `Update` entries remain.
    ///
    /// Managed fields sent with the write replace the tracked ones when they are valid and non-empty
    /// on the main resource; `[]` or `[{}]` clears them; otherwise (and on subresources) the old
    /// object's are kept. When nothing but timestamps would change, `new` keeps the old managed
    /// fields. Never fails on bad managed fields: like upstream, it falls back instead.
    pub fn update(&self, old: Option<&Value>, new: &mut Value, manager: &str, now: &str) -> Result<(), ApplyError> {
        let now = managed::normalize_time(now).unwrap_or_else(|| now.to_string());
        let live_managed = || old.and_then(|o| managed::decode(managed_fields_of(o)).ok()).unwrap_or_default();
        let sent = managed_fields_of(new);
        let managed = if !self.subresource.is_empty() {
            live_managed()
        } else if is_reset(sent) {
            Managed::default()
        } else {
            match managed::decode(sent) {
                Ok(m) if !m.fields.is_empty() => m,
                _ => live_managed(),
            }
        };
        let mut live = old.cloned().unwrap_or_else(|| Value::Object(Map::new()));
        remove_managed_fields(&mut live);
        remove_managed_fields(new);
        let managed = self.update_chain(&live, new, managed, manager, &now);
        set_managed_fields(new, managed::encode(&managed));
        if let Some(old) = old {
            revert_noop_timestamps(old, new);
        }
        Ok(())
    }
}

/// [`FieldManager::apply`] for the main resource or `subresource` of the kind in `applied`, nothing
/// ignored. Prefer a [`FieldManager`] when the endpoint resets fields (`status`).
#[allow(clippy::too_many_arguments)] // the brief's flat signature for the HTTP layer
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    schema: &'static Schema,
    manager: &str,
    force: bool,
    api_version: &str,
    now: &str,
    subresource: &str,
) -> Result<Value, ApplyError> {
    FieldManager::new(schema, api_version, "").with_subresource(subresource).apply(live, applied, manager, force, now)
}

/// [`FieldManager::update`] for the main resource or `subresource`, nothing ignored.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    schema: &'static Schema,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: &str,
) -> Result<(), ApplyError> {
    FieldManager::new(schema, api_version, "").with_subresource(subresource).update(old, new, manager, now)
}
