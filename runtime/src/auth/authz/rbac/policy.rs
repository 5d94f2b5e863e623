//! The RBAC objects (Role, ClusterRole, RoleBinding, ClusterRoleBinding) as the authorizer needs
//! them, and [`Policy`]: an in-memory set of them with upstream's evaluation
//! (`pkg/registry/rbac/validation/rule.go` `VisitRulesFor`, `plugin/pkg/auth/authorizer/rbac`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::rule::PolicyRule;
use crate::apimachinery::go::quote;
use crate::apimachinery::LabelSelector;
use crate::auth::{names, Attributes, UserInfo, Verdict};

/// The RBAC API group.
pub const GROUP: &str = "rbac.authorization.k8s.io";

/// The four RBAC kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// `roles`.
    Role,
    /// `clusterroles`.
    ClusterRole,
    /// `rolebindings`.
    RoleBinding,
    /// `clusterrolebindings`.
    ClusterRoleBinding,
}

impl PolicyKind {
    /// All four, in a fixed order.
    pub const ALL: [PolicyKind; 4] =
        [PolicyKind::Role, PolicyKind::ClusterRole, PolicyKind::RoleBinding, PolicyKind::ClusterRoleBinding];

    /// The resource (plural).
    pub fn resource(self) -> &'static str {
        match self {
            PolicyKind::Role => "roles",
            PolicyKind::ClusterRole => "clusterroles",
            PolicyKind::RoleBinding => "rolebindings",
            PolicyKind::ClusterRoleBinding => "clusterrolebindings",
        }
    }

    /// The kind name.
    pub fn kind(self) -> &'static str {
        match self {
            PolicyKind::Role => "Role",
            PolicyKind::ClusterRole => "ClusterRole",
            PolicyKind::RoleBinding => "RoleBinding",
            PolicyKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }

    /// The kind of a `kind` field.
    pub fn from_kind(kind: &str) -> Option<PolicyKind> {
        PolicyKind::ALL.into_iter().find(|k| k.kind() == kind)
    }

    fn index(self) -> usize {
        self as usize
    }
}

fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The metadata the authorizer reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Meta {
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Namespace ("" for cluster-scoped kinds).
    #[serde(default, deserialize_with = "null_default")]
    pub namespace: String,
    /// Labels.
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, deserialize_with = "null_default")]
    pub annotations: BTreeMap<String, String>,
}

/// `AggregationRule` of a ClusterRole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregationRule {
    /// ClusterRoles matching any of these selectors contribute their rules.
    #[serde(default, deserialize_with = "null_default")]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// The rules.
    #[serde(default, deserialize_with = "null_default")]
    pub rules: Vec<PolicyRule>,
    /// ClusterRoles only: the aggregation rule.
    #[serde(default)]
    pub aggregation_rule: Option<AggregationRule>,
}

/// `Subject` of a binding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    /// `rbac.authorization.k8s.io` for users and groups, "" for service accounts.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    /// Name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Service accounts: their namespace (RoleBindings default it to their own).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// `RoleRef` of a binding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    /// `rbac.authorization.k8s.io`.
    #[serde(default, deserialize_with = "null_default")]
    pub api_group: String,
    /// `Role` or `ClusterRole`.
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    /// The role's name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Who is granted the role.
    #[serde(default, deserialize_with = "null_default")]
    pub subjects: Vec<Subject>,
    /// The role granted.
    #[serde(default)]
    pub role_ref: RoleRef,
}

/// Whether `subject` names `user` (upstream's `appliesToUser`); `namespace` is the binding's
/// (the default of ServiceAccount subjects), "" for ClusterRoleBindings.
pub fn applies_to(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.username == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let ns = if subject.namespace.is_empty() { namespace } else { subject.namespace.as_str() };
            !ns.is_empty()
                && user
                    .username
                    .strip_prefix(names::SERVICE_ACCOUNT_USER_PREFIX)
                    .and_then(|rest| rest.split_once(':'))
                    .is_some_and(|(n, name)| n == ns && name == subject.name)
        }
        _ => false,
    }
}

/// Upstream's `describeSubject`.
fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let ns = if subject.namespace.is_empty() { binding_namespace } else { subject.namespace.as_str() };
            format!("{} {}", subject.kind, quote(&format!("{}/{}", subject.name, ns)))
        }
        _ => format!("{} {}", subject.kind, quote(&subject.name)),
    }
}

/// Where a rule came from (the text of RBAC's allow reason).
#[derive(Debug, Clone, Copy)]
pub struct RuleSource<'a> {
    binding: &'a Binding,
    subject: &'a Subject,
    cluster: bool,
}

impl fmt::Display for RuleSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.binding;
        if self.cluster {
            write!(
                f,
                "ClusterRoleBinding {} of {} {} to {}",
                quote(&b.metadata.name),
                b.role_ref.kind,
                quote(&b.role_ref.name),
                describe_subject(self.subject, "")
            )
        } else {
            write!(
                f,
                "RoleBinding {} of {} {} to {}",
                quote(&format!("{}/{}", b.metadata.name, b.metadata.namespace)),
                b.role_ref.kind,
                quote(&b.role_ref.name),
                describe_subject(self.subject, &b.metadata.namespace)
            )
        }
    }
}

/// A snapshot of every Role, ClusterRole and binding, with upstream's evaluation.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    roles: BTreeMap<(String, String), Arc<Role>>,
    cluster_roles: BTreeMap<String, Arc<Role>>,
    role_bindings: BTreeMap<(String, String), Arc<Binding>>,
    cluster_role_bindings: BTreeMap<String, Arc<Binding>>,
}

impl Policy {
    /// An empty policy.
    pub fn new() -> Policy {
        Policy::default()
    }

    /// Adds or replaces an object of `kind` given as its JSON.
    pub fn insert_json(&mut self, kind: PolicyKind, object: &Value) -> Result<(), serde_json::Error> {
        match kind {
            PolicyKind::Role | PolicyKind::ClusterRole => self.insert_role(kind, Role::deserialize(object)?),
            PolicyKind::RoleBinding | PolicyKind::ClusterRoleBinding => {
                self.insert_binding(kind, Binding::deserialize(object)?)
            }
        }
        Ok(())
    }

    /// Adds or replaces a Role (`kind` Role) or ClusterRole.
    pub fn insert_role(&mut self, kind: PolicyKind, role: Role) {
        let role = Arc::new(role);
        if kind == PolicyKind::Role {
            self.roles.insert((role.metadata.namespace.clone(), role.metadata.name.clone()), role);
        } else {
            self.cluster_roles.insert(role.metadata.name.clone(), role);
        }
    }

    /// Adds or replaces a RoleBinding (`kind` RoleBinding) or ClusterRoleBinding.
    pub fn insert_binding(&mut self, kind: PolicyKind, binding: Binding) {
        let binding = Arc::new(binding);
        if kind == PolicyKind::RoleBinding {
            self.role_bindings.insert((binding.metadata.namespace.clone(), binding.metadata.name.clone()), binding);
        } else {
            self.cluster_role_bindings.insert(binding.metadata.name.clone(), binding);
        }
    }

    /// Removes an object.
    pub fn remove(&mut self, kind: PolicyKind, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        match kind {
            PolicyKind::Role => drop(self.roles.remove(&key)),
            PolicyKind::ClusterRole => drop(self.cluster_roles.remove(name)),
            PolicyKind::RoleBinding => drop(self.role_bindings.remove(&key)),
            PolicyKind::ClusterRoleBinding => drop(self.cluster_role_bindings.remove(name)),
        }
    }

    /// Drops every object of `kind`.
    pub fn clear(&mut self, kind: PolicyKind) {
        match kind {
            PolicyKind::Role => self.roles.clear(),
            PolicyKind::ClusterRole => self.cluster_roles.clear(),
            PolicyKind::RoleBinding => self.role_bindings.clear(),
            PolicyKind::ClusterRoleBinding => self.cluster_role_bindings.clear(),
        }
    }

    /// A ClusterRole.
    pub fn cluster_role(&self, name: &str) -> Option<&Arc<Role>> {
        self.cluster_roles.get(name)
    }

    /// Every ClusterRole, by name.
    pub fn cluster_roles(&self) -> impl Iterator<Item = &Arc<Role>> {
        self.cluster_roles.values()
    }

    /// The rules a role reference grants (upstream's `GetRoleReferenceRules`); `namespace` is the
    /// binding's, where a `Role` is looked up.
    pub fn role_ref_rules(&self, role_ref: &RoleRef, namespace: &str) -> Result<&[PolicyRule], String> {
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .get(&(namespace.to_string(), role_ref.name.clone()))
                .map(|r| r.rules.as_slice())
                .ok_or_else(|| format!("role.{GROUP} {} not found", quote(&role_ref.name))),
            "ClusterRole" => self
                .cluster_roles
                .get(&role_ref.name)
                .map(|r| r.rules.as_slice())
                .ok_or_else(|| format!("clusterrole.{GROUP} {} not found", quote(&role_ref.name))),
            other => Err(format!("unsupported role reference kind: {}", quote(other))),
        }
    }

    /// Upstream's `VisitRulesFor`: every rule granted to `user` by ClusterRoleBindings, then (when
    /// `namespace` is set) by RoleBindings of that namespace. `visit` returns false to stop; errors
    /// (missing roles) go to `errors`.
    pub fn visit_rules_for<'a>(
        &'a self,
        user: &UserInfo,
        namespace: &str,
        errors: &mut Vec<String>,
        mut visit: impl FnMut(RuleSource<'a>, &'a PolicyRule) -> bool,
    ) {
        for binding in self.cluster_role_bindings.values() {
            let Some(subject) = binding.subjects.iter().find(|s| applies_to(user, s, "")) else { continue };
            match self.role_ref_rules(&binding.role_ref, "") {
                Ok(rules) => {
                    for rule in rules {
                        if !visit(RuleSource { binding, subject, cluster: true }, rule) {
                            return;
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if namespace.is_empty() {
            return;
        }
        let from = (namespace.to_string(), String::new());
        for ((ns, _), binding) in self.role_bindings.range(from..) {
            if ns != namespace {
                break;
            }
            let Some(subject) = binding.subjects.iter().find(|s| applies_to(user, s, ns)) else { continue };
            match self.role_ref_rules(&binding.role_ref, ns) {
                Ok(rules) => {
                    for rule in rules {
                        if !visit(RuleSource { binding, subject, cluster: false }, rule) {
                            return;
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
    }

    /// RBAC's decision: Allow with `RBAC: allowed by ...`, else NoOpinion (with the resolution
    /// errors met, as `RBAC: [...]`).
    pub fn authorize(&self, a: &Attributes) -> Verdict {
        let mut errors = Vec::new();
        let mut allowed = None;
        self.visit_rules_for(&a.user, &a.namespace, &mut errors, |source, rule| {
            if rule.allows(a) {
                allowed = Some(format!("RBAC: allowed by {source}"));
                return false;
            }
            true
        });
        match allowed {
            Some(reason) => Verdict::allow(reason),
            None if errors.is_empty() => Verdict::no_opinion(""),
            None => Verdict::no_opinion(format!("RBAC: {}", aggregate(&errors))),
        }
    }

    /// Every rule granted to `user` in `namespace` (cluster-wide ones included), and the errors met.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        self.visit_rules_for(user, namespace, &mut errors, |_, rule| {
            rules.push(rule.clone());
            true
        });
        (rules, errors)
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several as `[a, b]`.
pub fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Which slot of per-kind bookkeeping a kind uses.
pub(crate) fn slot(kind: PolicyKind) -> usize {
    kind.index()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Decision;
    use serde_json::json;

    fn attrs(user: UserInfo, verb: &str, ns: &str, resource: &str) -> Attributes {
        Attributes {
            user,
            verb: verb.into(),
            resource_request: true,
            namespace: ns.into(),
            resource: resource.into(),
            ..Attributes::default()
        }
    }

    fn policy() -> Policy {
        let mut p = Policy::new();
        let objs = [
            (PolicyKind::ClusterRole, json!({"metadata":{"name":"pod-reader"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]}]})),
            (PolicyKind::Role, json!({"metadata":{"name":"cm","namespace":"ns1"},"rules":[{"verbs":["*"],"apiGroups":[""],"resources":["configmaps"]}]})),
            (PolicyKind::RoleBinding, json!({"metadata":{"name":"rb","namespace":"ns1"},"roleRef":{"apiGroup":GROUP,"kind":"Role","name":"cm"},
                "subjects":[{"kind":"User","apiGroup":GROUP,"name":"alice"},{"kind":"ServiceAccount","name":"builder"}]})),
            (PolicyKind::RoleBinding, json!({"metadata":{"name":"readers","namespace":"ns2"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":"pod-reader"},
                "subjects":[{"kind":"Group","apiGroup":GROUP,"name":"devs"},{"kind":"ServiceAccount","name":"ci","namespace":"tools"}]})),
            (PolicyKind::ClusterRoleBinding, json!({"metadata":{"name":"global"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":"pod-reader"},
                "subjects":[{"kind":"User","apiGroup":GROUP,"name":"bob"}]})),
            (PolicyKind::ClusterRoleBinding, json!({"metadata":{"name":"dangling"},"roleRef":{"apiGroup":GROUP,"kind":"ClusterRole","name":"missing"},
                "subjects":[{"kind":"Group","apiGroup":GROUP,"name":"system:authenticated"}]})),
        ];
        for (k, o) in objs {
            p.insert_json(k, &o).expect("valid object");
        }
        p
    }

    #[test]
    fn cluster_role_bindings_grant_everywhere_with_upstream_reason() {
        let p = policy();
        let v = p.authorize(&attrs(UserInfo::new("bob", &[]), "list", "any", "pods"));
        assert_eq!(v.decision, Decision::Allow);
        assert_eq!(v.reason, r#"RBAC: allowed by ClusterRoleBinding "global" of ClusterRole "pod-reader" to User "bob""#);
        assert_eq!(p.authorize(&attrs(UserInfo::new("bob", &[]), "list", "", "pods")).decision, Decision::Allow);
        assert_eq!(p.authorize(&attrs(UserInfo::new("bob", &[]), "delete", "x", "pods")).decision, Decision::NoOpinion);
    }

    #[test]
    fn role_bindings_grant_in_their_namespace_only() {
        let p = policy();
        let alice = UserInfo::new("alice", &[]);
        let v = p.authorize(&attrs(alice.clone(), "delete", "ns1", "configmaps"));
        assert_eq!(v.reason, r#"RBAC: allowed by RoleBinding "rb/ns1" of Role "cm" to User "alice""#);
        assert_eq!(p.authorize(&attrs(alice.clone(), "get", "ns2", "configmaps")).decision, Decision::NoOpinion);
        assert_eq!(p.authorize(&attrs(alice, "get", "", "configmaps")).decision, Decision::NoOpinion);
        // A RoleBinding to a ClusterRole grants its rules in the binding's namespace only.
        let dev = UserInfo::new("carol", &["devs"]);
        assert_eq!(p.authorize(&attrs(dev.clone(), "get", "ns2", "pods")).decision, Decision::Allow);
        assert_eq!(p.authorize(&attrs(dev, "get", "ns1", "pods")).decision, Decision::NoOpinion);
    }

    #[test]
    fn service_account_subjects() {
        let p = policy();
        // Namespace defaults to the binding's.
        let builder = UserInfo::new("system:serviceaccount:ns1:builder", &[]);
        let v = p.authorize(&attrs(builder, "create", "ns1", "configmaps"));
        assert_eq!(v.reason, r#"RBAC: allowed by RoleBinding "rb/ns1" of Role "cm" to ServiceAccount "builder/ns1""#);
        let other_ns = UserInfo::new("system:serviceaccount:ns2:builder", &[]);
        assert_eq!(p.authorize(&attrs(other_ns, "create", "ns1", "configmaps")).decision, Decision::NoOpinion);
        let ci = UserInfo::new("system:serviceaccount:tools:ci", &[]);
        assert_eq!(p.authorize(&attrs(ci.clone(), "get", "ns2", "pods")).reason,
            r#"RBAC: allowed by RoleBinding "readers/ns2" of ClusterRole "pod-reader" to ServiceAccount "ci/tools""#);
        assert!(!applies_to(&ci, &Subject { kind: "ServiceAccount".into(), name: "ci".into(), ..Subject::default() }, ""));
    }

    #[test]
    fn missing_roles_are_reported() {
        let p = policy();
        let v = p.authorize(&attrs(UserInfo::new("zed", &["system:authenticated"]), "get", "", "pods"));
        assert_eq!(v.decision, Decision::NoOpinion);
        assert_eq!(v.reason, format!("RBAC: clusterrole.{GROUP} \"missing\" not found"));
        let (rules, errors) = p.rules_for(&UserInfo::new("alice", &["system:authenticated"]), "ns1");
        assert_eq!(rules.len(), 1);
        assert_eq!(errors.len(), 1);
    }
}
