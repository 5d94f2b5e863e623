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
use std::sync::Arc;

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
        // Each kind sees storage through its codec (`--storage-media-type`): JSON in and out.
        let kind_storage = |info: &'static KindInfo| Transcoded::new(storage.clone(), ObjectCodec::new(media, info.schema));
        // The caches read the backend itself and decode stored bytes straight into objects (no
        // JSON in between for protobuf).
        let list_watch = |info: &'static KindInfo| -> (Arc<dyn ListWatch>, String) {
            let prefix = layout.resource_prefix(info.group, info.plural);
            let codec = Arc::new(JsonCodec::for_storage(info.selectable_fields, ObjectCodec::new(media, info.schema)));
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
            let (lw, prefix) = list_watch(info);
            Arc::new(Store::new(info, kind_storage(info), lw, prefix, None))
        });
        let lookup = namespaces.as_ref().zip(ns_info).map(|(ns, info)| NamespaceLookup {
            lw: ns.list_watch().clone(),
            storage: kind_storage(info) as Arc<dyn Storage>,
            prefix: ns.prefix().to_string(),
        });
        let mut stores = BTreeMap::new();
        // Create-only kinds (reviews) are never stored: no store, cache or storage watch.
        for &info in kinds.iter().filter(|k| k.served && !k.create_only()) {
            let store = match (&namespaces, ns_info) {
                (Some(ns), Some(n)) if std::ptr::eq(n, info) => ns.clone(),
                _ => {
                    let (lw, prefix) = list_watch(info);
                    let lookup = if info.namespaced() { lookup.clone() } else { None };
                    Arc::new(Store::new(info, kind_storage(info), lw, prefix, lookup))
                }
            };
            stores.insert((info.group, info.version, info.plural), store);
        }
        let registry = Arc::new(Registry { kinds, stores, namespaces, storage });
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
        serde_json::from_slice(&object.bytes).map_err(|e| ApiError::Internal(format!("decoding {resource} {name}: {e}")))
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

/// The served create-only kind of `group`/`version`/`resource` among `kinds`.
fn create_only_kind(kinds: &'static [&'static KindInfo], group: &str, version: &str, resource: &str) -> Option<&'static KindInfo> {
    kinds
        .iter()
        .copied()
        .find(|k| k.served && k.create_only() && k.group == group && k.version == version && k.plural == resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apimachinery::Scope;

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
}
