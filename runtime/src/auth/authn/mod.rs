//! Authentication: turning a request's credentials into a [`UserInfo`].
//!
//! Upstream's semantics: the request authenticators (front-proxy headers, x509 client certificates,
//! bearer tokens) are tried in order; the first that authenticates wins. An authenticator that
//! recognises credentials it must reject returns an error; a bearer token that no token
//! authenticator accepts is an error ("invalid bearer token"). Errors end in 401 — anonymous
//! access (`--anonymous-auth`) applies only to requests that carried no credentials at all.
//! Every authenticated user gets `system:authenticated`.

pub mod bootstrap;
pub mod chain;
pub mod lookup;
pub mod requestheader;
pub mod serviceaccount;
pub mod token_file;
pub mod x509;

pub use chain::Chain;
pub use lookup::{ObjectLookup, RegistryLookup};

use async_trait::async_trait;
use rustls_pki_types::CertificateDer;

use super::UserInfo;

/// Why credentials were rejected (logged; the client sees only "Unauthorized").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AuthnError(pub String);

/// What the authenticators see of a request.
#[derive(Debug, Clone, Copy)]
pub struct RequestCredentials<'a> {
    /// The request headers.
    pub headers: &'a http::HeaderMap,
    /// The client's certificate chain from the TLS handshake (leaf first); empty when none.
    pub peer_certificates: &'a [CertificateDer<'static>],
}

/// An authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// Who.
    pub user: UserInfo,
    /// The audiences the credential is valid for (tokens; empty: the API server's).
    pub audiences: Vec<String>,
}

/// One way of authenticating a request.
#[async_trait]
pub trait RequestAuthenticator: Send + Sync {
    /// `Ok(None)`: no credentials of this kind; `Ok(Some)`: authenticated; `Err`: credentials of
    /// this kind that are not valid.
    async fn authenticate(&self, request: &RequestCredentials<'_>) -> Result<Option<Authenticated>, AuthnError>;
}

/// One way of authenticating a bearer token (also what TokenReview asks).
#[async_trait]
pub trait TokenAuthenticator: Send + Sync {
    /// `Ok(None)`: not a token of this kind / unknown; `Ok(Some)`: authenticated; `Err`: a token of
    /// this kind that is not valid (expired, bad signature, revoked).
    async fn authenticate_token(&self, token: &str, audiences: &[String]) -> Result<Option<Authenticated>, AuthnError>;
}
