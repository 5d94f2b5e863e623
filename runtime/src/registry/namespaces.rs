//! The namespace lifecycle (upstream's namespace controller, in-process): the system namespaces exist
//! at start; deleting a namespace deletes everything in it, then the namespace itself.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use super::error::ApiError;
use super::store::{Store, WriteOptions};
use super::Registry;
use crate::apimachinery::DeleteOptions;
use crate::cacher::{CacheEvent, WatchRequest};
use crate::storage::ListOptions;

/// The namespaces that exist from the start.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Creates the system namespaces that do not exist yet.
pub(crate) async fn ensure_system_namespaces(namespaces: &Store) -> Result<(), ApiError> {
    let opts = WriteOptions { field_manager: "kube-apiserver".into(), ..WriteOptions::default() };
    for name in SYSTEM_NAMESPACES {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        match namespaces.create(None, body, &opts).await {
            Ok(_) | Err(ApiError::AlreadyExists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Watches namespaces and finalizes the terminating ones. Runs until the registry is dropped.
pub(crate) fn spawn_controller(registry: &Arc<Registry>) {
    let weak = Arc::downgrade(registry);
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    tokio::spawn(async move {
        loop {
            let Some(registry) = weak.upgrade() else { return };
            let Some(namespaces) = registry.namespaces().cloned() else { return };
            let request = WatchRequest { resource_version: Some(0), ..WatchRequest::default() };
            let stream = namespaces.list_watch().watch(request).await;
            drop(registry);
            let Ok(mut stream) = stream else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            while let Some(event) = stream.next().await {
                let object = match &event {
                    CacheEvent::Added(o) | CacheEvent::Modified(o) => o.clone(),
                    CacheEvent::Error(_) => break,
                    _ => continue,
                };
                let value: Value = crate::apimachinery::json::from_slice(&object.bytes).unwrap_or_default();
                if value.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null) {
                    continue;
                }
                let name = object.name().to_string();
                if !busy.lock().map(|mut b| b.insert(name.clone())).unwrap_or(false) {
                    continue;
                }
                let (weak, busy) = (weak.clone(), busy.clone());
                tokio::spawn(async move {
                    finalize(weak, &name).await;
                    if let Ok(mut b) = busy.lock() {
                        b.remove(&name);
                    }
                });
            }
        }
    });
}

/// Deletes the namespace's contents until none is left, then the namespace.
async fn finalize(registry: std::sync::Weak<Registry>, namespace: &str) {
    let mut delay = Duration::from_millis(50);
    loop {
        let Some(reg) = registry.upgrade() else { return };
        if let Ok(0) = delete_contents(&reg, namespace).await {
            if let Some(ns) = reg.namespaces() {
                if let Ok(()) | Err(ApiError::NotFound(_)) = ns.finalize_namespace(namespace).await {
                    // A create that passed its (cached) namespace check just before the finalize may
                    // have landed after the last listing: sweep once more now that no create can pass.
                    let _ = delete_contents(&reg, namespace).await;
                    return;
                }
            }
        }
        drop(reg);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Deletes every object in `namespace`; returns how many remain (pending finalizers or grace).
async fn delete_contents(registry: &Registry, namespace: &str) -> Result<usize, ApiError> {
    let mut remaining = 0;
    for store in registry.storage_stores() {
        if !store.info.namespaced() {
            continue;
        }
        let prefix = store.namespace_prefix(Some(namespace));
        let listed = store
            .storage()
            .list(&prefix, ListOptions::default())
            .await
            .map_err(|e| ApiError::storage(store.target(""), e))?;
        for kv in listed.items {
            let Some(name) = kv.key.strip_prefix(prefix.as_str()) else { continue };
            // Grace 0: no kubelet runs here to finish a graceful pod deletion (upstream's pod
            // garbage collector force-deletes pods whose node is gone; this stands in for it).
            let opts = DeleteOptions { grace_period_seconds: Some(0), ..DeleteOptions::default() };
            match store.delete(Some(namespace), name, &opts).await {
                Ok(d) if d.gone => {}
                Ok(_) => remaining += 1,
                Err(ApiError::NotFound(_)) => {}
                Err(_) => remaining += 1,
            }
        }
    }
    Ok(remaining)
}
