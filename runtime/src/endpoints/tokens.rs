//! Service-account tokens: the `serviceaccounts/token` subresource (TokenRequest) and the OIDC
//! discovery documents (`/.well-known/openid-configuration`, `/openid/v1/jwks`).

use std::sync::Arc;

use http::{header, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use super::negotiate;
use super::resource::{parse_cached, Ctx};
use super::{json_response, not_found_page, ApiServer, Body};
use crate::apimachinery::{FieldError, Time};
use crate::auth::authn::serviceaccount::{BoundKind, BoundObject};
use crate::cacher::ResourceVersion;
use crate::registry::{ApiError, Target};

/// Upstream's bounds on `spec.expirationSeconds`.
const MIN_EXPIRATION: i64 = 600;
const MAX_EXPIRATION: i64 = 1 << 32;
/// The default lifetime (upstream's defaulting of TokenRequestSpec).
const DEFAULT_EXPIRATION: i64 = 3600;

/// `POST .../serviceaccounts/<name>/token`: a signed token for the service account (201).
pub(super) async fn token_request(
    server: &Arc<ApiServer>,
    ctx: &Ctx<'_>,
    name: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    let Some(tokens) = server.security().tokens.clone() else {
        return Err(ApiError::Status(Box::new(super::not_found_status())));
    };
    let namespace = ctx.rp.namespace.clone().unwrap_or_default();
    let schema = &crate::apimachinery::schema::wellknown::TOKEN_REQUEST;
    let mut request = negotiate::decode_body(content_type, body, "TokenRequest", Some(schema))?;
    let invalid = |errors: Vec<FieldError>| ApiError::Invalid {
        group: "authentication.k8s.io".into(),
        kind: "TokenRequest".into(),
        name: name.into(),
        errors,
    };
    if let Some(n) = request.pointer("/metadata/name").and_then(Value::as_str).filter(|n| !n.is_empty() && *n != name) {
        return Err(ApiError::BadRequest(format!("the name of the object ({n}) does not match the name on the URL ({name})")));
    }
    let spec = request.get("spec").cloned().unwrap_or_else(|| json!({}));
    let mut expiration = spec.get("expirationSeconds").and_then(Value::as_i64).unwrap_or(DEFAULT_EXPIRATION);
    if expiration < MIN_EXPIRATION {
        return Err(invalid(vec![FieldError::invalid("spec.expirationSeconds", expiration, "may not specify a duration less than 10 minutes")]));
    }
    if expiration > MAX_EXPIRATION {
        return Err(invalid(vec![FieldError::invalid("spec.expirationSeconds", expiration, "may not specify a duration larger than 2^32 seconds")]));
    }
    let mut warning = None;
    if let Some(max) = tokens.max_expiration_seconds().filter(|max| expiration > *max) {
        warning = Some(format!("requested expiration of {expiration} seconds shortened to {max} seconds"));
        expiration = max;
    }
    let got = ctx.store.get(Some(&namespace), name, ResourceVersion::Unset).await?;
    let account = parse_cached(got.object.as_deref())?;
    let uid = account.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_string();
    let audiences = super::reviews::audiences_of(server.security(), &spec);
    let (bound, node) = match spec.get("boundObjectRef").filter(|v| !v.is_null()) {
        Some(r) => {
            let (bound, node) = bound_object(server, &namespace, name, r).await?;
            (Some(bound), node)
        }
        None => (None, None),
    };
    let node = node.as_ref().map(|(n, u)| (n.as_str(), u.as_str()));
    let issued = tokens
        .issue(&namespace, name, &uid, &audiences, expiration, bound.as_ref(), node)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (token, expires) = (issued.token, issued.expires_at);
    let object = request.as_object_mut().ok_or_else(|| ApiError::BadRequest("the object provided is unrecognized (must be of type TokenRequest)".into()))?;
    object.insert("kind".into(), json!("TokenRequest"));
    object.insert("apiVersion".into(), json!("authentication.k8s.io/v1"));
    let meta = object.entry("metadata").or_insert_with(|| json!({}));
    if let Some(m) = meta.as_object_mut() {
        m.insert("name".into(), json!(name));
        m.insert("namespace".into(), json!(namespace));
        m.entry("creationTimestamp").or_insert(Value::Null);
    }
    let mut spec = spec;
    if let Some(s) = spec.as_object_mut() {
        s.insert("audiences".into(), json!(audiences));
        s.insert("expirationSeconds".into(), json!(expiration));
        s.entry("boundObjectRef").or_insert(Value::Null);
    }
    object.insert("spec".into(), spec);
    object.insert("status".into(), json!({"token": token, "expirationTimestamp": Time(expires).to_rfc3339()}));
    let mut response = match ctx.output {
        negotiate::Output::Protobuf => match crate::apimachinery::proto::encode_object(schema, &request) {
            Ok(bytes) => super::bytes_response(StatusCode::CREATED, negotiate::PROTOBUF, bytes::Bytes::from(bytes)),
            Err(e) => return Err(ApiError::Internal(e.to_string())),
        },
        _ => json_response(StatusCode::CREATED, &request),
    };
    if let Some(w) = warning.and_then(|w| HeaderValue::from_str(&format!("299 - {}", crate::apimachinery::go::quote(&w))).ok()) {
        response.headers_mut().append(header::WARNING, w);
    }
    Ok(response)
}

/// The bound object of a TokenRequest: it must exist (with the given uid); a pod's node comes along.
async fn bound_object(
    server: &Arc<ApiServer>,
    namespace: &str,
    account: &str,
    reference: &Value,
) -> Result<(BoundObject, Option<(String, String)>), ApiError> {
    let s = |k: &str| reference.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (kind, name, uid, api_version) = (s("kind"), s("name"), s("uid"), s("apiVersion"));
    let (bound_kind, resource) = match (kind.as_str(), api_version.as_str()) {
        ("Pod", "v1" | "") => (BoundKind::Pod, "pods"),
        ("Secret", "v1" | "") => (BoundKind::Secret, "secrets"),
        ("Node", "v1" | "") => (BoundKind::Node, "nodes"),
        _ => {
            let gvk = if api_version.is_empty() { format!("Kind={kind}") } else { format!("{api_version}, Kind={kind}") };
            return Err(ApiError::BadRequest(format!("cannot bind token to object of type {gvk}")));
        }
    };
    let object = server.registry().get_json("", resource, (resource != "nodes").then_some(namespace), &name).await?;
    let actual = object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_string();
    if !uid.is_empty() && uid != actual {
        return Err(ApiError::Conflict {
            target: Target { group: String::new(), resource: resource.into(), name: name.clone() },
            why: format!("the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"),
        });
    }
    let mut node = None;
    if resource == "pods" {
        let pod_account = object.pointer("/spec/serviceAccountName").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or("default");
        if pod_account != account {
            return Err(ApiError::BadRequest(format!(
                "cannot bind token for serviceaccount {} to pod running with different serviceaccount name.",
                crate::apimachinery::go::quote(account)
            )));
        }
        if let Some(node_name) = object.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
            if let Ok(n) = server.registry().get_json("", "nodes", None, node_name).await {
                let node_uid = n.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_string();
                node = Some((node_name.to_string(), node_uid));
            }
        }
    }
    Ok((BoundObject { kind: bound_kind, name, uid: actual }, node))
}


/// The OIDC discovery documents (404 when service-account tokens are not configured).
pub(super) fn discovery(server: &ApiServer, path: &str) -> Response<Body> {
    let Some(tokens) = server.security().tokens.as_ref() else { return not_found_page() };
    let (doc, content_type) = if path == "/openid/v1/jwks" {
        (tokens.jwks(), "application/jwk-set+json")
    } else {
        (tokens.openid_configuration(), "application/json")
    };
    let mut r = json_response(StatusCode::OK, &doc);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Upstream lets caches keep these for an hour.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}
