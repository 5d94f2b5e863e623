//! The create-only review resources, answered from the security chains and never stored:
//! authorization.k8s.io SubjectAccessReview, SelfSubjectAccessReview, LocalSubjectAccessReview,
//! SelfSubjectRulesReview, and authentication.k8s.io TokenReview, SelfSubjectReview.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{header, Response, StatusCode};
use serde_json::{json, Map, Value};

use super::negotiate::{self, MediaType, Output};
use super::{bytes_response, json_response, ApiServer, Body};
use crate::apimachinery::table::IncludeObject;
use crate::apimachinery::{proto, FieldError, KindInfo};
use crate::auth::{Attributes, Decision, UserInfo};
use crate::registry::ApiError;

/// Whether `info` is a review kind this module answers.
pub fn is_review(info: &KindInfo) -> bool {
    matches!(
        (info.group, info.kind),
        ("authorization.k8s.io", "SubjectAccessReview" | "SelfSubjectAccessReview" | "LocalSubjectAccessReview" | "SelfSubjectRulesReview")
            | ("authentication.k8s.io", "TokenReview" | "SelfSubjectReview")
    )
}

/// `POST` of a review: evaluates it for `user` and answers the object with its status (201).
pub(super) async fn create(
    server: &Arc<ApiServer>,
    info: &'static KindInfo,
    parts: &Parts,
    namespace: Option<&str>,
    accept: &[MediaType],
    body: &Bytes,
    user: &UserInfo,
) -> Result<Response<Body>, ApiError> {
    let protobuf_ok = info.schema.object().is_some_and(|o| o.protobuf);
    let output = negotiate::negotiate(accept, IncludeObject::Metadata, protobuf_ok)?;
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut object = negotiate::decode_body(content_type, body, info.kind, Some(info.schema))?;
    check_type_meta(info, &mut object)?;
    let invalid = |errors: Vec<FieldError>| ApiError::Invalid {
        group: info.group.into(),
        kind: info.kind.into(),
        name: String::new(),
        errors,
    };
    let spec = object.get("spec").cloned().unwrap_or_else(|| json!({}));
    let security = server.security();
    let status = match info.kind {
        "SelfSubjectAccessReview" => {
            access_review_checks(&spec, false).map_err(invalid)?;
            access_status(security, attributes_of(&spec, user.clone())).await
        }
        "SubjectAccessReview" => {
            access_review_checks(&spec, true).map_err(invalid)?;
            access_status(security, attributes_of(&spec, subject_of(&spec))).await
        }
        "LocalSubjectAccessReview" => {
            let ns = namespace.unwrap_or_default();
            access_review_checks(&spec, true).map_err(invalid)?;
            if spec.get("nonResourceAttributes").is_some_and(|v| !v.is_null()) {
                return Err(invalid(vec![FieldError::invalid(
                    "spec.nonResourceAttributes",
                    spec.get("nonResourceAttributes").cloned().unwrap_or(Value::Null),
                    "disallowed on this kind of request",
                )]));
            }
            let spec_ns = spec.pointer("/resourceAttributes/namespace").and_then(Value::as_str).unwrap_or_default();
            if spec_ns != ns {
                return Err(invalid(vec![FieldError::invalid(
                    "spec.resourceAttributes.namespace",
                    spec_ns,
                    "must match metadata.namespace",
                )]));
            }
            access_status(security, attributes_of(&spec, subject_of(&spec))).await
        }
        "SelfSubjectRulesReview" => {
            let ns = spec.get("namespace").and_then(Value::as_str).unwrap_or_default();
            if ns.is_empty() {
                return Err(ApiError::BadRequest("no namespace on request".into()));
            }
            let rules = security.authz.rules_for(user, ns).await;
            let mut status = Map::new();
            status.insert("resourceRules".into(), serde_json::to_value(&rules.resource_rules).unwrap_or_default());
            status.insert("nonResourceRules".into(), serde_json::to_value(&rules.non_resource_rules).unwrap_or_default());
            status.insert("incomplete".into(), Value::Bool(rules.incomplete));
            if !rules.evaluation_error.is_empty() {
                status.insert("evaluationError".into(), Value::String(rules.evaluation_error));
            }
            Value::Object(status)
        }
        "SelfSubjectReview" => json!({ "userInfo": user }),
        "TokenReview" => {
            let token = spec.get("token").and_then(Value::as_str).unwrap_or_default();
            if token.is_empty() {
                return Err(ApiError::BadRequest("token is required for TokenReview in authentication".into()));
            }
            let audiences = audiences_of(security, &spec);
            match security.authn.token_authenticator().authenticate_token(token, &audiences).await {
                Ok(Some(a)) => {
                    // The token authenticators already added `system:authenticated`.
                    let audiences = if a.audiences.is_empty() { audiences } else { a.audiences };
                    json!({ "authenticated": true, "user": a.user, "audiences": audiences })
                }
                Ok(None) => json!({ "user": {} }),
                Err(e) => json!({ "user": {}, "error": e.to_string() }),
            }
        }
        other => return Err(ApiError::Internal(format!("no review handler for {other}"))),
    };
    if let Some(o) = object.as_object_mut() {
        o.insert("status".into(), status);
    }
    Ok(respond(info, output, &object))
}

/// kind/apiVersion as for any create; the answer echoes an empty `metadata` as upstream's does.
fn check_type_meta(info: &KindInfo, object: &mut Value) -> Result<(), ApiError> {
    crate::registry::store::check_type_meta(info, object)?;
    if let Some(o) = object.as_object_mut() {
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.entry("creationTimestamp").or_insert(Value::Null);
        }
    }
    Ok(())
}

/// A spec's `audiences`, or the API server's when it names none (TokenReview, TokenRequest).
pub(super) fn audiences_of(security: &crate::auth::Security, spec: &Value) -> Vec<String> {
    let audiences = strings(spec.get("audiences"));
    if audiences.is_empty() {
        security.authn.api_audiences()
    } else {
        audiences
    }
}

/// A JSON array of strings (other items and non-arrays give nothing).
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
}

/// Upstream's ValidateSubjectAccessReviewSpec / ValidateSelfSubjectAccessReviewSpec.
fn access_review_checks(spec: &Value, needs_subject: bool) -> Result<(), Vec<FieldError>> {
    let present = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    let mut errors = Vec::new();
    let (res, non) = (present("resourceAttributes"), present("nonResourceAttributes"));
    if res && non {
        errors.push(FieldError::invalid(
            "spec.nonResourceAttributes",
            spec.get("nonResourceAttributes").cloned().unwrap_or(Value::Null),
            "cannot be specified in combination with resourceAttributes",
        ));
    }
    if !res && !non {
        errors.push(FieldError::invalid("spec.resourceAttributes", Value::Null, "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
    }
    if needs_subject {
        let user = spec.get("user").and_then(Value::as_str).unwrap_or_default();
        let groups = spec.get("groups").and_then(Value::as_array).is_some_and(|g| !g.is_empty());
        if user.is_empty() && !groups {
            errors.push(FieldError::invalid("spec.user", user, "at least one of user or group must be specified"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The subject a SubjectAccessReview asks about.
fn subject_of(spec: &Value) -> UserInfo {
    let extra: BTreeMap<String, Vec<String>> = spec
        .get("extra")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), strings(Some(v)))).collect())
        .unwrap_or_default();
    UserInfo {
        username: spec.get("user").and_then(Value::as_str).unwrap_or_default().to_string(),
        uid: spec.get("uid").and_then(Value::as_str).unwrap_or_default().to_string(),
        groups: strings(spec.get("groups")),
        extra,
    }
}

/// The attributes a review's spec describes, for `user`.
fn attributes_of(spec: &Value, user: UserInfo) -> Attributes {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    match spec.get("resourceAttributes").filter(|v| !v.is_null()) {
        Some(r) => Attributes {
            user,
            verb: s(r, "verb"),
            resource_request: true,
            path: String::new(),
            namespace: s(r, "namespace"),
            api_group: s(r, "group"),
            api_version: s(r, "version"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            field_selector: r.pointer("/fieldSelector/rawSelector").and_then(Value::as_str).unwrap_or_default().to_string(),
        },
        None => {
            let n = spec.get("nonResourceAttributes").cloned().unwrap_or_else(|| json!({}));
            Attributes { user, verb: s(&n, "verb"), resource_request: false, path: s(&n, "path"), ..Attributes::default() }
        }
    }
}

async fn access_status(security: &crate::auth::Security, attributes: Attributes) -> Value {
    let verdict = security.authz.authorize(&attributes).await;
    let mut status = Map::new();
    status.insert("allowed".into(), Value::Bool(verdict.decision == Decision::Allow));
    if verdict.decision == Decision::Deny {
        status.insert("denied".into(), Value::Bool(true));
    }
    if !verdict.reason.is_empty() {
        status.insert("reason".into(), Value::String(verdict.reason));
    }
    Value::Object(status)
}

fn respond(info: &'static KindInfo, output: Output, object: &Value) -> Response<Body> {
    match output {
        Output::Protobuf => match proto::encode_object(info.schema, object) {
            Ok(bytes) => bytes_response(StatusCode::CREATED, negotiate::PROTOBUF, Bytes::from(bytes)),
            Err(e) => super::status_response(&ApiError::Internal(e.to_string()).to_status()),
        },
        Output::Yaml => bytes_response(StatusCode::CREATED, "application/yaml", Bytes::from(serde_yaml::to_string(object).unwrap_or_default())),
        _ => json_response(StatusCode::CREATED, object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_checks_and_attributes() {
        let spec = json!({"resourceAttributes": {"namespace": "ns1", "verb": "get", "resource": "pods", "subresource": "log", "name": "p"}, "user": "alice", "groups": ["g"]});
        assert!(access_review_checks(&spec, true).is_ok());
        let a = attributes_of(&spec, subject_of(&spec));
        assert_eq!((a.user.username.as_str(), a.verb.as_str(), a.resource_path().as_str(), a.namespace.as_str()), ("alice", "get", "pods/log", "ns1"));
        assert_eq!(a.user.groups, vec!["g".to_string()]);
        let both = json!({"resourceAttributes": {}, "nonResourceAttributes": {}, "user": "x"});
        let e = access_review_checks(&both, true).expect_err("both");
        assert_eq!(e[0].field, "spec.nonResourceAttributes");
        let none = json!({});
        let e = access_review_checks(&none, true).expect_err("none");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(access_review_checks(&json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}), false).is_ok());
        let a = attributes_of(&json!({"nonResourceAttributes": {"path": "/healthz", "verb": "get"}}), UserInfo::anonymous());
        assert!(!a.resource_request);
        assert_eq!((a.path.as_str(), a.verb.as_str()), ("/healthz", "get"));
    }
}
