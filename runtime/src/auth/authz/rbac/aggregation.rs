//! ClusterRole aggregation (upstream's `clusterroleaggregation` controller): the rules of a
//! ClusterRole with an `aggregationRule` are kept equal to the union of the rules of the
//! ClusterRoles its selectors match (by name order, duplicates dropped).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::policy::{Policy, Role, GROUP};
use super::rule::PolicyRule;
use super::Rbac;
use crate::apimachinery::selector::labels_from_meta;
use crate::cacher::ResourceVersion;
use crate::registry::{Part, Registry, WriteOptions};

/// The rules `target`'s aggregation rule gives it over `policy`'s ClusterRoles (None: not aggregated).
pub fn aggregated_rules(target: &Role, policy: &Policy) -> Option<Vec<PolicyRule>> {
    let rule = target.aggregation_rule.as_ref()?;
    let mut rules: Vec<PolicyRule> = Vec::new();
    for selector in &rule.cluster_role_selectors {
        // An invalid selector matches nothing (upstream returns the error and retries).
        let Ok(selector) = labels_from_meta(selector) else { continue };
        // cluster_roles() iterates by name, as upstream sorts byName.
        for role in policy.cluster_roles() {
            if role.metadata.name == target.metadata.name
                || !selector.matches(|k| role.metadata.labels.get(k).map(String::as_str))
            {
                continue;
            }
            for r in &role.rules {
                if !rules.contains(r) {
                    rules.push(r.clone());
                }
            }
        }
    }
    Some(rules)
}

/// The aggregated ClusterRoles whose rules differ from what aggregation gives: (name, rules).
pub fn pending_updates(policy: &Policy) -> Vec<(String, Vec<PolicyRule>)> {
    policy
        .cluster_roles()
        .filter_map(|role| {
            let rules = aggregated_rules(role, policy)?;
            (rules != role.rules).then(|| (role.metadata.name.clone(), rules))
        })
        .collect()
}

/// Applies aggregation to an in-memory policy (bootstrap data, tests) until nothing changes.
pub fn aggregate_in_place(policy: &mut Policy) {
    // Aggregated roles may feed others (edit → admin): a few rounds settle any chain.
    for _ in 0..8 {
        let updates = pending_updates(policy);
        if updates.is_empty() {
            return;
        }
        for (name, rules) in updates {
            if let Some(role) = policy.cluster_role(&name) {
                let mut role = Role::clone(role);
                role.rules = rules;
                policy.insert_role(super::PolicyKind::ClusterRole, role);
            }
        }
    }
}

/// Writes `rules` into ClusterRole `name` through the registry (an update at the read revision:
/// a conflict means a newer state, which triggers another round).
async fn write_rules(registry: &Registry, name: &str, rules: &[PolicyRule]) -> Result<(), String> {
    let store = registry.store(GROUP, "v1", "clusterroles").ok_or("no clusterroles store")?;
    let got = store.get(None, name, ResourceVersion::Unset).await.map_err(|e| e.to_string())?;
    let object = got.object.ok_or("gone")?;
    let mut value: Value = serde_json::from_slice(&object.bytes).map_err(|e| e.to_string())?;
    let rules = serde_json::to_value(rules).map_err(|e| e.to_string())?;
    if let Some(map) = value.as_object_mut() {
        map.insert("rules".into(), rules);
    }
    store.update(None, name, value, Part::Main, &WriteOptions::default()).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Starts the aggregation controller: whenever ClusterRoles change, every aggregated ClusterRole
/// whose rules differ is updated through the registry. Stops when `rbac` is dropped.
pub fn spawn_controller(rbac: &Arc<Rbac>, registry: Arc<Registry>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(rbac);
    let mut changes = rbac.cluster_role_changes();
    tokio::spawn(async move {
        loop {
            let updates = match weak.upgrade() {
                Some(rbac) => rbac.read(pending_updates),
                None => return,
            };
            let mut failed = false;
            for (name, rules) in updates {
                failed |= write_rules(&registry, &name, &rules).await.is_err();
            }
            if failed {
                // Retry soon even without a change (a conflict's winner also triggers a change).
                let _ = tokio::time::timeout(Duration::from_millis(500), changes.changed()).await;
            } else if changes.changed().await.is_err() {
                return;
            }
            // Let a burst of changes settle.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::authz::rbac::PolicyKind;
    use serde_json::json;

    #[test]
    fn union_of_matching_roles() {
        let mut p = Policy::new();
        let objs = [
            json!({"metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"x":"true"}},{"matchExpressions":[{"key":"y","operator":"Exists"}]}]}}),
            json!({"metadata":{"name":"b","labels":{"x":"true"}},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}),
            json!({"metadata":{"name":"a","labels":{"y":"1"}},"rules":[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]},{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}),
            json!({"metadata":{"name":"c","labels":{"x":"false"}},"rules":[{"verbs":["delete"],"apiGroups":[""],"resources":["pods"]}]}),
        ];
        for o in &objs {
            p.insert_json(PolicyKind::ClusterRole, o).expect("role");
        }
        let updates = pending_updates(&p);
        assert_eq!(updates.len(), 1);
        let (name, rules) = &updates[0];
        assert_eq!(name, "agg");
        // Selector order first, then name order; duplicates dropped.
        assert_eq!(rules, &vec![
            PolicyRule::resource(&["get"], &[""], &["pods"]),
            PolicyRule::resource(&["list"], &[""], &["pods"]),
        ]);
        aggregate_in_place(&mut p);
        assert!(pending_updates(&p).is_empty());
    }
}
