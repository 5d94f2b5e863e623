//! Builds a server's [`Security`] from kube-apiserver's flags: the authentication chain, the
//! authorization chain, RBAC's bootstrap policy, the ClusterRole aggregation controller and the
//! RBAC escalation check on the write path.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::authn::{self, Authenticated, AuthnError, RegistryLookup, RequestCredentials, TokenAuthenticator};
use super::authz;
use super::escalation::RbacEscalation;
use super::{Authenticate, Security};
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
    let tokens = Some(authn.issuer());
    Ok(Security { authn: Arc::new(authn), authz: chain, tokens })
}

#[async_trait]
impl Authenticate for authn::Chain {
    async fn authenticate(&self, creds: &RequestCredentials<'_>) -> Result<Authenticated, AuthnError> {
        authn::Chain::authenticate(self, creds).await
    }
    fn token_authenticator(&self) -> Arc<dyn TokenAuthenticator> {
        authn::Chain::token_authenticator(self)
    }
    fn api_audiences(&self) -> Vec<String> {
        authn::Chain::api_audiences(self).to_vec()
    }
    fn strip_headers(&self, headers: &mut http::HeaderMap) {
        self.strip_front_proxy_headers(headers);
    }
}
