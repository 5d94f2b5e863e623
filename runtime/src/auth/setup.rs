//! Builds a server's [`Security`] from kube-apiserver's flags: the authentication chain, the
//! authorization chain, RBAC's bootstrap policy, the ClusterRole aggregation controller and the
//! RBAC escalation check on the write path.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::authn::serviceaccount::{BoundKind, BoundObject, TokenIssuer};
use super::authn::{self, Authenticated, AuthnError, RegistryLookup, RequestCredentials, TokenAuthenticator};
use super::authz;
use super::escalation::RbacEscalation;
use super::{Authenticate, Security, ServiceAccountTokens, TokenSpec};
use crate::registry::Registry;
use crate::server::{Flags, ServeError};

/// The security of a server started with `flags`: `client_ca` is the effective client CA bundle
/// (`--client-ca-file` or kapi's generated CA), `default_sa_key` the generated service-account
/// signing key used when `--service-account-signing-key-file` is not given. Reconciles RBAC's
/// bootstrap policy when RBAC is on. Must run inside the tokio runtime.
pub async fn security_from_flags(
    flags: &Flags,
    client_ca: Option<&Path>,
    default_sa_key: &Path,
    registry: &Arc<Registry>,
) -> Result<Security, ServeError> {
    let lookup = Arc::new(RegistryLookup(registry.clone()));
    let authn = authn::Chain::from_flags(flags, client_ca, default_sa_key, lookup)?;
    for warning in authn.warnings() {
        eprintln!("warning: {warning}");
    }
    let chain = Arc::new(authz::Chain::from_flags(flags, registry.clone())?);
    if let Some(rbac) = chain.rbac() {
        authz::rbac::bootstrap::reconcile_bootstrap_policy(registry)
            .await
            .map_err(|e| ServeError::Registry(format!("reconciling RBAC's bootstrap policy: {e}")))?;
        authz::rbac::aggregation::spawn_controller(rbac, registry.clone());
        RbacEscalation::new(chain.clone(), rbac.clone()).install(registry);
    }
    let issuer = authn.issuer();
    Ok(Security { authn: Arc::new(ChainAuthn(authn)), authz: chain, tokens: Some(Arc::new(Tokens(issuer))) })
}

struct ChainAuthn(authn::Chain);

#[async_trait]
impl Authenticate for ChainAuthn {
    async fn authenticate(&self, creds: &RequestCredentials<'_>) -> Result<Authenticated, AuthnError> {
        self.0.authenticate(creds).await
    }
    fn token_authenticator(&self) -> Arc<dyn TokenAuthenticator> {
        self.0.token_authenticator()
    }
    fn api_audiences(&self) -> Vec<String> {
        self.0.api_audiences().to_vec()
    }
    fn strip_headers(&self, headers: &mut http::HeaderMap) {
        self.0.strip_front_proxy_headers(headers);
    }
}

struct Tokens(Arc<TokenIssuer>);

impl ServiceAccountTokens for Tokens {
    fn issue(&self, spec: &TokenSpec) -> Result<(String, chrono::DateTime<chrono::Utc>), String> {
        let bound = match &spec.bound {
            Some((kind, name, uid)) => Some(BoundObject {
                kind: BoundKind::from_kind(kind).ok_or_else(|| format!("cannot bind a token to a {kind}"))?,
                name: name.clone(),
                uid: uid.clone(),
            }),
            None => None,
        };
        let node = spec.node.as_ref().map(|(n, u)| (n.as_str(), u.as_str()));
        let issued = self
            .0
            .issue(&spec.namespace, &spec.name, &spec.uid, &spec.audiences, spec.expiration_seconds, bound.as_ref(), node)
            .map_err(|e| e.to_string())?;
        Ok((issued.token, issued.expires_at))
    }
    fn max_expiration_seconds(&self) -> Option<i64> {
        self.0.max_expiration_seconds()
    }
    fn openid_configuration(&self) -> serde_json::Value {
        self.0.openid_configuration()
    }
    fn jwks(&self) -> serde_json::Value {
        self.0.jwks()
    }
}
