//! `ApiError`: every way a request can fail, and the one mapping to a Kubernetes `Status`
//! ([`ApiError::to_status`]) that the HTTP edge writes.

use crate::apimachinery::{go, FieldError, Status, StatusCause, StatusDetails};
use crate::cacher::CacherError;
use crate::storage::StorageError;

/// Which resource an error is about, for upstream's messages (`configmaps "x" not found`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    /// API group (`""` for core).
    pub group: String,
    /// Resource plural (`configmaps`), used as `details.kind` as upstream does.
    pub resource: String,
    /// Object name.
    pub name: String,
}

impl Target {
    /// `resource.group` (or `resource` for core).
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self) -> StatusDetails {
        StatusDetails {
            name: self.name.clone(),
            group: self.group.clone(),
            kind: self.resource.clone(),
            ..StatusDetails::default()
        }
    }
}

/// A failed request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 404 `NotFound`: `<resource> "<name>" not found`.
    #[error("{} {} not found", .0.group_resource(), go::quote(&.0.name))]
    NotFound(Target),
    /// 409 `AlreadyExists`.
    #[error("{} {} already exists", .0.group_resource(), go::quote(&.0.name))]
    AlreadyExists(Target),
    /// 409 `Conflict`: `Operation cannot be fulfilled on <resource> "<name>": <why>`.
    #[error("Operation cannot be fulfilled on {} {}: {why}", .target.group_resource(), go::quote(&.target.name))]
    Conflict {
        /// The object.
        target: Target,
        /// Why.
        why: String,
    },
    /// 422 `Invalid` with one cause per field error.
    #[error("{} {} is invalid", go::group_kind(group, kind), go::quote(name))]
    Invalid {
        /// API group.
        group: String,
        /// Kind.
        kind: String,
        /// Object name.
        name: String,
        /// The field errors.
        errors: Vec<FieldError>,
    },
    /// 400 `BadRequest`.
    #[error("{0}")]
    BadRequest(String),
    /// 403 `Forbidden` (`<resource> "<name>" is forbidden: <why>`).
    #[error("{} {} is forbidden: {why}", .target.group_resource(), go::quote(&.target.name))]
    Forbidden {
        /// The object.
        target: Target,
        /// Why.
        why: String,
    },
    /// 405 `MethodNotAllowed`.
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    /// 406 `NotAcceptable`.
    #[error("only the following media types are accepted: {0}")]
    NotAcceptable(String),
    /// 415 `UnsupportedMediaType`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413 `RequestEntityTooLarge`.
    #[error("{0}")]
    TooLarge(String),
    /// 410 `Gone` (an expired continue token) or `Expired`.
    #[error("{message}")]
    Gone {
        /// `Expired` or `Gone`.
        reason: &'static str,
        /// Message.
        message: String,
    },
    /// 500 `InternalError`.
    #[error("Internal error occurred: {0}")]
    Internal(String),
    /// 503 `ServiceUnavailable`.
    #[error("{0}")]
    Unavailable(String),
    /// A watch-cache failure (carries its own Status).
    #[error(transparent)]
    Cacher(#[from] CacherError),
    /// A ready-made Status (conflicts of server-side apply, ...).
    #[error("{}", .0.message)]
    Status(Box<Status>),
}

impl ApiError {
    /// A storage error about `target`, with upstream's message for the common cases.
    pub fn storage(target: Target, err: StorageError) -> ApiError {
        match err {
            StorageError::NotFound { .. } => ApiError::NotFound(target),
            StorageError::AlreadyExists { .. } => ApiError::AlreadyExists(target),
            StorageError::Conflict { .. } => ApiError::conflict(target),
            StorageError::TooLarge { limit, .. } => ApiError::TooLarge(format!("Request entity too large: limit is {limit}")),
            other => ApiError::Cacher(CacherError::Storage(other)),
        }
    }

    /// 422 for invalid request options (`ListOptions`, `DeleteOptions`, `PatchOptions`, ... of
    /// `meta.k8s.io`), as upstream's `NewInvalid` of the options kind with no name.
    pub fn invalid_options(kind: &str, errors: Vec<FieldError>) -> ApiError {
        ApiError::Invalid { group: "meta.k8s.io".into(), kind: kind.into(), name: String::new(), errors }
    }

    /// The optimistic-concurrency 409.
    pub fn conflict(target: Target) -> ApiError {
        ApiError::Conflict {
            target,
            why: "the object has been modified; please apply your changes to the latest version and try again".into(),
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound(_) => 404,
            ApiError::AlreadyExists(_) | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden { .. } => 403,
            ApiError::MethodNotAllowed => 405,
            ApiError::NotAcceptable(_) => 406,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::TooLarge(_) => 413,
            ApiError::Gone { .. } => 410,
            ApiError::Internal(_) => 500,
            ApiError::Unavailable(_) => 503,
            ApiError::Cacher(e) => u16::try_from(e.code()).unwrap_or(500),
            ApiError::Status(s) => u16::try_from(s.code).unwrap_or(500),
        }
    }

    /// The `Status` body, as kube-apiserver writes it.
    pub fn to_status(&self) -> Status {
        let code = i32::from(self.code());
        let message = self.to_string();
        match self {
            ApiError::NotFound(t) => with_details(Status::failure(code, "NotFound", message), t.details()),
            ApiError::AlreadyExists(t) => with_details(Status::failure(code, "AlreadyExists", message), t.details()),
            ApiError::Conflict { target, .. } => with_details(Status::failure(code, "Conflict", message), target.details()),
            ApiError::Forbidden { target, .. } => {
                with_details(Status::failure(code, "Forbidden", message), target.details())
            }
            ApiError::Invalid { group, kind, name, errors } => Status::invalid(group, kind, name, errors),
            ApiError::BadRequest(_) => Status::failure(code, "BadRequest", message),
            ApiError::MethodNotAllowed => Status::failure(code, "MethodNotAllowed", message),
            ApiError::NotAcceptable(_) => Status::failure(code, "NotAcceptable", message),
            ApiError::UnsupportedMediaType(_) => {
                with_details(Status::failure(code, "UnsupportedMediaType", message), StatusDetails::default())
            }
            ApiError::TooLarge(_) => Status::failure(code, "RequestEntityTooLarge", message),
            ApiError::Gone { reason, .. } => Status::failure(code, reason, message),
            ApiError::Internal(_) => with_details(
                Status::failure(code, "InternalError", message.clone()),
                StatusDetails {
                    causes: vec![StatusCause { message, ..StatusCause::default() }],
                    ..StatusDetails::default()
                },
            ),
            ApiError::Unavailable(_) => Status::failure(code, "ServiceUnavailable", message),
            ApiError::Cacher(e) => e.to_status(),
            ApiError::Status(s) => (**s).clone(),
        }
    }
}

fn with_details(mut status: Status, details: StatusDetails) -> Status {
    status.details = Some(details);
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Target {
        Target { group: String::new(), resource: "configmaps".into(), name: name.into() }
    }

    #[test]
    fn messages_match_upstream() {
        let s = ApiError::NotFound(cm("nope")).to_status();
        assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
        assert_eq!(s.message, r#"configmaps "nope" not found"#);
        assert_eq!(s.details.as_ref().map(|d| d.kind.as_str()), Some("configmaps"));
        let s = ApiError::conflict(cm("tbl-cm")).to_status();
        assert_eq!(
            s.message,
            r#"Operation cannot be fulfilled on configmaps "tbl-cm": the object has been modified; please apply your changes to the latest version and try again"#
        );
        let d = ApiError::NotFound(Target { group: "apps".into(), resource: "deployments".into(), name: "x".into() });
        assert_eq!(d.to_string(), r#"deployments.apps "x" not found"#);
        let s = ApiError::UnsupportedMediaType("415: Unsupported Media Type".into()).to_status();
        assert_eq!(serde_json::to_string(&s).unwrap_or_default(), r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"415: Unsupported Media Type","reason":"UnsupportedMediaType","details":{},"code":415}"#);
    }
}
