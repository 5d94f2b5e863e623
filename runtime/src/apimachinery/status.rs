//! `metav1.Status` (the error body of every failed request), `DeleteOptions`, `Preconditions` and
//! the `WatchEvent` wire frame.

use serde::{Deserialize, Serialize};

use super::field::{aggregate_message, FieldError};
use super::go;
use super::meta::ListMeta;
use super::raw::RawExtension;
use super::serde_util::{is_zero, null_default};

/// `metav1.Status`. `metadata` is always written (`{}`), other fields only when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `Status`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `v1`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// List metadata (usually empty).
    #[serde(default, deserialize_with = "null_default")]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// Human-readable description.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Invalid`, ...).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Extended data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// HTTP status code.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
    pub code: i32,
}

impl Default for Status {
    fn default() -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: ListMeta::default(),
            status: String::new(),
            message: String::new(),
            reason: String::new(),
            details: None,
            code: 0,
        }
    }
}

impl Status {
    /// A `Success` status.
    pub fn success() -> Status {
        Status { status: "Success".into(), ..Default::default() }
    }

    /// A `Failure` status with the given code, reason and message.
    pub fn failure(code: i32, reason: &str, message: impl Into<String>) -> Status {
        Status { status: "Failure".into(), code, reason: reason.into(), message: message.into(), ..Default::default() }
    }

    /// `errors.NewInvalid`: 422 `Invalid` with one cause per field error and the message
    /// `<Kind.group> "<name>" is invalid: <errors>`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Status {
        let causes = errors
            .iter()
            .map(|e| StatusCause { reason: e.reason().into(), message: e.body(), field: e.field.clone() })
            .collect();
        let qualified = go::group_kind(group, kind);
        let aggregated = aggregate_message(errors);
        let message = if aggregated.is_empty() {
            format!("{qualified} {} is invalid", go::quote(name))
        } else {
            format!("{qualified} {} is invalid: {aggregated}", go::quote(name))
        };
        Status {
            details: Some(StatusDetails {
                name: name.into(),
                group: group.into(),
                kind: kind.into(),
                causes,
                ..Default::default()
            }),
            ..Status::failure(422, "Invalid", message)
        }
    }
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// Name of the object concerned.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// API group.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Kind (or resource).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// UID of the object concerned.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Individual causes.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    /// Seconds to wait before retrying.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
    pub retry_after_seconds: i32,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// `FieldValueRequired`, ...
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Field path.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// `metav1.DeleteOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// `DeleteOptions`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// API version.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// Grace period; 0 deletes immediately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    /// Must match for the delete to proceed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// Deprecated orphaning switch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orphan_dependents: Option<bool>,
    /// `Orphan`, `Background` or `Foreground`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<String>,
    /// `All` for a dry run.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<String>,
    /// Unsafe deletion of corrupt objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_store_read_error_with_cluster_breaking_potential: Option<bool>,
}

/// `metav1.Preconditions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// Required UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Required resource version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// `metav1.WatchEvent`: one frame of a watch stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    #[serde(rename = "type", default, deserialize_with = "null_default")]
    pub type_: String,
    /// The object (a `Status` for `ERROR`).
    #[serde(default)]
    pub object: RawExtension,
}

impl WatchEvent {
    /// `ADDED`.
    pub const ADDED: &'static str = "ADDED";
    /// `MODIFIED`.
    pub const MODIFIED: &'static str = "MODIFIED";
    /// `DELETED`.
    pub const DELETED: &'static str = "DELETED";
    /// `BOOKMARK`.
    pub const BOOKMARK: &'static str = "BOOKMARK";
    /// `ERROR`.
    pub const ERROR: &'static str = "ERROR";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(name: &str) -> Value {
        let path = format!("{}/../tests/reference/responses/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json = text.split_once("\n{").map(|(_, b)| format!("{{{b}")).unwrap_or_default();
        serde_json::from_str(&json).unwrap_or(Value::Null)
    }

    #[test]
    fn invalid_matches_reference_responses() {
        let errors = [FieldError::required("spec.containers[0].image", "")];
        let status = Status::invalid("", "Pod", "p2", &errors);
        let want = body("create-invalid-pod.http");
        assert!(!want.is_null(), "create-invalid-pod.http has a JSON body");
        assert_eq!(serde_json::to_value(&status).expect("encode"), want);
        let msg = crate::apimachinery::validation::is_dns1123_subdomain("UPPER_case").remove(0);
        let errors = [FieldError::invalid("metadata.name", "UPPER_case", msg)];
        let status = Status::invalid("", "ConfigMap", "UPPER_case", &errors);
        let want = body("create-invalid-name.http");
        assert!(!want.is_null(), "create-invalid-name.http has a JSON body");
        assert_eq!(serde_json::to_value(&status).expect("encode"), want);
    }

    #[test]
    fn failure_shape_and_order() {
        let s = Status::failure(404, "NotFound", "pods \"x\" not found");
        assert_eq!(
            serde_json::to_string(&s).expect("encode"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404}"#
        );
    }

    #[test]
    fn delete_options_and_watch_event() {
        let d: DeleteOptions = serde_json::from_str(r#"{"gracePeriodSeconds":0,"preconditions":{"uid":"u"},"propagationPolicy":"Foreground"}"#).expect("decode");
        assert_eq!(d.grace_period_seconds, Some(0));
        assert_eq!(d.preconditions.as_ref().and_then(|p| p.uid.as_deref()), Some("u"));
        let e = WatchEvent { type_: WatchEvent::ADDED.into(), object: RawExtension(serde_json::json!({"kind": "Pod"})) };
        assert_eq!(serde_json::to_string(&e).expect("encode"), r#"{"type":"ADDED","object":{"kind":"Pod"}}"#);
    }
}
