//! Reading the API objects token authenticators check (Secrets, ServiceAccounts, Pods, Nodes).
//!
//! Bootstrap tokens live in Secrets; bound service-account tokens are valid only while their
//! ServiceAccount (and bound Pod/Secret/Node) exists with the same uid. Authenticators read them
//! through [`ObjectLookup`] so they can be tested without a registry.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::AuthnError;
use crate::registry::{ApiError, Registry};

/// Reads one object by group, resource, namespace and name.
#[async_trait]
pub trait ObjectLookup: Send + Sync {
    /// The object as JSON; `Ok(None)` when it does not exist. `namespace` is "" for
    /// cluster-scoped resources (nodes).
    async fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Result<Option<Value>, AuthnError>;
}

/// [`ObjectLookup`] over the registry's stores (version `v1` of the group), reading the latest
/// state (a consistent read, so a deleted ServiceAccount stops its tokens at once).
pub struct RegistryLookup(pub Arc<Registry>);

#[async_trait]
impl ObjectLookup for RegistryLookup {
    async fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Result<Option<Value>, AuthnError> {
        let ns = (!namespace.is_empty()).then_some(namespace);
        match self.0.get_json(group, resource, ns, name).await {
            Ok(object) => Ok(Some(object)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(AuthnError(e.to_string())),
        }
    }
}

/// A string field of a JSON object by path (`["metadata", "uid"]`), "" when absent.
pub(crate) fn str_at<'a>(object: &'a Value, path: &[&str]) -> &'a str {
    let mut v = object;
    for p in path {
        match v.get(p) {
            Some(next) => v = next,
            None => return "",
        }
    }
    v.as_str().unwrap_or_default()
}

/// Whether the object carries `metadata.deletionTimestamp`.
pub(crate) fn deletion_timestamp(object: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let ts = str_at(object, &["metadata", "deletionTimestamp"]);
    if ts.is_empty() {
        return None;
    }
    // A malformed timestamp still means "being deleted": treat it as long ago.
    Some(chrono::DateTime::parse_from_rfc3339(ts).map(|t| t.with_timezone(&chrono::Utc)).unwrap_or(chrono::DateTime::UNIX_EPOCH))
}

#[cfg(test)]
pub(crate) mod testing {
    //! A map-backed [`ObjectLookup`] for the authenticators' tests.

    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    /// Objects keyed by (group, resource, namespace, name).
    #[derive(Default)]
    pub(crate) struct MapLookup {
        objects: Mutex<BTreeMap<(String, String, String, String), Value>>,
        /// Answer every get with this error.
        pub(crate) fail: Mutex<Option<String>>,
    }

    impl MapLookup {
        pub(crate) fn put(&self, group: &str, resource: &str, namespace: &str, name: &str, object: Value) {
            let key = (group.to_string(), resource.to_string(), namespace.to_string(), name.to_string());
            self.objects.lock().expect("lock").insert(key, object);
        }

        pub(crate) fn remove(&self, group: &str, resource: &str, namespace: &str, name: &str) {
            let key = (group.to_string(), resource.to_string(), namespace.to_string(), name.to_string());
            self.objects.lock().expect("lock").remove(&key);
        }
    }

    #[async_trait]
    impl ObjectLookup for MapLookup {
        async fn get(&self, group: &str, resource: &str, namespace: &str, name: &str) -> Result<Option<Value>, AuthnError> {
            if let Some(e) = self.fail.lock().expect("lock").clone() {
                return Err(AuthnError(e));
            }
            let key = (group.to_string(), resource.to_string(), namespace.to_string(), name.to_string());
            Ok(self.objects.lock().expect("lock").get(&key).cloned())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_helpers() {
        let o = json!({"metadata": {"uid": "u1", "deletionTimestamp": "2024-01-02T03:04:05Z"}});
        assert_eq!(str_at(&o, &["metadata", "uid"]), "u1");
        assert_eq!(str_at(&o, &["metadata", "name"]), "");
        assert_eq!(str_at(&o, &["spec", "x", "y"]), "");
        let ts = deletion_timestamp(&o).expect("deleting");
        assert_eq!(ts.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        assert!(deletion_timestamp(&json!({"metadata": {}})).is_none());
        assert_eq!(deletion_timestamp(&json!({"metadata": {"deletionTimestamp": "x"}})), Some(chrono::DateTime::UNIX_EPOCH));
    }
}
