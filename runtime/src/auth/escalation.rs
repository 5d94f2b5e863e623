//! RBAC escalation prevention on the write path: every create, update, patch and apply of a
//! Role, ClusterRole, RoleBinding or ClusterRoleBinding by a user passes
//! [`crate::auth::authz::rbac::escalation`]'s checks before it is stored (a refusal is 403
//! Forbidden and nothing is written), as upstream's policy-based RBAC storage does.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::authz::rbac::escalation::{check_binding_write, check_role_write, confirm_no_escalation};
use super::authz::rbac::rule::PolicyRule;
use super::authz::rbac::Rbac;
use super::authz::Authorizer;
use super::UserInfo;
use crate::apimachinery::KindInfo;
use crate::registry::store::Admit;
use crate::registry::{ApiError, Registry, Target};

/// The RBAC group.
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The escalation check of the four RBAC kinds.
pub struct RbacEscalation {
    authorizer: Arc<dyn Authorizer>,
    rbac: Arc<Rbac>,
}

impl RbacEscalation {
    /// Checks asked of `authorizer` (the whole chain: `escalate`/`bind`) and `rbac` (held rules).
    pub fn new(authorizer: Arc<dyn Authorizer>, rbac: Arc<Rbac>) -> RbacEscalation {
        RbacEscalation { authorizer, rbac }
    }

    /// Installs the check on the registry's RBAC stores.
    pub fn install(self, registry: &Registry) {
        let me: Arc<dyn Admit> = Arc::new(self);
        for info in registry.kinds().iter().filter(|k| k.group == RBAC_GROUP) {
            if let Some(store) = registry.store(info.group, info.version, info.plural) {
                store.set_admission(me.clone());
            }
        }
    }
}

impl RbacEscalation {
    /// `system:masters`, or allowed to `escalate` ClusterRoles.
    async fn may_escalate(&self, user: &UserInfo) -> bool {
        if user.in_group(super::names::SYSTEM_MASTERS) {
            return true;
        }
        let attributes = super::Attributes {
            user: user.clone(),
            verb: "escalate".into(),
            resource_request: true,
            api_group: RBAC_GROUP.into(),
            api_version: "*".into(),
            resource: "clusterroles".into(),
            ..super::Attributes::default()
        };
        self.authorizer.authorize(&attributes).await.decision == super::Decision::Allow
    }
}

#[async_trait]
impl Admit for RbacEscalation {
    async fn admit(&self, info: &'static KindInfo, user: Option<&UserInfo>, new: &Value, old: Option<&Value>) -> Result<(), ApiError> {
        // kapi's own writes (bootstrap policy, aggregation) are not checked.
        let Some(user) = user else { return Ok(()) };
        if info.group != RBAC_GROUP {
            return Ok(());
        }
        let role = matches!(info.kind, "Role" | "ClusterRole");
        // Upstream skips the check when what grants permissions did not change (metadata-only
        // updates, e.g. finalizers for the garbage collector).
        let granting = |v: &Value| if role { (v.get("rules").cloned(), v.get("aggregationRule").cloned()) } else { (v.get("roleRef").cloned(), v.get("subjects").cloned()) };
        if old.is_some_and(|o| granting(o) == granting(new)) {
            return Ok(());
        }
        let mut result = if role {
            check_role_write(self.authorizer.as_ref(), &self.rbac, user, new).await
        } else {
            check_binding_write(self.authorizer.as_ref(), &self.rbac, user, new).await
        };
        // An aggregationRule can gather any rules (the aggregation controller writes them without a
        // user): setting, keeping or dropping one needs `*` on everything, unless the user may
        // `escalate` ClusterRoles (upstream's policy-based ClusterRole storage).
        let aggregating = |v: Option<&Value>| v.and_then(|v| v.get("aggregationRule")).is_some_and(|a| !a.is_null());
        if result.is_ok() && info.kind == "ClusterRole" && (aggregating(Some(new)) || aggregating(old)) && !self.may_escalate(user).await {
            let full = [PolicyRule::resource(&["*"], &["*"], &["*"]), PolicyRule::urls(&["*"], &["*"])];
            if confirm_no_escalation(&self.rbac, user, "", &full).is_err() {
                result = Err("must have cluster-admin privileges to use the aggregationRule".into());
            }
        }
        result.map_err(|why| ApiError::Forbidden {
            target: Target {
                group: info.group.into(),
                resource: info.plural.into(),
                name: new.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().into(),
            },
            why,
        })
    }
}
