//! The authorizer chain built from `--authorization-mode` (upstream's
//! `pkg/kubeapiserver/authorizer` config and `union` authorizer): `system:masters` first, then the
//! modes in order; the first Allow or Deny wins.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::{abac::Abac, node::NodeAuthorizer, rbac::Rbac, webhook::Webhook};
use super::{AlwaysAllow, AlwaysDeny, Authorizer, PrivilegedGroup};
use crate::auth::{names, Attributes, Decision, RulesInfo, UserInfo, Verdict};
use crate::registry::Registry;
use crate::server::{Flags, ServeError};

/// The valid `--authorization-mode` values.
pub const MODES: [&str; 6] = ["AlwaysAllow", "AlwaysDeny", "ABAC", "Webhook", "RBAC", "Node"];

/// An ordered union of authorizers.
pub struct Chain {
    authorizers: Vec<(String, Arc<dyn Authorizer>)>,
    rbac: Option<Arc<Rbac>>,
}

impl Chain {
    /// A chain of `authorizers` in order (no implicit `system:masters` authorizer).
    pub fn new(authorizers: Vec<(String, Arc<dyn Authorizer>)>) -> Chain {
        Chain { authorizers, rbac: None }
    }

    /// The chain the flags configure: `system:masters` is always allowed first, then each mode of
    /// `--authorization-mode` in order. Flag errors are refused as upstream's option validation.
    pub fn from_flags(flags: &Flags, registry: Arc<Registry>) -> Result<Chain, ServeError> {
        let modes = validate(flags)?;
        let mut authorizers: Vec<(String, Arc<dyn Authorizer>)> =
            vec![("system:masters".into(), Arc::new(PrivilegedGroup::new(&[names::SYSTEM_MASTERS])))];
        let mut rbac = None;
        for mode in modes {
            let authorizer: Arc<dyn Authorizer> = match mode.as_str() {
                "AlwaysAllow" => Arc::new(AlwaysAllow),
                "AlwaysDeny" => Arc::new(AlwaysDeny),
                "ABAC" => {
                    let path = flags.authorization_policy_file.as_deref().unwrap_or(std::path::Path::new(""));
                    Arc::new(Abac::from_file(path).map_err(|e| ServeError::Flag(e.to_string()))?)
                }
                "Webhook" => Arc::new(Webhook::from_flags(flags)?),
                "RBAC" => {
                    let r = Rbac::start(registry.clone());
                    rbac = Some(r.clone());
                    r
                }
                "Node" => Arc::new(NodeAuthorizer::new(registry.clone())),
                _ => continue,
            };
            authorizers.push((mode, authorizer));
        }
        Ok(Chain { authorizers, rbac })
    }

    /// The RBAC index, when RBAC is a mode (escalation checks and the aggregation controller use it).
    pub fn rbac(&self) -> Option<&Arc<Rbac>> {
        self.rbac.as_ref()
    }

    /// The authorizers' names in order.
    pub fn names(&self) -> Vec<&str> {
        self.authorizers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

/// Upstream's `BuiltInAuthorizationOptions.Validate`, errors joined; returns the modes. Start-up
/// runs it with the other flag checks, before storage opens.
pub fn validate(flags: &Flags) -> Result<Vec<String>, ServeError> {
    let modes: Vec<String> =
        flags.authorization_mode.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_string).collect();
    let mut errors = Vec::new();
    if modes.is_empty() {
        errors.push("at least one authorization-mode must be passed".to_string());
    }
    let set: BTreeSet<&str> = modes.iter().map(String::as_str).collect();
    for mode in &modes {
        if !MODES.contains(&mode.as_str()) {
            errors.push(format!("authorization-mode {mode:?} is not a valid mode"));
        }
        if mode == "ABAC" && flags.authorization_policy_file.is_none() {
            errors.push("authorization-mode ABAC's authorization policy file not passed".into());
        }
        if mode == "Webhook" && flags.authorization_webhook_config_file.is_none() {
            errors.push("authorization-mode Webhook's authorization config file not passed".into());
        }
    }
    if flags.authorization_policy_file.is_some() && !set.contains("ABAC") {
        errors.push("cannot specify --authorization-policy-file without mode ABAC".into());
    }
    if flags.authorization_webhook_config_file.is_some() && !set.contains("Webhook") {
        errors.push("cannot specify --authorization-webhook-config-file without mode Webhook".into());
    }
    if set.len() != modes.len() {
        let quoted: Vec<String> = modes.iter().map(|m| format!("{m:?}")).collect();
        errors.push(format!("authorization-mode [{}] has mode specified more than once", quoted.join(" ")));
    }
    if flags.authorization_webhook_version != "v1" {
        errors.push(format!(
            "--authorization-webhook-version={} is not supported: only v1 SubjectAccessReviews are sent",
            flags.authorization_webhook_version
        ));
    }
    if errors.is_empty() {
        Ok(modes)
    } else {
        Err(ServeError::Flag(errors.join(", ")))
    }
}

#[async_trait]
impl Authorizer for Chain {
    /// The first Allow or Deny wins; when every authorizer has no opinion the answer is NoOpinion
    /// (the request is refused) with the reasons joined by newlines, as upstream's union.
    async fn authorize(&self, attributes: &Attributes) -> Verdict {
        let mut reasons = Vec::new();
        for (_, authorizer) in &self.authorizers {
            let verdict = authorizer.authorize(attributes).await;
            match verdict.decision {
                Decision::Allow | Decision::Deny => return verdict,
                Decision::NoOpinion => {
                    if !verdict.reason.is_empty() {
                        reasons.push(verdict.reason);
                    }
                }
            }
        }
        Verdict::no_opinion(reasons.join("\n"))
    }

    /// Every authorizer's rules, concatenated; incomplete if any is.
    async fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesInfo {
        let mut all = RulesInfo::default();
        let mut errors = Vec::new();
        for (_, authorizer) in &self.authorizers {
            let info = authorizer.rules_for(user, namespace).await;
            all.resource_rules.extend(info.resource_rules);
            all.non_resource_rules.extend(info.non_resource_rules);
            all.incomplete |= info.incomplete;
            if !info.evaluation_error.is_empty() {
                errors.push(info.evaluation_error);
            }
        }
        all.evaluation_error = super::rbac::policy::aggregate(&errors);
        if errors.is_empty() {
            all.evaluation_error.clear();
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        Flags::from_args(args.iter().copied()).expect("flags parse")
    }

    fn err(args: &[&str]) -> String {
        match validate(&flags(args)) {
            Ok(m) => panic!("accepted {m:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn flag_validation() {
        assert_eq!(validate(&flags(&[])).expect("default"), vec!["Node".to_string(), "RBAC".to_string()]);
        assert_eq!(err(&["--authorization-mode=RBAC,Magic"]), r#"authorization-mode "Magic" is not a valid mode"#);
        assert_eq!(
            err(&["--authorization-mode=RBAC,RBAC"]),
            r#"authorization-mode ["RBAC" "RBAC"] has mode specified more than once"#
        );
        assert_eq!(err(&["--authorization-mode=ABAC"]), "authorization-mode ABAC's authorization policy file not passed");
        assert_eq!(
            err(&["--authorization-mode=Webhook"]),
            "authorization-mode Webhook's authorization config file not passed"
        );
        assert_eq!(
            err(&["--authorization-policy-file=/p"]),
            "cannot specify --authorization-policy-file without mode ABAC"
        );
        assert_eq!(
            err(&["--authorization-webhook-config-file=/p"]),
            "cannot specify --authorization-webhook-config-file without mode Webhook"
        );
        assert!(err(&["--authorization-webhook-version=v1beta1"]).contains("--authorization-webhook-version=v1beta1"));
        assert_eq!(err(&["--authorization-mode="]), "at least one authorization-mode must be passed");
    }

    struct Fixed(Verdict);

    #[async_trait]
    impl Authorizer for Fixed {
        async fn authorize(&self, _attributes: &Attributes) -> Verdict {
            self.0.clone()
        }
    }

    fn chain(verdicts: &[Verdict]) -> Chain {
        let mut list: Vec<(String, Arc<dyn Authorizer>)> =
            vec![("system:masters".into(), Arc::new(PrivilegedGroup::new(&[names::SYSTEM_MASTERS])))];
        for (i, v) in verdicts.iter().enumerate() {
            list.push((format!("a{i}"), Arc::new(Fixed(v.clone()))));
        }
        Chain::new(list)
    }

    #[tokio::test]
    async fn union_semantics() {
        let a = Attributes { user: UserInfo::new("u", &[]), verb: "get".into(), ..Attributes::default() };
        let c = chain(&[Verdict::no_opinion("first"), Verdict::deny("no"), Verdict::allow("yes")]);
        assert_eq!(c.authorize(&a).await, Verdict::deny("no"));
        let c = chain(&[Verdict::no_opinion("first"), Verdict::allow("yes"), Verdict::deny("no")]);
        assert_eq!(c.authorize(&a).await, Verdict::allow("yes"));
        let c = chain(&[Verdict::no_opinion("first"), Verdict::no_opinion(""), Verdict::no_opinion("third")]);
        assert_eq!(c.authorize(&a).await, Verdict::no_opinion("first\nthird"));
        // system:masters is allowed before any mode, even AlwaysDeny or a Deny.
        let root = Attributes { user: UserInfo::new("root", &[names::SYSTEM_MASTERS]), ..a.clone() };
        assert_eq!(c.authorize(&root).await.decision, Decision::Allow);
        let c = Chain::new(vec![
            ("system:masters".into(), Arc::new(PrivilegedGroup::new(&[names::SYSTEM_MASTERS]))),
            ("AlwaysDeny".into(), Arc::new(AlwaysDeny)),
            ("AlwaysAllow".into(), Arc::new(AlwaysAllow)),
        ]);
        assert_eq!(c.authorize(&a).await.decision, Decision::Allow, "AlwaysDeny has no opinion, as upstream");
        assert_eq!(c.authorize(&root).await.decision, Decision::Allow);
    }

    #[tokio::test]
    async fn rules_are_concatenated() {
        let c = chain(&[Verdict::no_opinion("")]);
        let info = c.rules_for(&UserInfo::new("root", &[names::SYSTEM_MASTERS]), "ns").await;
        assert!(info.resource_rules.is_empty(), "the system:masters authorizer lists no rules (upstream)");
        assert!(info.incomplete, "Fixed cannot list its rules");
        let c = Chain::new(vec![("AlwaysAllow".into(), Arc::new(AlwaysAllow)), ("AlwaysDeny".into(), Arc::new(AlwaysDeny))]);
        let info = c.rules_for(&UserInfo::new("u", &[]), "ns").await;
        assert!(!info.incomplete);
        assert_eq!(info.non_resource_rules.len(), 1);
    }
}
