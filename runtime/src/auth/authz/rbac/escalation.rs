//! RBAC escalation prevention (upstream's `pkg/registry/rbac/{role,clusterrole,rolebinding,
//! clusterrolebinding}/policybased`): a user may write a Role or ClusterRole only with rules they
//! already hold (or the `escalate` verb on it), and a binding only to a role whose rules they hold
//! (or the `bind` verb on it). `system:masters` is exempt.
//!
//! The callers (the write path of the four RBAC kinds) pass the object's JSON; on updates they may
//! skip the check when the rules (roles) or roleRef (bindings) did not change, as upstream does.

use serde::Deserialize;
use serde_json::Value;

use super::policy::{Binding, PolicyKind, Role, RoleRef, GROUP};
use super::rule::{compact_rules, covers, PolicyRule};
use super::Rbac;
use crate::apimachinery::go::quote;
use crate::auth::authz::Authorizer;
use crate::auth::{names, Attributes, Decision, UserInfo};

fn is_master(user: &UserInfo) -> bool {
    user.in_group(names::SYSTEM_MASTERS)
}

async fn allowed(authorizer: &dyn Authorizer, user: &UserInfo, verb: &str, resource: &str, namespace: &str, name: &str) -> bool {
    let attributes = Attributes {
        user: user.clone(),
        verb: verb.into(),
        resource_request: true,
        namespace: namespace.into(),
        api_group: GROUP.into(),
        api_version: "*".into(),
        resource: resource.into(),
        name: name.into(),
        ..Attributes::default()
    };
    authorizer.authorize(&attributes).await.decision == Decision::Allow
}

/// Upstream's `ConfirmNoEscalation`: `user` must hold every rule of `rules` in `namespace`.
pub fn confirm_no_escalation(rbac: &Rbac, user: &UserInfo, namespace: &str, rules: &[PolicyRule]) -> Result<(), String> {
    let (owned, errors) = rbac.read(|p| p.rules_for(user, namespace));
    let (ok, missing) = covers(&owned, rules);
    if ok {
        return Ok(());
    }
    let mut lines: Vec<String> = compact_rules(&missing).iter().map(PolicyRule::compact_string).collect();
    lines.sort();
    lines.dedup();
    let groups: Vec<String> = user.groups.iter().map(|g| quote(g)).collect();
    let mut msg = format!(
        "user {} (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{}",
        quote(&user.username),
        groups.join(" "),
        lines.join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!("; resolution errors: [{}]", errors.join(" ")));
    }
    Err(msg)
}

/// May `user` write a Role (`namespace` set) or ClusterRole named `name` with `rules`? Allowed to
/// `system:masters`, to holders of `escalate` on it (asked of the whole chain `authorizer`), and
/// to users who hold every rule. The error is upstream's message (the caller answers 403 Forbidden).
pub async fn check_role_rules(
    authorizer: &dyn Authorizer,
    rbac: &Rbac,
    user: &UserInfo,
    namespace: &str,
    name: &str,
    rules: &[PolicyRule],
) -> Result<(), String> {
    let resource = if namespace.is_empty() { "clusterroles" } else { "roles" };
    if is_master(user) || allowed(authorizer, user, "escalate", resource, namespace, name).await {
        return Ok(());
    }
    confirm_no_escalation(rbac, user, namespace, rules)
}

/// [`check_role_rules`] for a Role or ClusterRole object (its JSON).
pub async fn check_role_write(authorizer: &dyn Authorizer, rbac: &Rbac, user: &UserInfo, object: &Value) -> Result<(), String> {
    let role = Role::deserialize(object).map_err(|e| e.to_string())?;
    let namespace = match object.get("kind").and_then(Value::as_str).and_then(PolicyKind::from_kind) {
        Some(PolicyKind::ClusterRole) => "",
        _ => role.metadata.namespace.as_str(),
    };
    check_role_rules(authorizer, rbac, user, namespace, &role.metadata.name, &role.rules).await
}

/// May `user` create a binding in `namespace` ("" for a ClusterRoleBinding) to `role_ref`?
/// Allowed to `system:masters`, to holders of `bind` on the role (asked of the chain), and to
/// users who hold every rule of the referenced role.
pub async fn check_binding(
    authorizer: &dyn Authorizer,
    rbac: &Rbac,
    user: &UserInfo,
    namespace: &str,
    role_ref: &RoleRef,
) -> Result<(), String> {
    if is_master(user) {
        return Ok(());
    }
    let resource = match role_ref.kind.as_str() {
        "ClusterRole" => Some("clusterroles"),
        "Role" => Some("roles"),
        _ => None,
    };
    if let Some(resource) = resource {
        if allowed(authorizer, user, "bind", resource, namespace, &role_ref.name).await {
            return Ok(());
        }
    }
    let rules = rbac.read(|p| p.role_ref_rules(role_ref, namespace).map(<[PolicyRule]>::to_vec))?;
    confirm_no_escalation(rbac, user, namespace, &rules)
}

/// [`check_binding`] for a RoleBinding or ClusterRoleBinding object (its JSON).
pub async fn check_binding_write(authorizer: &dyn Authorizer, rbac: &Rbac, user: &UserInfo, object: &Value) -> Result<(), String> {
    let binding = Binding::deserialize(object).map_err(|e| e.to_string())?;
    let namespace = match object.get("kind").and_then(Value::as_str).and_then(PolicyKind::from_kind) {
        Some(PolicyKind::ClusterRoleBinding) => "",
        _ => binding.metadata.namespace.as_str(),
    };
    check_binding(authorizer, rbac, user, namespace, &binding.role_ref).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::authz::rbac::{bootstrap, Policy};
    use serde_json::json;
    use std::sync::Arc;

    fn rbac() -> Arc<Rbac> {
        let mut p = Policy::new();
        bootstrap::load_into(&mut p);
        let objs = [
            (PolicyKind::Role, json!({"metadata":{"name":"dev","namespace":"ns1"},"rules":[
                {"verbs":["get","list","create"],"apiGroups":[""],"resources":["configmaps","pods"]},
                {"verbs":["create"],"apiGroups":[GROUP],"resources":["rolebindings","roles"]}]})),
            (PolicyKind::Role, json!({"metadata":{"name":"reader","namespace":"ns1"},"rules":[
                {"verbs":["get"],"apiGroups":[""],"resources":["configmaps"]}]})),
            (PolicyKind::RoleBinding, json!({"metadata":{"name":"alice-dev","namespace":"ns1"},"roleRef":{"apiGroup":GROUP,"kind":"Role","name":"dev"},
                "subjects":[{"kind":"User","apiGroup":GROUP,"name":"alice"},{"kind":"User","apiGroup":GROUP,"name":"binder"}]})),
            (PolicyKind::ClusterRole, json!({"metadata":{"name":"can-bind-admin"},"rules":[
                {"verbs":["bind"],"apiGroups":[GROUP],"resources":["clusterroles"],"resourceNames":["admin"]}]})),
            (PolicyKind::RoleBinding, json!({"metadata":{"name":"binder","namespace":"ns1"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":"can-bind-admin"},
                "subjects":[{"kind":"User","apiGroup":GROUP,"name":"binder"}]})),
        ];
        for (k, o) in objs {
            p.insert_json(k, &o).expect("valid");
        }
        Rbac::from_policy(p)
    }

    fn binding(ns: &str, kind: &str, name: &str) -> Value {
        json!({"kind":"RoleBinding","metadata":{"name":"b","namespace":ns},"roleRef":{"apiGroup":GROUP,"kind":kind,"name":name},
            "subjects":[{"kind":"User","apiGroup":GROUP,"name":"eve"}]})
    }

    #[tokio::test]
    async fn bindings() {
        let r = rbac();
        let alice = UserInfo::new("alice", &["system:authenticated"]);
        let err = check_binding_write(r.as_ref(), &r, &alice, &binding("ns1", "ClusterRole", "admin")).await.expect_err("escalation");
        assert!(
            err.starts_with("user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:"),
            "{err}"
        );
        // A role whose rules she holds.
        check_binding_write(r.as_ref(), &r, &alice, &binding("ns1", "Role", "reader")).await.expect("holds the rules");
        // Not in another namespace.
        assert!(check_binding_write(r.as_ref(), &r, &alice, &binding("ns2", "Role", "reader")).await.is_err());
        // `bind` on the ClusterRole lets binder bind admin in ns1.
        let binder = UserInfo::new("binder", &[]);
        check_binding_write(r.as_ref(), &r, &binder, &binding("ns1", "ClusterRole", "admin")).await.expect("bind verb");
        let root = UserInfo::new("root", &[names::SYSTEM_MASTERS]);
        let crb = json!({"kind":"ClusterRoleBinding","metadata":{"name":"x"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":"cluster-admin"}});
        check_binding_write(r.as_ref(), &r, &root, &crb).await.expect("system:masters");
        assert!(check_binding_write(r.as_ref(), &r, &binder, &crb).await.is_err());
        let missing = check_binding_write(r.as_ref(), &r, &alice, &binding("ns1", "Role", "nope")).await.expect_err("missing role");
        assert_eq!(missing, format!("role.{GROUP} \"nope\" not found"));
    }

    #[tokio::test]
    async fn roles() {
        let r = rbac();
        let alice = UserInfo::new("alice", &[]);
        let role = |rules: Value| json!({"kind":"Role","metadata":{"name":"r","namespace":"ns1"},"rules":rules});
        check_role_write(r.as_ref(), &r, &alice, &role(json!([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]))).await.expect("held");
        let err = check_role_write(r.as_ref(), &r, &alice, &role(json!([{"verbs":["delete","get"],"apiGroups":[""],"resources":["pods"]}])))
            .await
            .expect_err("delete not held");
        assert!(err.ends_with(r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}"#), "{err}");
        let cr = json!({"kind":"ClusterRole","metadata":{"name":"c"},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]});
        assert!(check_role_write(r.as_ref(), &r, &alice, &cr).await.is_err(), "namespaced rules do not cover a cluster role");
    }
}
