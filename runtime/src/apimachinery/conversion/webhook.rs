//! The conversion webhook client: one `ConversionReview` (`apiextensions.k8s.io/v1`) POSTed over
//! HTTPS to `clientConfig.url`, or to a Service's address (`clientConfig.service`, reached through a
//! [`ServiceResolver`], with the server name `<service>.<namespace>.svc`), trusting `caBundle`.
//! The review's answer is checked as upstream checks it (uid, result, one object per object sent).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

use super::{ConversionError, WebhookConversion};

/// Upstream's conversion webhook timeout.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read (upstream reads up to 3 MiB per object).
const MAX_ANSWER: usize = 64 << 20;

/// Finds where a Service listens: `(namespace, name, port)` → `host:port` to dial.
pub type ServiceResolver = Arc<dyn Fn(&str, &str, u16) -> Result<String, String> + Send + Sync>;

/// Sends `object` to the webhook for conversion to `desired` (an apiVersion).
pub fn convert(w: &WebhookConversion, resolver: Option<&ServiceResolver>, object: Value, desired: &str) -> Result<Value, ConversionError> {
    let (dial, server_name, path, url) = target(w, resolver)?;
    let uid = uuid::Uuid::new_v4().to_string();
    let review = json!({
        "kind": "ConversionReview",
        "apiVersion": "apiextensions.k8s.io/v1",
        "request": {"uid": uid, "desiredAPIVersion": desired, "objects": [object]},
    });
    let body = serde_json::to_vec(&review).map_err(|e| ConversionError(e.to_string()))?;
    let roots = trust(w.ca_bundle)?;
    let url = format!("{url}?timeout=30s");
    let answer = block_on(post(dial, server_name, path, roots, body)).map_err(|e| ConversionError(format!("Post {url:?}: {e}")))?;
    let answer: Value =
        serde_json::from_slice(&answer).map_err(|e| ConversionError(format!("unmarshal: the webhook's answer is not a ConversionReview: {e}")))?;
    let response = answer.get("response").ok_or_else(|| ConversionError("no response provided".into()))?;
    if response.get("uid").and_then(Value::as_str) != Some(uid.as_str()) {
        return Err(ConversionError(format!(
            "expected response uid {uid:?}, got {:?}",
            response.get("uid").and_then(Value::as_str).unwrap_or_default()
        )));
    }
    let result = response.get("result");
    if result.and_then(|r| r.get("status")).and_then(Value::as_str) != Some("Success") {
        let message = result.and_then(|r| r.get("message")).and_then(Value::as_str).unwrap_or_default();
        return Err(ConversionError(format!("conversion request failed: {message}")));
    }
    let mut converted = match response.get("convertedObjects") {
        Some(Value::Array(objects)) => objects.clone(),
        _ => Vec::new(),
    };
    if converted.len() != 1 {
        return Err(ConversionError(format!("returned {} objects, expected 1", converted.len())));
    }
    Ok(converted.remove(0))
}

/// `(address to dial, TLS server name, path, URL as upstream writes it in errors)`.
fn target(w: &WebhookConversion, resolver: Option<&ServiceResolver>) -> Result<(String, String, String, String), ConversionError> {
    if let Some(url) = w.url {
        let rest = url.strip_prefix("https://").ok_or_else(|| ConversionError(format!("webhook URL {url:?} is not https")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let host = match authority.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() && !h.ends_with(']') || p.parse::<u16>().is_ok() && h.starts_with('[') => h,
            _ => authority,
        };
        let dial = if host.len() == authority.len() { format!("{authority}:443") } else { authority.to_string() };
        return Ok((dial, host.trim_start_matches('[').trim_end_matches(']').to_string(), path.to_string(), url.to_string()));
    }
    let Some(s) = w.service else { return Err(ConversionError("the webhook has neither url nor service".into())) };
    let resolve = resolver.ok_or_else(|| ConversionError(format!("service {:?} cannot be resolved here", s.name)))?;
    let host = format!("{}.{}.svc", s.name, s.namespace);
    let path = s.path.unwrap_or("/").to_string();
    let url = format!("https://{host}:{}{path}", s.port);
    let dial = resolve(s.namespace, s.name, s.port).map_err(|e| ConversionError(format!("Post {:?}: {e}", format!("{url}?timeout=30s"))))?;
    Ok((dial, host, path, url))
}

/// The root store of `caBundle` (base64 of PEM).
fn trust(ca_bundle: Option<&str>) -> Result<rustls::RootCertStore, ConversionError> {
    use base64::Engine;
    let mut roots = rustls::RootCertStore::empty();
    let Some(b64) = ca_bundle else { return Ok(roots) };
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64.split_whitespace().collect::<String>())
        .map_err(|e| ConversionError(format!("caBundle: {e}")))?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile_certs(&pem);
    for c in certs {
        roots.add(c).map_err(|e| ConversionError(format!("caBundle: {e}")))?;
    }
    Ok(roots)
}

/// The certificates of a PEM bundle.
fn rustls_pemfile_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect()
}

async fn post(dial: String, server_name: String, path: String, roots: rustls::RootCertStore, body: Vec<u8>) -> Result<Bytes, String> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(server_name.clone()).map_err(|e| e.to_string())?;
    let exchange = async {
        let tcp = tokio::net::TcpStream::connect(&dial).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => format!("dial tcp {dial}: connect: connection refused"),
            _ => format!("dial tcp {dial}: {e}"),
        })?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| format!("tls: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = http::Request::post(format!("{path}?timeout=30s"))
            .header(http::header::HOST, server_name.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), MAX_ANSWER).collect().await.map_err(|e| e.to_string())?.to_bytes();
        if !status.is_success() {
            return Err(format!("the server answered {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(512)])));
        }
        Ok(bytes)
    };
    tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| "context deadline exceeded".to_string())?
}

/// Runs `f` to completion from synchronous code (conversion runs inside the storage codec): on a
/// multi-threaded runtime the worker hands its tasks on while it waits; elsewhere on a thread of its own.
pub fn block_on<T: Send>(f: impl std::future::Future<Output = Result<T, String>> + Send) -> Result<T, String> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(|| h.block_on(f)),
        _ => std::thread::scope(|s| {
            s.spawn(|| match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(f),
                Err(e) => Err(format!("a runtime for the webhook call: {e}")),
            })
            .join()
            .unwrap_or_else(|_| Err("the webhook call panicked".into()))
        }),
    }
}
