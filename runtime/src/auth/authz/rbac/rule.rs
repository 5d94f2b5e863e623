//! RBAC policy rules: the wire type, upstream's matching of a request against a rule
//! (`plugin/pkg/auth/authorizer/rbac` `RuleAllows`) and the coverage test behind escalation
//! prevention (`pkg/registry/rbac/validation` `Covers`, `CompactRules`, `CompactString`).

use serde::{Deserialize, Serialize};

use crate::apimachinery::go::quote;
use crate::auth::{Attributes, NonResourceRule, ResourceRule};

/// `*`: every verb, group, resource or URL.
pub const ALL: &str = "*";

/// rbac.authorization.k8s.io/v1 `PolicyRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// Verbs (`get`, `*`).
    #[serde(default, deserialize_with = "null_vec")]
    pub verbs: Vec<String>,
    /// API groups (`""` is the core group).
    #[serde(default, deserialize_with = "null_vec", skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resources (`pods`, `pods/log`, `*/scale`, `*`).
    #[serde(default, deserialize_with = "null_vec", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Object names (empty: any).
    #[serde(default, deserialize_with = "null_vec", skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// Non-resource URLs (`/healthz`, `/api/*`).
    #[serde(rename = "nonResourceURLs", default, deserialize_with = "null_vec", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

fn null_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

impl PolicyRule {
    /// A resource rule (upstream's `NewRule(verbs...).Groups(...).Resources(...)`).
    pub fn resource(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
        PolicyRule { verbs: strings(verbs), api_groups: strings(groups), resources: strings(resources), ..PolicyRule::default() }
    }

    /// The same rule limited to `names`.
    pub fn names(mut self, names: &[&str]) -> PolicyRule {
        self.resource_names = strings(names);
        self
    }

    /// A non-resource rule.
    pub fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
        PolicyRule { verbs: strings(verbs), non_resource_urls: strings(urls), ..PolicyRule::default() }
    }

    /// Whether this rule allows the request (upstream's `RuleAllows`).
    pub fn allows(&self, a: &Attributes) -> bool {
        if a.resource_request {
            let combined = a.resource_path();
            self.verb_matches(&a.verb)
                && self.api_group_matches(&a.api_group)
                && self.resource_matches(&combined, &a.subresource)
                && self.resource_name_matches(&a.name)
        } else {
            self.verb_matches(&a.verb) && self.non_resource_url_matches(&a.path)
        }
    }

    /// `VerbMatches`.
    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    /// `APIGroupMatches`.
    pub fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == ALL || g == group)
    }

    /// `ResourceMatches`: `combined` is `resource` or `resource/subresource`; a rule's `*/sub`
    /// matches subresource `sub` of every resource.
    pub fn resource_matches(&self, combined: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            r == ALL
                || r == combined
                || (!subresource.is_empty()
                    && r.len() == subresource.len() + 2
                    && r.starts_with("*/")
                    && r.ends_with(subresource))
        })
    }

    /// `ResourceNameMatches`: no names means every name.
    pub fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// `NonResourceURLMatches`: exact, `*`, or a trailing `*` as a prefix match.
    pub fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == ALL || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
        })
    }

    /// The SelfSubjectRulesReview forms of this rule (a rule may carry both kinds).
    pub fn to_review(&self) -> (Option<ResourceRule>, Option<NonResourceRule>) {
        let resource = (!self.resources.is_empty()).then(|| ResourceRule {
            verbs: self.verbs.clone(),
            api_groups: self.api_groups.clone(),
            resources: self.resources.clone(),
            resource_names: self.resource_names.clone(),
        });
        let non_resource = (!self.non_resource_urls.is_empty())
            .then(|| NonResourceRule { verbs: self.verbs.clone(), non_resource_urls: self.non_resource_urls.clone() });
        (resource, non_resource)
    }

    /// Upstream's `CompactString` (escalation messages): `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
    pub fn compact_string(&self) -> String {
        let mut parts = Vec::new();
        for (label, values) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !values.is_empty() {
                parts.push(format!("{label}:{}", go_quote_list(values)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub fn go_quote_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" "))
}

/// Whether any rule allows the request (upstream's `RulesAllow`).
pub fn rules_allow(a: &Attributes, rules: &[PolicyRule]) -> bool {
    rules.iter().any(|r| r.allows(a))
}

/// Upstream's `BreakdownRule`: one rule per group × resource × verb (× name), and per URL × verb.
pub fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let base = PolicyRule {
                    verbs: vec![verb.clone()],
                    api_groups: vec![group.clone()],
                    resources: vec![resource.clone()],
                    ..PolicyRule::default()
                };
                if rule.resource_names.is_empty() {
                    out.push(base);
                } else {
                    for name in &rule.resource_names {
                        out.push(PolicyRule { resource_names: vec![name.clone()], ..base.clone() });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule { verbs: vec![verb.clone()], non_resource_urls: vec![url.clone()], ..PolicyRule::default() });
        }
    }
    out
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

fn resources_cover_all(set: &[String], covers: &[String]) -> bool {
    if has(set, ALL) || has_all(set, covers) {
        return true;
    }
    covers.iter().all(|path| {
        if has(set, path) {
            return true;
        }
        match path.split_once('/') {
            Some((_, sub)) => has(set, &format!("*/{sub}")),
            None => false,
        }
    })
}

fn url_covers(owner: &str, sub: &str) -> bool {
    owner == sub || (owner.ends_with('*') && sub.starts_with(owner.trim_end_matches('*')))
}

/// Upstream's `ruleCovers`: `owner` (any shape) covers `sub` (one verb, resource, name at most).
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, ALL) || has_all(&owner.api_groups, &sub.api_groups);
    let resources = resources_cover_all(&owner.resources, &sub.resources);
    let urls = sub.non_resource_urls.iter().all(|u| owner.non_resource_urls.iter().any(|o| url_covers(o, u)));
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    verbs && groups && resources && names && urls
}

/// Upstream's `Covers`: whether `owner` rules cover every `requested` rule, and the broken-down
/// rules that are not covered.
pub fn covers(owner: &[PolicyRule], requested: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = requested
        .iter()
        .flat_map(breakdown)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// Upstream's `CompactRules`: simple rules (one group, one resource, no names or URLs) on the same
/// group and resource are merged into one rule with all their verbs.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::with_capacity(rules.len());
    let mut simple: Vec<(String, String, usize)> = Vec::new();
    for rule in rules {
        let is_simple = rule.api_groups.len() == 1
            && rule.resources.len() == 1
            && rule.resource_names.is_empty()
            && rule.non_resource_urls.is_empty();
        if !is_simple {
            out.push(rule.clone());
            continue;
        }
        let key = (rule.api_groups[0].clone(), rule.resources[0].clone());
        if let Some((_, _, at)) = simple.iter().find(|(g, r, _)| *g == key.0 && *r == key.1) {
            out[*at].verbs.extend(rule.verbs.iter().cloned());
        } else {
            simple.push((key.0, key.1, out.len()));
            out.push(rule.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::UserInfo;

    fn res(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            user: UserInfo::new("u", &[]),
            verb: verb.into(),
            resource_request: true,
            namespace: "ns".into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    fn url(verb: &str, path: &str) -> Attributes {
        Attributes { user: UserInfo::new("u", &[]), verb: verb.into(), path: path.into(), ..Attributes::default() }
    }

    #[test]
    fn wildcards_and_exact_matches() {
        let r = PolicyRule::resource(&["get", "list"], &[""], &["pods"]);
        assert!(r.allows(&res("get", "", "pods", "", "p")));
        assert!(!r.allows(&res("delete", "", "pods", "", "p")));
        assert!(!r.allows(&res("get", "apps", "pods", "", "p")));
        assert!(!r.allows(&res("get", "", "pods", "log", "p")), "a resource does not cover its subresources");
        let all = PolicyRule::resource(&["*"], &["*"], &["*"]);
        assert!(all.allows(&res("escalate", "rbac.authorization.k8s.io", "roles", "", "")));
        assert!(all.allows(&res("get", "", "pods", "log", "p")));
        assert!(!all.allows(&url("get", "/healthz")), "resource rules never match non-resource requests");
    }

    #[test]
    fn subresources() {
        let r = PolicyRule::resource(&["get"], &[""], &["pods/log"]);
        assert!(r.allows(&res("get", "", "pods", "log", "p")));
        assert!(!r.allows(&res("get", "", "pods", "", "p")));
        assert!(!r.allows(&res("get", "", "pods", "exec", "p")));
        let star = PolicyRule::resource(&["get"], &["apps"], &["*/scale"]);
        assert!(star.allows(&res("get", "apps", "deployments", "scale", "d")));
        assert!(star.allows(&res("get", "apps", "statefulsets", "scale", "d")));
        assert!(!star.allows(&res("get", "apps", "deployments", "", "d")));
        assert!(!star.allows(&res("get", "apps", "deployments", "status", "d")));
    }

    #[test]
    fn resource_names() {
        let r = PolicyRule::resource(&["get", "update"], &[""], &["configmaps"]).names(&["a", "b"]);
        assert!(r.allows(&res("get", "", "configmaps", "", "a")));
        assert!(!r.allows(&res("get", "", "configmaps", "", "c")));
        assert!(!r.allows(&res("get", "", "configmaps", "", "")), "a list has no name: names do not match it");
    }

    #[test]
    fn non_resource_urls() {
        let r = PolicyRule::urls(&["get"], &["/healthz", "/api/*"]);
        assert!(r.allows(&url("get", "/healthz")));
        assert!(!r.allows(&url("get", "/healthz/ping")));
        assert!(r.allows(&url("get", "/api/v1")));
        assert!(r.allows(&url("get", "/api/")));
        assert!(!r.allows(&url("get", "/apis")));
        assert!(!r.allows(&url("post", "/healthz")));
        assert!(PolicyRule::urls(&["*"], &["*"]).allows(&url("put", "/anything")));
        assert!(!r.allows(&res("get", "", "healthz", "", "")));
    }

    #[test]
    fn coverage_and_messages() {
        let owner = vec![
            PolicyRule::resource(&["get", "list"], &[""], &["pods", "*/status"]),
            PolicyRule::resource(&["get"], &[""], &["configmaps"]).names(&["a"]),
            PolicyRule::urls(&["get"], &["/api/*"]),
        ];
        assert!(covers(&owner, &[PolicyRule::resource(&["get"], &[""], &["pods", "pods/status", "services/status"])]).0);
        assert!(covers(&owner, &[PolicyRule::resource(&["get"], &[""], &["configmaps"]).names(&["a"])]).0);
        assert!(!covers(&owner, &[PolicyRule::resource(&["get"], &[""], &["configmaps"])]).0, "names cover only names");
        assert!(covers(&owner, &[PolicyRule::urls(&["get"], &["/api/v1"])]).0);
        let (ok, missing) = covers(&owner, &[PolicyRule::resource(&["get", "delete", "create"], &["", "apps"], &["pods"])]);
        assert!(!ok);
        assert_eq!(missing.len(), 5);
        let compact = compact_rules(&missing);
        let texts: Vec<String> = compact.iter().map(PolicyRule::compact_string).collect();
        assert_eq!(
            texts,
            vec![
                r#"{APIGroups:[""], Resources:["pods"], Verbs:["delete" "create"]}"#.to_string(),
                r#"{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "delete" "create"]}"#.to_string(),
            ]
        );
        assert_eq!(PolicyRule::urls(&["get"], &["/x"]).compact_string(), r#"{NonResourceURLs:["/x"], Verbs:["get"]}"#);
    }

    #[test]
    fn wire_form() {
        let r: PolicyRule =
            serde_json::from_str(r#"{"verbs":["get"],"apiGroups":null,"nonResourceURLs":["/x"]}"#).expect("decode");
        assert_eq!(r, PolicyRule::urls(&["get"], &["/x"]));
        assert_eq!(serde_json::to_string(&r).expect("encode"), r#"{"verbs":["get"],"nonResourceURLs":["/x"]}"#);
    }
}
