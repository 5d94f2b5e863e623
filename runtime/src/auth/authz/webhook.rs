//! The authorization webhook (`--authorization-mode=Webhook`, `--authorization-webhook-config-file`):
//! each decision is a SubjectAccessReview (authorization.k8s.io/v1, JSON) POSTed to the server the
//! kubeconfig names, as upstream's `k8s.io/apiserver/plugin/pkg/authorizer/webhook`. Answers are
//! cached by the whole request (`--authorization-webhook-cache-authorized-ttl` /
//! `-unauthorized-ttl`); a webhook that cannot be reached after a few retries has no opinion
//! (upstream fails closed the same way).

use std::collections::HashMap;

/// How long one call to the webhook may take (upstream's default webhook timeout).
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// The most answers kept (upstream bounds its cache too).
const CACHE_CAPACITY: usize = 10_000;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde::Deserialize;
use serde_json::{json, Value};

use super::Authorizer;
use crate::auth::{Attributes, Verdict};
use crate::server::{Flags, ServeError};

/// Why the webhook configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid authorization webhook config {path}: {why}")]
pub struct WebhookConfigError {
    /// The kubeconfig file.
    pub path: String,
    /// Why.
    pub why: String,
}

/// How the webhook is reached (from the kubeconfig).
#[derive(Clone)]
pub struct Endpoint {
    /// `https://host:port/path` (or http).
    pub uri: http::Uri,
    /// TLS settings when the scheme is https.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// A bearer token.
    pub token: Option<String>,
}

#[derive(Deserialize, Default)]
struct KubeConfig {
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
}

#[derive(Deserialize, Default)]
struct Named<T> {
    #[serde(default = "Option::default")]
    cluster: Option<T>,
    #[serde(default = "Option::default")]
    user: Option<T>,
}

#[derive(Deserialize, Default)]
struct ClusterEntry {
    #[serde(default)]
    server: String,
    #[serde(default, rename = "certificate-authority")]
    certificate_authority: Option<String>,
    #[serde(default, rename = "certificate-authority-data")]
    certificate_authority_data: Option<String>,
}

#[derive(Deserialize, Default)]
struct UserEntry {
    #[serde(default, rename = "client-certificate")]
    client_certificate: Option<String>,
    #[serde(default, rename = "client-certificate-data")]
    client_certificate_data: Option<String>,
    #[serde(default, rename = "client-key")]
    client_key: Option<String>,
    #[serde(default, rename = "client-key-data")]
    client_key_data: Option<String>,
    #[serde(default)]
    token: Option<String>,
}

impl Endpoint {
    /// Reads a kubeconfig: `clusters[0].cluster` (server, certificate-authority[-data]) and
    /// `users[0].user` (client-certificate[-data], client-key[-data], token). Relative file paths
    /// are relative to the kubeconfig's directory.
    pub fn from_kubeconfig(path: &Path) -> Result<Endpoint, WebhookConfigError> {
        let err = |why: String| WebhookConfigError { path: path.display().to_string(), why };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Endpoint::parse(&text, dir).map_err(err)
    }

    /// Parses kubeconfig text; `dir` resolves relative paths.
    pub fn parse(text: &str, dir: &Path) -> Result<Endpoint, String> {
        let config: KubeConfig = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let cluster = config
            .clusters
            .into_iter()
            .next()
            .and_then(|c| c.cluster)
            .ok_or("the kubeconfig names no cluster (clusters[0].cluster)")?;
        let user = config.users.into_iter().next().and_then(|u| u.user).unwrap_or_default();
        let uri: http::Uri = cluster.server.parse().map_err(|e| format!("server {:?}: {e}", cluster.server))?;
        let read = |file: &Option<String>, data: &Option<String>, what: &str| -> Result<Option<Vec<u8>>, String> {
            if let Some(d) = data {
                return base64::engine::general_purpose::STANDARD
                    .decode(d.trim())
                    .map(Some)
                    .map_err(|e| format!("{what}-data: {e}"));
            }
            match file {
                Some(f) => std::fs::read(dir.join(f)).map(Some).map_err(|e| format!("{what} {f}: {e}")),
                None => Ok(None),
            }
        };
        let tls = match uri.scheme_str() {
            Some("https") => {
                let ca = read(&cluster.certificate_authority, &cluster.certificate_authority_data, "certificate-authority")?
                    .ok_or("an https server needs certificate-authority or certificate-authority-data")?;
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&ca) {
                    roots.add(cert.map_err(|e| format!("certificate-authority: {e}"))?).map_err(|e| e.to_string())?;
                }
                let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots);
                let cert = read(&user.client_certificate, &user.client_certificate_data, "client-certificate")?;
                let key = read(&user.client_key, &user.client_key_data, "client-key")?;
                let config = match (cert, key) {
                    (Some(cert), Some(key)) => {
                        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
                            .collect::<Result<_, _>>()
                            .map_err(|e| format!("client-certificate: {e}"))?;
                        let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| format!("client-key: {e}"))?;
                        builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
                    }
                    (None, None) => builder.with_no_client_auth(),
                    _ => return Err("client-certificate and client-key must be given together".into()),
                };
                Some(Arc::new(config))
            }
            Some("http") => None,
            _ => return Err(format!("server {:?} must be an http or https URL", cluster.server)),
        };
        Ok(Endpoint { uri, tls, token: user.token })
    }

    /// POSTs `body` and returns the status code and response body.
    async fn post(&self, body: Bytes) -> Result<(u16, Bytes), String> {
        let host = self.uri.host().ok_or("the server URL has no host")?.to_string();
        let port = self.uri.port_u16().unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| e.to_string())?;
        let path = self.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let mut request = http::Request::post(path)
            .header(http::header::HOST, format!("{host}:{port}"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp).await.map_err(|e| e.to_string())?;
                send(TokioIo::new(stream), request).await
            }
            None => send(TokioIo::new(tcp), request).await,
        }
    }
}

async fn send<S>(io: S, request: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String>
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    // A SubjectAccessReview answer is small: refuse anything over 1 MiB.
    let body = http_body_util::Limited::new(response.into_body(), 1 << 20).collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok((status, body))
}

/// The SubjectAccessReview (v1) sent for `a`.
pub fn review_for(a: &Attributes) -> Value {
    let mut spec = json!({"user": a.user.username});
    if !a.user.uid.is_empty() {
        spec["uid"] = json!(a.user.uid);
    }
    if !a.user.groups.is_empty() {
        spec["groups"] = json!(a.user.groups);
    }
    if !a.user.extra.is_empty() {
        spec["extra"] = json!(a.user.extra);
    }
    if a.resource_request {
        let mut attrs = serde_json::Map::new();
        for (k, v) in [
            ("namespace", &a.namespace),
            ("verb", &a.verb),
            ("group", &a.api_group),
            ("version", &a.api_version),
            ("resource", &a.resource),
            ("subresource", &a.subresource),
            ("name", &a.name),
        ] {
            if !v.is_empty() {
                attrs.insert(k.into(), json!(v));
            }
        }
        spec["resourceAttributes"] = Value::Object(attrs);
    } else {
        spec["nonResourceAttributes"] = json!({"path": a.path, "verb": a.verb});
    }
    json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {"creationTimestamp": null},
        "spec": spec,
        "status": {"allowed": false},
    })
}

/// The webhook authorizer.
pub struct Webhook {
    endpoint: Endpoint,
    authorized_ttl: Duration,
    unauthorized_ttl: Duration,
    retries: u32,
    cache: Mutex<HashMap<String, (Verdict, Instant)>>,
}

fn ttl(flag: &str, value: &str) -> Result<Duration, ServeError> {
    let d = crate::apimachinery::Duration::parse(value)
        .map_err(|e| ServeError::Flag(format!("invalid argument {value:?} for \"{flag}\" flag: {e}")))?;
    Ok(Duration::from_nanos(u64::try_from(d.as_nanos()).unwrap_or(0)))
}

impl Webhook {
    /// A webhook at `endpoint` with these cache lifetimes.
    pub fn new(endpoint: Endpoint, authorized_ttl: Duration, unauthorized_ttl: Duration) -> Webhook {
        Webhook { endpoint, authorized_ttl, unauthorized_ttl, retries: 3, cache: Mutex::new(HashMap::new()) }
    }

    /// From `--authorization-webhook-config-file` and the cache TTL flags.
    pub fn from_flags(flags: &Flags) -> Result<Webhook, ServeError> {
        let path = flags.authorization_webhook_config_file.as_deref().ok_or_else(|| {
            ServeError::Flag("authorization-mode Webhook's authorization config file not passed".into())
        })?;
        let endpoint = Endpoint::from_kubeconfig(path).map_err(|e| ServeError::Flag(e.to_string()))?;
        Ok(Webhook::new(
            endpoint,
            ttl("--authorization-webhook-cache-authorized-ttl", &flags.authorization_webhook_cache_authorized_ttl)?,
            ttl("--authorization-webhook-cache-unauthorized-ttl", &flags.authorization_webhook_cache_unauthorized_ttl)?,
        ))
    }

    fn cached(&self, key: &str) -> Option<Verdict> {
        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match cache.get(key) {
            Some((v, until)) if *until > Instant::now() => Some(v.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    async fn ask(&self, body: &Bytes) -> Result<Verdict, String> {
        let (status, response) = tokio::time::timeout(WEBHOOK_TIMEOUT, self.endpoint.post(body.clone()))
            .await
            .map_err(|_| format!("no answer within {WEBHOOK_TIMEOUT:?}"))??;
        if !(200..300).contains(&status) {
            return Err(format!("the webhook answered HTTP {status}"));
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase")]
        struct Status {
            #[serde(default)]
            allowed: bool,
            #[serde(default)]
            denied: bool,
            #[serde(default)]
            reason: String,
        }
        #[derive(Deserialize)]
        struct Review {
            #[serde(default)]
            status: Status,
        }
        let review: Review = serde_json::from_slice(&response).map_err(|e| format!("decoding the webhook's answer: {e}"))?;
        let s = review.status;
        Ok(if s.allowed {
            Verdict::allow(s.reason)
        } else if s.denied {
            Verdict::deny(s.reason)
        } else {
            Verdict::no_opinion(s.reason)
        })
    }
}

#[async_trait]
impl Authorizer for Webhook {
    /// Upstream: a webhook cannot enumerate rules.
    async fn rules_for(&self, _user: &crate::auth::UserInfo, _namespace: &str) -> crate::auth::RulesInfo {
        crate::auth::RulesInfo {
            incomplete: true,
            evaluation_error: "webhook authorizer does not support user rule resolution".into(),
            ..crate::auth::RulesInfo::default()
        }
    }

    async fn authorize(&self, attributes: &Attributes) -> Verdict {
        let review = review_for(attributes);
        let key = review["spec"].to_string();
        if let Some(v) = self.cached(&key) {
            return v;
        }
        let body = Bytes::from(review.to_string());
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << (attempt - 1))).await;
            }
            match self.ask(&body).await {
                Ok(verdict) => {
                    let ttl = if verdict.decision == crate::auth::Decision::Allow { self.authorized_ttl } else { self.unauthorized_ttl };
                    if !ttl.is_zero() {
                        let mut cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let now = Instant::now();
                        if cache.len() >= CACHE_CAPACITY {
                            // Expired answers go first; if that is not enough, the cache starts over
                            // (bounded memory whatever names and paths clients ask about).
                            cache.retain(|_, (_, until)| *until > now);
                            if cache.len() >= CACHE_CAPACITY {
                                cache.clear();
                            }
                        }
                        cache.insert(key, (verdict.clone(), now + ttl));
                    }
                    return verdict;
                }
                Err(e) => last = e,
            }
        }
        Verdict::no_opinion(format!("error contacting the authorization webhook: {last}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Decision, UserInfo};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A one-route HTTPS server answering SubjectAccessReviews: allows user "alice", denies "mallory".
    async fn server(hits: Arc<AtomicUsize>) -> (u16, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let cert = params.self_signed(&key).expect("cert");
        let ca_pem = cert.pem();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes()).expect("key der"))
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let hits = hits.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let hits = hits.clone();
                        async move {
                            hits.fetch_add(1, Ordering::SeqCst);
                            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                            let status = match review.pointer("/spec/user").and_then(Value::as_str) {
                                Some("alice") => json!({"allowed": true, "reason": "alice may"}),
                                Some("mallory") => json!({"allowed": false, "denied": true, "reason": "never"}),
                                _ => json!({"allowed": false}),
                            };
                            let answer = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "status": status});
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(answer.to_string()))))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
                });
            }
        });
        (port, ca_pem)
    }

    fn attrs(user: &str) -> Attributes {
        Attributes {
            user: UserInfo::new(user, &["g"]),
            verb: "get".into(),
            resource_request: true,
            namespace: "ns".into(),
            resource: "pods".into(),
            ..Attributes::default()
        }
    }

    #[tokio::test]
    async fn asks_the_webhook_and_caches() {
        let hits = Arc::new(AtomicUsize::new(0));
        let (port, ca) = server(hits.clone()).await;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.crt"), &ca).expect("write ca");
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: w\n  cluster:\n    server: https://localhost:{port}/authorize\n    certificate-authority: ca.crt\nusers:\n- name: apiserver\n  user:\n    token: secret\n"
        );
        let path = dir.path().join("webhook.yaml");
        std::fs::write(&path, kubeconfig).expect("write kubeconfig");
        let w = Webhook::new(Endpoint::from_kubeconfig(&path).expect("config"), Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(w.authorize(&attrs("alice")).await, Verdict::allow("alice may"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(w.authorize(&attrs("alice")).await, Verdict::allow("alice may"));
        assert_eq!(hits.load(Ordering::SeqCst), 1, "the second answer comes from the cache");
        assert_eq!(w.authorize(&attrs("mallory")).await, Verdict::deny("never"));
        assert_eq!(w.authorize(&attrs("bob")).await.decision, Decision::NoOpinion);
        assert_eq!(hits.load(Ordering::SeqCst), 3);
        let no_cache = Webhook::new(Endpoint::from_kubeconfig(&path).expect("config"), Duration::ZERO, Duration::ZERO);
        no_cache.authorize(&attrs("alice")).await;
        no_cache.authorize(&attrs("alice")).await;
        assert_eq!(hits.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn unreachable_webhook_has_no_opinion() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let endpoint = Endpoint::parse(&format!("clusters:\n- cluster:\n    server: http://127.0.0.1:{port}/\n"), Path::new(".")).expect("config");
        let mut w = Webhook::new(endpoint, Duration::from_secs(1), Duration::from_secs(1));
        w.retries = 1;
        let v = w.authorize(&attrs("alice")).await;
        assert_eq!(v.decision, Decision::NoOpinion);
        assert!(v.reason.starts_with("error contacting the authorization webhook: "), "{}", v.reason);
        assert!(Endpoint::parse("clusters:\n- cluster:\n    server: https://x/\n", Path::new(".")).is_err(), "https needs a CA");
    }

    #[test]
    fn review_body() {
        let r = review_for(&attrs("alice"));
        assert_eq!(r["spec"]["resourceAttributes"], json!({"namespace": "ns", "verb": "get", "resource": "pods"}));
        assert_eq!(r["spec"]["groups"], json!(["g"]));
        let n = review_for(&Attributes { user: UserInfo::new("u", &[]), verb: "get".into(), path: "/healthz".into(), ..Attributes::default() });
        assert_eq!(n["spec"]["nonResourceAttributes"], json!({"path": "/healthz", "verb": "get"}));
    }
}
