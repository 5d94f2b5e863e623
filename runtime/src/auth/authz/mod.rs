//! Authorization: the `--authorization-mode` chain. Each authorizer answers Allow, Deny or
//! NoOpinion; the first decisive answer wins, and a request no authorizer allows is denied.

use async_trait::async_trait;

use super::{Attributes, RulesInfo, UserInfo, Verdict};

/// One authorization mode.
#[async_trait]
pub trait Authorizer: Send + Sync {
    /// Decides on one request.
    async fn authorize(&self, attributes: &Attributes) -> Verdict;

    /// What `user` may do in `namespace` (SelfSubjectRulesReview). Authorizers that cannot list
    /// their rules answer `incomplete: true` (the default).
    async fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesInfo {
        let _ = (user, namespace);
        RulesInfo { incomplete: true, ..RulesInfo::default() }
    }
}

pub mod chain;
pub mod rbac;
mod simple;

pub use chain::Chain;
pub use rbac::Rbac;
pub use simple::{AlwaysAllow, AlwaysDeny, PrivilegedGroup, ALWAYS_DENY_REASON};
pub mod abac;
pub mod node;
pub mod webhook;
