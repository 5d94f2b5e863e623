//! The security configuration one server runs with: its authentication chain and its
//! authorization chain, behind the small interfaces the HTTP layer calls.

use std::sync::Arc;

use async_trait::async_trait;

use super::authn::{Authenticated, AuthnError, RequestCredentials, TokenAuthenticator};
use super::authz::Authorizer;
use super::{Attributes, RulesInfo, UserInfo, Verdict};

/// The whole authentication chain, as the HTTP layer uses it.
#[async_trait]
pub trait Authenticate: Send + Sync {
    /// Authenticates a request (anonymous included when enabled); `Err` is a 401.
    async fn authenticate(&self, creds: &RequestCredentials<'_>) -> Result<Authenticated, AuthnError>;
    /// The bearer-token authenticators, for TokenReview.
    fn token_authenticator(&self) -> Arc<dyn TokenAuthenticator>;
    /// The API server's audiences (`--api-audiences`).
    fn api_audiences(&self) -> Vec<String>;
    /// Removes the identity headers of a front proxy from an authenticated request.
    fn strip_headers(&self, headers: &mut http::HeaderMap);
}

/// Authentication and authorization of one server.
#[derive(Clone)]
pub struct Security {
    /// Who is asking.
    pub authn: Arc<dyn Authenticate>,
    /// May they.
    pub authz: Arc<dyn Authorizer>,
    /// Service-account tokens (TokenRequest, OIDC discovery); `None` when not configured.
    pub tokens: Option<Arc<super::authn::serviceaccount::TokenIssuer>>,
}

impl Security {
    /// No security: every request is `system:unsecured` and everything is allowed (in-process use
    /// and the insecure port).
    pub fn allow_all() -> Security {
        Security { authn: Arc::new(Unsecured), authz: Arc::new(AllowAll), tokens: None }
    }
}

struct Unsecured;

#[async_trait]
impl Authenticate for Unsecured {
    async fn authenticate(&self, _: &RequestCredentials<'_>) -> Result<Authenticated, AuthnError> {
        Ok(Authenticated { user: UserInfo::unsecured(), audiences: Vec::new() })
    }
    fn token_authenticator(&self) -> Arc<dyn TokenAuthenticator> {
        Arc::new(NoTokens)
    }
    fn api_audiences(&self) -> Vec<String> {
        Vec::new()
    }
    fn strip_headers(&self, _: &mut http::HeaderMap) {}
}

struct NoTokens;

#[async_trait]
impl TokenAuthenticator for NoTokens {
    async fn authenticate_token(&self, _: &str, _: &[String]) -> Result<Option<Authenticated>, AuthnError> {
        Ok(None)
    }
}

struct AllowAll;

#[async_trait]
impl Authorizer for AllowAll {
    async fn authorize(&self, _: &Attributes) -> Verdict {
        Verdict::allow("")
    }
    async fn rules_for(&self, _: &UserInfo, _: &str) -> RulesInfo {
        RulesInfo {
            resource_rules: vec![super::ResourceRule {
                verbs: vec!["*".into()],
                api_groups: vec!["*".into()],
                resources: vec!["*".into()],
                resource_names: Vec::new(),
            }],
            non_resource_rules: vec![super::NonResourceRule { verbs: vec!["*".into()], non_resource_urls: vec!["*".into()] }],
            incomplete: false,
            evaluation_error: String::new(),
        }
    }
}
