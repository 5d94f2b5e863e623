//! The fixed authorizers: `AlwaysAllow`, `AlwaysDeny` and the privileged-group authorizer that
//! lets `system:masters` do anything (k8s.io/apiserver `authorizerfactory`).

use async_trait::async_trait;

use super::Authorizer;
use crate::auth::{Attributes, NonResourceRule, ResourceRule, RulesInfo, UserInfo, Verdict};

/// Everything is allowed on every resource and path.
fn all_rules() -> RulesInfo {
    let all = vec!["*".to_string()];
    RulesInfo {
        resource_rules: vec![ResourceRule {
            verbs: all.clone(),
            api_groups: all.clone(),
            resources: all.clone(),
            resource_names: Vec::new(),
        }],
        non_resource_rules: vec![NonResourceRule { verbs: all.clone(), non_resource_urls: all }],
        incomplete: false,
        evaluation_error: String::new(),
    }
}

/// `--authorization-mode=AlwaysAllow`: allows every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysAllow;

#[async_trait]
impl Authorizer for AlwaysAllow {
    async fn authorize(&self, _attributes: &Attributes) -> Verdict {
        Verdict::allow("")
    }

    async fn rules_for(&self, _user: &UserInfo, _namespace: &str) -> RulesInfo {
        all_rules()
    }
}

/// `--authorization-mode=AlwaysDeny`. As upstream's `alwaysDenyAuthorizer` it answers NoOpinion
/// with "Everything is forbidden.": a request nothing else allows is refused, while an authorizer
/// after it in the chain (or the `system:masters` authorizer before it) may still allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysDeny;

/// AlwaysDeny's reason.
pub const ALWAYS_DENY_REASON: &str = "Everything is forbidden.";

#[async_trait]
impl Authorizer for AlwaysDeny {
    async fn authorize(&self, _attributes: &Attributes) -> Verdict {
        Verdict::no_opinion(ALWAYS_DENY_REASON)
    }

    async fn rules_for(&self, _user: &UserInfo, _namespace: &str) -> RulesInfo {
        RulesInfo::default()
    }
}

/// Allows members of any of its groups (upstream's `privilegedGroupAuthorizer`; the chain puts one
/// for `system:masters` first).
#[derive(Debug, Clone, Default)]
pub struct PrivilegedGroup {
    groups: Vec<String>,
}

impl PrivilegedGroup {
    /// Allows members of `groups`.
    pub fn new(groups: &[&str]) -> PrivilegedGroup {
        PrivilegedGroup { groups: groups.iter().map(|g| (*g).to_string()).collect() }
    }

    fn covers(&self, user: &UserInfo) -> bool {
        self.groups.iter().any(|g| user.in_group(g))
    }
}

#[async_trait]
impl Authorizer for PrivilegedGroup {
    async fn authorize(&self, attributes: &Attributes) -> Verdict {
        if self.covers(&attributes.user) {
            Verdict::allow("")
        } else {
            Verdict::no_opinion("")
        }
    }

    /// Not a rule resolver upstream (SelfSubjectRulesReview lists the modes' rules only).
    async fn rules_for(&self, _user: &UserInfo, _namespace: &str) -> RulesInfo {
        RulesInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{names, Decision};

    #[tokio::test]
    async fn fixed_answers() {
        let a = Attributes { user: UserInfo::new("u", &[]), verb: "get".into(), ..Attributes::default() };
        assert_eq!(AlwaysAllow.authorize(&a).await, Verdict::allow(""));
        assert_eq!(AlwaysDeny.authorize(&a).await, Verdict::no_opinion("Everything is forbidden."));
        assert_eq!(AlwaysAllow.rules_for(&a.user, "").await.resource_rules[0].verbs, vec!["*".to_string()]);
        assert!(AlwaysDeny.rules_for(&a.user, "").await.resource_rules.is_empty());
        let masters = PrivilegedGroup::new(&[names::SYSTEM_MASTERS]);
        assert_eq!(masters.authorize(&a).await.decision, Decision::NoOpinion);
        let admin = Attributes { user: UserInfo::new("root", &[names::SYSTEM_MASTERS]), ..a };
        assert_eq!(masters.authorize(&admin).await.decision, Decision::Allow);
        // Not a rule resolver (upstream): SelfSubjectRulesReview shows the modes' rules only.
        assert_eq!(masters.rules_for(&admin.user, "x").await, RulesInfo::default());
    }
}
