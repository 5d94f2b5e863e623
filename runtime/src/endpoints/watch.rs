//! Watch: a chunked stream of `{"type":..,"object":..}` lines from the watch cache, with
//! `timeoutSeconds`, bookmarks, `sendInitialEvents` and Table output.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use http::{header, HeaderValue, Response, StatusCode};
use hyper::body::Frame;
use http_body_util::{BodyExt, StreamBody};
use serde_json::{json, Value};

use super::negotiate::Output;
use super::resource::{filter, parse_cached, partial_metadata, Ctx};
use super::Body;
use crate::apimachinery::go;
use crate::apimachinery::proto;
use crate::apimachinery::table::build_table;
use crate::cacher::{CacheEvent, WatchRequest, INITIAL_EVENTS_END_ANNOTATION};
use crate::registry::ApiError;

/// Upstream's `--min-request-timeout` default: watches without `timeoutSeconds` last between this
/// and twice this.
const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

pub(super) async fn serve(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let store = ctx.store.clone();
    let info = store.info;
    let q = ctx.query;
    let (filter, exact_name) = filter(ctx)?;
    let name = ctx.rp.name.clone().or(exact_name);
    let keys = super::resource::keys(ctx, name.as_deref());
    let resource_version = match q.non_empty("resourceVersion") {
        None => None,
        Some(rv) => Some(rv.parse::<i64>().ok().filter(|r| *r >= 0).ok_or_else(|| ApiError::BadRequest(format!("invalid resource version: {rv}")))?),
    };
    let allow_bookmarks = q.bool("allowWatchBookmarks").map_err(ApiError::BadRequest)?.unwrap_or(false);
    let send_initial_events = q.bool("sendInitialEvents").map_err(ApiError::BadRequest)?;
    if send_initial_events.is_some() {
        let mut errors = Vec::new();
        if q.get("resourceVersionMatch") != Some("NotOlderThan") {
            errors.push(crate::apimachinery::FieldError::forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if !allow_bookmarks && send_initial_events == Some(true) {
            errors.push(crate::apimachinery::FieldError::forbidden(
                "allowWatchBookmarks",
                "allowWatchBookmarks must be set to true when sendInitialEvents is set",
            ));
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid_options("ListOptions", errors));
        }
    } else if let Some(m) = q.non_empty("resourceVersionMatch") {
        return Err(ApiError::invalid_options(
            "ListOptions",
            vec![crate::apimachinery::FieldError::forbidden(
                "resourceVersionMatch",
                format!("resourceVersionMatch is forbidden for watch ({m})"),
            )],
        ));
    }
    let timeout = match q.int("timeoutSeconds").map_err(ApiError::BadRequest)? {
        Some(t) if t > 0 => Duration::from_secs(u64::try_from(t).unwrap_or(u64::MAX / 4).min(u64::MAX / 4)),
        // Upstream's handler gives the watch a deadline that many seconds from now, already past:
        // 200 and the stream ends at once (with no event, or one when Go's select happens to pick
        // the event channel over the expired timer; no event is the answer it gives every time).
        Some(t) if t < 0 => Duration::ZERO,
        _ => {
            let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * MIN_REQUEST_TIMEOUT.as_secs() / 255;
            MIN_REQUEST_TIMEOUT + Duration::from_secs(jitter)
        }
    };
    let deadline = Instant::now() + timeout;
    let request = WatchRequest {
        keys,
        resource_version,
        send_initial_events,
        allow_bookmarks,
        filter,
        deadline: Some(deadline),
    };
    let events =
        if timeout.is_zero() { Box::pin(futures::stream::empty()) } else { store.list_watch().watch(request).await? };
    let output = ctx.output;
    let bookmark_kind = if output == Output::PartialMetadata { "PartialObjectMetadata" } else { info.kind };
    let bookmark_api_version = if output == Output::PartialMetadata { "meta.k8s.io/v1".to_string() } else { info.api_version() };
    let mut first_table = true;
    let lines = events.map(move |event| {
        let object: Option<Bytes> = match &event {
            CacheEvent::Added(o) | CacheEvent::Modified(o) | CacheEvent::Deleted(o) => match output {
                Output::Json | Output::Yaml => Some(o.bytes.clone()),
                // Encoded once per revision, shared by every protobuf watcher (client-go's informers).
                Output::Protobuf => o.protobuf(|json| {
                    let v: Value = crate::apimachinery::json::from_slice(json).ok()?;
                    proto::encode_object(info.schema, &v).ok()
                }),
                Output::PartialMetadata => parse_cached(Some(o)).ok().map(|v| to_bytes(&partial_metadata(&v))),
                Output::Table(include) => parse_cached(Some(o)).ok().map(|v| {
                    let rv = v.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""));
                    let mut table = build_table(info, &[&v], include, json!({"resourceVersion": rv}), chrono::Utc::now());
                    if !first_table {
                        if let Some(t) = table.as_object_mut() {
                            t.insert("columnDefinitions".into(), Value::Null);
                        }
                    }
                    first_table = false;
                    to_bytes(&table)
                }),
            },
            CacheEvent::Bookmark(b) => {
                let mut meta = json!({"resourceVersion": b.revision.to_string()});
                if b.initial_events_end {
                    meta["annotations"] = json!({ INITIAL_EVENTS_END_ANNOTATION: "true" });
                }
                Some(to_bytes(&json!({"kind": bookmark_kind, "apiVersion": bookmark_api_version, "metadata": meta})))
            }
            CacheEvent::Error(e) => Some(to_bytes(&serde_json::to_value(e.to_status()).unwrap_or_default())),
        };
        let object = match (output, &event, object) {
            (Output::Protobuf, CacheEvent::Error(e), _) => serde_json::to_value(e.to_status())
                .ok()
                .and_then(|v| proto::encode_object(&crate::apimachinery::schema::wellknown::STATUS, &v).ok())
                .map(Bytes::from),
            (Output::Protobuf, CacheEvent::Bookmark(_), Some(json)) => crate::apimachinery::json::from_slice::<Value>(&json)
                .ok()
                .and_then(|v| proto::encode_object(info.schema, &v).ok())
                .map(Bytes::from),
            (_, _, object) => object,
        };
        // An object this watch cannot encode (stored by an older kapi or another writer, it
        // fails the protobuf encoding) ends the stream, as upstream's watch server ends it when
        // an event does not encode: the client sees the watch close and lists again (and that
        // list names the object), never an event with an empty or null object.
        let Some(object) = object else {
            let what = match &event {
                CacheEvent::Added(o) | CacheEvent::Modified(o) | CacheEvent::Deleted(o) => o.key.to_string(),
                _ => event.type_name().to_string(),
            };
            eprintln!("error: watch of {}: ending the stream: {what} cannot be encoded as {output:?}", info.plural);
            return None;
        };
        if output == Output::Protobuf {
            return Some(Ok::<_, Infallible>(Frame::data(Bytes::from(proto::watch_frame(event.type_name(), &object)))));
        }
        let mut line = BytesMut::with_capacity(object.len() + 32);
        line.put_slice(b"{\"type\":");
        line.put_slice(go::json_string(event.type_name()).as_bytes());
        line.put_slice(b",\"object\":");
        line.put_slice(&object);
        line.put_slice(b"}\n");
        Some(Ok::<_, Infallible>(Frame::data(line.freeze())))
    });
    let lines = lines.take_while(|frame| std::future::ready(frame.is_some())).filter_map(std::future::ready);
    let until = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline));
    let lines = lines.take_until(until);
    let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(lines)));
    *response.status_mut() = StatusCode::OK;
    let ct = match output {
        Output::Table(_) => "application/json;as=Table;v=v1;g=meta.k8s.io",
        Output::Protobuf => "application/vnd.kubernetes.protobuf;stream=watch",
        _ => "application/json",
    };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
    response.headers_mut().insert("x-kapi-stream", HeaderValue::from_static("1"));
    Ok(response)
}

fn to_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}
