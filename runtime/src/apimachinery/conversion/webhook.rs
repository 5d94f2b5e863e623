//! The conversion webhook client: one `ConversionReview` (`v1`, or `v1beta1`) POSTed over
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

/// Sends `object` to the webhook for conversion to `desired` (an apiVersion) in a `ConversionReview`
/// of the first version of `conversionReviewVersions` kapi speaks (`v1beta1` or `v1`, as upstream
/// picks), and checks the answer as upstream does, failing with its words: `conversion webhook for
/// <apiVersion>, Kind=<kind> failed: ...`, `... returned 2 objects, expected 1`, `... returned invalid
/// object ...`, `... returned invalid metadata: ...`. The converted object keeps the input's metadata
/// but for labels and annotations, which the webhook may change.
pub fn convert(w: &WebhookConversion, resolver: Option<&ServiceResolver>, object: Value, desired: &str) -> Result<Value, ConversionError> {
    let gvk = gvk_string(str_of(&object, "apiVersion"), str_of(&object, "kind"));
    let failed = |e: String| ConversionError(format!("conversion webhook for {gvk} failed: {e}"));
    let review_version =
        review_version(w.review_versions).ok_or_else(|| ConversionError("no supported conversion review versions".into()))?;
    let (dial, server_name, path, url) = target(w, resolver).map_err(|e| failed(e.0))?;
    let uid = uuid::Uuid::new_v4().to_string();
    let review = json!({
        "kind": "ConversionReview",
        "apiVersion": format!("apiextensions.k8s.io/{review_version}"),
        "request": {"uid": uid, "desiredAPIVersion": desired, "objects": [&object]},
    });
    let body = serde_json::to_vec(&review).map_err(|e| ConversionError(e.to_string()))?;
    let roots = trust(w.ca_bundle)?;
    let url = format!("{url}?timeout=30s");
    let answer = block_on(post(dial, server_name, path, roots, body)).map_err(|e| failed(format!("Post {url:?}: {e}")))?;
    let answer: Value = serde_json::from_slice(&answer).map_err(|e| failed(format!("the answer is not a ConversionReview: {e}")))?;
    let mut converted = converted_objects(&answer, review_version, &uid).map_err(failed)?;
    if converted.len() != 1 {
        return Err(ConversionError(format!("conversion webhook for {gvk} returned {} objects, expected 1", converted.len())));
    }
    let mut out = converted.remove(0);
    let invalid = |what: &str, e: String| ConversionError(format!("conversion webhook for {gvk} returned invalid {what}: {e}"));
    if !out.is_object() {
        return Err(invalid("object at index 0", format!("invalid type, expected=Unstructured, got={}", go_type(&out))));
    }
    let (got_version, got_kind) = (str_of(&out, "apiVersion"), str_of(&out, "kind"));
    if got_version != desired {
        return Err(invalid("object at index 0", format!("invalid groupVersion (expected {desired}, received {got_version})")));
    }
    let kind = str_of(&object, "kind");
    if got_kind != kind {
        return Err(invalid("object at index 0", format!("invalid kind (expected {kind}, received {got_kind})")));
    }
    let meta_of = |v: &Value, k: &str| v.get("metadata").map(|m| str_of(m, k).to_string()).unwrap_or_default();
    for (field, what) in [("name", "name"), ("namespace", "namespace"), ("uid", "UID")] {
        let (e, a) = (meta_of(&object, field), meta_of(&out, field));
        if e != a {
            return Err(invalid("object", format!("must have the same {what}: {e} != {a}")));
        }
    }
    restore_object_meta(object.get("metadata"), &mut out).map_err(|e| invalid("metadata", e))?;
    Ok(out)
}

/// The first of `conversionReviewVersions` kapi speaks: the version of the review sent.
fn review_version(versions: &[&'static str]) -> Option<&'static str> {
    versions.iter().copied().find(|v| matches!(*v, "v1" | "v1beta1"))
}

/// The string at `key` of `v` ("" when absent or not a string, as Go's zero value reads).
fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Go's `GroupVersionKind.String()` of an apiVersion and kind (`/v1, Kind=Pod` for the core group,
/// `/, Kind=` for nothing).
fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    format!("{group}/{version}, Kind={kind}")
}

/// How upstream's client decodes the answer into the review type it sent: an answer naming another
/// registered review version cannot be converted, a kind the scheme does not know is refused; an
/// answer without apiVersion or kind is decoded as the type sent (and then checked, for v1).
fn decode_review(answer: &Value, review_version: &str) -> Result<(), String> {
    let (api_version, kind) = (str_of(answer, "apiVersion"), str_of(answer, "kind"));
    if api_version.is_empty() || kind.is_empty() {
        return Ok(());
    }
    let version = api_version.strip_prefix("apiextensions.k8s.io/").filter(|v| matches!(*v, "v1" | "v1beta1"));
    match version {
        Some(v) if kind == "ConversionReview" => {
            if v == review_version {
                Ok(())
            } else {
                Err(format!("converting ({v}.ConversionReview) to ({review_version}.ConversionReview): unknown conversion"))
            }
        }
        _ => Err(format!(
            "no kind {kind:?} is registered for version {api_version:?} in scheme \"pkg/util/webhook/client.go:71\""
        )),
    }
}

/// `getConvertedObjectsFromResponse`: the converted objects of a successful answer.
fn converted_objects(answer: &Value, review_version: &str, uid: &str) -> Result<Vec<Value>, String> {
    decode_review(answer, review_version)?;
    if review_version == "v1" {
        // v1 answers are checked for their kind and uid; v1beta1 ones never were (upstream keeps that).
        let expected = "apiextensions.k8s.io/v1, Kind=ConversionReview";
        let got = gvk_string(str_of(answer, "apiVersion"), str_of(answer, "kind"));
        if got != expected {
            return Err(format!("expected webhook response of {expected}, got {got}"));
        }
    }
    let response = answer.get("response").filter(|r| !r.is_null()).ok_or("no response provided")?;
    if review_version == "v1" && str_of(response, "uid") != uid {
        return Err(format!("expected response.uid={uid:?}, got {:?}", str_of(response, "uid")));
    }
    let result = response.get("result").cloned().unwrap_or(Value::Null);
    if str_of(&result, "status") != "Success" {
        let message = str_of(&result, "message");
        if !message.is_empty() {
            return Err(message.to_string());
        }
        return Err(format!("response.result.status was '{}', not 'Success'", str_of(&result, "status")));
    }
    Ok(match response.get("convertedObjects") {
        Some(Value::Array(objects)) => objects.clone(),
        _ => Vec::new(),
    })
}

/// `restoreObjectMeta`: the input's metadata, with the labels and annotations the webhook answered
/// (checked as labels and annotations when they changed).
fn restore_object_meta(original: Option<&Value>, converted: &mut Value) -> Result<(), String> {
    let answered = match converted.get("metadata") {
        None => return Err("missing metadata in converted object".into()),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => return Err(format!("invalid metadata of type {} in converted object", go_type(other))),
    };
    let mut meta = match original {
        Some(Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    for field in ["labels", "annotations"] {
        let theirs = match answered.get(field) {
            None | Some(Value::Null) => {
                meta.remove(field);
                continue;
            }
            Some(Value::Object(m)) => m,
            Some(other) => return Err(format!("invalid metadata.{field} of type {} in converted object", go_type(other))),
        };
        let mut strings = std::collections::BTreeMap::new();
        for (k, v) in theirs {
            let Some(v) = v.as_str() else {
                return Err(format!("metadata.{field}[{k}] must be a string, but is {} in converted object", go_type(v)));
            };
            strings.insert(k.clone(), v.to_string());
        }
        let ours = meta.get(field).and_then(Value::as_object);
        let changed = ours.map_or(0, |o| o.len()) != theirs.len()
            || theirs.iter().any(|(k, v)| ours.and_then(|o| o.get(k)) != Some(v));
        if changed {
            use crate::apimachinery::field::{aggregate_message, Path};
            use crate::apimachinery::validation::{validate_annotations, validate_labels};
            // Upstream's path for annotations reads `metadata.annotation`.
            let errors = match field {
                "labels" => validate_labels(&strings, &Path::new("metadata").child("labels")),
                _ => validate_annotations(&strings, &Path::new("metadata").child("annotation")),
            };
            if !errors.is_empty() {
                return Err(aggregate_message(&errors));
            }
        }
        meta.insert(field.into(), Value::Object(theirs.clone()));
    }
    if let Some(map) = converted.as_object_mut() {
        map.insert("metadata".into(), Value::Object(meta));
    }
    Ok(())
}

/// Go's `%T` of a JSON value decoded into `interface{}` (unstructured: integers are int64).
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_review_version_is_the_first_one_spoken() {
        assert_eq!(review_version(&["v1beta1", "v1"]), Some("v1beta1"));
        assert_eq!(review_version(&["v2", "v1", "v1beta1"]), Some("v1"));
        assert_eq!(review_version(&["v2"]), None);
    }

    /// upstream's getConvertedObjectsFromResponse, word for word.
    #[test]
    fn answers_are_checked_as_upstream_checks_them() {
        let ok = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "response": {"uid": "u1", "result": {"status": "Success"}, "convertedObjects": [{"a": 1}]}});
        assert_eq!(converted_objects(&ok, "v1", "u1"), Ok(vec![json!({"a": 1})]));
        let check = |answer: Value, version: &str| converted_objects(&answer, version, "u1").expect_err("refused");
        // How kube-apiserver v1.36.2 answered each (asked with a live webhook).
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v1beta1", "kind": "ConversionReview", "response": {}}), "v1"),
            "converting (v1beta1.ConversionReview) to (v1.ConversionReview): unknown conversion"
        );
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": {}}), "v1beta1"),
            "converting (v1.ConversionReview) to (v1beta1.ConversionReview): unknown conversion"
        );
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "Other", "response": {}}), "v1"),
            r#"no kind "Other" is registered for version "apiextensions.k8s.io/v1" in scheme "pkg/util/webhook/client.go:71""#
        );
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v2", "kind": "ConversionReview", "response": {}}), "v1beta1"),
            r#"no kind "ConversionReview" is registered for version "apiextensions.k8s.io/v2" in scheme "pkg/util/webhook/client.go:71""#
        );
        assert_eq!(
            check(json!({"response": {}}), "v1"),
            "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /, Kind="
        );
        assert_eq!(
            check(json!({"kind": "ConversionReview", "response": {}}), "v1"),
            "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got /, Kind=ConversionReview"
        );
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v1", "response": {}}), "v1"),
            "expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got apiextensions.k8s.io/v1, Kind="
        );
        assert_eq!(check(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview"}), "v1"), "no response provided");
        assert_eq!(
            check(json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": {"uid": "u2"}}), "v1"),
            r#"expected response.uid="u1", got "u2""#
        );
        let failed = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "response": {"uid": "u1", "result": {"status": "Failure", "message": "size must be even"}}});
        assert_eq!(check(failed, "v1"), "size must be even");
        let bare = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
            "response": {"uid": "u1", "result": {"status": "Failure"}}});
        assert_eq!(check(bare, "v1"), "response.result.status was 'Failure', not 'Success'");
        // v1beta1 answers were never checked for their kind or uid.
        let beta = json!({"response": {"uid": "other", "result": {"status": "Success"}, "convertedObjects": []}});
        assert_eq!(converted_objects(&beta, "v1beta1", "u1"), Ok(vec![]));
        assert_eq!(gvk_string("v1", "Pod"), "/v1, Kind=Pod");
    }

    #[test]
    fn metadata_is_restored_but_for_labels_and_annotations() {
        let original = json!({"name": "a", "uid": "x", "labels": {"k": "v"}, "annotations": {"note": "1"}});
        let mut out = json!({"metadata": {"name": "changed", "labels": {"k": "v", "new": "yes"}}});
        restore_object_meta(Some(&original), &mut out).expect("restored");
        assert_eq!(out["metadata"], json!({"name": "a", "uid": "x", "labels": {"k": "v", "new": "yes"}}));
        let refused = |converted: Value| {
            let mut out = converted;
            restore_object_meta(Some(&original), &mut out).expect_err("refused")
        };
        assert_eq!(refused(json!({"spec": {}})), "missing metadata in converted object");
        assert_eq!(refused(json!({"metadata": "x"})), "invalid metadata of type string in converted object");
        assert_eq!(refused(json!({"metadata": {"labels": ["a"]}})), "invalid metadata.labels of type []interface {} in converted object");
        assert_eq!(
            refused(json!({"metadata": {"annotations": {"n": 1}}})),
            "metadata.annotations[n] must be a string, but is int64 in converted object"
        );
        let bad_label = refused(json!({"metadata": {"labels": {"bad key": "v"}}}));
        assert!(bad_label.starts_with(r#"metadata.labels: Invalid value: "bad key": name part must consist of"#), "{bad_label}");
    }
}
