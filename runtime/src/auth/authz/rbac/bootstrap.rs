//! The bootstrap RBAC policy (upstream's `plugin/pkg/auth/authorizer/rbac/bootstrappolicy`): the
//! default ClusterRoles and ClusterRoleBindings, and their reconciliation at start-up (missing
//! objects are created; existing ones not annotated `rbac.authorization.kubernetes.io/autoupdate:
//! "false"` get missing rules, aggregation selectors and subjects added).

use serde_json::{json, Map, Value};

use super::aggregation::aggregate_in_place;
use super::policy::{Binding, Policy, PolicyKind, Role, Subject, GROUP};
use super::rule::{covers, PolicyRule};
use crate::apimachinery::DeleteOptions;
use crate::cacher::ResourceVersion;
use crate::registry::{ApiError, Part, Registry, WriteOptions};

/// The annotation that lets reconciliation update a bootstrap object.
pub const AUTOUPDATE: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// The label every bootstrap object carries.
pub const BOOTSTRAPPING: &str = "kubernetes.io/bootstrapping";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const AGG_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGG_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGG_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

fn r(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule::resource(verbs, groups, resources)
}

fn urls(verbs: &[&str], paths: &[&str]) -> PolicyRule {
    PolicyRule::urls(verbs, paths)
}

fn events() -> PolicyRule {
    r(&["create", "update", "patch"], &["", "events.k8s.io"], &["events"])
}

/// A bootstrap ClusterRole: name, extra labels, aggregation selectors (label keys = "true"), rules.
struct RoleSpec {
    name: &'static str,
    labels: &'static [&'static str],
    aggregate_from: &'static [&'static str],
    rules: Vec<PolicyRule>,
}

fn role(name: &'static str, rules: Vec<PolicyRule>) -> RoleSpec {
    RoleSpec { name, labels: &[], aggregate_from: &[], rules }
}

fn cluster_roles() -> Vec<RoleSpec> {
    let csr = "certificates.k8s.io";
    let approver = |name: &'static str, signer: &str| {
        role(name, vec![r(&["approve"], &[csr], &["signers"]).names(&[signer])])
    };
    vec![
        role("cluster-admin", vec![r(&["*"], &["*"], &["*"]), urls(&["*"], &["*"])]),
        role("system:discovery", vec![urls(
            &["get"],
            &["/livez", "/readyz", "/healthz", "/version", "/version/", "/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"],
        )]),
        role("system:monitoring", vec![urls(
            &["get"],
            &["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"],
        )]),
        role("system:public-info-viewer", vec![urls(&["get"], &["/livez", "/readyz", "/healthz", "/version", "/version/"])]),
        role("system:basic-user", vec![
            r(&["create"], &["authorization.k8s.io"], &["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            r(&["create"], &["authentication.k8s.io"], &["selfsubjectreviews"]),
        ]),
        role("system:service-account-issuer-discovery", vec![urls(
            &["get"],
            &["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"],
        )]),
        RoleSpec { name: "admin", labels: &[], aggregate_from: &[AGG_ADMIN], rules: vec![] },
        RoleSpec { name: "edit", labels: &[AGG_ADMIN], aggregate_from: &[AGG_EDIT], rules: vec![] },
        RoleSpec { name: "view", labels: &[AGG_EDIT], aggregate_from: &[AGG_VIEW], rules: vec![] },
        RoleSpec {
            name: "system:aggregate-to-admin",
            labels: &[AGG_ADMIN],
            aggregate_from: &[],
            rules: vec![
                r(&["create"], &["authorization.k8s.io"], &["localsubjectaccessreviews"]),
                r(READ_WRITE, &[GROUP], &["roles", "rolebindings"]),
            ],
        },
        RoleSpec {
            name: "system:aggregate-to-edit",
            labels: &[AGG_EDIT],
            aggregate_from: &[],
            rules: vec![
                r(READ, &[""], &["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
                r(&["impersonate"], &[""], &["serviceaccounts"]),
                r(WRITE, &[""], &["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
                r(&["create"], &[""], &["pods/eviction"]),
                r(WRITE, &[""], &[
                    "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy",
                    "persistentvolumeclaims", "configmaps", "secrets", "events",
                ]),
                r(&["create"], &[""], &["serviceaccounts/token"]),
                r(WRITE, &["apps"], &[
                    "statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                    "replicasets", "replicasets/scale",
                ]),
                r(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
                r(WRITE, &["batch"], &["jobs", "cronjobs"]),
                r(WRITE, &["extensions"], &[
                    "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses", "networkpolicies",
                    "replicasets", "replicasets/scale", "replicationcontrollers/scale",
                ]),
                r(WRITE, &["policy"], &["poddisruptionbudgets"]),
                r(WRITE, &["networking.k8s.io"], &["networkpolicies", "ingresses"]),
                r(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
            ],
        },
        RoleSpec {
            name: "system:aggregate-to-view",
            labels: &[AGG_VIEW],
            aggregate_from: &[],
            rules: vec![
                r(READ, &[""], &[
                    "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
                    "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps",
                ]),
                r(READ, &[""], &[
                    "limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status", "namespaces/status",
                    "replicationcontrollers/status", "pods/log",
                ]),
                r(READ, &[""], &["namespaces"]),
                r(READ, &["discovery.k8s.io"], &["endpointslices"]),
                r(READ, &["apps"], &[
                    "controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets", "daemonsets/status",
                    "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale",
                ]),
                r(READ, &["autoscaling"], &["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
                r(READ, &["batch"], &["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
                r(READ, &["extensions"], &[
                    "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses",
                    "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale",
                    "networkpolicies",
                ]),
                r(READ, &["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"]),
                r(READ, &["networking.k8s.io"], &["networkpolicies", "ingresses", "ingresses/status"]),
            ],
        },
        role("system:heapster", vec![
            r(READ, &[""], &["events", "pods", "nodes", "namespaces"]),
            r(READ, &["extensions"], &["deployments"]),
        ]),
        role("system:node", crate::auth::authz::node::node_rules()),
        role("system:node-problem-detector", vec![
            r(&["get"], &[""], &["nodes"]),
            r(&["patch"], &[""], &["nodes/status"]),
            events(),
        ]),
        role("system:kubelet-api-admin", vec![
            r(&["get", "list", "watch"], &[""], &["nodes"]),
            r(&["proxy"], &[""], &["nodes"]),
            r(&["*"], &[""], &["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log", "nodes/configz", "nodes/healthz", "nodes/pods"]),
        ]),
        role("system:node-bootstrapper", vec![r(&["create", "get", "list", "watch"], &[csr], &["certificatesigningrequests"])]),
        role("system:auth-delegator", vec![
            r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
            r(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews"]),
        ]),
        role("system:kube-aggregator", vec![r(READ, &["apiregistration.k8s.io"], &["apiservices"])]),
        role("system:persistent-volume-provisioner", vec![
            r(&["get", "list", "watch", "create", "delete"], &[""], &["persistentvolumes"]),
            r(&["get", "list", "watch", "update"], &[""], &["persistentvolumeclaims"]),
            r(READ, &["storage.k8s.io"], &["storageclasses"]),
            r(&["watch", "create", "update", "patch"], &["", "events.k8s.io"], &["events"]),
        ]),
        role("system:kube-dns", vec![r(&["list", "watch"], &[""], &["endpoints", "services"])]),
        role("system:node-proxier", vec![
            r(&["list", "watch"], &[""], &["services", "endpoints"]),
            r(&["get", "list", "watch"], &[""], &["nodes"]),
            events(),
            r(&["list", "watch"], &["discovery.k8s.io"], &["endpointslices"]),
        ]),
        role("system:kube-scheduler", vec![
            events(),
            r(&["create"], &["coordination.k8s.io"], &["leases"]),
            r(&["get", "update"], &["coordination.k8s.io"], &["leases"]).names(&["kube-scheduler"]),
            r(READ, &[""], &["nodes"]),
            r(&["get", "list", "watch", "delete"], &[""], &["pods"]),
            r(&["create"], &[""], &["pods/binding", "bindings"]),
            r(&["patch", "update"], &[""], &["pods/status"]),
            r(READ, &[""], &["services", "replicationcontrollers"]),
            r(READ, &["apps", "extensions"], &["replicasets"]),
            r(READ, &["apps"], &["statefulsets"]),
            r(READ, &["policy"], &["poddisruptionbudgets"]),
            r(READ, &[""], &["persistentvolumeclaims", "persistentvolumes"]),
            r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
            r(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews"]),
            r(READ, &["storage.k8s.io"], &["csinodes"]),
            r(READ, &[""], &["namespaces"]),
            r(READ, &["storage.k8s.io"], &["csidrivers"]),
            r(READ, &["storage.k8s.io"], &["csistoragecapacities"]),
        ]),
        role("system:volume-scheduler", vec![
            r(&["get", "list", "watch", "update"], &[""], &["persistentvolumes"]),
            r(READ, &["storage.k8s.io"], &["storageclasses"]),
            r(&["get", "list", "watch", "update"], &[""], &["persistentvolumeclaims"]),
        ]),
        role("system:kube-controller-manager", vec![
            events(),
            r(&["create"], &["coordination.k8s.io"], &["leases"]),
            r(&["get", "update"], &["coordination.k8s.io"], &["leases"]).names(&["kube-controller-manager"]),
            r(&["create"], &[""], &["secrets", "serviceaccounts"]),
            r(&["delete"], &[""], &["secrets"]),
            r(&["get"], &[""], &["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            r(&["update"], &[""], &["secrets", "serviceaccounts"]),
            r(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
            r(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews"]),
            r(&["list", "watch"], &["*"], &["*"]),
            r(&["create"], &[""], &["serviceaccounts/token"]),
        ]),
        role("system:certificates.k8s.io:certificatesigningrequests:nodeclient", vec![r(
            &["create"],
            &[csr],
            &["certificatesigningrequests/nodeclient"],
        )]),
        role("system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", vec![r(
            &["create"],
            &[csr],
            &["certificatesigningrequests/selfnodeclient"],
        )]),
        approver("system:certificates.k8s.io:kube-apiserver-client-approver", "kubernetes.io/kube-apiserver-client"),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        approver("system:certificates.k8s.io:kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
        approver("system:certificates.k8s.io:legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
    ]
}

/// (binding name = role name, subjects as `Kind:name` or `ServiceAccount:ns:name`).
const CLUSTER_ROLE_BINDINGS: &[(&str, &[&str])] = &[
    ("cluster-admin", &["Group:system:masters"]),
    ("system:monitoring", &["Group:system:monitoring"]),
    ("system:discovery", &["Group:system:authenticated"]),
    ("system:basic-user", &["Group:system:authenticated"]),
    ("system:public-info-viewer", &["Group:system:authenticated", "Group:system:unauthenticated"]),
    ("system:service-account-issuer-discovery", &["Group:system:serviceaccounts"]),
    ("system:node-proxier", &["User:system:kube-proxy"]),
    ("system:kube-controller-manager", &["User:system:kube-controller-manager"]),
    ("system:kube-dns", &["ServiceAccount:kube-system:kube-dns"]),
    ("system:kube-scheduler", &["User:system:kube-scheduler"]),
    ("system:volume-scheduler", &["User:system:kube-scheduler"]),
    ("system:node", &[]),
];

fn metadata(name: &str, extra_labels: &[&str]) -> Value {
    let mut labels = Map::new();
    labels.insert(BOOTSTRAPPING.into(), json!("rbac-defaults"));
    for l in extra_labels {
        labels.insert((*l).into(), json!("true"));
    }
    json!({"name": name, "labels": labels, "annotations": {AUTOUPDATE: "true"}})
}

fn subject(spec: &str) -> Subject {
    let (kind, rest) = spec.split_once(':').unwrap_or(("User", spec));
    match kind {
        "ServiceAccount" => {
            let (ns, name) = rest.split_once(':').unwrap_or(("", rest));
            Subject { kind: kind.into(), api_group: String::new(), name: name.into(), namespace: ns.into() }
        }
        _ => Subject { kind: kind.into(), api_group: GROUP.into(), name: rest.into(), namespace: String::new() },
    }
}

/// The bootstrap ClusterRoles as API objects (aggregated roles with empty rules: the controller
/// fills them).
pub fn cluster_role_objects() -> Vec<Value> {
    cluster_roles()
        .into_iter()
        .map(|spec| {
            let mut o = json!({
                "apiVersion": format!("{GROUP}/v1"),
                "kind": "ClusterRole",
                "metadata": metadata(spec.name, spec.labels),
                "rules": spec.rules,
            });
            if !spec.aggregate_from.is_empty() {
                let selectors: Vec<Value> = spec.aggregate_from.iter().map(|l| json!({"matchLabels": {*l: "true"}})).collect();
                o["aggregationRule"] = json!({"clusterRoleSelectors": selectors});
            }
            o
        })
        .collect()
}

/// The bootstrap ClusterRoleBindings as API objects.
pub fn cluster_role_binding_objects() -> Vec<Value> {
    CLUSTER_ROLE_BINDINGS
        .iter()
        .map(|(name, subjects)| {
            let subjects: Vec<Subject> = subjects.iter().map(|s| subject(s)).collect();
            json!({
                "apiVersion": format!("{GROUP}/v1"),
                "kind": "ClusterRoleBinding",
                "metadata": metadata(name, &[]),
                "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": name},
                "subjects": subjects,
            })
        })
        .collect()
}

/// Adds the bootstrap policy to an in-memory policy, aggregation applied (tests, tools).
pub fn load_into(policy: &mut Policy) {
    for o in cluster_role_objects() {
        let _ = policy.insert_json(PolicyKind::ClusterRole, &o);
    }
    for o in cluster_role_binding_objects() {
        let _ = policy.insert_json(PolicyKind::ClusterRoleBinding, &o);
    }
    aggregate_in_place(policy);
}

/// Annotated `autoupdate: "false"`: reconciliation leaves it alone.
fn protected(existing: &Value) -> bool {
    existing.pointer("/metadata/annotations").and_then(|a| a.get(AUTOUPDATE)).and_then(Value::as_str) == Some("false")
}

/// What reconciling `existing` with `expected` changes (None: nothing, or protected).
pub fn reconcile_role(existing: &Value, expected: &Value) -> Option<Value> {
    if protected(existing) {
        return None;
    }
    let have: Role = serde::Deserialize::deserialize(existing).ok()?;
    let want: Role = serde::Deserialize::deserialize(expected).ok()?;
    let mut out = existing.clone();
    let mut changed = merge_meta(&mut out, expected);
    // Aggregated roles' rules belong to the controller.
    if want.aggregation_rule.is_none() || have.aggregation_rule.is_none() {
        let (_, missing) = covers(&have.rules, &want.rules);
        if !missing.is_empty() {
            let mut rules = have.rules.clone();
            rules.extend(missing);
            out["rules"] = serde_json::to_value(rules).ok()?;
            changed = true;
        }
    }
    if let Some(want_rule) = expected.get("aggregationRule") {
        let mut selectors: Vec<Value> =
            out.pointer("/aggregationRule/clusterRoleSelectors").and_then(Value::as_array).cloned().unwrap_or_default();
        for s in want_rule.get("clusterRoleSelectors").and_then(Value::as_array).into_iter().flatten() {
            if !selectors.contains(s) {
                selectors.push(s.clone());
                changed = true;
            }
        }
        out["aggregationRule"] = json!({"clusterRoleSelectors": selectors});
    }
    changed.then_some(out)
}

/// Reconciling a binding: missing subjects are added (None: nothing to do, or protected).
pub fn reconcile_binding(existing: &Value, expected: &Value) -> Option<Value> {
    if protected(existing) {
        return None;
    }
    let have: Binding = serde::Deserialize::deserialize(existing).ok()?;
    let want: Binding = serde::Deserialize::deserialize(expected).ok()?;
    let mut out = existing.clone();
    let mut changed = merge_meta(&mut out, expected);
    let mut subjects = have.subjects.clone();
    for s in want.subjects {
        if !subjects.contains(&s) {
            subjects.push(s);
            changed = true;
        }
    }
    out["subjects"] = serde_json::to_value(subjects).ok()?;
    changed.then_some(out)
}

/// Adds expected labels and annotations the object lacks (existing values win).
fn merge_meta(out: &mut Value, expected: &Value) -> bool {
    let mut changed = false;
    for field in ["labels", "annotations"] {
        let Some(want) = expected.pointer(&format!("/metadata/{field}")).and_then(Value::as_object) else { continue };
        let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) else { continue };
        let have = meta.entry(field).or_insert_with(|| json!({}));
        if !have.is_object() {
            *have = json!({});
        }
        if let Some(have) = have.as_object_mut() {
            for (k, v) in want {
                if !have.contains_key(k) {
                    have.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Creates the missing bootstrap ClusterRoles and ClusterRoleBindings and reconciles existing
/// ones (upstream's `ensure-rbac` post-start hook). A missing RBAC API is not an error.
pub async fn reconcile_bootstrap_policy(registry: &Registry) -> Result<(), ApiError> {
    for (resource, objects, is_role) in
        [("clusterroles", cluster_role_objects(), true), ("clusterrolebindings", cluster_role_binding_objects(), false)]
    {
        let Some(store) = registry.store(GROUP, "v1", resource) else { continue };
        for expected in objects {
            let name = expected.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
            let existing = match store.get(None, &name, ResourceVersion::Unset).await {
                Ok(got) => got.object.and_then(|o| serde_json::from_slice::<Value>(&o.bytes).ok()),
                Err(ApiError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let Some(existing) = existing else {
                match store.create(None, expected, &WriteOptions::default()).await {
                    Ok(_) | Err(ApiError::AlreadyExists(_)) => {}
                    Err(e) => return Err(e),
                }
                continue;
            };
            if !is_role && existing.get("roleRef") != expected.get("roleRef") {
                // A roleRef cannot change: recreate (unless protected).
                if !protected(&existing) {
                    store.delete(None, &name, &DeleteOptions::default()).await?;
                    store.create(None, expected, &WriteOptions::default()).await?;
                }
                continue;
            }
            let update = if is_role { reconcile_role(&existing, &expected) } else { reconcile_binding(&existing, &expected) };
            if let Some(update) = update {
                store.update(None, &name, update, Part::Main, &WriteOptions::default()).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Attributes, Decision, UserInfo};

    fn can(p: &Policy, user: &UserInfo, verb: &str, group: &str, resource: &str, ns: &str) -> bool {
        let a = Attributes {
            user: user.clone(),
            verb: verb.into(),
            resource_request: true,
            namespace: ns.into(),
            api_group: group.into(),
            resource: resource.into(),
            ..Attributes::default()
        };
        p.authorize(&a).decision == Decision::Allow
    }

    fn bound(p: &mut Policy, user: &str, role: &str) {
        let b = json!({"metadata":{"name":format!("{user}-{role}"),"namespace":"ns"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":role},
            "subjects":[{"kind":"User","apiGroup":GROUP,"name":user}]});
        p.insert_json(PolicyKind::RoleBinding, &b).expect("binding");
    }

    #[test]
    fn default_roles() {
        let mut p = Policy::new();
        load_into(&mut p);
        bound(&mut p, "viewer", "view");
        bound(&mut p, "editor", "edit");
        bound(&mut p, "owner", "admin");
        let (viewer, editor, owner) = (UserInfo::new("viewer", &[]), UserInfo::new("editor", &[]), UserInfo::new("owner", &[]));
        assert!(can(&p, &viewer, "list", "apps", "deployments", "ns"));
        assert!(!can(&p, &viewer, "get", "", "secrets", "ns"), "view cannot read secrets");
        assert!(!can(&p, &viewer, "create", "", "pods", "ns"));
        assert!(can(&p, &editor, "get", "", "secrets", "ns"), "edit can");
        assert!(can(&p, &editor, "create", "", "pods", "ns"));
        assert!(can(&p, &editor, "list", "apps", "deployments", "ns"), "edit aggregates view");
        assert!(!can(&p, &editor, "create", GROUP, "rolebindings", "ns"));
        assert!(can(&p, &owner, "create", GROUP, "rolebindings", "ns"), "admin aggregates edit and its own rules");
        assert!(can(&p, &owner, "delete", "", "secrets", "ns"));
        assert!(!can(&p, &owner, "get", "", "secrets", "other"));
        let root = UserInfo::new("root", &["system:masters"]);
        let v = p.authorize(&Attributes { user: root, verb: "delete".into(), resource_request: true, resource: "nodes".into(), ..Attributes::default() });
        assert_eq!(v.reason, r#"RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#);
        let anon = UserInfo::anonymous();
        let path = |user: &UserInfo, p2: &str| Attributes { user: user.clone(), verb: "get".into(), path: p2.into(), ..Attributes::default() };
        assert_eq!(p.authorize(&path(&anon, "/healthz")).decision, Decision::Allow);
        assert_eq!(p.authorize(&path(&anon, "/api")).decision, Decision::NoOpinion);
        let someone = UserInfo::new("x", &["system:authenticated"]);
        assert_eq!(p.authorize(&path(&someone, "/apis/apps")).decision, Decision::Allow);
        assert!(can(&p, &someone, "create", "authorization.k8s.io", "selfsubjectaccessreviews", ""));
    }

    #[test]
    fn objects_are_labelled_and_reconciled() {
        for o in cluster_role_objects().iter().chain(cluster_role_binding_objects().iter()) {
            assert_eq!(o.pointer("/metadata/labels/kubernetes.io~1bootstrapping"), Some(&json!("rbac-defaults")));
            assert_eq!(o.pointer("/metadata/annotations/rbac.authorization.kubernetes.io~1autoupdate"), Some(&json!("true")));
        }
        let expected = cluster_role_objects().into_iter().find(|o| o["metadata"]["name"] == "system:basic-user").expect("basic-user");
        let mut trimmed = expected.clone();
        trimmed["rules"] = json!([{"verbs":["create"],"apiGroups":["authorization.k8s.io"],"resources":["selfsubjectaccessreviews"]},
            {"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]);
        let fixed = reconcile_role(&trimmed, &expected).expect("missing rules are added");
        let rules = fixed["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 4, "extra rules stay, missing ones are added broken down: {rules:?}");
        assert!(reconcile_role(&fixed, &expected).is_none(), "reconciled once");
        trimmed["metadata"]["annotations"][AUTOUPDATE] = json!("false");
        assert!(reconcile_role(&trimmed, &expected).is_none(), "protected");
        let crb = cluster_role_binding_objects().into_iter().find(|o| o["metadata"]["name"] == "system:public-info-viewer").expect("crb");
        let mut partial = crb.clone();
        partial["subjects"] = json!([{"kind":"User","apiGroup":GROUP,"name":"extra"}]);
        let fixed = reconcile_binding(&partial, &crb).expect("subjects added");
        assert_eq!(fixed["subjects"].as_array().map(Vec::len), Some(3));
    }
}
