//! The registry: one generic REST store per kind (strategies, validation, defaulting, the
//! create/update/delete rules), the namespace lifecycle, and the table of all stores.

pub mod builtin;
pub mod error;
mod managed;
pub mod namespaces;
mod patching;
pub mod store;
pub mod strategy;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, Weak};

use crate::apimachinery::conversion::webhook::ServiceResolver;
use crate::apimachinery::conversion::Converter;

pub use error::{ApiError, Target};
pub use store::{Deleted, FieldValidation, NamespaceLookup, Part, PatchType, Store, WriteOptions, Written};
pub use patching::patch_value;
pub use strategy::Strategy;

use crate::apimachinery::KindInfo;
use crate::cacher::{CacheMode, Cacher, CacherOptions, JsonCodec, ListWatch, Passthrough, WatchCacheConfig};
use crate::storage::codec::{MediaType, ObjectCodec, Transcoded};
use crate::storage::keys::KeyLayout;
use crate::storage::Storage;

/// Every kind's store, by group, version and resource.
pub struct Registry {
    kinds: &'static [&'static KindInfo],
    stores: BTreeMap<(&'static str, &'static str, &'static str), Arc<Store>>,
    namespaces: Option<Arc<Store>>,
    storage: Arc<dyn Storage>,
}

impl Registry {
    /// Builds the stores of `kinds` over `storage` (must run inside a tokio runtime: caches start
    /// their reflectors), then creates the system namespaces and starts the namespace lifecycle.
    pub async fn start(
        kinds: &'static [&'static KindInfo],
        storage: Arc<dyn Storage>,
        layout: &KeyLayout,
        cache: &WatchCacheConfig,
        media: MediaType,
    ) -> Result<Arc<Registry>, ApiError> {
        // A conversion webhook's Service is found through this registry once it exists.
        let this: Arc<OnceLock<Weak<Registry>>> = Arc::new(OnceLock::new());
        let resolver = service_resolver(this.clone());
        // Each kind sees storage through its codec (`--storage-media-type`): JSON in and out. A
        // resource with several versions is stored at its storage version, and each version's codec
        // converts to and from it.
        // A resource with several versions: their converter and the storage version.
        let versions = |info: &'static KindInfo| -> Option<(Converter, &'static KindInfo)> {
            let converter = Converter::new(info, kinds, Some(resolver.clone()));
            let stored = kinds.iter().copied().find(|k| k.group == info.group && k.plural == info.plural && k.storage)?;
            (converter.versions() > 1).then_some((converter, stored))
        };
        let codec = |info: &'static KindInfo, versions: &Option<(Converter, &'static KindInfo)>| -> ObjectCodec {
            match versions {
                Some((converter, stored)) => {
                    ObjectCodec::versioned(media, stored.schema, info.version, stored.version, converter.clone())
                }
                None => ObjectCodec::new(media, info.schema),
            }
        };
        let kind_storage = |codec: ObjectCodec| Transcoded::new(storage.clone(), codec);
        // The caches read the backend itself and decode stored bytes straight into objects (no
        // JSON in between for protobuf).
        let list_watch = |info: &'static KindInfo, codec: ObjectCodec| -> (Arc<dyn ListWatch>, String) {
            let prefix = layout.resource_prefix(info.group, info.plural);
            let codec = Arc::new(JsonCodec::for_storage(info.selectable_fields, codec));
            let lw: Arc<dyn ListWatch> = match cache.mode(&info.group_resource()) {
                CacheMode::Cached { capacity } => {
                    Arc::new(Cacher::new(storage.clone(), prefix.clone(), CacherOptions::with_capacity(capacity), codec))
                }
                CacheMode::Passthrough => {
                    Arc::new(Passthrough::new(storage.clone(), prefix.clone(), CacherOptions::default(), codec))
                }
            };
            (lw, prefix)
        };
        let ns_info = kinds.iter().copied().find(|k| k.group.is_empty() && k.plural == "namespaces" && k.served);
        let namespaces = ns_info.map(|info| {
            let (lw, prefix) = list_watch(info, codec(info, &None));
            Arc::new(Store::new(info, kind_storage(codec(info, &None)), lw, prefix, None))
        });
        let lookup = namespaces.as_ref().zip(ns_info).map(|(ns, info)| NamespaceLookup {
            lw: ns.list_watch().clone(),
            storage: kind_storage(codec(info, &None)) as Arc<dyn Storage>,
            prefix: ns.prefix().to_string(),
        });
        let mut stores = BTreeMap::new();
        // Create-only kinds (reviews) are never stored: no store, cache or storage watch.
        for &info in kinds.iter().filter(|k| k.served && !k.create_only()) {
            let store = match (&namespaces, ns_info) {
                (Some(ns), Some(n)) if std::ptr::eq(n, info) => ns.clone(),
                _ => {
                    let versions = versions(info);
                    let codec = codec(info, &versions);
                    let (lw, prefix) = list_watch(info, codec.clone());
                    let lookup = if info.namespaced() { lookup.clone() } else { None };
                    let store = Store::new(info, kind_storage(codec), lw, prefix, lookup);
                    Arc::new(match versions {
                        Some((converter, stored)) => store.with_versions(converter, stored.version),
                        None => store,
                    })
                }
            };
            stores.insert((info.group, info.version, info.plural), store);
        }
        let registry = Arc::new(Registry { kinds, stores, namespaces, storage });
        let _ = this.set(Arc::downgrade(&registry));
        if let Some(ns) = registry.namespaces() {
            namespaces::ensure_system_namespaces(ns).await?;
        }
        namespaces::spawn_controller(&registry);
        Ok(registry)
    }

    /// The compiled kinds.
    pub fn kinds(&self) -> &'static [&'static KindInfo] {
        self.kinds
    }

    /// The create-only kind (`KindInfo::create_only`: SubjectAccessReview, TokenReview, ...) served
    /// at `group`/`version`/`resource`, whose POSTs a runtime handler answers; `None` for every
    /// other resource.
    pub fn create_only(&self, group: &str, version: &str, resource: &str) -> Option<&'static KindInfo> {
        create_only_kind(self.kinds, group, version, resource)
    }

    /// The store of `group`/`version`/`resource` (`None` for create-only kinds, which have none).
    pub fn store(&self, group: &str, version: &str, resource: &str) -> Option<&Arc<Store>> {
        self.stores
            .iter()
            .find(|((g, v, r), _)| *g == group && *v == version && *r == resource)
            .map(|(_, s)| s)
    }

    /// One object of `group`'s `resource` (its storage version) as JSON, read consistently (a
    /// deleted object is gone at once): the security code's reads of ServiceAccounts, Secrets,
    /// Pods and Nodes. A missing object is `ApiError::NotFound`.
    pub async fn get_json(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let store = self
            .kinds
            .iter()
            .find(|k| k.group == group && k.plural == resource && k.served && k.storage)
            .and_then(|k| self.store(k.group, k.version, k.plural))
            .ok_or_else(|| ApiError::Internal(format!("{resource} are not served")))?;
        let got = store.get(namespace, name, crate::cacher::ResourceVersion::Unset).await?;
        let object = got.object.ok_or_else(|| ApiError::NotFound(store.target(name)))?;
        crate::apimachinery::json::from_slice(&object.bytes).map_err(|e| ApiError::Internal(format!("decoding {resource} {name}: {e}")))
    }

    /// Every store.
    pub fn stores(&self) -> impl Iterator<Item = &Arc<Store>> {
        self.stores.values()
    }

    /// One store per stored resource (the storage version of each).
    pub fn storage_stores(&self) -> impl Iterator<Item = &Arc<Store>> {
        self.stores.values().filter(|s| s.info.storage)
    }

    /// The namespaces' store.
    pub fn namespaces(&self) -> Option<&Arc<Store>> {
        self.namespaces.as_ref()
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }
}

/// Finds a conversion webhook's Service as upstream's ClusterIP resolver does: its `spec.clusterIP`
/// and the named port (`clientConfig.service.port`, which must be one of the Service's ports).
fn service_resolver(registry: Arc<OnceLock<Weak<Registry>>>) -> ServiceResolver {
    Arc::new(move |namespace: &str, name: &str, port: u16| {
        let registry = registry.get().and_then(Weak::upgrade).ok_or("the registry is not running")?;
        // A server built without Services has none: every one is "not found", as upstream says.
        if !registry.kinds.iter().any(|k| k.group.is_empty() && k.plural == "services" && k.served) {
            return Err(format!("service \"{name}\" not found"));
        }
        let (ns, n) = (namespace.to_string(), name.to_string());
        let service = crate::apimachinery::conversion::webhook::block_on(async move {
            registry.get_json("", "services", Some(&ns), &n).await.map_err(|e| match e {
                ApiError::NotFound(_) => format!("service \"{n}\" not found"),
                other => other.to_string(),
            })
        })?;
        let spec = service.get("spec");
        let ports = spec.and_then(|s| s.get("ports")).and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
        if !ports.iter().any(|p| p.get("port").and_then(serde_json::Value::as_u64) == Some(u64::from(port))) {
            return Err(format!("no service port {port} found for service \"{name}\""));
        }
        match spec.and_then(|s| s.get("clusterIP")).and_then(serde_json::Value::as_str) {
            Some(ip) if !ip.is_empty() && ip != "None" => Ok(if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") }),
            _ => Err(format!("cannot route to service with ClusterIP \"{}\"", spec.and_then(|s| s.get("clusterIP")).and_then(serde_json::Value::as_str).unwrap_or_default())),
        }
    })
}

/// The served create-only kind of `group`/`version`/`resource` among `kinds`.
fn create_only_kind(kinds: &'static [&'static KindInfo], group: &str, version: &str, resource: &str) -> Option<&'static KindInfo> {
    kinds
        .iter()
        .copied()
        .find(|k| k.served && k.create_only() && k.group == group && k.version == version && k.plural == resource)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::apimachinery::Scope;
    use crate::storage::{Revision, StorageError};

    static CONFIG_MAP: KindInfo = KindInfo {
        kind: "ConfigMap",
        list_kind: "ConfigMapList",
        plural: "configmaps",
        singular: "configmap",
        definition: "io.k8s.api.core.v1.ConfigMap",
        proto_package: "k8s.io.api.core.v1",
        ..KindInfo::BLANK
    };
    static TOKEN_REVIEW: KindInfo = KindInfo {
        group: "authentication.k8s.io",
        kind: "TokenReview",
        list_kind: "TokenReviewList",
        plural: "tokenreviews",
        singular: "tokenreview",
        scope: Scope::Cluster,
        definition: "io.k8s.api.authentication.v1.TokenReview",
        proto_package: "k8s.io.api.authentication.v1",
        verbs: &["create"],
        ..CONFIG_MAP
    };
    static UNSERVED_REVIEW: KindInfo = KindInfo { version: "v1beta1", served: false, ..TOKEN_REVIEW };
    static KINDS: &[&KindInfo] = &[&CONFIG_MAP, &TOKEN_REVIEW, &UNSERVED_REVIEW];

    #[test]
    fn create_only_kinds_are_found_by_resource() {
        let found = create_only_kind(KINDS, "authentication.k8s.io", "v1", "tokenreviews");
        assert!(found.is_some_and(|k| std::ptr::eq(k, &TOKEN_REVIEW)));
        assert!(create_only_kind(KINDS, "authentication.k8s.io", "v1beta1", "tokenreviews").is_none());
        assert!(create_only_kind(KINDS, "", "v1", "configmaps").is_none());
        assert!(create_only_kind(KINDS, "authentication.k8s.io", "v1", "selfsubjectreviews").is_none());
    }

    #[tokio::test]
    async fn create_only_kinds_get_no_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage: Arc<dyn Storage> =
            crate::storage::embedded::Embedded::open(dir.path(), crate::storage::embedded::EmbeddedOptions::default()).expect("storage");
        let registry = Registry::start(KINDS, storage, &KeyLayout::default(), &WatchCacheConfig::default(), MediaType::Json)
            .await
            .expect("registry");
        assert!(registry.store("", "v1", "configmaps").is_some());
        assert!(registry.store("authentication.k8s.io", "v1", "tokenreviews").is_none());
        assert!(registry.create_only("authentication.k8s.io", "v1", "tokenreviews").is_some());
        assert_eq!(registry.stores().count(), 1);
        drop(registry);
    }

    mod versions {
        use crate::apimachinery::schema::{ObjectSchema, Schema, Type};
        use crate::apimachinery::KindInfo;

        static SPEC_V1: ObjectSchema = ObjectSchema {
            name: "v1.Spec",
            properties: &[("color", Schema { ty: Type::String, ..Schema::DEFAULT }), ("size", Schema { ty: Type::Integer, ..Schema::DEFAULT })],
            ..ObjectSchema::DEFAULT
        };
        static ROOT_V1: ObjectSchema = ObjectSchema {
            name: "v1.Widget",
            properties: &[
                ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("metadata", Schema { ty: Type::Object(&crate::apimachinery::schema::wellknown::OBJECT_META_OBJECT), ..Schema::DEFAULT }),
                ("spec", Schema { ty: Type::Object(&SPEC_V1), ..Schema::DEFAULT }),
            ],
            ..ObjectSchema::DEFAULT
        };
        static V1_SCHEMA: Schema = Schema { ty: Type::Object(&ROOT_V1), ..Schema::DEFAULT };
        /// v2 has no `size`: a None conversion drops it on the way to v2.
        static SPEC_V2: ObjectSchema =
            ObjectSchema { name: "v2.Spec", properties: &[("color", Schema { ty: Type::String, ..Schema::DEFAULT })], ..ObjectSchema::DEFAULT };
        static ROOT_V2: ObjectSchema = ObjectSchema {
            name: "v2.Widget",
            properties: &[
                ("apiVersion", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("kind", Schema { ty: Type::String, ..Schema::DEFAULT }),
                ("metadata", Schema { ty: Type::Object(&crate::apimachinery::schema::wellknown::OBJECT_META_OBJECT), ..Schema::DEFAULT }),
                ("spec", Schema { ty: Type::Object(&SPEC_V2), ..Schema::DEFAULT }),
            ],
            ..ObjectSchema::DEFAULT
        };
        static V2_SCHEMA: Schema = Schema { ty: Type::Object(&ROOT_V2), ..Schema::DEFAULT };
        pub(super) static V1: KindInfo = KindInfo {
            group: "example.com",
            kind: "Widget",
            list_kind: "WidgetList",
            plural: "widgets",
            singular: "widget",
            schema: &V1_SCHEMA,
            ..KindInfo::BLANK
        };
        pub(super) static V2: KindInfo = KindInfo { version: "v2", storage: false, schema: &V2_SCHEMA, ..V1 };
        pub(super) static KINDS: &[&KindInfo] = &[&V1, &V2];
    }

    /// A resource served at two versions with the None strategy: stored at the storage version
    /// whatever version wrote it, read at each version with only apiVersion changed (and pruned to
    /// that version's schema), in gets, lists and watches.
    #[tokio::test]
    async fn versions_convert_on_read_and_write() {
        use crate::cacher::{Keys, ListRequest, ResourceVersion, WatchRequest};
        use futures::StreamExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let storage: Arc<dyn Storage> =
            crate::storage::embedded::Embedded::open(dir.path(), crate::storage::embedded::EmbeddedOptions::default()).expect("storage");
        let registry = Registry::start(versions::KINDS, storage.clone(), &KeyLayout::default(), &WatchCacheConfig::default(), MediaType::Protobuf)
            .await
            .expect("registry");
        let (v1, v2) = (registry.store("example.com", "v1", "widgets").expect("v1"), registry.store("example.com", "v2", "widgets").expect("v2"));
        let opts = WriteOptions::default();
        let body = serde_json::json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"color": "red"}});
        let written = v2.create(Some("default"), body, &opts).await.expect("created at v2");
        assert_eq!(written.object["apiVersion"], "example.com/v2");
        let raw = storage.get("/registry/example.com/widgets/default/w", None).await.expect("get").expect("stored");
        let stored: serde_json::Value = serde_json::from_slice(&raw.value).expect("custom resources are stored as JSON");
        assert_eq!(stored["apiVersion"], "example.com/v1", "stored at the storage version");

        let json = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes).expect("json");
        let at_v1 = v1.get(Some("default"), "w", ResourceVersion::Unset).await.expect("get v1");
        let at_v1 = json(&at_v1.object.expect("object").bytes);
        assert_eq!((at_v1["apiVersion"].as_str(), &at_v1["spec"]), (Some("example.com/v1"), &serde_json::json!({"color": "red"})));

        // Written at v1 with a field v2 does not have: v2 reads it without.
        let body = serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}, "spec": {"color": "blue", "size": 3}});
        v1.create(Some("default"), body, &opts).await.expect("created at v1");
        let listed = v2.list_watch().list(ListRequest { keys: Keys::All, resource_version: ResourceVersion::Unset, ..ListRequest::default() }).await.expect("list");
        let items: Vec<serde_json::Value> = listed.items.iter().map(|o| json(&o.bytes)).collect();
        assert_eq!(items.len(), 2);
        for item in &items {
            assert_eq!(item["apiVersion"], "example.com/v2", "a list is all at the version asked for: {item}");
        }
        assert_eq!(items[1]["spec"], serde_json::json!({"color": "blue"}));
        let at_v1 = json(&v1.get(Some("default"), "x", ResourceVersion::Unset).await.expect("get").object.expect("object").bytes);
        assert_eq!(at_v1["spec"], serde_json::json!({"color": "blue", "size": 3}), "nothing lost in storage");

        // A watch at v1 sees a v2 write at v1.
        let request = WatchRequest {
            keys: Keys::All,
            resource_version: Some(listed.revision),
            send_initial_events: None,
            allow_bookmarks: false,
            filter: Default::default(),
            deadline: None,
        };
        let mut events = v1.list_watch().watch(request).await.expect("watch");
        let body = serde_json::json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "y"}, "spec": {"color": "green"}});
        v2.create(Some("default"), body, &opts).await.expect("created");
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next()).await.expect("an event").expect("open");
        let crate::cacher::CacheEvent::Added(added) = event else { panic!("expected ADDED") };
        let object = json(&added.bytes);
        assert_eq!((object["apiVersion"].as_str(), object["metadata"]["name"].as_str()), (Some("example.com/v1"), Some("y")));
        drop(registry);
    }

    /// Storage whose first `taken` creates under `/gen-` names fail as taken; records every
    /// create's key.
    struct Taken {
        inner: Arc<dyn Storage>,
        taken: std::sync::atomic::AtomicUsize,
        tried: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl Storage for Taken {
        async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<crate::storage::KeyValue>, StorageError> {
            self.inner.get(key, revision).await
        }
        async fn list(&self, prefix: &str, opts: crate::storage::ListOptions) -> Result<crate::storage::ListResult, StorageError> {
            self.inner.list(prefix, opts).await
        }
        async fn create(&self, key: &str, value: bytes::Bytes) -> Result<Revision, StorageError> {
            self.tried.lock().unwrap_or_else(|e| e.into_inner()).push(key.to_string());
            let taken = self.taken.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if taken && key.contains("/gen-") {
                return Err(StorageError::AlreadyExists { key: key.to_string() });
            }
            self.inner.create(key, value).await
        }
        async fn update(&self, key: &str, value: bytes::Bytes, expected: Revision) -> Result<Revision, StorageError> {
            self.inner.update(key, value, expected).await
        }
        async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(crate::storage::KeyValue, Revision), StorageError> {
            self.inner.delete(key, expected).await
        }
        async fn watch(&self, prefix: &str, after: Revision) -> Result<crate::storage::WatchStream, StorageError> {
            self.inner.watch(prefix, after).await
        }
        async fn current_revision(&self) -> Result<Revision, StorageError> {
            self.inner.current_revision().await
        }
        async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
            self.inner.compact(revision).await
        }
        async fn compacted_revision(&self) -> Result<Revision, StorageError> {
            self.inner.compacted_revision().await
        }
    }

    /// Upstream's RetryGenerateName: a create whose generated name is taken tries new names, 8
    /// attempts in all, then answers AlreadyExists; a chosen name is never retried.
    #[tokio::test]
    async fn taken_generated_names_are_retried() {
        let dir = tempfile::tempdir().expect("tempdir");
        let embedded: Arc<dyn Storage> =
            crate::storage::embedded::Embedded::open(dir.path(), crate::storage::embedded::EmbeddedOptions::default()).expect("storage");
        let storage = Arc::new(Taken { inner: embedded, taken: 3.into(), tried: Default::default() });
        let registry =
            Registry::start(KINDS, storage.clone(), &KeyLayout::default(), &WatchCacheConfig::default(), MediaType::Json)
                .await
                .expect("registry");
        let store = registry.store("", "v1", "configmaps").expect("configmaps");
        let tried = || std::mem::take(&mut *storage.tried.lock().unwrap_or_else(|e| e.into_inner()));
        let body = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}});
        let opts = WriteOptions::default();

        // Three names taken: the fourth is stored, and answered.
        let written = store.create(Some("default"), body.clone(), &opts).await.expect("created on the fourth name");
        let keys = tried();
        assert_eq!(keys.len(), 4, "{keys:?}");
        assert_eq!(keys.iter().collect::<std::collections::BTreeSet<_>>().len(), 4, "four different names: {keys:?}");
        let name = written.object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
        assert!(keys[3].ends_with(&format!("/default/{name}")), "{keys:?} vs {name}");

        // Every name taken: 8 attempts, then 409 AlreadyExists.
        storage.taken.store(100, Ordering::SeqCst);
        let refused = store.create(Some("default"), body, &opts).await.expect_err("every name taken");
        assert!(matches!(refused, ApiError::AlreadyExists(_)), "{refused:?}");
        assert_eq!(tried().len(), 8);

        // A chosen name is not replaced.
        let named = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gen-fixed"}});
        let refused = store.create(Some("default"), named, &opts).await.expect_err("taken");
        assert!(matches!(refused, ApiError::AlreadyExists(_)), "{refused:?}");
        assert_eq!(tried().len(), 1);
        drop(registry);
    }
}
