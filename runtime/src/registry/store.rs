//! The generic REST store of one kind (upstream's `genericregistry.Store`): create, get, list, watch,
//! update, patch, delete and deletecollection over JSON objects, following the kind's schema tree
//! (pruning, defaulting, validation) and [`Strategy`].

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::error::{ApiError, Target};
use super::strategy::{Special, Strategy};
use crate::apimachinery::schema::wire::{self, Mode};
use crate::apimachinery::schema::{apply_defaults, prune, prune_nulls, unknown_fields, validate, validate_cel};
use crate::apimachinery::conversion::Converter;
use crate::apimachinery::validation::validate_object_meta;
use crate::apimachinery::{go, heavy, DeleteOptions, FieldError, KindInfo, ObjectMeta, Path, Time};
use crate::cacher::{GetResponse, ListWatch, ResourceVersion};
use crate::storage::codec::Transcoded;
use crate::storage::keys::KeyLayout;
use crate::storage::{KeyValue, Revision, Storage, StorageError};

/// `fieldValidation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop unknown fields silently.
    Ignore,
    /// Drop them with a `Warning` header (the default).
    #[default]
    Warn,
    /// Refuse the request (400).
    Strict,
}

/// Options of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: everything but the write.
    pub dry_run: bool,
    /// `fieldValidation`.
    pub field_validation: FieldValidation,
    /// `fieldManager` (or the default derived from the User-Agent).
    pub field_manager: String,
    /// `force` (server-side apply).
    pub force: bool,
    /// Who writes (admission checks such as RBAC's escalation prevention decide on it; `None`:
    /// kapi itself).
    pub user: Option<crate::auth::UserInfo>,
}

/// A validating admission step run on every write after the object is complete (defaults,
/// validation, managed fields) and before it is stored, also for dry runs; `old` is `None` on
/// creates. A refusal ends the write with the error, nothing stored.
#[async_trait::async_trait]
pub trait Admit: Send + Sync {
    /// Decides on one write of `info`'s objects.
    async fn admit(
        &self,
        info: &'static KindInfo,
        user: Option<&crate::auth::UserInfo>,
        new: &Value,
        old: Option<&Value>,
    ) -> Result<(), ApiError>;
}

/// The result of a write.
#[derive(Debug, Clone)]
pub struct Written {
    /// The object as stored (with `metadata.resourceVersion`), or as it would be (dry run).
    pub object: Value,
    /// `Warning` header texts.
    pub warnings: Vec<String>,
    /// The object was created (201) rather than updated (200).
    pub created: bool,
}

/// A create body made ready to store, and what the create still needs of it.
struct Prepared {
    object: Value,
    meta: ObjectMeta,
    warnings: Vec<String>,
    /// The name was generated (a taken one is generated again).
    generated: bool,
}

/// The result of a delete.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The object's last state (with the delete's resourceVersion when gone), or its terminating state.
    pub object: Value,
    /// Gone from storage (200) rather than pending finalizers or grace (202).
    pub gone: bool,
}

/// A patch format (`Content-Type` of a PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`.
    Json,
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml`.
    Apply,
}

/// Which part of the object a write addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The main resource: status changes are ignored when the kind has a status subresource.
    Main,
    /// `/status`: only status changes are kept.
    Status,
}

/// Where a namespaced store looks up namespaces (their phase gates creates).
#[derive(Clone)]
pub struct NamespaceLookup {
    /// The namespaces' List-Watch (the cache).
    pub lw: Arc<dyn ListWatch>,
    /// Storage, for a consistent read when the cache does not know a namespace yet.
    pub storage: Arc<dyn Storage>,
    /// The namespaces' resource prefix.
    pub prefix: String,
}

/// The REST store of one kind.
pub struct Store {
    /// The kind.
    pub info: &'static KindInfo,
    /// Its rules.
    pub strategy: Strategy,
    storage: Arc<dyn Storage>,
    /// The same storage, for writes encoded once from the object.
    writes: Arc<Transcoded>,
    lw: Arc<dyn ListWatch>,
    prefix: String,
    namespaces: Option<NamespaceLookup>,
    admission: std::sync::OnceLock<Arc<dyn Admit>>,
    /// For a resource with several versions: the conversions between them (managed fields recorded
    /// at other versions are compared there) and its storage version (where the kind's typed hooks
    /// run, when this store serves another).
    versions: Option<(Converter, &'static str)>,
}

impl Store {
    /// A store for `info` under `prefix` (`/registry/configmaps/`), reading through `lw`.
    pub fn new(
        info: &'static KindInfo,
        storage: Arc<Transcoded>,
        lw: Arc<dyn ListWatch>,
        prefix: String,
        namespaces: Option<NamespaceLookup>,
    ) -> Store {
        Store {
            info,
            strategy: Strategy::for_kind(info),
            storage: storage.clone(),
            writes: storage,
            lw,
            prefix,
            namespaces,
            admission: std::sync::OnceLock::new(),
            versions: None,
        }
    }

    /// The resource has several versions, converted by `converter`, stored at `storage_version`.
    pub fn with_versions(mut self, converter: Converter, storage_version: &'static str) -> Store {
        self.versions = Some((converter, storage_version));
        self
    }

    /// The conversions for managed fields recorded at other versions.
    fn versions(&self) -> Option<&dyn crate::apimachinery::apply::VersionConverter> {
        self.versions.as_ref().map(|(c, _)| c as &dyn crate::apimachinery::apply::VersionConverter)
    }

    /// Runs `f` on `object` (and `old`) at the storage version, where the kind's typed hooks are
    /// written, converting there and back when this store serves another version.
    fn at_storage_version<T>(
        &self,
        object: &mut Value,
        old: Option<&Value>,
        f: impl FnOnce(&mut Value, Option<&Value>) -> T,
    ) -> Result<T, ApiError> {
        let hub = self.versions.as_ref().filter(|(_, storage)| *storage != self.info.version);
        let Some((converter, storage)) = hub else { return Ok(f(object, old)) };
        let convert = |v: Value, to: &str| converter.convert(v, to).map_err(|e| ApiError::Internal(e.to_string()));
        let mut hub = convert(object.clone(), storage)?;
        let old = old.map(|o| convert(o.clone(), storage)).transpose()?;
        let out = f(&mut hub, old.as_ref());
        *object = convert(hub, self.info.version)?;
        Ok(out)
    }

    /// The kind's mutating hooks (`default`, then `prepare_for_create`/`prepare_for_update`). A
    /// hook whose object does not decode into the generated type is not run: validation says why.
    /// What they change in `metadata` is kept (`meta` is what the store writes): labels,
    /// annotations, finalizers and owner references, as upstream keeps what a strategy's
    /// PrepareForCreate/PrepareForUpdate sets; the fields the store owns (name, uid, timestamps,
    /// resourceVersion, generation, managedFields) stay the store's.
    fn mutating_hooks(&self, object: &mut Value, old: Option<&Value>, meta: &mut ObjectMeta) -> Result<(), ApiError> {
        let hooks = &self.info.hooks;
        if hooks.default.is_none() && hooks.prepare_for_create.is_none() && hooks.prepare_for_update.is_none() {
            return Ok(());
        }
        let before = object.get("metadata").cloned();
        self.at_storage_version(object, old, |object, old| {
            if let Some(default) = hooks.default {
                let _ = default(object);
            }
            match (old, hooks.prepare_for_create, hooks.prepare_for_update) {
                (None, Some(prepare), _) => {
                    let _ = prepare(object);
                }
                (Some(old), _, Some(prepare)) => {
                    let _ = prepare(object, old);
                }
                _ => {}
            }
        })?;
        if object.get("metadata") != before.as_ref() {
            let hooked = self.decode_meta(object)?;
            meta.labels = hooked.labels;
            meta.annotations = hooked.annotations;
            meta.finalizers = hooked.finalizers;
            meta.owner_references = hooked.owner_references;
        }
        Ok(())
    }

    /// The kind's validation hooks (`validate_create`, `validate_update`).
    fn validation_hooks(&self, object: &Value, old: Option<&Value>) -> Result<Vec<FieldError>, ApiError> {
        let hooks = &self.info.hooks;
        let run = match old {
            None => hooks.validate_create.is_some(),
            Some(_) => hooks.validate_update.is_some(),
        };
        if !run {
            return Ok(Vec::new());
        }
        let mut object = object.clone();
        self.at_storage_version(&mut object, old, |object, old| match (old, hooks.validate_create, hooks.validate_update) {
            (None, Some(validate), _) => validate(object).unwrap_or_default(),
            (Some(old), _, Some(validate)) => validate(object, old).unwrap_or_default(),
            _ => Vec::new(),
        })
    }

    /// Installs the validating admission of this kind's writes (once; later calls are ignored).
    pub fn set_admission(&self, admission: Arc<dyn Admit>) {
        let _ = self.admission.set(admission);
    }

    /// A dry-run update's result `(would-be object, current)` passes admission as a real one would.
    async fn admit_dry_run(&self, opts: &WriteOptions, dry: Option<(Value, Value)>) -> Result<Option<Value>, ApiError> {
        match dry {
            Some((object, current)) => {
                self.admit(opts, &object, Some(&current)).await?;
                Ok(Some(object))
            }
            None => Ok(None),
        }
    }

    async fn admit(&self, opts: &WriteOptions, new: &Value, old: Option<&Value>) -> Result<(), ApiError> {
        match self.admission.get() {
            Some(a) => a.admit(self.info, opts.user.as_ref(), new, old).await,
            None => Ok(()),
        }
    }

    /// The List-Watch (cache) serving reads.
    pub fn list_watch(&self) -> &Arc<dyn ListWatch> {
        &self.lw
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The resource prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The storage key of an object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        KeyLayout::object_key(&self.prefix, namespace, name)
    }

    /// The prefix of one namespace's objects (or of all).
    pub fn namespace_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.info.namespaced() => KeyLayout::namespace_prefix(&self.prefix, ns),
            _ => self.prefix.clone(),
        }
    }

    /// The error target for `name`.
    pub fn target(&self, name: &str) -> Target {
        Target { group: self.info.group.into(), resource: self.info.plural.into(), name: name.into() }
    }

    fn ns<'a>(&self, namespace: Option<&'a str>) -> Option<&'a str> {
        if self.info.namespaced() {
            namespace
        } else {
            None
        }
    }

    /// `GET` of one object.
    pub async fn get(&self, namespace: Option<&str>, name: &str, rv: ResourceVersion) -> Result<GetResponse, ApiError> {
        let key = self.key(self.ns(namespace), name);
        let got = self.lw.get(&key, rv).await?;
        if got.object.is_none() {
            return Err(ApiError::NotFound(self.target(name)));
        }
        Ok(got)
    }

    /// Reads the current stored state (consistent), as a JSON object with its resourceVersion.
    async fn current(&self, key: &str, name: &str) -> Result<(Value, KeyValue), ApiError> {
        let kv = self
            .storage
            .get(key, None)
            .await
            .map_err(|e| ApiError::storage(self.target(name), e))?
            .ok_or_else(|| ApiError::NotFound(self.target(name)))?;
        let mut value: Value = heavy::off_the_workers(kv.value.len(), || crate::apimachinery::json::from_slice(&kv.value))
            .map_err(|e| ApiError::Internal(format!("stored object {key} cannot be decoded: {e}")))?;
        set_resource_version(&mut value, kv.mod_revision);
        Ok((value, kv))
    }

    /// Checks `apiVersion` and `kind` of a request body, filling in missing ones from the endpoint
    /// (upstream decodes with the endpoint's kind as the default).
    pub fn check_type_meta(&self, object: &mut Value) -> Result<(), ApiError> {
        check_type_meta(self.info, object)
    }

    /// `<Kind> in version "<v>" cannot be handled as a <Kind>: <why>` (a 400 decode error).
    fn cannot_handle(&self, why: impl std::fmt::Display) -> ApiError {
        let info = self.info;
        ApiError::BadRequest(format!(
            "{} in version {} cannot be handled as a {}: {why}",
            info.kind,
            go::quote(info.version),
            info.kind
        ))
    }

    /// The Go decoding of a body into the kind's struct (built-in kinds only): a value its wire
    /// type cannot hold is a 400 decode error, before anything else looks at the object.
    fn decode_wire_types(&self, object: &mut Value) -> Result<(), ApiError> {
        if !wire::is_typed(self.info.schema) {
            return Ok(());
        }
        wire::check(self.info.schema, object, Mode::Decode).map_err(|why| self.cannot_handle(why))
    }

    /// The typed form of a patched object (built-in kinds only). Upstream decodes a JSON or merge
    /// patch's result (`encoding/json`) and converts a strategic or apply result from unstructured
    /// (ints wrap); a failure is a 422 on the field `patch` whose value is the patched object.
    fn patched_wire_types(&self, object: &mut Value, patch_type: PatchType) -> Result<(), ApiError> {
        if !wire::is_typed(self.info.schema) {
            return Ok(());
        }
        let mode = match patch_type {
            PatchType::Json | PatchType::Merge => Mode::Decode,
            PatchType::Strategic | PatchType::Apply => Mode::Convert,
        };
        wire::check(self.info.schema, object, mode).map_err(|why| ApiError::Invalid {
            group: String::new(),
            kind: String::new(),
            name: String::new(),
            errors: vec![FieldError::invalid("patch", go::json(object), why)],
        })
    }

    fn decode_meta(&self, object: &Value) -> Result<ObjectMeta, ApiError> {
        match object.get("metadata") {
            None | Some(Value::Null) => Ok(ObjectMeta::default()),
            Some(m) => serde_json::from_value(m.clone()).map_err(|e| self.cannot_handle(e)),
        }
    }

    /// Unknown fields per `fieldValidation`, then nulls and unknown fields pruned.
    fn prune_fields(&self, object: &mut Value, fv: FieldValidation, warnings: &mut Vec<String>) -> Result<(), ApiError> {
        let schema = self.info.schema;
        if fv != FieldValidation::Ignore {
            let unknown = unknown_fields(schema, object);
            if !unknown.is_empty() {
                let texts: Vec<String> = unknown.iter().map(|p| format!("unknown field {}", go::quote(p))).collect();
                if fv == FieldValidation::Strict {
                    return Err(self.cannot_handle(format!("strict decoding error: {}", texts.join(", "))));
                }
                warnings.extend(texts);
            }
        }
        prune_nulls(schema, object);
        prune(schema, object);
        Ok(())
    }

    /// Puts `kind`, `apiVersion` and the canonical `metadata` first, the rest in the order given.
    fn canonical(&self, object: Value, meta: &ObjectMeta) -> Result<Value, ApiError> {
        let mut out = Map::new();
        out.insert("kind".into(), Value::String(self.info.kind.into()));
        out.insert("apiVersion".into(), Value::String(self.info.api_version()));
        out.insert("metadata".into(), serde_json::to_value(meta).map_err(|e| ApiError::Internal(e.to_string()))?);
        if let Value::Object(map) = object {
            for (k, v) in map {
                if !matches!(k.as_str(), "kind" | "apiVersion" | "metadata") {
                    out.insert(k, v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn validate(&self, object: &Value, meta: &ObjectMeta) -> Result<(), ApiError> {
        let info = self.info;
        let mut errors = validate_object_meta(meta, info.namespaced(), self.strategy.name_fn, &Path::new("metadata"));
        errors.extend(validate(info.schema, object, ""));
        let cel = validate_cel(info.schema, object, None, &errors);
        errors.extend(cel);
        if self.strategy.builtin {
            errors.extend(super::builtin::validate(info, object));
        }
        errors.extend(self.validation_hooks(object, None)?);
        self.invalid_if_any(&meta.name, errors)
    }

    fn invalid_if_any(&self, name: &str, errors: Vec<FieldError>) -> Result<(), ApiError> {
        if errors.is_empty() {
            return Ok(());
        }
        Err(ApiError::Invalid {
            group: self.info.group.into(),
            kind: self.info.kind.into(),
            name: name.into(),
            errors,
        })
    }

    async fn check_namespace(&self, namespace: &str, name: &str) -> Result<(), ApiError> {
        let Some(lookup) = &self.namespaces else { return Ok(()) };
        let key = KeyLayout::object_key(&lookup.prefix, None, namespace);
        let target = Target { group: String::new(), resource: "namespaces".into(), name: namespace.into() };
        let cached = lookup.lw.get(&key, ResourceVersion::NotOlderThan(0)).await.ok().and_then(|g| g.object);
        let bytes = match cached {
            Some(o) => o.bytes.clone(),
            None => match lookup.storage.get(&key, None).await {
                Ok(Some(kv)) => kv.value,
                Ok(None) => return Err(ApiError::NotFound(target)),
                Err(e) => return Err(ApiError::storage(target, e)),
            },
        };
        // Only two fields matter: skip the rest instead of building the whole object (this ran on
        // every namespaced create).
        #[derive(serde::Deserialize, Default)]
        struct Namespace {
            #[serde(default)]
            metadata: Option<NamespaceMeta>,
            #[serde(default)]
            status: Option<NamespaceStatus>,
        }
        #[derive(serde::Deserialize)]
        struct NamespaceMeta {
            #[serde(default, rename = "deletionTimestamp")]
            deletion_timestamp: Option<serde::de::IgnoredAny>,
        }
        #[derive(serde::Deserialize)]
        struct NamespaceStatus {
            #[serde(default)]
            phase: Option<String>,
        }
        let ns: Namespace = crate::apimachinery::json::from_slice(&bytes).unwrap_or_default();
        let terminating = ns.metadata.is_some_and(|m| m.deletion_timestamp.is_some())
            || ns.status.and_then(|s| s.phase).as_deref() == Some("Terminating");
        if terminating {
            return Err(ApiError::Forbidden {
                target: self.target(name),
                why: format!("unable to create new content in namespace {namespace} because it is being terminated"),
            }
            .with_terminating_cause());
        }
        Ok(())
    }

    /// `POST`: creates `object` in `namespace`.
    pub async fn create(&self, namespace: Option<&str>, object: Value, opts: &WriteOptions) -> Result<Written, ApiError> {
        self.create_inner(namespace, object, opts, None).await
    }

    /// Create; `applied_managed` is the managedFields of a server-side apply that creates the object.
    async fn create_inner(
        &self,
        namespace: Option<&str>,
        object: Value,
        opts: &WriteOptions,
        applied_managed: Option<Value>,
    ) -> Result<Written, ApiError> {
        let size = heavy::encoded_len_over(&object, heavy::LARGE);
        let prepared = heavy::off_the_workers(size, || self.prepare_create(namespace, object, opts, applied_managed))?;
        let Prepared { mut object, mut meta, warnings, generated } = prepared;
        if self.info.namespaced() {
            self.check_namespace(&meta.namespace, &meta.name).await?;
        }
        self.admit(opts, &object, None).await?;
        if opts.dry_run {
            return Ok(Written { object, warnings, created: true });
        }
        let mut attempts = 1;
        let rev = loop {
            let key = self.key(self.ns(Some(&meta.namespace)), &meta.name);
            match self.writes.create_object(&key, &object).await {
                Ok(rev) => break rev,
                // A generated name that is taken: upstream (RetryGenerateName) tries new names, up
                // to 8 attempts in all, each admitted again.
                Err(StorageError::AlreadyExists { .. }) if generated && attempts < MAX_GENERATE_NAME_ATTEMPTS => {
                    attempts += 1;
                    meta.name = generate_name(&meta.generate_name);
                    if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                        m.insert("name".into(), Value::String(meta.name.clone()));
                    }
                    self.admit(opts, &object, None).await?;
                }
                Err(e) => return Err(ApiError::storage(self.target(&meta.name), e)),
            }
        };
        set_resource_version(&mut object, rev);
        Ok(Written { object, warnings, created: true })
    }

    /// The synchronous part of a create: decoding, pruning, metadata, defaults, validation and
    /// managed fields (linear in the object; run off the async workers for large ones).
    fn prepare_create(
        &self,
        namespace: Option<&str>,
        mut object: Value,
        opts: &WriteOptions,
        applied_managed: Option<Value>,
    ) -> Result<Prepared, ApiError> {
        let info = self.info;
        self.check_type_meta(&mut object)?;
        // A server-side apply that creates was checked (converted) by `apply_create`.
        if applied_managed.is_none() {
            self.decode_wire_types(&mut object)?;
        }
        let mut warnings = Vec::new();
        self.prune_fields(&mut object, opts.field_validation, &mut warnings)?;
        let mut meta = self.decode_meta(&object)?;
        let namespace = self.ns(namespace);
        if info.namespaced() {
            let ns = namespace.unwrap_or_default();
            if meta.namespace.is_empty() {
                meta.namespace = ns.to_string();
            } else if !ns.is_empty() && meta.namespace != ns {
                return Err(ApiError::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on the request".into(),
                ));
            }
        } else {
            meta.namespace.clear();
        }
        let generated = meta.name.is_empty() && !meta.generate_name.is_empty();
        if generated {
            meta.name = generate_name(&meta.generate_name);
        }
        let now = Time::now();
        meta.uid = uuid::Uuid::new_v4().to_string();
        meta.creation_timestamp = Some(now);
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.resource_version.clear();
        meta.self_link.clear();
        meta.generation = if self.strategy.tracks_generation { 1 } else { 0 };
        self.strategy.prepare_for_create(info, &mut object);
        apply_defaults(info.schema, &mut object);
        self.mutating_hooks(&mut object, None, &mut meta)?;
        // Managed fields sent with a create are kept as upstream keeps them (its field manager
        // starts from the request's entries when they decode and are not empty); the creating
        // manager then takes what it set from them.
        let mut object = self.canonical(object, &meta)?;
        self.validate(&object, &meta)?;
        match applied_managed {
            Some(managed) => {
                if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert("managedFields".into(), managed);
                }
            }
            None => super::managed::track(None, &mut object, info, self.versions(), &opts.field_manager, now, "")?,
        }
        Ok(Prepared { object, meta, warnings, generated })
    }

    /// Runs `f` on the current object and writes its result with compare-and-swap, retrying on
    /// conflicts unless the caller pinned a resourceVersion (then 409). `f` returns `None` to write
    /// nothing. Returns the object as stored and whether it changed.
    async fn guaranteed_update<F>(&self, namespace: Option<&str>, name: &str, f: F) -> Result<(Value, bool), ApiError>
    where
        F: FnMut(Value) -> Result<Update, ApiError>,
    {
        self.guaranteed_update_admitted(namespace, name, None, f).await
    }

    /// [`Self::guaranteed_update`] whose writes pass the kind's admission as `opts.user`.
    async fn guaranteed_update_admitted<F>(
        &self,
        namespace: Option<&str>,
        name: &str,
        admit: Option<&WriteOptions>,
        mut f: F,
    ) -> Result<(Value, bool), ApiError>
    where
        F: FnMut(Value) -> Result<Update, ApiError>,
    {
        let key = self.key(self.ns(namespace), name);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (current, kv) = self.current(&key, name).await?;
            let update = heavy::off_the_workers(kv.value.len(), || f(current.clone()))?;
            let (new, pinned) = match update {
                Update::Unchanged => return Ok((current, false)),
                Update::Write { object, pinned_rv } => (object, pinned_rv),
                Update::Delete => {
                    let (deleted, rev) = match self.storage.delete(&key, Some(kv.mod_revision)).await {
                        Ok(d) => d,
                        Err(StorageError::Conflict { .. }) if attempts < MAX_ATTEMPTS => continue,
                        Err(e) => return Err(ApiError::storage(self.target(name), e)),
                    };
                    let mut last: Value = crate::apimachinery::json::from_slice(&deleted.value).unwrap_or(current);
                    set_resource_version(&mut last, rev);
                    return Ok((last, true));
                }
            };
            if let Some(rv) = pinned {
                if rv != kv.mod_revision {
                    return Err(ApiError::conflict(self.target(name)));
                }
            }
            if let Some(opts) = admit {
                self.admit(opts, &new, Some(&current)).await?;
            }
            let mut stored = new;
            strip_resource_version(&mut stored);
            match self.writes.update_object(&key, &stored, kv.mod_revision).await {
                Ok(rev) => {
                    set_resource_version(&mut stored, rev);
                    return Ok((stored, true));
                }
                Err(StorageError::Conflict { .. }) if pinned.is_none() && attempts < MAX_ATTEMPTS => continue,
                Err(StorageError::NotFound { .. }) => return Err(ApiError::NotFound(self.target(name))),
                Err(e) => return Err(ApiError::storage(self.target(name), e)),
            }
        }
    }

    /// The update rules shared by PUT, PATCH and `/status`: `new` replaces `old` (both full objects).
    #[allow(clippy::too_many_arguments)] // one private step shared by PUT, PATCH and apply
    fn prepare_update(
        &self,
        old: &Value,
        mut new: Value,
        part: Part,
        opts: &WriteOptions,
        warnings: &mut Vec<String>,
        track: bool,
        client_rv: bool,
    ) -> Result<Update, ApiError> {
        let info = self.info;
        self.check_type_meta(&mut new)?;
        self.prune_fields(&mut new, opts.field_validation, warnings)?;
        let old_meta = self.decode_meta(old)?;
        let mut meta = self.decode_meta(&new)?;
        if meta.name != old_meta.name {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({}) does not match the name on the URL ({})",
                meta.name, old_meta.name
            )));
        }
        if info.namespaced() && !meta.namespace.is_empty() && meta.namespace != old_meta.namespace {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        // A patch carries the live resourceVersion unless the client put one in it: only a
        // client's own resourceVersion is a precondition (a patch is retried on conflicts).
        let pinned_rv = if !client_rv {
            if !meta.resource_version.is_empty() && meta.resource_version != old_meta.resource_version {
                return Err(ApiError::conflict(self.target(&meta.name)));
            }
            None
        } else if meta.resource_version.is_empty() {
            if !self.strategy.allow_unconditional_update {
                return Err(self.invalid_err(
                    &meta.name,
                    vec![FieldError::invalid("metadata.resourceVersion", 0, "must be specified for an update")],
                ));
            }
            None
        } else {
            // Upstream checks the precondition first: a stale resourceVersion is a conflict even
            // when the write would change nothing.
            match meta.resource_version.parse::<Revision>() {
                Ok(rv) if old_meta.resource_version.parse::<Revision>().ok() == Some(rv) => Some(rv),
                _ => return Err(ApiError::conflict(self.target(&meta.name))),
            }
        };
        // System fields stay as they are.
        meta.namespace = old_meta.namespace.clone();
        meta.uid = old_meta.uid.clone();
        meta.creation_timestamp = old_meta.creation_timestamp;
        meta.deletion_timestamp = old_meta.deletion_timestamp;
        meta.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
        meta.generate_name = if meta.generate_name.is_empty() { old_meta.generate_name.clone() } else { meta.generate_name };
        meta.self_link.clear();
        meta.generation = old_meta.generation;
        meta.resource_version.clear();
        if meta.managed_fields.is_empty() {
            meta.managed_fields = old_meta.managed_fields.clone();
        }
        // A terminating object cannot gain finalizers (upstream: forbidden).
        let map_of = |v: &Value| v.as_object().cloned().unwrap_or_default();
        let (old_map, mut new_map) = (map_of(old), map_of(&new));
        match part {
            Part::Main if info.status_subresource => match old_map.get("status") {
                Some(s) => {
                    new_map.insert("status".into(), s.clone());
                }
                None => {
                    new_map.remove("status");
                }
            },
            Part::Status => {
                // Only status changes are kept: everything else from the old object.
                let status = new_map.remove("status");
                new_map = old_map.clone();
                match status {
                    Some(s) => {
                        new_map.insert("status".into(), s);
                    }
                    None => {
                        new_map.remove("status");
                    }
                }
                let labels = meta.labels.clone();
                let annotations = meta.annotations.clone();
                meta = old_meta.clone();
                meta.resource_version.clear();
                meta.labels = labels;
                meta.annotations = annotations;
            }
            Part::Main => {}
        }
        let mut new = Value::Object(new_map);
        apply_defaults(info.schema, &mut new);
        self.mutating_hooks(&mut new, Some(old), &mut meta)?;
        if self.strategy.tracks_generation && spec_changed(old, &new) {
            meta.generation = old_meta.generation + 1;
        }
        let mut new = self.canonical(new, &meta)?;
        let mut errors = validate_object_meta(&meta, info.namespaced(), self.strategy.name_fn, &Path::new("metadata"));
        errors.extend(validate(info.schema, &new, ""));
        let cel = validate_cel(info.schema, &new, Some(old), &errors);
        errors.extend(cel);
        if self.strategy.builtin {
            errors.extend(super::builtin::validate(info, &new));
        }
        errors.extend(self.validation_hooks(&new, Some(old))?);
        if old_meta.deletion_timestamp.is_some() {
            let added: Vec<&String> = meta.finalizers.iter().filter(|f| !old_meta.finalizers.contains(f)).collect();
            if !added.is_empty() {
                errors.push(FieldError::forbidden(
                    "metadata.finalizers",
                    format!("no new finalizers can be added if the object is being deleted, found new finalizers {}", go_string_list(&added)),
                ));
            }
        }
        self.invalid_if_any(&meta.name, errors)?;
        if track {
            let sub = if part == Part::Status { "status" } else { "" };
            super::managed::track(Some(old), &mut new, info, self.versions(), &opts.field_manager, Time::now(), sub)?;
        }
        let mut old_cmp = old.clone();
        strip_resource_version(&mut old_cmp);
        if same_ignoring_managed_time(&old_cmp, &new) {
            return Ok(Update::Unchanged);
        }
        let grace_over = meta.deletion_grace_period_seconds.is_none_or(|g| g == 0);
        let spec_finalized = self.strategy.special != Special::Namespace
            || new.pointer("/spec/finalizers").and_then(Value::as_array).is_none_or(Vec::is_empty);
        if meta.deletion_timestamp.is_some() && meta.finalizers.is_empty() && grace_over && spec_finalized {
            return Ok(Update::Delete);
        }
        Ok(Update::Write { object: new, pinned_rv })
    }

    fn invalid_err(&self, name: &str, errors: Vec<FieldError>) -> ApiError {
        ApiError::Invalid { group: self.info.group.into(), kind: self.info.kind.into(), name: name.into(), errors }
    }

    /// `PUT`: replaces the object (or its status).
    pub async fn update(
        &self,
        namespace: Option<&str>,
        name: &str,
        mut object: Value,
        part: Part,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        // Upstream decodes the body (type meta first) before it looks at the name.
        self.check_type_meta(&mut object)?;
        self.decode_wire_types(&mut object)?;
        let mut warnings = Vec::new();
        if let Some(body_name) = object.pointer("/metadata/name").and_then(Value::as_str) {
            if body_name != name {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
        }
        let dry_run = opts.dry_run;
        let mut dry_result = None;
        let (object, _) = self
            .guaranteed_update_admitted(namespace, name, Some(opts), |current| {
                warnings.clear();
                // A uid in the body is a precondition (upstream: a storage precondition, 409).
                if let Some((uid, live)) = changed_uid(&current, &object) {
                    return Err(ApiError::Conflict {
                        target: self.target(name),
                        why: format!(
                            "StorageError: invalid object, Code: 4, Key: {}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {uid}, UID in object meta: {live}",
                            self.key(self.ns(namespace), name)
                        ),
                    });
                }
                let update = self.prepare_update(&current, object.clone(), part, opts, &mut warnings, true, true)?;
                if dry_run {
                    dry_result = Some((dry_run_result(&update, current.clone()), current));
                    return Ok(Update::Unchanged);
                }
                Ok(update)
            })
            .await?;
        let object = self.admit_dry_run(opts, dry_result).await?.unwrap_or(object);
        Ok(Written { object, warnings, created: false })
    }

    /// `PATCH` of the object (or its status).
    pub async fn patch(
        &self,
        namespace: Option<&str>,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        part: Part,
        opts: &WriteOptions,
    ) -> Result<Written, ApiError> {
        let info = self.info;
        if patch_type == PatchType::Strategic && !self.strategy.builtin {
            return Err(unsupported_patch(false));
        }
        if patch_type == PatchType::Apply {
            let key = self.key(self.ns(namespace), name);
            let exists = self.storage.get(&key, None).await.map_err(|e| ApiError::storage(self.target(name), e))?.is_some();
            if !exists {
                // Status does not create on update: applying to /status of a missing object is a 404.
                if part == Part::Status {
                    return Err(ApiError::NotFound(self.target(name)));
                }
                return self.apply_create(namespace, name, patch, opts).await;
            }
        }
        let mut warnings = Vec::new();
        let dry_run = opts.dry_run;
        let mut dry_result = None;
        let client_rv = patch_sets_resource_version(patch_type, patch);
        let (object, _) = self
            .guaranteed_update_admitted(namespace, name, Some(opts), |current| {
                let (mut patched, track) = match patch_type {
                    PatchType::Json => (super::patching::json(&current, patch)?, true),
                    PatchType::Merge => (super::patching::merge(&current, patch)?, true),
                    PatchType::Strategic => (super::patching::strategic(&current, patch, info)?, true),
                    PatchType::Apply => {
                        let sub = if part == Part::Status { "status" } else { "" };
                        (super::managed::apply(&current, patch, info, self.versions(), opts, sub)?, false)
                    }
                };
                self.patched_wire_types(&mut patched, patch_type)?;
                warnings.clear();
                // A patch may not change the uid (upstream: ValidateObjectMetaUpdate, whose error
                // is reported twice).
                if let Some((uid, _)) = changed_uid(&current, &patched) {
                    let immutable = FieldError::invalid("metadata.uid", uid, "field is immutable");
                    return Err(self.invalid_err(name, vec![immutable.clone(), immutable]));
                }
                let update = self.prepare_update(&current, patched, part, opts, &mut warnings, track, client_rv)?;
                if dry_run {
                    dry_result = Some((dry_run_result(&update, current.clone()), current));
                    return Ok(Update::Unchanged);
                }
                Ok(update)
            })
            .await?;
        let object = self.admit_dry_run(opts, dry_result).await?.unwrap_or(object);
        Ok(Written { object, warnings, created: false })
    }

    /// Server-side apply of an object that does not exist yet: a create of the applied config.
    async fn apply_create(&self, namespace: Option<&str>, name: &str, patch: &Value, opts: &WriteOptions) -> Result<Written, ApiError> {
        let info = self.info;
        let mut typed = patch.clone();
        self.check_type_meta(&mut typed)?;
        if let Some(n) = patch.pointer("/metadata/name").and_then(Value::as_str) {
            if n != name {
                return Err(ApiError::BadRequest(format!(
                    "the name of the object ({n}) does not match the name on the URL ({name})"
                )));
            }
        }
        let mut object = super::managed::apply(&Value::Null, patch, info, self.versions(), opts, "")?;
        self.patched_wire_types(&mut object, PatchType::Apply)?;
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), Value::String(name.into()));
        }
        let managed = object.pointer("/metadata/managedFields").cloned();
        let mut created = self.create_inner(namespace, object, opts, managed).await?;
        created.created = true;
        Ok(created)
    }

    /// `DELETE` of one object.
    pub async fn delete(&self, namespace: Option<&str>, name: &str, opts: &DeleteOptions) -> Result<Deleted, ApiError> {
        if self.strategy.special == Special::Namespace && matches!(name, "default" | "kube-system" | "kube-public") {
            return Err(ApiError::Forbidden { target: self.target(name), why: "this namespace may not be deleted".into() });
        }
        let dry_run = opts.dry_run.iter().any(|d| d == "All");
        let special = self.strategy.special;
        let mut pending = false;
        let mut dry = None;
        let (object, changed) = self
            .guaranteed_update(namespace, name, |current| {
                pending = false;
                let meta = self.decode_meta(&current)?;
                if let Some(pre) = &opts.preconditions {
                    if let Some(uid) = pre.uid.as_deref().filter(|u| *u != meta.uid) {
                        return Err(ApiError::Conflict {
                            target: self.target(name),
                            why: format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", meta.uid),
                        });
                    }
                    if let Some(rv) = pre.resource_version.as_deref().filter(|rv| *rv != meta.resource_version) {
                        return Err(ApiError::Conflict {
                            target: self.target(name),
                            why: format!(
                                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                                meta.resource_version
                            ),
                        });
                    }
                }
                let graceful = special == Special::Pod
                    && current.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|n| !n.is_empty())
                    && opts.grace_period_seconds != Some(0);
                let needs_wait = !meta.finalizers.is_empty() || special == Special::Namespace || graceful;
                if dry_run {
                    dry = Some(current);
                    return Ok(Update::Unchanged);
                }
                if !needs_wait {
                    return Ok(Update::Delete);
                }
                pending = true;
                if meta.deletion_timestamp.is_some() {
                    // Already terminating: a shorter grace period may still apply; nothing else changes.
                    return Ok(Update::Unchanged);
                }
                let mut new = current;
                let grace = if graceful {
                    opts.grace_period_seconds
                        .or_else(|| new.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
                        .unwrap_or(30)
                } else {
                    0
                };
                let when = Time(chrono::Utc::now() + chrono::Duration::seconds(grace)).truncated();
                if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.insert("deletionTimestamp".into(), Value::String(when.to_rfc3339()));
                    m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                }
                if special == Special::Namespace {
                    if let Some(s) = new.get_mut("status").and_then(Value::as_object_mut) {
                        s.insert("phase".into(), json!("Terminating"));
                    }
                }
                strip_resource_version(&mut new);
                Ok(Update::Write { object: new, pinned_rv: None })
            })
            .await?;
        if let Some(current) = dry {
            return Ok(Deleted { object: current, gone: true });
        }
        let gone = !pending && changed;
        Ok(Deleted { object, gone })
    }

    /// Removes the `kubernetes` finalizer of a terminating namespace whose contents are gone, and
    /// deletes it when no other finalizer remains (upstream's `/finalize` plus the final delete).
    pub async fn finalize_namespace(&self, name: &str) -> Result<(), ApiError> {
        self.guaranteed_update(None, name, |mut current| {
            if current.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                return Ok(Update::Unchanged);
            }
            if let Some(list) = current.pointer_mut("/spec/finalizers").and_then(Value::as_array_mut) {
                list.retain(|f| f != "kubernetes");
            }
            let spec_done = current.pointer("/spec/finalizers").and_then(Value::as_array).is_none_or(Vec::is_empty);
            let meta = self.decode_meta(&current)?;
            if meta.finalizers.is_empty() && spec_done {
                return Ok(Update::Delete);
            }
            strip_resource_version(&mut current);
            Ok(Update::Write { object: current, pinned_rv: None })
        })
        .await?;
        Ok(())
    }
}

/// What a dry-run update answers: the object it would write, with the live resourceVersion.
fn dry_run_result(update: &Update, current: Value) -> Value {
    match update {
        Update::Write { object, .. } => {
            let mut object = object.clone();
            if let Some(rv) = current.pointer("/metadata/resourceVersion").cloned() {
                if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("resourceVersion".into(), rv);
                }
            }
            object
        }
        _ => current,
    }
}

/// Compare-and-swap retries of one update (upstream's GuaranteedUpdate retries until it wins; the cap only
/// stops a livelock from spinning forever).
const MAX_ATTEMPTS: u32 = 1000;

/// What a guaranteed update writes.
enum Update {
    Unchanged,
    Write { object: Value, pinned_rv: Option<Revision> },
    Delete,
}

impl ApiError {
    fn with_terminating_cause(self) -> ApiError {
        let mut status = self.to_status();
        if let Some(d) = status.details.as_mut() {
            d.causes.push(crate::apimachinery::StatusCause {
                reason: "NamespaceTerminating".into(),
                message: status.message.clone(),
                field: "metadata.namespace".into(),
            });
        }
        ApiError::Status(Box::new(status))
    }
}

/// Whether a patch sets `metadata.resourceVersion` (then it is a precondition, as upstream).
fn patch_sets_resource_version(patch_type: PatchType, patch: &Value) -> bool {
    match patch_type {
        PatchType::Json => patch.as_array().is_some_and(|ops| {
            ops.iter().any(|op| op.get("path").and_then(Value::as_str) == Some("/metadata/resourceVersion"))
        }),
        _ => patch.pointer("/metadata/resourceVersion").is_some_and(|v| !v.is_null()),
    }
}

/// The 415 of an unsupported patch type.
pub fn unsupported_patch(builtin: bool) -> ApiError {
    let accepted = if builtin {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"
    } else {
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    };
    ApiError::UnsupportedMediaType(format!(
        "the body of the request was in an unknown format - accepted media types include: {accepted}"
    ))
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(object: &mut Value, rev: Revision) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
}

fn strip_resource_version(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
}

/// Anything but `metadata` and `status` differs.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| -> Map<String, Value> {
        let mut m = v.as_object().cloned().unwrap_or_default();
        for k in ["metadata", "status", "kind", "apiVersion"] {
            m.remove(k);
        }
        m
    };
    strip(old) != strip(new)
}

/// Equal once managedFields timestamps are ignored (a no-op write is not written).
fn same_ignoring_managed_time(a: &Value, b: &Value) -> bool {
    let norm = |v: &Value| {
        let mut v = v.clone();
        if let Some(entries) = v.pointer_mut("/metadata/managedFields").and_then(Value::as_array_mut) {
            for e in entries {
                if let Some(e) = e.as_object_mut() {
                    e.remove("time");
                }
            }
        }
        v
    };
    norm(a) == norm(b)
}

fn go_string_list(items: &[&String]) -> String {
    format!("[{}]", items.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
}

/// How many names a create with `generateName` tries when the generated name is taken
/// (upstream's `maxNameGenerationCreateAttempts`).
const MAX_GENERATE_NAME_ATTEMPTS: u32 = 8;

/// `names.SimpleNameGenerator`: the prefix (cut to 58 characters) plus 5 random characters.
pub fn generate_name(base: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let base: String = base.chars().take(58).collect();
    let random = uuid::Uuid::new_v4();
    let suffix: String = random.as_bytes().iter().take(5).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("{base}{suffix}")
}

/// `kind` and `apiVersion` of a request body: defaulted from the endpoint's kind when absent,
/// refused with upstream's messages when they name another.
pub fn check_type_meta(info: &KindInfo, object: &mut Value) -> Result<(), ApiError> {
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::BadRequest(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: json: cannot unmarshal {} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}",
            info.kind,
            crate::apimachinery::patch::json_kind(object)
        )));
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let kind = text(map.get("kind"));
    let api_version = text(map.get("apiVersion"));
    if kind.is_empty() {
        map.insert("kind".into(), Value::String(info.kind.into()));
    } else if kind != info.kind {
        return Err(ApiError::BadRequest(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            info.kind
        )));
    }
    if api_version.is_empty() {
        map.insert("apiVersion".into(), Value::String(info.api_version()));
    } else if api_version != info.api_version() {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            info.api_version()
        )));
    }
    Ok(())
}

/// The uid `new` sets and the live one, when `new` sets one that is not `current`'s.
fn changed_uid(current: &Value, new: &Value) -> Option<(String, String)> {
    let uid = new.pointer("/metadata/uid").and_then(Value::as_str).filter(|u| !u.is_empty())?;
    let live = current.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
    (uid != live).then(|| (uid.to_string(), live.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names() {
        let n = generate_name("web-");
        assert_eq!(n.len(), 9);
        assert!(n.starts_with("web-"));
        let long = "a".repeat(70);
        assert_eq!(generate_name(&long).len(), 63);
    }

    #[test]
    fn generation_ignores_metadata_and_status() {
        let a = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"x": 1}, "status": {"y": 1}});
        let b = json!({"metadata": {}, "spec": {"x": 1}, "status": {"y": 2}});
        assert!(!spec_changed(&a, &b));
        let c = json!({"metadata": {}, "spec": {"x": 2}});
        assert!(spec_changed(&a, &c));
    }
}

