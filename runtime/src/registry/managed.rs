//! `metadata.managedFields` bookkeeping and server-side apply, from `apimachinery::apply`, with the
//! kind's reset fields (a status subresource splits ownership between `spec` and `status`).

use serde_json::Value;

use super::error::ApiError;
use super::store::WriteOptions;
use crate::apimachinery::apply::{status_reset_fields, ApplyError, FieldManager, VersionConverter};
use crate::apimachinery::{KindInfo, Status, StatusCause, StatusDetails, Time};

fn field_manager<'a>(
    info: &'static KindInfo,
    versions: Option<&'a dyn VersionConverter>,
    api_version: &'a str,
    subresource: &'a str,
) -> FieldManager<'a> {
    let ignored: &'static [&'static str] = if info.status_subresource { status_reset_fields(subresource) } else { &[] };
    let mut fm = FieldManager::new(info.schema, api_version, info.kind).with_subresource(subresource);
    fm.ignored = ignored;
    fm.versions = versions;
    fm
}

/// Records `manager`'s ownership of what changed from `old` to `new` (operation `Update`).
pub(crate) fn track(
    old: Option<&Value>,
    new: &mut Value,
    info: &'static KindInfo,
    versions: Option<&dyn VersionConverter>,
    manager: &str,
    now: Time,
    subresource: &str,
) -> Result<(), ApiError> {
    let api_version = info.api_version();
    field_manager(info, versions, &api_version, subresource)
        .update(old, new, manager, &now.to_rfc3339())
        .map_err(|e| to_api_error(e, info, new))
}

/// Server-side apply of `applied` onto `live` (`Value::Null` when the object does not exist).
pub(crate) fn apply(
    live: &Value,
    applied: &Value,
    info: &'static KindInfo,
    versions: Option<&dyn VersionConverter>,
    opts: &WriteOptions,
    subresource: &str,
) -> Result<Value, ApiError> {
    let api_version = info.api_version();
    let live = if live.is_null() { None } else { Some(live) };
    field_manager(info, versions, &api_version, subresource)
        .apply(live, applied, &opts.field_manager, opts.force, &Time::now().to_rfc3339())
        .map_err(|e| to_api_error(e, info, applied))
}

fn to_api_error(e: ApplyError, info: &KindInfo, object: &Value) -> ApiError {
    let name = object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut status = Status::failure(i32::from(e.code()), e.reason(), e.to_string());
    if let ApplyError::Conflicts(_) = e {
        status.details = Some(StatusDetails {
            name,
            group: info.group.into(),
            kind: info.plural.into(),
            causes: e
                .causes()
                .into_iter()
                .map(|(reason, message, field)| StatusCause { reason, message, field })
                .collect(),
            ..StatusDetails::default()
        });
    }
    ApiError::Status(Box::new(status))
}
