//! The HTTP API: request parsing, routing from the registry table, negotiation, discovery, OpenAPI.
//!
//! [`ApiServer::handle`] is the whole API as one function from request to response; the server
//! module feeds it from hyper. Every failure becomes a `Status` through [`ApiError::to_status`].

pub mod discovery;
pub mod filters;
pub mod negotiate;
pub mod openapi;
pub mod request;
mod resource;
pub mod reviews;
mod tokens;
mod watch;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{json, Value};

use crate::apimachinery::Status;
use crate::registry::{ApiError, Registry};
use negotiate::{parse_accept, MediaType, MAX_BODY_BYTES};
use openapi::OpenApi;
use request::{parse_path, Query, Target};

/// A response body: a whole buffer or a stream (watch).
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// `/version`.
#[derive(Debug, Clone)]
pub struct VersionInfo {
    /// `major`.
    pub major: String,
    /// `minor`.
    pub minor: String,
    /// `gitVersion` (`v1.36.0-kapi.0.1.0`).
    pub git_version: String,
}

impl Default for VersionInfo {
    fn default() -> Self {
        VersionInfo {
            major: "1".into(),
            minor: "36".into(),
            git_version: format!("v1.36.0-kapi.{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// How long the `etcd` health check waits for storage (kube-apiserver's `--etcd-healthcheck-timeout`).
const ETCD_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The API server: the registry plus what discovery and OpenAPI serve.
pub struct ApiServer {
    security: crate::auth::Security,
    registry: Arc<Registry>,
    openapi: OpenApi,
    version: VersionInfo,
    /// Requests that ended the server's readiness (`/readyz` fails once shutdown starts).
    shutting_down: std::sync::atomic::AtomicBool,
}

impl ApiServer {
    /// A server over `registry` serving `openapi`.
    pub fn new(registry: Arc<Registry>, openapi: OpenApi, version: VersionInfo) -> ApiServer {
        ApiServer {
            security: crate::auth::Security::allow_all(),
            registry,
            openapi,
            version,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The server with `security` (authentication and authorization of secure requests).
    pub fn with_security(mut self, security: crate::auth::Security) -> ApiServer {
        self.security = security;
        self
    }

    /// Its security.
    pub fn security(&self) -> &crate::auth::Security {
        &self.security
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Marks the server as shutting down (`/readyz` answers 500).
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Serves one request.
    pub async fn handle<B>(self: &Arc<Self>, req: Request<B>) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let gzip_ok = req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        // Parsed once: authorization and routing both need them.
        let path = req.uri().path().to_string();
        let query = Query::parse(req.uri().query());
        let target = parse_path(&path);
        let response = match self.admit_request(req, &path, &target, &query).await {
            Ok((req, user)) => match self.route(req, user, &path, target, &query).await {
                Ok(r) => r,
                Err(e) => status_response(&e.to_status()),
            },
            Err(status) => status_response(&status),
        };
        if gzip_ok {
            compress(response).await
        } else {
            let (mut parts, body) = response.into_parts();
            parts.headers.remove("x-kapi-stream");
            Response::from_parts(parts, body)
        }
    }

    /// Authentication (401) and authorization (403) of a request; the request (identity headers
    /// of a front proxy removed) and who sent it.
    async fn admit_request<B>(
        &self,
        mut req: Request<B>,
        path: &str,
        target: &Target,
        query: &Query,
    ) -> Result<(Request<B>, crate::auth::UserInfo), Status> {
        // The accept loop says how the request came. Only the insecure port (loopback, plain HTTP)
        // is trusted; a request without that mark is authenticated like any other (fail closed).
        let certificates = match req.extensions().get::<crate::server::ConnInfo>() {
            Some(c) if !c.secure => return Ok((req, crate::auth::UserInfo::unsecured())),
            Some(c) => c.peer_certificates.clone(),
            None => Arc::new(Vec::new()),
        };
        let creds = crate::auth::authn::RequestCredentials { headers: req.headers(), peer_certificates: certificates.as_slice() };
        let user = match self.security.authn.authenticate(&creds).await {
            Ok(a) => a.user,
            Err(e) => {
                eprintln!("authentication failed: {} {}: {e}", req.method(), req.uri().path());
                return Err(filters::unauthorized());
            }
        };
        self.security.authn.strip_headers(req.headers_mut());
        let user = match filters::impersonate(self.security.authz.as_ref(), &user, req.headers_mut()).await? {
            Some(impersonated) => impersonated,
            None => user,
        };
        let attributes = filters::request_attributes(req.method(), path, target, query, user);
        let verdict = self.security.authz.authorize(&attributes).await;
        if verdict.decision != crate::auth::Decision::Allow {
            return Err(filters::forbidden(&attributes, &verdict.reason));
        }
        Ok((req, attributes.user))
    }

    async fn route<B>(
        self: &Arc<Self>,
        req: Request<B>,
        user: crate::auth::UserInfo,
        path: &str,
        target: Target,
        query: &Query,
    ) -> Result<Response<Body>, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let accept = parse_accept(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()));
        let kinds = self.registry.kinds();
        let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
        match target {
            Target::LegacyRoot if is_get => {
                if wants_aggregated(&accept) {
                    return Ok(aggregated_response(discovery::aggregated_api(kinds)));
                }
                let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
                Ok(json_response(StatusCode::OK, &discovery::api_versions(host)))
            }
            Target::GroupsRoot if is_get => {
                if wants_aggregated(&accept) {
                    return Ok(aggregated_response(discovery::aggregated_apis(kinds)));
                }
                Ok(json_response(StatusCode::OK, &discovery::api_group_list(kinds)))
            }
            Target::Group(group) if is_get => match discovery::api_group(kinds, &group) {
                Some(doc) => Ok(json_response(StatusCode::OK, &doc)),
                None => Ok(not_found_page()),
            },
            Target::GroupVersion { group, version } if is_get => match discovery::api_resource_list(kinds, &group, &version) {
                Some(doc) => Ok(json_response(StatusCode::OK, &doc)),
                None => Ok(not_found_page()),
            },
            Target::LegacyRoot | Target::GroupsRoot | Target::Group(_) | Target::GroupVersion { .. } => {
                Err(ApiError::MethodNotAllowed)
            }
            Target::Resource(rp) => {
                // Create-only kinds are never stored: the reviews are answered by the security chains.
                let review = self.registry.create_only(&rp.group, &rp.version, &rp.resource).filter(|k| reviews::is_review(k));
                if let Some(info) = review {
                    // Create-only: POST on the collection (namespaced for LocalSubjectAccessReview).
                    let shape_ok = rp.name.is_none() && rp.subresource.is_none() && !rp.watch_prefix && info.namespaced() == rp.namespace.is_some();
                    if !shape_ok {
                        return Ok(not_found_page());
                    }
                    if req.method() != Method::POST {
                        return Err(ApiError::MethodNotAllowed);
                    }
                    let (parts, body) = req.into_parts();
                    let body = read_body(body).await?;
                    return reviews::create(self, info, &parts, rp.namespace.as_deref(), &accept, &body, &user).await;
                }
                if self.registry.store(&rp.group, &rp.version, &rp.resource).is_none() {
                    // A known group-version answers a Status; an unknown one the mux's plain 404.
                    if discovery::api_resource_list(kinds, &rp.group, &rp.version).is_some() {
                        return Err(ApiError::Status(Box::new(not_found_status())));
                    }
                    return Ok(not_found_page());
                }
                let (parts, body) = req.into_parts();
                let body = if matches!(parts.method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE) {
                    read_body(body).await?
                } else {
                    Bytes::new()
                };
                resource::handle(self, &parts, rp, query, &accept, body, user).await
            }
            Target::Other => self.other(&req, path, query, &accept).await,
        }
    }

    async fn other<B>(&self, req: &Request<B>, path: &str, query: &Query, accept: &[MediaType]) -> Result<Response<Body>, ApiError> {
        let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
        let trimmed = path.trim_end_matches('/');
        match trimmed {
            "/version" if is_get => Ok(json_response(
                StatusCode::OK,
                &json!({
                    "major": self.version.major,
                    "minor": self.version.minor,
                    "emulationMajor": self.version.major,
                    "emulationMinor": self.version.minor,
                    "minCompatibilityMajor": self.version.major,
                    "minCompatibilityMinor": self.version.minor,
                    "gitVersion": self.version.git_version,
                    "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean",
                    "buildDate": "1970-01-01T00:00:00Z",
                    "goVersion": "rust",
                    "compiler": "rustc",
                    "platform": format!("{}/{}", std::env::consts::OS, goarch()),
                }),
            )),
            "/healthz" | "/livez" | "/readyz" if is_get => Ok(self.health(trimmed, query).await),
            p if is_get && (p.starts_with("/healthz/") || p.starts_with("/livez/") || p.starts_with("/readyz/")) => {
                Ok(self.health_check(p).await)
            }
            p if is_get && (p == "/openapi/v2" || p.starts_with("/openapi/v3")) => self.openapi.serve(p, query, accept, req.headers()),
            "/.well-known/openid-configuration" | "/openid/v1/jwks" if is_get => Ok(tokens::discovery(self, trimmed)),
            "" if is_get => {
                let mut paths: Vec<String> = vec!["/api".into(), "/api/v1".into(), "/apis".into()];
                for k in self.registry.kinds() {
                    if !k.group.is_empty() {
                        paths.push(format!("/apis/{}", k.group));
                        paths.push(format!("/apis/{}/{}", k.group, k.version));
                    }
                }
                paths.extend(["/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/openapi/v3/", "/readyz", "/version"].map(String::from));
                if self.security.tokens.is_some() {
                    paths.extend(["/.well-known/openid-configuration", "/openid/v1/jwks"].map(String::from));
                }
                paths.sort();
                paths.dedup();
                Ok(json_response(StatusCode::OK, &json!({ "paths": paths })))
            }
            _ => Ok(not_found_page()),
        }
    }

    /// The named checks of `/healthz`, `/livez` and `/readyz`.
    fn checks(&self, endpoint: &str) -> Vec<&'static str> {
        let mut checks = vec!["ping", "log", "etcd", "poststarthook/start-apiextensions-informers"];
        if endpoint == "/readyz" {
            checks.push("informer-sync");
            checks.push("shutdown");
        }
        checks
    }

    async fn check(&self, name: &str) -> Result<(), String> {
        match name {
            // Upstream's --etcd-healthcheck-timeout default: a storage that does not answer in
            // time is unhealthy (a hanging check would hang /readyz).
            // The embedded store also fails it while its writes fail (a full disk).
            "etcd" => match tokio::time::timeout(ETCD_CHECK_TIMEOUT, self.registry.storage().current_revision()).await {
                Ok(r) => r.map(|_| ()).and_then(|()| self.registry.storage().writable()).map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer from storage within {ETCD_CHECK_TIMEOUT:?}")),
            },
            "shutdown" if self.shutting_down.load(std::sync::atomic::Ordering::SeqCst) => {
                Err("process is shutting down".into())
            }
            _ => Ok(()),
        }
    }

    async fn health(&self, endpoint: &str, query: &Query) -> Response<Body> {
        let verbose = query.get("verbose").is_some();
        let excluded: Vec<&str> = query.get("exclude").map(|e| e.split(',').collect()).unwrap_or_default();
        let mut lines = Vec::new();
        let mut failed = false;
        for name in self.checks(endpoint) {
            if excluded.contains(&name) {
                lines.push(format!("[+]{name} excluded: ok"));
                continue;
            }
            match self.check(name).await {
                Ok(()) => lines.push(format!("[+]{name} ok")),
                Err(_) => {
                    failed = true;
                    lines.push(format!("[-]{name} failed: reason withheld"));
                }
            }
        }
        let word = &endpoint[1..];
        if failed {
            lines.push(format!("{word} check failed"));
            return text_response(StatusCode::INTERNAL_SERVER_ERROR, lines.join("\n") + "\n");
        }
        if verbose {
            lines.push(format!("{word} check passed"));
            return text_response(StatusCode::OK, lines.join("\n") + "\n");
        }
        text_response(StatusCode::OK, "ok".into())
    }

    async fn health_check(&self, path: &str) -> Response<Body> {
        let (endpoint, name) = path.split_at(path[1..].find('/').map_or(path.len(), |i| i + 1));
        let name = name.trim_start_matches('/');
        if !self.checks(endpoint).contains(&name) {
            return not_found_page();
        }
        match self.check(name).await {
            Ok(()) => text_response(StatusCode::OK, "ok".into()),
            Err(e) => text_response(StatusCode::INTERNAL_SERVER_ERROR, format!("internal server error: {e}\n")),
        }
    }
}

fn goarch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn wants_aggregated(accept: &[MediaType]) -> bool {
    // Clients list the aggregated form first when they want it.
    accept.first().is_some_and(|m| {
        m.essence == "application/json"
            && m.param("g") == Some("apidiscovery.k8s.io")
            && m.param("v") == Some("v2")
            && m.param("as") == Some("APIGroupDiscoveryList")
    })
}

fn aggregated_response(doc: Value) -> Response<Body> {
    let mut r = json_response(StatusCode::OK, &doc);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
    );
    let etag = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(serde_json::to_vec(&doc).unwrap_or_default());
        format!("\"{}\"", digest.iter().map(|b| format!("{b:02X}")).collect::<String>())
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// Reads a request body, refusing more than [`MAX_BODY_BYTES`] with 413.
async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            Err(ApiError::TooLarge(format!("Request entity too large: limit is {MAX_BODY_BYTES}")))
        }
        Err(e) => Err(ApiError::BadRequest(format!("error reading the request body: {e}"))),
    }
}

/// A whole-buffer body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// A JSON response with upstream's headers.
pub fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
    bytes_response(code, "application/json", Bytes::from(serde_json::to_vec(value).unwrap_or_default()))
}

/// A response of ready bytes.
pub fn bytes_response(code: StatusCode, content_type: &'static str, bytes: Bytes) -> Response<Body> {
    let mut r = Response::new(full(bytes));
    *r.status_mut() = code;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    r
}

fn text_response(code: StatusCode, text: String) -> Response<Body> {
    let mut r = bytes_response(code, "text/plain; charset=utf-8", Bytes::from(text));
    r.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

/// A `Status` response.
pub fn status_response(status: &Status) -> Response<Body> {
    let code = u16::try_from(status.code).ok().and_then(|c| StatusCode::from_u16(c).ok()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = bytes_response(code, "application/json", Bytes::from(serde_json::to_vec(status).unwrap_or_default()));
    if let Some(retry) = status.details.as_ref().map(|d| d.retry_after_seconds).filter(|s| *s > 0) {
        if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

/// Upstream's 404 Status for an unknown resource in a served group-version.
fn not_found_status() -> Status {
    let mut s = Status::failure(404, "NotFound", "the server could not find the requested resource");
    s.details = Some(crate::apimachinery::StatusDetails::default());
    s
}

/// The mux's plain-text 404 for unknown paths.
fn not_found_page() -> Response<Body> {
    text_response(StatusCode::NOT_FOUND, "404 page not found\n".into())
}

/// Gzips a whole response above upstream's 128 KiB threshold (watch streams are left alone).
async fn compress(response: Response<Body>) -> Response<Body> {
    use std::io::Write;
    const THRESHOLD: usize = 128 * 1024;
    if response.headers().contains_key(header::CONTENT_ENCODING) || response.headers().get("x-kapi-stream").is_some() {
        let (mut parts, body) = response.into_parts();
        parts.headers.remove("x-kapi-stream");
        return Response::from_parts(parts, body);
    }
    let (mut parts, body) = response.into_parts();
    let Ok(collected) = body.collect().await;
    let bytes = collected.to_bytes();
    if bytes.len() < THRESHOLD {
        return Response::from_parts(parts, full(bytes));
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(bytes.len() / 4), flate2::Compression::fast());
    if enc.write_all(&bytes).is_err() {
        return Response::from_parts(parts, full(bytes));
    }
    match enc.finish() {
        Ok(zipped) => {
            parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, full(zipped))
        }
        Err(_) => Response::from_parts(parts, full(bytes)),
    }
}
