//! ABAC (`--authorization-mode=ABAC`, `--authorization-policy-file`): one JSON policy per line,
//! evaluated as upstream's `pkg/auth/authorizer/abac`. Both the `abac.authorization.kubernetes.io/v1beta1`
//! `Policy` form and the unversioned legacy (v0) form are read.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::Authorizer;
use crate::auth::{names, Attributes, UserInfo, Verdict};

/// The versioned policy's apiVersion.
pub const API_VERSION: &str = "abac.authorization.kubernetes.io/v1beta1";

/// A policy file that cannot be used (start-up fails with it).
#[derive(Debug, thiserror::Error)]
pub enum AbacError {
    /// The file cannot be read.
    #[error("error reading policy file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a policy (upstream's `policyLoadError`).
    #[error("error reading policy file {path}, line {line}: {data}: {why}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line.
        data: String,
        /// Why.
        why: String,
    },
}

/// One policy's spec (`abac.PolicySpec`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// User name, or `*`.
    #[serde(default)]
    pub user: String,
    /// Group, or `*`.
    #[serde(default)]
    pub group: String,
    /// Only get/list/watch.
    #[serde(default)]
    pub readonly: bool,
    /// API group, or `*`.
    #[serde(default)]
    pub api_group: String,
    /// Resource, or `*`.
    #[serde(default)]
    pub resource: String,
    /// Namespace, or `*`.
    #[serde(default)]
    pub namespace: String,
    /// Non-resource path, `*`, or a prefix ending in `*`.
    #[serde(default)]
    pub non_resource_path: String,
}

/// The unversioned (v0) policy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct V0 {
    #[serde(default)]
    user: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    readonly: bool,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    namespace: String,
}

impl From<V0> for PolicySpec {
    /// Upstream's v0 conversion: no subject means every authenticated user, empty namespace and
    /// resource mean all (and an empty resource also every non-resource path), every API group.
    fn from(v: V0) -> PolicySpec {
        let mut spec = PolicySpec {
            user: v.user.clone(),
            group: v.group.clone(),
            readonly: v.readonly,
            api_group: "*".into(),
            resource: if v.resource.is_empty() { "*".into() } else { v.resource.clone() },
            namespace: if v.namespace.is_empty() { "*".into() } else { v.namespace },
            non_resource_path: if v.resource.is_empty() { "*".into() } else { String::new() },
        };
        if v.user.is_empty() && v.group.is_empty() {
            spec.group = names::ALL_AUTHENTICATED.into();
        }
        if v.user == "*" || v.group == "*" {
            spec.group = names::ALL_AUTHENTICATED.into();
            spec.user.clear();
        }
        spec
    }
}

/// Parses one non-blank line.
pub fn parse_line(line: &str) -> Result<PolicySpec, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let obj = value.as_object().ok_or("a policy must be a JSON object")?;
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if api_version.is_empty() && kind.is_empty() {
        return V0::deserialize(&value).map(PolicySpec::from).map_err(|e| e.to_string());
    }
    if api_version != API_VERSION || kind != "Policy" {
        return Err(format!("no kind {kind:?} is registered for version {api_version:?}"));
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Versioned {
        #[serde(default)]
        spec: PolicySpec,
    }
    let mut spec = Versioned::deserialize(&value).map_err(|e| e.to_string())?.spec;
    // v1beta1: a `*` user or group means every authenticated subject.
    if spec.user == "*" || spec.group == "*" {
        spec.group = names::ALL_AUTHENTICATED.into();
        spec.user.clear();
    }
    Ok(spec)
}

/// The ABAC authorizer: the first matching policy allows.
#[derive(Debug, Clone, Default)]
pub struct Abac {
    policies: Vec<PolicySpec>,
}

impl Abac {
    /// Reads a policy file (blank lines and `#` comments are skipped).
    pub fn from_file(path: &Path) -> Result<Abac, AbacError> {
        let text = std::fs::read_to_string(path).map_err(|source| AbacError::Read { path: path.into(), source })?;
        Abac::parse(path, &text)
    }

    /// Parses the text of a policy file named `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Abac, AbacError> {
        let mut policies = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let spec = parse_line(line).map_err(|why| AbacError::Line {
                path: path.into(),
                line: i + 1,
                data: line.to_string(),
                why,
            })?;
            policies.push(spec);
        }
        Ok(Abac { policies })
    }

    /// The policies.
    pub fn policies(&self) -> &[PolicySpec] {
        &self.policies
    }
}

fn subject_matches(p: &PolicySpec, user: &UserInfo) -> bool {
    let mut matched = false;
    if !p.user.is_empty() {
        if p.user != "*" && p.user != user.username {
            return false;
        }
        matched = true;
    }
    if !p.group.is_empty() {
        if p.group != "*" && !user.in_group(&p.group) {
            return false;
        }
        matched = true;
    }
    matched
}

fn read_only(a: &Attributes) -> bool {
    matches!(a.verb.as_str(), "get" | "list" | "watch")
}

fn matches(p: &PolicySpec, a: &Attributes) -> bool {
    // Read-only policies match only get/list/watch.
    if !subject_matches(p, &a.user) || (p.readonly && !read_only(a)) {
        return false;
    }
    if a.resource_request {
        (p.namespace == "*" || p.namespace == a.namespace)
            && (p.resource == "*" || p.resource == a.resource)
            && (p.api_group == "*" || p.api_group == a.api_group)
    } else {
        let path = &p.non_resource_path;
        path == "*"
            || *path == a.path
            || (path.ends_with('*') && a.path.starts_with(path.trim_end_matches('*')))
    }
}

#[async_trait]
impl Authorizer for Abac {
    async fn authorize(&self, attributes: &Attributes) -> Verdict {
        if self.policies.iter().any(|p| matches(p, attributes)) {
            Verdict::allow("")
        } else {
            Verdict::no_opinion("No policy matched.")
        }
    }

    /// Upstream's `PolicyList.RulesFor`: the rules of the user's policies for `namespace`
    /// (read-only policies: get, list, watch; others: `*`).
    async fn rules_for(&self, user: &UserInfo, namespace: &str) -> crate::auth::RulesInfo {
        let mut info = crate::auth::RulesInfo::default();
        for p in self.policies.iter().filter(|p| subject_matches(p, user) && (p.namespace == "*" || p.namespace == namespace)) {
            let verbs: Vec<String> = if p.readonly { ["get", "list", "watch"].map(String::from).to_vec() } else { vec!["*".into()] };
            if !p.resource.is_empty() {
                info.resource_rules.push(crate::auth::ResourceRule {
                    verbs: verbs.clone(),
                    api_groups: vec![p.api_group.clone()],
                    resources: vec![p.resource.clone()],
                    resource_names: Vec::new(),
                });
            }
            if !p.non_resource_path.is_empty() {
                info.non_resource_rules.push(crate::auth::NonResourceRule { verbs, non_resource_urls: vec![p.non_resource_path.clone()] });
            }
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Decision;

    const FILE: &str = r#"
# comment
{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "alice", "namespace": "*", "resource": "*", "apiGroup": "*"}}

{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"user": "bob", "namespace": "projectCaribou", "resource": "pods", "apiGroup": "", "readonly": true}}
{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy", "spec": {"group": "system:authenticated", "readonly": true, "nonResourcePath": "/api*"}}
{"user": "legacy"}
"#;

    fn res(user: UserInfo, verb: &str, ns: &str, resource: &str) -> Attributes {
        Attributes { user, verb: verb.into(), resource_request: true, namespace: ns.into(), resource: resource.into(), ..Attributes::default() }
    }

    #[tokio::test]
    async fn policies_match_as_upstream() {
        let abac = Abac::parse(Path::new("p.jsonl"), FILE).expect("parses");
        assert_eq!(abac.policies().len(), 4);
        let d = |a: Attributes| {
            let abac = abac.clone();
            async move { abac.authorize(&a).await }
        };
        assert_eq!(d(res(UserInfo::new("alice", &[]), "delete", "x", "secrets")).await.decision, Decision::Allow);
        let bob = UserInfo::new("bob", &["system:authenticated"]);
        assert_eq!(d(res(bob.clone(), "get", "projectCaribou", "pods")).await.decision, Decision::Allow);
        let v = d(res(bob.clone(), "create", "projectCaribou", "pods")).await;
        assert_eq!(v, Verdict::no_opinion("No policy matched."));
        assert_eq!(d(res(bob.clone(), "get", "other", "pods")).await.decision, Decision::NoOpinion);
        let path = |p: &str, verb: &str| Attributes { user: bob.clone(), verb: verb.into(), path: p.into(), ..Attributes::default() };
        assert_eq!(d(path("/apis/apps", "get")).await.decision, Decision::Allow);
        assert_eq!(d(path("/healthz", "get")).await.decision, Decision::NoOpinion);
        assert_eq!(d(path("/api", "post")).await.decision, Decision::NoOpinion);
        // v0: empty resource and namespace mean everything, every non-resource path too.
        let legacy = UserInfo::new("legacy", &[]);
        assert_eq!(d(res(legacy.clone(), "delete", "x", "pods")).await.decision, Decision::Allow);
        assert_eq!(d(Attributes { user: legacy, verb: "get".into(), path: "/metrics".into(), ..Attributes::default() }).await.decision, Decision::Allow);
    }

    #[test]
    fn wildcards_and_bad_lines() {
        let spec = parse_line(r#"{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"user":"*","resource":"*","namespace":"*","apiGroup":"*"}}"#).expect("ok");
        assert_eq!((spec.user.as_str(), spec.group.as_str()), ("", "system:authenticated"));
        let v0 = parse_line(r#"{"readonly": true}"#).expect("v0");
        assert_eq!(v0.group, "system:authenticated");
        let e = Abac::parse(Path::new("/etc/p"), "\n{\"user\": \"a\"}\nnot json\n").expect_err("bad line");
        assert!(e.to_string().starts_with("error reading policy file /etc/p, line 3: not json: "), "{e}");
        let e = Abac::parse(Path::new("p"), r#"{"apiVersion":"v2","kind":"Policy"}"#).expect_err("bad version");
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse_line(r#"{"usr":"typo"}"#).is_err());
    }
}
