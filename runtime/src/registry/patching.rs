//! Applies a PATCH body to the current object: JSON patch, merge patch and strategic merge patch
//! (from `apimachinery::patch`), mapping their failures to upstream's statuses.

use serde_json::Value;

use super::error::ApiError;
use super::store::PatchType;
use crate::apimachinery::patch::{json_patch, merge_patch, strategic_merge_patch, validate_merge_patch, PatchError};
use crate::apimachinery::schema::Schema;
use crate::apimachinery::{KindInfo, Status, StatusDetails};

fn to_api_error(e: PatchError) -> ApiError {
    let mut status = Status::failure(i32::from(e.code()), e.reason(), e.message());
    if matches!(e, PatchError::Unprocessable(_)) {
        status.details = Some(StatusDetails::default());
    }
    ApiError::Status(Box::new(status))
}

/// `application/json-patch+json`.
pub(crate) fn json(current: &Value, patch: &Value) -> Result<Value, ApiError> {
    json_patch(current, patch).map_err(to_api_error)
}

/// `application/merge-patch+json`.
pub(crate) fn merge(current: &Value, patch: &Value) -> Result<Value, ApiError> {
    validate_merge_patch(patch).map_err(to_api_error)?;
    Ok(merge_patch(current, patch))
}

/// `application/strategic-merge-patch+json`.
pub(crate) fn strategic(current: &Value, patch: &Value, info: &KindInfo) -> Result<Value, ApiError> {
    strategic_merge_patch(current, patch, info.schema).map_err(to_api_error)
}

/// Patches a plain value (a Scale, ...) by `patch_type`; strategic patches follow `schema` when given
/// (else merge-patch semantics).
pub fn patch_value(current: &Value, patch: &Value, patch_type: PatchType, schema: Option<&Schema>) -> Result<Value, ApiError> {
    match (patch_type, schema) {
        (PatchType::Json, _) => json(current, patch),
        (PatchType::Strategic, Some(schema)) => strategic_merge_patch(current, patch, schema).map_err(to_api_error),
        _ => merge(current, patch),
    }
}
