//! The authentication chain built from kube-apiserver's flags: front proxy, client certificates,
//! bearer tokens (token file, bootstrap tokens, service accounts), then anonymous.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::bootstrap::BootstrapTokens;
use super::lookup::ObjectLookup;
use super::requestheader::{split_list, strip_identity_headers, RequestHeaderAuthenticator, RequestHeaderConfig};
use super::serviceaccount::{public_keys_from_pem_file, ServiceAccountAuthenticator, SigningKey, TokenIssuer, DEFAULT_ISSUER};
use super::token_file::TokenFile;
use super::x509::{CaBundle, X509Authenticator};
use super::{Authenticated, AuthnError, RequestAuthenticator, RequestCredentials, TokenAuthenticator};
use crate::auth::UserInfo;
use crate::server::{Flags, ServeError};

/// The error of a bearer token no token authenticator accepted.
pub const INVALID_BEARER_TOKEN: &str = "invalid bearer token";

/// The bearer token of an `Authorization: Bearer <token>` header (scheme case-insensitive), as
/// upstream's bearertoken authenticator reads it; `None` when there is none or it is empty.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let mut parts = auth.splitn(3, ' ');
    let scheme = parts.next()?;
    let token = parts.next()?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return None;
    }
    Some(token)
}

/// Upstream's error aggregate: one message as is, several (deduplicated) in brackets.
fn aggregate(errors: Vec<AuthnError>) -> AuthnError {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        if !seen.contains(&e.0) {
            seen.push(e.0);
        }
    }
    if seen.len() == 1 {
        AuthnError(seen.remove(0))
    } else {
        AuthnError(format!("[{}]", seen.join(", ")))
    }
}

/// The bearer-token authenticators in order; the first that authenticates wins. Audience-agnostic
/// ones (token file, bootstrap tokens) answer only when the requested audiences meet the API's.
pub struct TokenUnion {
    authenticators: Vec<(Arc<dyn TokenAuthenticator>, bool)>,
    api_audiences: Vec<String>,
}

impl TokenUnion {
    /// A union over `authenticators` (each with whether it is audience-agnostic).
    pub fn new(authenticators: Vec<(Arc<dyn TokenAuthenticator>, bool)>, api_audiences: Vec<String>) -> TokenUnion {
        TokenUnion { authenticators, api_audiences }
    }
}

#[async_trait]
impl TokenAuthenticator for TokenUnion {
    /// Empty `audiences` means the API audiences. Authenticated users get `system:authenticated`.
    async fn authenticate_token(&self, token: &str, audiences: &[String]) -> Result<Option<Authenticated>, AuthnError> {
        let requested: &[String] = if audiences.is_empty() { &self.api_audiences } else { audiences };
        let mut errors = Vec::new();
        for (authenticator, agnostic) in &self.authenticators {
            let granted: Vec<String> = if *agnostic {
                let granted: Vec<String> = self.api_audiences.iter().filter(|a| requested.contains(a)).cloned().collect();
                if granted.is_empty() && !self.api_audiences.is_empty() {
                    continue;
                }
                granted
            } else {
                Vec::new()
            };
            match authenticator.authenticate_token(token, requested).await {
                Ok(Some(mut got)) => {
                    if *agnostic {
                        got.audiences = granted;
                    }
                    got.user = got.user.with_authenticated_group();
                    return Ok(Some(got));
                }
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(None)
        } else {
            Err(aggregate(errors))
        }
    }
}

/// kube-apiserver's request authentication.
pub struct Chain {
    request_header: Option<RequestHeaderAuthenticator>,
    x509: Option<X509Authenticator>,
    tokens: Arc<TokenUnion>,
    issuer: Arc<TokenIssuer>,
    api_audiences: Vec<String>,
    anonymous: bool,
    warnings: Vec<String>,
}

/// Reads `path` for `flag`, naming both in errors.
fn flag_error(flag: &str, path: &Path, e: impl std::fmt::Display) -> ServeError {
    ServeError::Flag(format!("{flag}={}: {e}", path.display()))
}

impl Chain {
    /// Builds the chain from `flags`. `client_ca` is the CA bundle verifying client certificates
    /// (`--client-ca-file` or kapi's generated CA; `None`: no client-certificate authentication);
    /// `default_sa_key` the signing key used without `--service-account-signing-key-file`;
    /// `lookup` reads Secrets, ServiceAccounts, Pods and Nodes.
    #[allow(clippy::result_large_err)] // ServeError is the start-up error type everyone returns.
    pub fn from_flags(flags: &Flags, client_ca: Option<&Path>, default_sa_key: &Path, lookup: Arc<dyn ObjectLookup>) -> Result<Chain, ServeError> {
        let request_header = match &flags.requestheader_client_ca_file {
            Some(path) => {
                let ca = CaBundle::from_pem_file(path).map_err(|e| flag_error("--requestheader-client-ca-file", path, e))?;
                let config = RequestHeaderConfig {
                    username_headers: split_list(&flags.requestheader_username_headers),
                    uid_headers: split_list(&flags.requestheader_uid_headers),
                    group_headers: split_list(&flags.requestheader_group_headers),
                    extra_headers_prefixes: split_list(&flags.requestheader_extra_headers_prefix),
                    allowed_names: split_list(&flags.requestheader_allowed_names),
                };
                if config.username_headers.is_empty() {
                    return Err(ServeError::Flag(
                        "--requestheader-username-headers must name at least one header (e.g. X-Remote-User) when --requestheader-client-ca-file is set".into(),
                    ));
                }
                for name in config.username_headers.iter().chain(&config.uid_headers).chain(&config.group_headers) {
                    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(ServeError::Flag(format!("--requestheader-*-headers: {name:?} is not a valid header name")));
                    }
                }
                Some(RequestHeaderAuthenticator::new(ca, config))
            }
            None => None,
        };
        let x509 = match client_ca {
            Some(path) => Some(X509Authenticator::new(
                CaBundle::from_pem_file(path).map_err(|e| flag_error("--client-ca-file", path, e))?,
            )),
            None => None,
        };

        let issuers: Vec<String> = flags.service_account_issuer.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let issuers = if issuers.is_empty() { vec![DEFAULT_ISSUER.to_string()] } else { issuers };
        let api_audiences = {
            let given = split_list(&flags.api_audiences);
            if given.is_empty() {
                issuers.clone()
            } else {
                given
            }
        };
        let max_expiration = Chain::max_expiration(&flags.service_account_max_token_expiration)?;
        let (key_flag, key_path) = match &flags.service_account_signing_key_file {
            Some(p) => ("--service-account-signing-key-file", p.as_path()),
            None => ("default service-account signing key", default_sa_key),
        };
        let signing = SigningKey::from_pem_file(key_path).map_err(|e| flag_error(key_flag, key_path, e))?;
        let mut extra_keys = Vec::new();
        for path in &flags.service_account_key_file {
            extra_keys.extend(public_keys_from_pem_file(path).map_err(|e| flag_error("--service-account-key-file", path, e))?);
        }
        let issuer = Arc::new(TokenIssuer::new(issuers, signing, extra_keys, max_expiration));

        let mut token_authenticators: Vec<(Arc<dyn TokenAuthenticator>, bool)> = Vec::new();
        let mut warnings = Vec::new();
        if let Some(path) = &flags.token_auth_file {
            let file = TokenFile::from_file(path).map_err(|e| flag_error("--token-auth-file", path, e))?;
            warnings.extend(file.warnings.iter().cloned());
            token_authenticators.push((Arc::new(file), true));
        }
        if flags.enable_bootstrap_token_auth {
            token_authenticators.push((Arc::new(BootstrapTokens::new(lookup.clone())), true));
        }
        token_authenticators.push((
            Arc::new(ServiceAccountAuthenticator::new(issuer.clone(), api_audiences.clone(), lookup, flags.service_account_lookup)),
            false,
        ));
        let tokens = Arc::new(TokenUnion::new(token_authenticators, api_audiences.clone()));
        Ok(Chain { request_header, x509, tokens, issuer, api_audiences, anonymous: flags.anonymous_auth, warnings })
    }

    /// `--service-account-max-token-expiration` in seconds (upstream: between 1 hour and 2^32 s).
    #[allow(clippy::result_large_err)]
    fn max_expiration(value: &str) -> Result<Option<i64>, ServeError> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        let d = crate::apimachinery::Duration::parse(value.trim()).map_err(|e| {
            ServeError::Flag(format!("invalid argument {value:?} for \"--service-account-max-token-expiration\" flag: {e}"))
        })?;
        let secs = d.as_nanos() / 1_000_000_000;
        if secs == 0 {
            return Ok(None);
        }
        if !(3600..=(1i64 << 32)).contains(&secs) {
            return Err(ServeError::Flag(
                "the service-account-max-token-expiration must be between 1 hour and 2^32 seconds".into(),
            ));
        }
        Ok(Some(secs))
    }

    /// Authenticates a request. Authenticated users get `system:authenticated`; a request without
    /// credentials is anonymous when `--anonymous-auth` allows it; every error is a 401.
    pub async fn authenticate(&self, creds: &RequestCredentials<'_>) -> Result<Authenticated, AuthnError> {
        let mut errors = Vec::new();
        let request_authenticators: [Option<&dyn RequestAuthenticator>; 2] = [
            self.request_header.as_ref().map(|a| a as &dyn RequestAuthenticator),
            self.x509.as_ref().map(|a| a as &dyn RequestAuthenticator),
        ];
        for authenticator in request_authenticators.into_iter().flatten() {
            match authenticator.authenticate(creds).await {
                Ok(Some(mut got)) => {
                    got.user = got.user.with_authenticated_group();
                    return Ok(got);
                }
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if let Some(token) = bearer_token(creds.headers) {
            match self.tokens.authenticate_token(token, &self.api_audiences).await {
                Ok(Some(got)) => return Ok(got),
                Ok(None) => errors.push(AuthnError(INVALID_BEARER_TOKEN.into())),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(aggregate(errors));
        }
        if self.anonymous {
            return Ok(Authenticated { user: UserInfo::anonymous(), audiences: Vec::new() });
        }
        Err(AuthnError("no credentials: anonymous requests are disabled (--anonymous-auth=false)".into()))
    }

    /// The bearer-token authenticators as one (TokenReview; empty audiences: the API's).
    pub fn token_authenticator(&self) -> Arc<dyn TokenAuthenticator> {
        self.tokens.clone()
    }

    /// The service-account token issuer (TokenRequest, OIDC discovery).
    pub fn issuer(&self) -> Arc<TokenIssuer> {
        self.issuer.clone()
    }

    /// The API audiences (`--api-audiences`, default: the service-account issuers).
    pub fn api_audiences(&self) -> &[String] {
        &self.api_audiences
    }

    /// Whether requests without credentials are anonymous (`--anonymous-auth`).
    pub fn anonymous_enabled(&self) -> bool {
        self.anonymous
    }

    /// Warnings met while loading (empty or duplicate tokens in `--token-auth-file`): the caller
    /// logs them at start-up, as upstream does.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The front-proxy identity headers (user, uid, group header names and extra prefixes);
    /// `None` without `--requestheader-client-ca-file`.
    pub fn front_proxy_headers(&self) -> Option<&RequestHeaderConfig> {
        self.request_header.as_ref().map(RequestHeaderAuthenticator::config)
    }

    /// Removes the front-proxy identity headers from a request's headers (call after
    /// authenticating, before handlers or proxies see the request).
    pub fn strip_front_proxy_headers(&self, headers: &mut http::HeaderMap) {
        if let Some(config) = self.front_proxy_headers() {
            strip_identity_headers(config, headers);
        }
    }
}

#[cfg(test)]
mod tests {
    use rcgen::ExtendedKeyUsagePurpose as Eku;
    use rustls_pki_types::CertificateDer;
    use serde_json::json;

    use super::super::lookup::testing::MapLookup;
    use super::super::x509::testing::TestCa;
    use super::*;

    struct Fixture {
        dir: tempfile::TempDir,
        client_ca: TestCa,
        proxy_ca: TestCa,
        lookup: Arc<MapLookup>,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().expect("tempdir");
            let client_ca = TestCa::new("client-ca");
            let proxy_ca = TestCa::new("front-proxy-ca");
            std::fs::write(dir.path().join("ca.crt"), &client_ca.pem).expect("write");
            std::fs::write(dir.path().join("proxy-ca.crt"), &proxy_ca.pem).expect("write");
            let key = rcgen::KeyPair::generate().expect("key");
            std::fs::write(dir.path().join("sa.key"), key.serialize_pem()).expect("write");
            std::fs::write(dir.path().join("tokens.csv"), "static-token,alice,1,\"admins,devs\"\n,empty,2\n").expect("write");
            let lookup = Arc::new(MapLookup::default());
            lookup.put("", "serviceaccounts", "ns", "sa", json!({"metadata": {"name": "sa", "uid": "sa-uid"}}));
            Fixture { dir, client_ca, proxy_ca, lookup }
        }

        fn path(&self, name: &str) -> std::path::PathBuf {
            self.dir.path().join(name)
        }

        #[allow(clippy::result_large_err)]
        fn chain(&self, extra: &[&str]) -> Result<Chain, ServeError> {
            let mut args = vec![
                format!("--token-auth-file={}", self.path("tokens.csv").display()),
                format!("--requestheader-client-ca-file={}", self.path("proxy-ca.crt").display()),
                "--requestheader-username-headers=X-Remote-User".to_string(),
                "--requestheader-group-headers=X-Remote-Group".to_string(),
                "--requestheader-allowed-names=front-proxy".to_string(),
            ];
            // A flag given in `extra` replaces the fixture's.
            let name = |a: &str| a.split('=').next().unwrap_or_default().to_string();
            args.retain(|a| !extra.iter().any(|e| name(e) == name(a)));
            args.extend(extra.iter().map(|s| (*s).to_string()));
            let flags = Flags::from_args(args).expect("flags");
            let ca = self.path("ca.crt");
            Chain::from_flags(&flags, Some(&ca), &self.path("sa.key"), self.lookup.clone())
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).expect("name"), http::HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    async fn auth(chain: &Chain, h: &http::HeaderMap, certs: &[CertificateDer<'static>]) -> Result<Authenticated, AuthnError> {
        chain.authenticate(&RequestCredentials { headers: h, peer_certificates: certs }).await
    }

    #[test]
    fn bearer_header_parsing() {
        let get = |v: &str| bearer_token(&headers(&[("authorization", v)])).map(str::to_owned);
        assert_eq!(get("Bearer abc"), Some("abc".into()));
        assert_eq!(get("bearer abc"), Some("abc".into()));
        assert_eq!(get("  BEARER abc  "), Some("abc".into()));
        assert_eq!(get("Bearer abc def"), Some("abc".into()));
        assert_eq!(get("Bearer  abc"), None);
        assert_eq!(get("Bearer"), None);
        assert_eq!(get("Basic abc"), None);
        assert_eq!(bearer_token(&http::HeaderMap::new()), None);
    }

    #[tokio::test]
    async fn order_and_outcomes() {
        let f = Fixture::new();
        let chain = f.chain(&[]).expect("chain");
        assert_eq!(chain.warnings().len(), 1, "the empty token is reported");
        // No credentials: anonymous.
        let got = auth(&chain, &http::HeaderMap::new(), &[]).await.expect("anonymous");
        assert_eq!(got.user, UserInfo::anonymous());
        // Static token.
        let got = auth(&chain, &headers(&[("authorization", "Bearer static-token")]), &[]).await.expect("token");
        assert_eq!(got.user.username, "alice");
        assert_eq!(got.user.groups, vec!["admins", "devs", "system:authenticated"]);
        // Unknown token: an error, never anonymous.
        let e = auth(&chain, &headers(&[("authorization", "Bearer nope")]), &[]).await.expect_err("bad token");
        assert_eq!(e.0, INVALID_BEARER_TOKEN);
        // Client certificate.
        let cert = f.client_ca.client("bob", &["ops"], None, &[Eku::ClientAuth]);
        let got = auth(&chain, &http::HeaderMap::new(), std::slice::from_ref(&cert)).await.expect("cert");
        assert_eq!(got.user.groups, vec!["ops", "system:authenticated"]);
        // The front proxy wins over the certificate's own identity...
        let proxy = f.proxy_ca.client("front-proxy", &[], None, &[Eku::ClientAuth]);
        let h = headers(&[("X-Remote-User", "carol"), ("X-Remote-Group", "g")]);
        let got = auth(&chain, &h, std::slice::from_ref(&proxy)).await.expect("proxy");
        assert_eq!((got.user.username.as_str(), got.user.groups.clone()), ("carol", vec!["g".to_string(), "system:authenticated".to_string()]));
        // ... and a client certificate carrying the headers is still just itself.
        assert_eq!(auth(&chain, &h, std::slice::from_ref(&cert)).await.expect("cert").user.username, "bob");
        // A bad certificate with a good token: the token authenticates (upstream's union).
        let stranger = TestCa::new("x").client("eve", &[], None, &[Eku::ClientAuth]);
        let got = auth(&chain, &headers(&[("authorization", "Bearer static-token")]), std::slice::from_ref(&stranger)).await.expect("token");
        assert_eq!(got.user.username, "alice");
        // A bad certificate alone: 401, not anonymous.
        let e = auth(&chain, &http::HeaderMap::new(), &[stranger]).await.expect_err("bad cert");
        assert!(e.0.starts_with('[') && e.0.contains("unknown authority"), "{e}");
        // Service-account tokens from the chain's own issuer.
        let issued = chain.issuer().issue("ns", "sa", "sa-uid", chain.api_audiences(), 3600, None, None).expect("issue");
        let got = auth(&chain, &headers(&[("authorization", &format!("Bearer {}", issued.token))]), &[]).await.expect("sa");
        assert_eq!(got.user.username, "system:serviceaccount:ns:sa");
        assert_eq!(got.user.groups.last().map(String::as_str), Some("system:authenticated"));
        // Stripping the proxy headers.
        let mut h = headers(&[("X-Remote-User", "x"), ("accept", "*/*")]);
        chain.strip_front_proxy_headers(&mut h);
        assert_eq!(h.len(), 1);
    }

    #[tokio::test]
    async fn anonymous_disabled_and_token_review() {
        let f = Fixture::new();
        let chain = f.chain(&["--anonymous-auth=false", "--api-audiences=api,other"]).expect("chain");
        assert!(auth(&chain, &http::HeaderMap::new(), &[]).await.is_err());
        assert!(!chain.anonymous_enabled());
        assert_eq!(chain.api_audiences(), ["api".to_string(), "other".to_string()]);
        let tokens = chain.token_authenticator();
        // Audience-agnostic tokens answer for the API audiences only.
        let got = tokens.authenticate_token("static-token", &[]).await.expect("ok").expect("user");
        assert_eq!(got.audiences, vec!["api".to_string(), "other".to_string()]);
        assert!(got.user.in_group("system:authenticated"));
        assert_eq!(tokens.authenticate_token("static-token", &["vault".into()]).await, Ok(None));
        // A service-account token for another audience reviews fine for that audience.
        let issued = chain.issuer().issue("ns", "sa", "sa-uid", &["vault".to_string()], 3600, None, None).expect("issue");
        let got = tokens.authenticate_token(&issued.token, &["vault".into()]).await.expect("ok").expect("user");
        assert_eq!(got.audiences, vec!["vault".to_string()]);
        assert!(tokens.authenticate_token(&issued.token, &[]).await.is_err());
    }

    #[test]
    fn flag_errors_name_flag_and_file() {
        let f = Fixture::new();
        let cases: Vec<(Vec<String>, &str)> = vec![
            (vec!["--token-auth-file=/nonexistent/t.csv".into()], "--token-auth-file=/nonexistent/t.csv"),
            (vec!["--service-account-key-file=/nonexistent/k.pem".into()], "--service-account-key-file=/nonexistent/k.pem"),
            (vec!["--service-account-signing-key-file=/nonexistent/s.key".into()], "--service-account-signing-key-file=/nonexistent/s.key"),
            (vec![format!("--requestheader-client-ca-file={}", f.path("tokens.csv").display())], "--requestheader-client-ca-file="),
            (vec!["--service-account-max-token-expiration=10m".into()], "between 1 hour and 2^32 seconds"),
            (vec!["--service-account-max-token-expiration=soon".into()], "--service-account-max-token-expiration"),
        ];
        for (args, needle) in cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let e = f.chain(&args).err().expect("refused").to_string();
            assert!(e.contains(needle), "{args:?}: {e}");
        }
        let flags = Flags::from_args(Vec::<String>::new()).expect("flags");
        let e = Chain::from_flags(&flags, Some(&f.path("missing.crt")), &f.path("sa.key"), f.lookup.clone()).err().expect("ca");
        assert!(e.to_string().contains("--client-ca-file="), "{e}");
        let e = Chain::from_flags(&flags, None, &f.path("nokey"), f.lookup.clone()).err().expect("key");
        assert!(e.to_string().contains("default service-account signing key"), "{e}");
        let chain = f.chain(&["--service-account-max-token-expiration=2h", "--service-account-issuer=https://a", "--service-account-issuer=https://b"]).expect("chain");
        assert_eq!(chain.issuer().max_expiration_seconds(), Some(7200));
        assert_eq!(chain.api_audiences(), ["https://a".to_string(), "https://b".to_string()]);
        assert_eq!(chain.issuer().issuer(), "https://a");
    }
}
