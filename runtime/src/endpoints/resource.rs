//! Resource requests: get, list, watch, create, update, patch, delete and deletecollection of
//! objects and their subresources (status, scale, binding, finalize).

use std::sync::Arc;

use base64::Engine;
use bytes::{BufMut, Bytes, BytesMut};
use http::request::Parts;
use http::{header, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value};

use super::negotiate::{self, MediaType, Output};
use super::request::{Query, ResourcePath};
use super::{bytes_response, json_response, not_found_page, not_found_status, ApiServer, Body};
use crate::apimachinery::proto;
use crate::apimachinery::selector::{parse_fields, parse_labels};
use crate::apimachinery::table::{build_table, IncludeObject};
use crate::apimachinery::{go, DeleteOptions, FieldError, Status, StatusDetails};
use crate::cacher::{CachedObject, Continue, Filter, Keys, ListRequest, ResourceVersion, FIELD_NAME, FIELD_NAMESPACE};
use crate::registry::{ApiError, FieldValidation, Part, PatchType, Store, WriteOptions, Written};
use crate::storage::Revision;

/// Everything a resource handler needs about the request.
pub(super) struct Ctx<'a> {
    pub(super) store: &'a Arc<Store>,
    pub(super) rp: ResourcePath,
    pub(super) query: &'a Query,
    pub(super) output: Output,
    pub(super) user_agent: String,
    pub(super) user: crate::auth::UserInfo,
}

impl Ctx<'_> {
    fn ns(&self) -> Option<&str> {
        self.rp.namespace.as_deref()
    }
}

pub(super) async fn handle(
    server: &Arc<ApiServer>,
    parts: &Parts,
    rp: ResourcePath,
    query: &Query,
    accept: &[MediaType],
    body: Bytes,
    user: crate::auth::UserInfo,
) -> Result<Response<Body>, ApiError> {
    let Some(store) = server.registry().store(&rp.group, &rp.version, &rp.resource) else {
        return Ok(not_found_page());
    };
    let info = store.info;
    // Namespaced kinds need a namespace except for list/watch across all; cluster-scoped kinds take none.
    if info.namespaced() && rp.namespace.is_none() && (rp.name.is_some() || parts.method != Method::GET) {
        return Ok(not_found_page());
    }
    if !info.namespaced() && rp.namespace.is_some() {
        return Ok(not_found_page());
    }
    let include_object = match query.get("includeObject") {
        None | Some("" | "Metadata") => IncludeObject::Metadata,
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "includeObject: Unsupported value: {}: supported values: \"Metadata\", \"None\", \"Object\"",
                go::quote(other)
            )))
        }
    };
    let protobuf_ok = info.schema.object().is_some_and(|o| o.protobuf);
    let output = negotiate::negotiate(accept, include_object, protobuf_ok)?;
    let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
    let watch = rp.watch_prefix || query.bool("watch").map_err(ApiError::BadRequest)?.unwrap_or(false);
    let ctx = Ctx { store, rp, query, output, user_agent, user };
    let sub = ctx.rp.subresource.clone();
    if let Some(sub) = sub.as_deref() {
        if ctx.rp.name.is_none() || !(info.has_subresource(sub) || (sub == "finalize" && info.plural == "namespaces" && info.group.is_empty())) {
            return Err(ApiError::Status(Box::new(not_found_status())));
        }
    }
    let method = parts.method.clone();
    match (method, ctx.rp.name.clone(), sub.as_deref()) {
        (Method::GET | Method::HEAD, None, None) if watch => super::watch::serve(&ctx).await,
        (Method::GET | Method::HEAD, None, None) => list(&ctx).await,
        (Method::GET | Method::HEAD, Some(name), None | Some("status")) if watch => {
            let _ = name;
            super::watch::serve(&ctx).await
        }
        (Method::GET | Method::HEAD, Some(name), None | Some("status")) => get(&ctx, &name).await,
        (Method::GET | Method::HEAD, Some(name), Some("scale")) => {
            let got = ctx.store.get(ctx.ns(), &name, read_rv(ctx.query)?).await?;
            let object = parse_cached(got.object.as_deref())?;
            Ok(object_response(&ctx, StatusCode::OK, &scale_of(ctx.store, &object)?, &[]))
        }
        (Method::POST, None, None) => {
            let object = negotiate::decode_body(content_type.as_deref(), &body, info.kind, Some(info.schema))?;
            let written = ctx.store.create(ctx.ns(), object, &write_options(&ctx, false)?).await?;
            Ok(written_response(&ctx, written))
        }
        (Method::POST, Some(name), Some("binding")) => bind(&ctx, &name, content_type.as_deref(), &body).await,
        (Method::POST, Some(name), Some("token")) => {
            super::tokens::token_request(server, &ctx, &name, content_type.as_deref(), &body).await
        }
        (Method::PUT, Some(name), None | Some("status")) => {
            let object = negotiate::decode_body(content_type.as_deref(), &body, info.kind, Some(info.schema))?;
            let part = if sub.is_some() { Part::Status } else { Part::Main };
            let written = ctx.store.update(ctx.ns(), &name, object, part, &write_options(&ctx, false)?).await?;
            Ok(written_response(&ctx, written))
        }
        (Method::PUT, Some(name), Some("finalize")) => {
            let object = negotiate::decode_body(content_type.as_deref(), &body, info.kind, Some(info.schema))?;
            let finalizers = object.pointer("/spec/finalizers").cloned().unwrap_or(json!([]));
            let patch = json!({"spec": {"finalizers": finalizers}});
            let written =
                ctx.store.patch(None, &name, PatchType::Merge, &patch, Part::Main, &write_options(&ctx, false)?).await?;
            Ok(written_response(&ctx, written))
        }
        (Method::PUT, Some(name), Some("scale")) => {
            let scale = negotiate::decode_body(content_type.as_deref(), &body, "Scale", None)?;
            set_scale(&ctx, &name, &scale).await
        }
        (Method::PATCH, Some(name), sub @ (None | Some("status") | Some("scale"))) => {
            let patch_type = negotiate::patch_type(content_type.as_deref())
                .ok_or_else(|| crate::registry::store::unsupported_patch(ctx.store.strategy.builtin))?;
            let patch = match patch_type {
                PatchType::Apply => negotiate::parse_yaml(&body, info.kind)?,
                _ => crate::apimachinery::json::from_slice::<Value>(&body)
                    .map_err(|e| ApiError::BadRequest(format!("error decoding patch: {e}")))?,
            };
            let opts = write_options(&ctx, patch_type == PatchType::Apply)?;
            if sub == Some("scale") {
                return patch_scale(&ctx, &name, patch_type, &patch).await;
            }
            let part = if sub == Some("status") { Part::Status } else { Part::Main };
            let written = ctx.store.patch(ctx.ns(), &name, patch_type, &patch, part, &opts).await?;
            Ok(written_response(&ctx, written))
        }
        (Method::DELETE, Some(name), None) => {
            let opts = delete_options(&ctx, &body)?;
            let deleted = ctx.store.delete(ctx.ns(), &name, &opts).await?;
            // Upstream answers 202 only for a pending delete that explicitly keeps dependents.
            let accepted = !deleted.gone && opts.orphan_dependents == Some(false);
            let code = if accepted { StatusCode::ACCEPTED } else { StatusCode::OK };
            if deleted.gone && !ctx.store.strategy.return_deleted_object {
                let uid = deleted.object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default();
                let mut status = Status::success();
                status.details = Some(StatusDetails {
                    name: name.clone(),
                    group: info.group.into(),
                    kind: info.plural.into(),
                    uid: uid.into(),
                    ..StatusDetails::default()
                });
                return Ok(json_response(code, &serde_json::to_value(&status).unwrap_or_default()));
            }
            Ok(object_response(&ctx, code, &deleted.object, &[]))
        }
        (Method::DELETE, None, None) => delete_collection(&ctx, &body).await,
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `resourceVersion` + `resourceVersionMatch` of a get or list.
fn read_rv(query: &Query) -> Result<ResourceVersion, ApiError> {
    let rv = query.get("resourceVersion").unwrap_or("");
    let matching = query.get("resourceVersionMatch").unwrap_or("");
    let parsed = if rv.is_empty() {
        None
    } else {
        Some(rv.parse::<Revision>().ok().filter(|r| *r >= 0).ok_or_else(|| {
            ApiError::BadRequest(format!("invalid resource version: {rv}"))
        })?)
    };
    let invalid = |detail: &str| ApiError::invalid_options("ListOptions", vec![FieldError::forbidden("resourceVersionMatch", detail)]);
    match (matching, parsed) {
        ("", None) => Ok(ResourceVersion::Unset),
        ("" | "NotOlderThan", Some(r)) => Ok(ResourceVersion::NotOlderThan(r)),
        ("Exact", Some(0)) => Err(invalid("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")),
        ("Exact", Some(r)) => Ok(ResourceVersion::Exact(r)),
        ("Exact" | "NotOlderThan", None) => {
            Err(invalid("resourceVersionMatch is forbidden unless resourceVersion is provided"))
        }
        (other, _) => Err(ApiError::invalid_options("ListOptions", vec![FieldError::not_supported("resourceVersionMatch", other, &["Exact", "NotOlderThan", ""])])),
    }
}

/// The selector of a list or watch, checked against the kind's selectable fields.
pub(super) fn filter(ctx: &Ctx<'_>) -> Result<(Filter, Option<String>), ApiError> {
    let info = ctx.store.info;
    let labels = parse_labels(ctx.query.get("labelSelector").unwrap_or("")).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let fields = parse_fields(ctx.query.get("fieldSelector").unwrap_or("")).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut known: Vec<String> = vec![FIELD_NAME.to_string()];
    if info.namespaced() {
        known.push(FIELD_NAMESPACE.to_string());
    }
    known.extend(info.selectable_fields.iter().map(|f| f.to_string()));
    for r in fields.requirements() {
        if !known.contains(&r.field) {
            let list: Vec<String> = known.iter().map(|k| go::quote(k)).collect();
            return Err(ApiError::BadRequest(format!(
                "{} is not a known field selector: only {}",
                go::quote(&r.field),
                list.join(", ")
            )));
        }
    }
    let exact_name = fields.exact_value(FIELD_NAME).map(str::to_string);
    if labels.is_empty() && fields.is_empty() {
        return Ok((Filter::everything(), None));
    }
    let f = Filter::new(move |o: &CachedObject| labels.matches(|k| o.labels.get(k)) && fields.matches(|k| o.fields.get(k)));
    Ok((f, exact_name))
}

pub(super) fn keys(ctx: &Ctx<'_>, exact_name: Option<&str>) -> Keys {
    let store = ctx.store;
    match (ctx.ns(), exact_name) {
        (ns, Some(name)) if ns.is_some() || !store.info.namespaced() => Keys::Key(store.key(ns, name)),
        (Some(ns), _) => Keys::Prefix(store.namespace_prefix(Some(ns))),
        (None, _) => Keys::All,
    }
}

/// The continue token: upstream's base64 (URL, unpadded) JSON `{"v","rv","start"}`.
fn encode_continue(prefix: &str, cont: &Continue) -> String {
    let start = format!("{}\u{0}", cont.after_key.strip_prefix(prefix).unwrap_or(&cont.after_key));
    let token = json!({"v": "meta.k8s.io/v1", "rv": cont.revision, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

fn decode_continue(prefix: &str, token: &str) -> Result<Continue, ApiError> {
    let bad = |why: &str| ApiError::BadRequest(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(token))
        .map_err(|_| bad("illegal base64 data"))?;
    let v: Value = crate::apimachinery::json::from_slice(&raw).map_err(|_| bad("invalid JSON"))?;
    if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)"));
    }
    let rv = v.get("rv").and_then(Value::as_i64).filter(|r| *r > 0).ok_or_else(|| bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(|| bad("encoded start key was empty"))?;
    let start = start.strip_suffix('\u{0}').unwrap_or(start);
    // As upstream's path.Clean check: no empty, `.` or `..` segments, no leading `/`.
    if start.is_empty() || start.starts_with('/') || start.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return Err(bad("encoded start key was not valid"));
    }
    Ok(Continue { after_key: format!("{prefix}{start}"), revision: rv })
}

const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

async fn list(ctx: &Ctx<'_>) -> Result<Response<Body>, ApiError> {
    let store = ctx.store;
    let info = store.info;
    let (filter, exact_name) = filter(ctx)?;
    let limit = ctx.query.int("limit").map_err(ApiError::BadRequest)?.filter(|l| *l > 0).map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let continue_from = match ctx.query.non_empty("continue") {
        Some(token) => {
            if ctx.query.non_empty("resourceVersion").is_some() {
                return Err(ApiError::BadRequest("specifying resource version is not allowed when using continue".into()));
            }
            if let Some(m) = ctx.query.non_empty("resourceVersionMatch") {
                return Err(ApiError::invalid_options(
                    "ListOptions",
                    vec![FieldError::forbidden(
                        "resourceVersionMatch",
                        format!("resourceVersionMatch is forbidden when continue is provided ({m})"),
                    )],
                ));
            }
            Some(decode_continue(store.prefix(), token)?)
        }
        None => None,
    };
    let resource_version = read_rv(ctx.query)?;
    let request = ListRequest { keys: keys(ctx, exact_name.as_deref()), resource_version, filter, limit, continue_from: continue_from.clone() };
    let listed = match store.list_watch().list(request).await {
        Ok(l) => l,
        Err(e) if continue_from.is_some() && e.code() == 410 => {
            return Err(ApiError::Gone { reason: "Expired", message: CONTINUE_EXPIRED.into() })
        }
        Err(e) => return Err(e.into()),
    };
    let mut meta = serde_json::Map::new();
    meta.insert("resourceVersion".into(), Value::String(listed.revision.to_string()));
    if let Some(c) = &listed.continue_from {
        meta.insert("continue".into(), Value::String(encode_continue(store.prefix(), c)));
        if let Some(rem) = listed.remaining.filter(|r| *r > 0) {
            meta.insert("remainingItemCount".into(), json!(rem));
        }
    }
    match ctx.output {
        Output::Json => Ok(bytes_response(StatusCode::OK, "application/json", list_json(store, &meta, &listed.items))),
        Output::Yaml => {
            let items: Vec<Value> = listed.items.iter().map(|o| parse_cached(Some(o))).collect::<Result<_, _>>()?;
            let list = json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": meta, "items": items});
            Ok(yaml_response(StatusCode::OK, &list))
        }
        Output::Table(include) => {
            let items: Vec<Value> = listed.items.iter().map(|o| parse_cached(Some(o))).collect::<Result<_, _>>()?;
            let refs: Vec<&Value> = items.iter().collect();
            let table = build_table(info, &refs, include, Value::Object(meta), chrono::Utc::now());
            Ok(json_response(StatusCode::OK, &table))
        }
        Output::Protobuf => {
            let mut raws = Vec::with_capacity(listed.items.len());
            // Objects that do not encode (stored by an older kapi or another writer) are named,
            // all of them, as upstream names the objects it cannot decode in a list
            // ("unable to transform or decode N objects: {key: error}"): the answer says which
            // objects to fix or delete (JSON reads and deletes still work on them).
            let mut failed = Vec::new();
            for o in &listed.items {
                let encoded = crate::apimachinery::json::from_slice::<Value>(&o.bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|v| proto::encode(info.schema, &v).map_err(|e| e.to_string()));
                match encoded {
                    Ok(raw) => raws.push(raw),
                    Err(e) => failed.push(format!("{}: {e}\n", o.key)),
                }
            }
            if !failed.is_empty() {
                return Err(ApiError::Internal(format!(
                    "unable to encode {} objects as {}: {{\n{}}}",
                    failed.len(),
                    negotiate::PROTOBUF,
                    failed.concat()
                )));
            }
            let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
            let list = proto::encode_list(&Value::Object(meta), &refs).map_err(|e| ApiError::Internal(e.to_string()))?;
            let body = proto::encode_envelope(&info.api_version(), info.list_kind, &list);
            Ok(bytes_response(StatusCode::OK, negotiate::PROTOBUF, Bytes::from(body)))
        }
        Output::PartialMetadata => {
            let items: Vec<Value> = listed
                .items
                .iter()
                .map(|o| parse_cached(Some(o)).map(|v| partial_metadata(&v)))
                .collect::<Result<_, _>>()?;
            let list = json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items});
            Ok(json_response(StatusCode::OK, &list))
        }
    }
}

/// A JSON list of `items` (the cache's bytes, written out without parsing them) with `meta`.
fn list_json(store: &Store, meta: &serde_json::Map<String, Value>, items: &[Arc<CachedObject>]) -> Bytes {
    let info = store.info;
    let strip = item_prefix(store);
    let mut out = BytesMut::with_capacity(items.iter().map(|o| o.bytes.len() + 1).sum::<usize>() + 128);
    out.put_slice(b"{\"kind\":");
    out.put_slice(go::json_string(info.list_kind).as_bytes());
    out.put_slice(b",\"apiVersion\":");
    out.put_slice(go::json_string(&info.api_version()).as_bytes());
    out.put_slice(b",\"metadata\":");
    out.put_slice(&serde_json::to_vec(meta).unwrap_or_default());
    out.put_slice(b",\"items\":[");
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            out.put_u8(b',');
        }
        match strip.as_deref().and_then(|p| o.bytes.strip_prefix(p.as_bytes())) {
            Some(rest) => {
                out.put_u8(b'{');
                out.put_slice(rest);
            }
            None => out.put_slice(&o.bytes),
        }
    }
    out.put_slice(b"]}");
    out.freeze()
}

/// The `{"kind":"X","apiVersion":"v",` opening that built-in kinds' list items leave out (upstream
/// writes list items of built-in types without type meta).
fn item_prefix(store: &Store) -> Option<String> {
    if !store.strategy.builtin {
        return None;
    }
    let info = store.info;
    Some(format!("{{\"kind\":{},\"apiVersion\":{},", go::json_string(info.kind), go::json_string(&info.api_version())))
}

async fn get(ctx: &Ctx<'_>, name: &str) -> Result<Response<Body>, ApiError> {
    let got = ctx.store.get(ctx.ns(), name, read_rv(ctx.query)?).await?;
    let Some(object) = got.object else { return Err(ApiError::NotFound(ctx.store.target(name))) };
    if ctx.output == Output::Json {
        return Ok(bytes_response(StatusCode::OK, "application/json", object.bytes.clone()));
    }
    let value = parse_cached(Some(&object))?;
    Ok(object_response(ctx, StatusCode::OK, &value, &[]))
}

pub(super) fn parse_cached(object: Option<&CachedObject>) -> Result<Value, ApiError> {
    let Some(object) = object else { return Err(ApiError::Internal("object vanished".into())) };
    crate::apimachinery::json::from_slice(&object.bytes).map_err(|e| ApiError::Internal(format!("cached object cannot be decoded: {e}")))
}

/// `PartialObjectMetadata` of an object.
pub(super) fn partial_metadata(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.get("metadata").cloned().unwrap_or(json!({}))})
}

/// One object in the negotiated output.
pub(super) fn object_response(ctx: &Ctx<'_>, code: StatusCode, object: &Value, warnings: &[String]) -> Response<Body> {
    let mut r = crate::apimachinery::heavy::off_the_workers_for(object, || match ctx.output {
        Output::Json => json_response(code, object),
        Output::Yaml => yaml_response(code, object),
        Output::Table(include) => {
            let rv = object.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""));
            json_response(code, &build_table(ctx.store.info, &[object], include, json!({"resourceVersion": rv}), chrono::Utc::now()))
        }
        Output::PartialMetadata => json_response(code, &partial_metadata(object)),
        Output::Protobuf => match proto::encode_object(ctx.store.info.schema, object) {
            Ok(bytes) => bytes_response(code, negotiate::PROTOBUF, Bytes::from(bytes)),
            Err(e) => super::status_response(&ApiError::Internal(e.to_string()).to_status()),
        },
    });
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - {}", go::quote(w))) {
            r.headers_mut().append(header::WARNING, v);
        }
    }
    r
}

fn written_response(ctx: &Ctx<'_>, written: Written) -> Response<Body> {
    let code = if written.created { StatusCode::CREATED } else { StatusCode::OK };
    object_response(ctx, code, &written.object, &written.warnings)
}

fn yaml_response(code: StatusCode, value: &Value) -> Response<Body> {
    let text = serde_yaml::to_string(value).unwrap_or_default();
    bytes_response(code, "application/yaml", Bytes::from(text))
}

/// `dryRun`, `fieldValidation`, `fieldManager` and `force`.
fn write_options(ctx: &Ctx<'_>, apply: bool) -> Result<WriteOptions, ApiError> {
    let q = ctx.query;
    let dry_run = match q.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dryRun: Unsupported value: {}: supported values: \"All\"",
                go::quote(other)
            )))
        }
    };
    let field_validation = match q.get("fieldValidation") {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Ignore") => FieldValidation::Ignore,
        Some("Strict") => FieldValidation::Strict,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "fieldValidation: Unsupported value: {}: supported values: \"Ignore\", \"Strict\", \"Warn\"",
                go::quote(other)
            )))
        }
    };
    let force = q.bool("force").map_err(ApiError::BadRequest)?;
    if force.is_some() && !apply {
        return Err(ApiError::invalid_options("PatchOptions", vec![FieldError::forbidden("force", "may not be specified for non-apply patch")]));
    }
    let field_manager = match q.non_empty("fieldManager") {
        Some(m) => {
            if m.chars().count() > 128 {
                return Err(ApiError::invalid_options(if apply { "PatchOptions" } else { "CreateOptions" }, vec![FieldError::too_long("fieldManager", 128)]));
            }
            m.to_string()
        }
        None if apply => {
            return Err(ApiError::invalid_options("PatchOptions", vec![FieldError::required("fieldManager", "is required for apply patch")]))
        }
        None => crate::apimachinery::apply::default_manager(&ctx.user_agent),
    };
    Ok(WriteOptions { dry_run, field_validation, field_manager, force: force.unwrap_or(false), user: Some(ctx.user.clone()) })
}


fn delete_options(ctx: &Ctx<'_>, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let q = ctx.query;
    // As upstream: a body wins; query parameters are read only when there is none.
    let opts: DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions {
            grace_period_seconds: q.int("gracePeriodSeconds").map_err(ApiError::BadRequest)?,
            propagation_policy: q.non_empty("propagationPolicy").map(str::to_string),
            orphan_dependents: q.bool("orphanDependents").map_err(ApiError::BadRequest)?,
            dry_run: q.non_empty("dryRun").map(|d| vec![d.to_string()]).unwrap_or_default(),
            ..DeleteOptions::default()
        }
    } else {
        crate::apimachinery::json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("error decoding DeleteOptions: {e}")))?
    };
    let invalid = |errors: Vec<FieldError>| ApiError::invalid_options("DeleteOptions", errors);
    if opts.orphan_dependents.is_some() && opts.propagation_policy.is_some() {
        return Err(invalid(vec![FieldError::invalid(
            "propagationPolicy",
            opts.propagation_policy.clone().unwrap_or_default(),
            "orphanDependents and deletionPropagation cannot be both set",
        )]));
    }
    if let Some(d) = opts.dry_run.iter().find(|d| *d != "All") {
        return Err(invalid(vec![FieldError::not_supported("dryRun", d.as_str(), &["All"])]));
    }
    if let Some(p) = opts.propagation_policy.as_deref() {
        if !matches!(p, "Orphan" | "Background" | "Foreground") {
            return Err(ApiError::invalid_options("DeleteOptions", vec![FieldError::not_supported("propagationPolicy", p, &["Background", "Foreground", "Orphan"])]));
        }
    }
    Ok(opts)
}

async fn delete_collection(ctx: &Ctx<'_>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let store = ctx.store;
    let opts = delete_options(ctx, body)?;
    let (filter, exact_name) = filter(ctx)?;
    let request = ListRequest { keys: keys(ctx, exact_name.as_deref()), filter, ..ListRequest::default() };
    let listed = store.list_watch().list(request).await?;
    // As upstream, the response lists the objects as they were listed (not as deleted); they are
    // the cache's own bytes, so a collection of 100,000 objects costs no copy until it is written
    // out (parsed values of every deleted object cost several times their JSON).
    let mut deleted = Vec::new();
    for o in &listed.items {
        let ns = o.namespace().to_string();
        match store.delete(Some(ns.as_str()).filter(|n| !n.is_empty()), o.name(), &opts).await {
            Ok(_) => deleted.push(o.clone()),
            Err(ApiError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let mut meta = serde_json::Map::new();
    meta.insert("resourceVersion".into(), Value::String(listed.revision.to_string()));
    Ok(match ctx.output {
        Output::Yaml => {
            let items: Vec<Value> = deleted.iter().map(|o| parse_cached(Some(o))).collect::<Result<_, _>>()?;
            let info = store.info;
            yaml_response(
                StatusCode::OK,
                &json!({"kind": info.list_kind, "apiVersion": info.api_version(), "metadata": meta, "items": items}),
            )
        }
        _ => bytes_response(StatusCode::OK, "application/json", list_json(store, &meta, &deleted)),
    })
}

/// `autoscaling/v1` Scale of an object with a scale subresource.
fn scale_of(store: &Store, object: &Value) -> Result<Value, ApiError> {
    let Some(scale) = store.info.scale else { return Err(ApiError::Status(Box::new(not_found_status()))) };
    let at = |path: &str| -> Option<Value> {
        let pointer = format!("/{}", path.trim_start_matches('.').replace('.', "/"));
        object.pointer(&pointer).cloned()
    };
    let meta = object.get("metadata").cloned().unwrap_or(json!({}));
    let pick = |k: &str| meta.get(k).cloned();
    let mut m = serde_json::Map::new();
    for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(v) = pick(k) {
            m.insert(k.into(), v);
        }
    }
    let replicas = at(scale.spec_replicas_path).and_then(|v| v.as_i64()).unwrap_or(if store.strategy.builtin { 1 } else { 0 });
    let status_replicas = at(scale.status_replicas_path).and_then(|v| v.as_i64()).unwrap_or(0);
    let mut status = json!({"replicas": status_replicas});
    let selector = match scale.label_selector_path {
        Some(p) => at(p).and_then(|v| v.as_str().map(str::to_string)),
        None => None,
    }
    .or_else(|| object.pointer("/spec/selector").and_then(selector_string));
    if let (Some(sel), Some(s)) = (selector.filter(|s| !s.is_empty()), status.as_object_mut()) {
        s.insert("selector".into(), Value::String(sel));
    }
    Ok(json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": m, "spec": {"replicas": replicas}, "status": status}))
}

/// A label selector (`matchLabels`/`matchExpressions`, or a plain map as ReplicationController's) as text.
fn selector_string(sel: &Value) -> Option<String> {
    if sel.get("matchLabels").is_some() || sel.get("matchExpressions").is_some() {
        let parsed: crate::apimachinery::LabelSelector = serde_json::from_value(sel.clone()).ok()?;
        return crate::apimachinery::selector::labels_from_meta(&parsed).ok().map(|l| l.to_string());
    }
    let map = sel.as_object()?;
    let mut pairs: Vec<String> = map.iter().filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?))).collect();
    pairs.sort();
    Some(pairs.join(","))
}

async fn set_scale(ctx: &Ctx<'_>, name: &str, scale: &Value) -> Result<Response<Body>, ApiError> {
    let Some(info_scale) = ctx.store.info.scale else { return Err(ApiError::Status(Box::new(not_found_status()))) };
    let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    if replicas < 0 {
        return Err(ApiError::Invalid {
            group: "autoscaling".into(),
            kind: "Scale".into(),
            name: name.into(),
            errors: vec![FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
        });
    }
    let mut patch = json!(replicas);
    for seg in info_scale.spec_replicas_path.trim_start_matches('.').rsplit('.') {
        patch = json!({ seg: patch });
    }
    if let Some(rv) = scale.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        if let Some(m) = patch.as_object_mut() {
            m.insert("metadata".into(), json!({"resourceVersion": rv}));
        }
    }
    let opts = write_options(ctx, false)?;
    let written = ctx.store.patch(ctx.ns(), name, PatchType::Merge, &patch, Part::Main, &opts).await?;
    Ok(object_response(ctx, StatusCode::OK, &scale_of(ctx.store, &written.object)?, &[]))
}

async fn patch_scale(ctx: &Ctx<'_>, name: &str, patch_type: PatchType, patch: &Value) -> Result<Response<Body>, ApiError> {
    let got = ctx.store.get(ctx.ns(), name, ResourceVersion::Unset).await?;
    let current = scale_of(ctx.store, &parse_cached(got.object.as_deref())?)?;
    let patched = match patch_type {
        PatchType::Json => crate::registry::patch_value(&current, patch, PatchType::Json, None)?,
        PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
            crate::registry::patch_value(&current, patch, PatchType::Merge, None)?
        }
    };
    let mut patched = patched;
    if patched.pointer("/metadata/resourceVersion") == current.pointer("/metadata/resourceVersion") {
        if let Some(m) = patched.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
    }
    set_scale(ctx, name, &patched).await
}

async fn bind(ctx: &Ctx<'_>, name: &str, content_type: Option<&str>, body: &[u8]) -> Result<Response<Body>, ApiError> {
    let binding = negotiate::decode_body(content_type, body, "Binding", None)?;
    let node = binding.pointer("/target/name").and_then(Value::as_str).unwrap_or("").to_string();
    if node.is_empty() {
        return Err(ApiError::Invalid {
            group: String::new(),
            kind: "Binding".into(),
            name: name.into(),
            errors: vec![FieldError::required("target.name", "")],
        });
    }
    let got = ctx.store.get(ctx.ns(), name, ResourceVersion::Unset).await?;
    let pod = parse_cached(got.object.as_deref())?;
    if let Some(existing) = pod.pointer("/spec/nodeName").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        return Err(ApiError::Conflict {
            target: ctx.store.target(name),
            why: format!("pod {name} is already assigned to node {}", go::quote(existing)),
        });
    }
    let patch = json!({"spec": {"nodeName": node}});
    let opts = write_options(ctx, false)?;
    ctx.store.patch(ctx.ns(), name, PatchType::Merge, &patch, Part::Main, &opts).await?;
    let status = Status { code: 201, ..Status::success() };
    Ok(json_response(StatusCode::CREATED, &serde_json::to_value(&status).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let c = Continue { after_key: "/registry/configmaps/default/a".into(), revision: 42 };
        let token = encode_continue("/registry/configmaps/", &c);
        assert_eq!(decode_continue("/registry/configmaps/", &token).ok(), Some(c));
        assert_eq!(decode_continue("/registry/configmaps/", "!!!").err().map(|e| e.code()), Some(400));
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":3,"start":"../x\u0000"}"#);
        assert_eq!(decode_continue("/registry/configmaps/", &raw).err().map(|e| e.code()), Some(400));
    }

    #[test]
    fn list_options() {
        assert_eq!(read_rv(&Query::parse(Some(""))).ok(), Some(ResourceVersion::Unset));
        assert_eq!(read_rv(&Query::parse(Some("resourceVersion=0"))).ok(), Some(ResourceVersion::NotOlderThan(0)));
        assert_eq!(
            read_rv(&Query::parse(Some("resourceVersion=5&resourceVersionMatch=Exact"))).ok(),
            Some(ResourceVersion::Exact(5))
        );
        assert_eq!(read_rv(&Query::parse(Some("resourceVersionMatch=Exact"))).err().map(|e| e.code()), Some(422));
        assert_eq!(read_rv(&Query::parse(Some("resourceVersion=x"))).err().map(|e| e.code()), Some(400));
    }

    #[test]
    fn selectors_as_text() {
        assert_eq!(selector_string(&json!({"b": "2", "a": "1"})).as_deref(), Some("a=1,b=2"));
    }
}
