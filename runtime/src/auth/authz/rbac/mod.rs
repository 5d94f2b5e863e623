//! The RBAC authorizer: an in-memory index of Roles, ClusterRoles and their bindings, kept current
//! from the registry's List-Watch, evaluated as upstream's `plugin/pkg/auth/authorizer/rbac`.
//!
//! **Freshness.** Reads never wait on I/O when they allow. When the index answers NoOpinion and the
//! storage's current revision is newer than what the index last synchronised to, the index
//! re-lists the four kinds consistently (at most 1 s, one re-list shared by concurrent requests) and
//! decides again — so a binding created through the API is honoured by the very next request,
//! even before its watch event arrives. Each kind keeps the revision it reflects: a re-list
//! replaces the kind only when it is newer, and watch events at or below it are skipped.

pub mod aggregation;
pub mod bootstrap;
pub mod escalation;
pub mod policy;
pub mod rule;

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;

pub use policy::{Binding, Policy, PolicyKind, Role, RoleRef, Subject, GROUP};
pub use rule::PolicyRule;

use super::Authorizer;
use crate::auth::{Attributes, Decision, RulesInfo, UserInfo, Verdict};
use crate::cacher::{CacheEvent, CachedObject, ListRequest, WatchRequest};
use crate::registry::{Registry, Store};
use crate::storage::Revision;

/// How long a NoOpinion waits at most for the index to catch up with storage.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(1);
/// The shortest time between two catch-up re-lists: denied requests (a flood of anonymous ones,
/// say) must not turn into a re-list each; the reflectors' watches deliver changes within
/// milliseconds anyway, the catch-up only closes that window for the first request after a write.
pub const CATCH_UP_INTERVAL: Duration = Duration::from_millis(200);

/// The policy and the revision each kind reflects.
#[derive(Default)]
struct State {
    policy: Policy,
    revisions: [Revision; 4],
}

/// The RBAC authorizer (`--authorization-mode=RBAC`).
pub struct Rbac {
    state: RwLock<State>,
    registry: Option<Arc<Registry>>,
    /// The storage revision of the last catch-up re-list.
    synced: tokio::sync::Mutex<Revision>,
    /// When the last catch-up started: at most one per [`CATCH_UP_INTERVAL`].
    last_catch_up: std::sync::Mutex<Option<std::time::Instant>>,
    /// Bumped whenever ClusterRoles change (the aggregation controller waits on it).
    cluster_roles_changed: tokio::sync::watch::Sender<u64>,
}

impl Rbac {
    /// An index over a fixed policy (no registry: nothing to catch up with).
    pub fn from_policy(policy: Policy) -> Arc<Rbac> {
        Arc::new(Rbac::new(policy, None))
    }

    fn new(policy: Policy, registry: Option<Arc<Registry>>) -> Rbac {
        Rbac {
            state: RwLock::new(State { policy, revisions: [0; 4] }),
            registry,
            synced: tokio::sync::Mutex::new(0),
            last_catch_up: std::sync::Mutex::new(None),
            cluster_roles_changed: tokio::sync::watch::channel(0).0,
        }
    }

    /// Starts one reflector per kind over `registry` (list, then watch; a watch that ends
    /// re-lists); they stop when the returned index is dropped. Must run inside a tokio runtime.
    /// Until the first lists land, a NoOpinion catches up by listing (see the module docs).
    pub fn start(registry: Arc<Registry>) -> Arc<Rbac> {
        let rbac = Arc::new(Rbac::new(Policy::new(), Some(registry.clone())));
        for kind in PolicyKind::ALL {
            if let Some(store) = store_of(&registry, kind) {
                tokio::spawn(reflect(Arc::downgrade(&rbac), kind, store.clone()));
            }
        }
        rbac
    }

    /// A copy of the current policy.
    pub fn snapshot(&self) -> Policy {
        self.read(|p| p.clone())
    }

    /// Runs `f` on the current policy (under a read lock: `f` must not block).
    pub fn read<T>(&self, f: impl FnOnce(&Policy) -> T) -> T {
        match self.state.read() {
            Ok(s) => f(&s.policy),
            Err(poisoned) => f(&poisoned.into_inner().policy),
        }
    }

    fn write<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        match self.state.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// A receiver that sees a new value whenever ClusterRoles change.
    pub fn cluster_role_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.cluster_roles_changed.subscribe()
    }

    fn changed(&self, kind: PolicyKind) {
        if kind == PolicyKind::ClusterRole {
            self.cluster_roles_changed.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Replaces `kind` with a consistent list; returns the list's revision.
    async fn relist(&self, kind: PolicyKind, store: &Arc<Store>) -> Option<Revision> {
        let listed = store.list_watch().list(ListRequest::default()).await.ok()?;
        let objects: Vec<Value> = listed.items.iter().filter_map(|o| decode(o)).collect();
        let replaced = self.write(|s| {
            let slot = policy::slot(kind);
            if s.revisions[slot] > listed.revision {
                return false;
            }
            s.policy.clear(kind);
            for o in &objects {
                // An object that does not decode is skipped, as an informer would drop it.
                let _ = s.policy.insert_json(kind, o);
            }
            s.revisions[slot] = listed.revision;
            true
        });
        if replaced {
            self.changed(kind);
        }
        Some(listed.revision)
    }

    fn apply(&self, kind: PolicyKind, event: &CacheEvent) {
        let Some(revision) = event.revision() else { return };
        let applied = self.write(|s| {
            let slot = policy::slot(kind);
            if revision <= s.revisions[slot] {
                return false;
            }
            s.revisions[slot] = revision;
            match event {
                CacheEvent::Added(o) | CacheEvent::Modified(o) => {
                    if let Some(v) = decode(o) {
                        let _ = s.policy.insert_json(kind, &v);
                    }
                }
                CacheEvent::Deleted(o) => s.policy.remove(kind, o.namespace(), o.name()),
                CacheEvent::Bookmark(_) | CacheEvent::Error(_) => return false,
            }
            true
        });
        if applied {
            self.changed(kind);
        }
    }

    /// Re-lists when storage moved past the last catch-up; true if the policy may have changed.
    async fn catch_up(&self) -> bool {
        let Some(registry) = &self.registry else { return false };
        {
            let mut last = self.last_catch_up.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = std::time::Instant::now();
            if last.is_some_and(|t| now.duration_since(t) < CATCH_UP_INTERVAL) {
                return false;
            }
            *last = Some(now);
        }
        let Ok(current) = registry.storage().current_revision().await else { return false };
        let mut synced = self.synced.lock().await;
        if *synced >= current {
            // Someone re-listed at or after our request's revision while we waited.
            return true;
        }
        let work = async {
            for kind in PolicyKind::ALL {
                if let Some(store) = store_of(registry, kind) {
                    self.relist(kind, store).await;
                }
            }
        };
        if tokio::time::timeout(CATCH_UP_TIMEOUT, work).await.is_ok() {
            *synced = current;
        }
        true
    }
}

fn store_of(registry: &Registry, kind: PolicyKind) -> Option<&Arc<Store>> {
    registry.store(GROUP, "v1", kind.resource())
}

fn decode(object: &CachedObject) -> Option<Value> {
    serde_json::from_slice(&object.bytes).ok()
}

/// One kind's reflector: list, watch from the list's revision; when the watch ends, again.
async fn reflect(rbac: Weak<Rbac>, kind: PolicyKind, store: Arc<Store>) {
    loop {
        let Some(me) = rbac.upgrade() else { return };
        let listed = me.relist(kind, &store).await;
        drop(me);
        if let Some(revision) = listed {
            let request =
                WatchRequest { resource_version: Some(revision), allow_bookmarks: true, ..WatchRequest::default() };
            if let Ok(mut events) = store.list_watch().watch(request).await {
                while let Some(event) = events.next().await {
                    let Some(me) = rbac.upgrade() else { return };
                    if matches!(event, CacheEvent::Error(_)) {
                        break;
                    }
                    me.apply(kind, &event);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[async_trait]
impl Authorizer for Rbac {
    async fn authorize(&self, attributes: &Attributes) -> Verdict {
        let verdict = self.read(|p| p.authorize(attributes));
        // Anonymous requests never wait for a catch-up: their denials are the cheap common case.
        let anonymous = attributes.user.username == crate::auth::names::ANONYMOUS;
        if verdict.decision == Decision::Allow || anonymous || !self.catch_up().await {
            return verdict;
        }
        self.read(|p| p.authorize(attributes))
    }

    async fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesInfo {
        let (rules, errors) = self.read(|p| p.rules_for(user, namespace));
        let mut info = RulesInfo::default();
        for rule in &rules {
            let (resource, non_resource) = rule.to_review();
            info.resource_rules.extend(resource);
            info.non_resource_rules.extend(non_resource);
        }
        if !errors.is_empty() {
            info.incomplete = true;
            info.evaluation_error = policy::aggregate(&errors);
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn rules_review_lists_resource_and_non_resource_rules() {
        let mut p = Policy::new();
        p.insert_json(
            PolicyKind::ClusterRole,
            &json!({"metadata":{"name":"r"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]},{"verbs":["get"],"nonResourceURLs":["/healthz"]}]}),
        )
        .expect("role");
        p.insert_json(
            PolicyKind::ClusterRoleBinding,
            &json!({"metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"r","apiGroup":GROUP},"subjects":[{"kind":"Group","name":"g"}]}),
        )
        .expect("binding");
        let rbac = Rbac::from_policy(p);
        let info = rbac.rules_for(&UserInfo::new("u", &["g"]), "ns").await;
        assert_eq!(info.resource_rules.len(), 1);
        assert_eq!(info.non_resource_rules[0].non_resource_urls, vec!["/healthz".to_string()]);
        assert!(!info.incomplete);
        assert!(rbac.rules_for(&UserInfo::new("u", &[]), "ns").await.resource_rules.is_empty());
    }
}
