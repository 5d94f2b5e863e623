//! Patches: JSON Patch (RFC 6902, as `gopkg.in/evanphx/json-patch.v4` applies it), JSON merge patch
//! (RFC 7386, as evanphx's `MergePatch` applies it) and strategic merge patch driven by the schema
//! tree (`k8s.io/apimachinery/pkg/util/strategicpatch`), all on `serde_json::Value`.
//!
//! Objects keep their key order: keys already in the document stay where they are, new keys are
//! appended. Errors are [`PatchError`]s whose [`PatchError::code`], [`PatchError::reason`] and
//! [`PatchError::message`] are what kube-apiserver's patch handler puts in its `Status`.
//!
//! Which patch types a resource accepts is the caller's decision: kube-apiserver refuses
//! `application/strategic-merge-patch+json` for custom resources with 415 `UnsupportedMediaType`
//! (`the body of the request was in an unknown format - accepted media types include:
//! application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`).

mod gofmt;
mod json_patch;
mod merge;
mod strategic;

pub use json_patch::{json_patch, JSON_PATCH_MAX_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS};
pub use merge::{create_merge_patch, merge_patch, validate_merge_patch};
pub use strategic::strategic_merge_patch;

/// Why a patch could not be applied. Each variant documents the HTTP status kube-apiserver answers
/// with; [`PatchError::message`] is the `Status.message` it writes (the `Display` text is the
/// underlying library's error, which for [`PatchError::Unprocessable`] kube-apiserver does not show).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400 `BadRequest`, message as is: a JSON Patch that does not decode (`json: cannot unmarshal
    /// object into Go value of type jsonpatch.Patch`), a merge patch that is not an object or array
    /// (`Invalid JSON Patch`), a strategic merge patch that is not an object, and the strategic
    /// format errors (`invalid patch format of primitive list`, `invalid patch format of
    /// retainKeys`, `invalid patch format of setElementOrder list`, `invalid JSON document`).
    #[error("{0}")]
    BadRequest(String),
    /// 422 `Invalid` with the fixed message `the server rejected our request due to an error in our
    /// request` and empty `details` (`NewGenericServerResponse`): any JSON Patch operation that
    /// fails (a failed `test`, a missing path, a bad index, ...) and the strategic `lists of lists
    /// are not supported`. The payload is the library's own text (for logs).
    #[error("{0}")]
    Unprocessable(String),
    /// 413 `RequestEntityTooLarge`: a JSON Patch with more than [`MAX_JSON_PATCH_OPERATIONS`]
    /// operations.
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations {
        /// The limit.
        max: usize,
        /// The number of operations in the patch.
        got: usize,
    },
    /// 500 with an empty reason (a plain Go error reaching `ErrorToAPIStatus`), message as is: the
    /// other strategic merge patch failures (`map: map[image:x] does not contain declared merge key:
    /// name`, `unknown patch type: foo in map: ...`, `expected a []interface {}, but received a
    /// string`, ...).
    #[error("{0}")]
    Internal(String),
}

/// `Status.message` kube-apiserver uses for every 422 a patch produces.
pub const UNPROCESSABLE_MESSAGE: &str = "the server rejected our request due to an error in our request";

impl PatchError {
    /// The HTTP status code kube-apiserver answers with.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::Internal(_) => 500,
        }
    }

    /// The `Status.reason` (empty for the 500s, which upstream reports as `StatusReasonUnknown`).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::Unprocessable(_) => "Invalid",
            PatchError::TooManyOperations { .. } => "RequestEntityTooLarge",
            PatchError::Internal(_) => "",
        }
    }

    /// The `Status.message` kube-apiserver writes.
    pub fn message(&self) -> String {
        match self {
            PatchError::Unprocessable(_) => UNPROCESSABLE_MESSAGE.to_string(),
            PatchError::TooManyOperations { .. } => format!("Request entity too large: {self}"),
            PatchError::BadRequest(m) | PatchError::Internal(m) => m.clone(),
        }
    }
}

/// The JSON type name `encoding/json` uses in `cannot unmarshal X into ...` errors.
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}
