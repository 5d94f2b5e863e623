//! Security: who is asking (authentication), may they (authorization), and the APIs about both
//! (reviews, TokenRequest). The request filter in `endpoints` runs authn → authz before routing.
//!
//! The types here are the contract between the layers: [`UserInfo`] is what authentication
//! produces, [`Attributes`] is what authorization decides on (kube-apiserver's
//! `authorizer.Attributes`), [`Decision`] its answer.

pub mod authn;
pub mod authz;
pub mod escalation;
pub mod security;
pub mod setup;

pub use security::{Authenticate, Security};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The well-known groups and users (k8s.io/apiserver/pkg/authentication/user).
pub mod names {
    /// Every authenticated request gets this group.
    pub const ALL_AUTHENTICATED: &str = "system:authenticated";
    /// Anonymous requests' group.
    pub const ALL_UNAUTHENTICATED: &str = "system:unauthenticated";
    /// Anonymous requests' user.
    pub const ANONYMOUS: &str = "system:anonymous";
    /// The superuser group: RBAC's bootstrap binds it to cluster-admin.
    pub const SYSTEM_MASTERS: &str = "system:masters";
    /// Nodes' group.
    pub const NODES_GROUP: &str = "system:nodes";
    /// A node's user name is this prefix plus the node name.
    pub const NODE_USER_PREFIX: &str = "system:node:";
    /// A service account's user name: this prefix, namespace, `:`, name.
    pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
    /// Every service account's group.
    pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
    /// The user of requests on the insecure port (upstream's `system:unsecured`).
    pub const UNSECURED: &str = "system:unsecured";
    /// The loopback client kapi uses for its own work.
    pub const APISERVER: &str = "system:apiserver";
    /// Bootstrap tokens' group.
    pub const BOOTSTRAPPERS: &str = "system:bootstrappers";
}

/// An authenticated identity (user.Info; authentication.k8s.io/v1 `UserInfo` on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// A unique id (service accounts: their object's uid).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Groups, in the order the authenticator gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Extra attributes (lower-case keys).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with a name and groups.
    pub fn new(username: impl Into<String>, groups: &[&str]) -> UserInfo {
        UserInfo { username: username.into(), groups: groups.iter().map(|g| (*g).to_string()).collect(), ..UserInfo::default() }
    }

    /// The anonymous user (`system:anonymous` in `system:unauthenticated`).
    pub fn anonymous() -> UserInfo {
        UserInfo::new(names::ANONYMOUS, &[names::ALL_UNAUTHENTICATED])
    }

    /// The insecure port's user: full access, as upstream's `system:unsecured`.
    pub fn unsecured() -> UserInfo {
        UserInfo::new(names::UNSECURED, &[names::SYSTEM_MASTERS, names::ALL_AUTHENTICATED])
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Adds `system:authenticated` unless the user is anonymous or already has it (upstream's
    /// AuthenticatedGroupAdder).
    pub fn with_authenticated_group(mut self) -> UserInfo {
        if !self.in_group(names::ALL_AUTHENTICATED) && !self.in_group(names::ALL_UNAUTHENTICATED) && self.username != names::ANONYMOUS {
            self.groups.push(names::ALL_AUTHENTICATED.to_string());
        }
        self
    }
}

/// What authorization decides on (authorizer.Attributes / SubjectAccessReviewSpec).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Who asks.
    pub user: UserInfo,
    /// The verb: get, list, watch, create, update, patch, delete, deletecollection (resource
    /// requests; also bind/escalate/impersonate/use for checks) or the lower-case HTTP method
    /// (non-resource requests: get, post, put, ...).
    pub verb: String,
    /// A request for an API resource (else a non-resource path such as `/healthz`).
    pub resource_request: bool,
    /// The URL path (non-resource requests).
    pub path: String,
    /// The namespace ("" for cluster-scoped or all namespaces).
    pub namespace: String,
    /// The API group ("" for the core group).
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The resource (plural), e.g. `pods`.
    pub resource: String,
    /// The subresource, e.g. `status`, or "".
    pub subresource: String,
    /// The object name, or "" (lists, creates without a name).
    pub name: String,
    /// The request's field selector (list, watch, deletecollection), as sent; "" when none.
    pub field_selector: String,
}

impl Attributes {
    /// Whether the field selector requires `field` to equal `value` (`f=v` or `f==v` among its
    /// comma-separated requirements).
    pub fn field_selector_requires(&self, field: &str, value: &str) -> bool {
        self.field_selector.split(',').any(|req| {
            let req = req.trim();
            let Some(rest) = req.strip_prefix(field) else { return false };
            let v = rest.strip_prefix("==").or_else(|| rest.strip_prefix('='));
            v.is_some_and(|v| v.trim() == value)
        })
    }
}

impl Attributes {
    /// `resource` or `resource/subresource`, as RBAC rules and messages write it.
    pub fn resource_path(&self) -> String {
        if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        }
    }
}

/// An authorizer's answer. The first decisive answer (Allow or Deny) of the chain wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Denied: no later authorizer is asked.
    Deny,
    /// This authorizer has no opinion: ask the next.
    NoOpinion,
}

/// A decision with the authorizer's reason (shown in 403 messages and SubjectAccessReview status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// Why (may be empty).
    pub reason: String,
}

impl Verdict {
    /// Allowed, because `reason`.
    pub fn allow(reason: impl Into<String>) -> Verdict {
        Verdict { decision: Decision::Allow, reason: reason.into() }
    }
    /// Denied, because `reason`.
    pub fn deny(reason: impl Into<String>) -> Verdict {
        Verdict { decision: Decision::Deny, reason: reason.into() }
    }
    /// No opinion (`reason` may explain).
    pub fn no_opinion(reason: impl Into<String>) -> Verdict {
        Verdict { decision: Decision::NoOpinion, reason: reason.into() }
    }
}

/// A rule of SelfSubjectRulesReview's `resourceRules` (authorization.k8s.io/v1 ResourceRule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resources (`pods`, `pods/status`, `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Resource names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
}

/// A rule of SelfSubjectRulesReview's `nonResourceRules`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NonResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// URL paths (`/healthz`, `/api/*`).
    #[serde(rename = "nonResourceURLs")]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

/// What a user may do in a namespace (SelfSubjectRulesReview's status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesInfo {
    /// Resource rules.
    pub resource_rules: Vec<ResourceRule>,
    /// Non-resource rules.
    pub non_resource_rules: Vec<NonResourceRule>,
    /// The list may be incomplete (an authorizer that cannot enumerate its rules was in the chain).
    pub incomplete: bool,
    /// Errors met while evaluating.
    pub evaluation_error: String,
}
