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

/// What a TokenRequest asks for (serviceaccounts/token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSpec {
    /// The service account's namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its uid.
    pub uid: String,
    /// The token's audiences (never empty: the API audiences by default).
    pub audiences: Vec<String>,
    /// Lifetime in seconds.
    pub expiration_seconds: i64,
    /// The object the token is bound to: (kind, name, uid) of a Pod, Secret or Node.
    pub bound: Option<(String, String, String)>,
    /// The node of a bound pod: (name, uid).
    pub node: Option<(String, String)>,
}

/// The service-account token issuer and its published keys.
pub trait ServiceAccountTokens: Send + Sync {
    /// Signs a token; its expiry time.
    fn issue(&self, spec: &TokenSpec) -> Result<(String, chrono::DateTime<chrono::Utc>), String>;
    /// `--service-account-max-token-expiration` in seconds, when set.
    fn max_expiration_seconds(&self) -> Option<i64>;
    /// `/.well-known/openid-configuration`.
    fn openid_configuration(&self) -> serde_json::Value;
    /// `/openid/v1/jwks`.
    fn jwks(&self) -> serde_json::Value;
}

/// Authentication and authorization of one server.
#[derive(Clone)]
pub struct Security {
    /// Who is asking.
    pub authn: Arc<dyn Authenticate>,
    /// May they.
    pub authz: Arc<dyn Authorizer>,
    /// Service-account tokens (TokenRequest, OIDC discovery); `None` when not configured.
    pub tokens: Option<Arc<dyn ServiceAccountTokens>>,
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
