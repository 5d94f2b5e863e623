//! Serving the generated OpenAPI documents: `/openapi/v2` and `/openapi/v3` (index plus one document
//! per group-version, addressed with content hashes so clients can cache them forever).

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha512};

use super::negotiate::MediaType;
use super::request::Query;
use super::{bytes_response, json_response, Body};
use crate::registry::ApiError;

/// The documents a generated server embeds (`cargo xtask generate` writes them; the generated crate
/// includes them).
#[derive(Debug, Clone, Copy)]
pub struct OpenApiDocs {
    /// `/openapi/v2`.
    pub v2: &'static str,
    /// `(path, document)` per group-version: `("api/v1", ..)`, `("apis/apps/v1", ..)`.
    pub v3: &'static [(&'static str, &'static str)],
}

/// The served form: bytes plus hashes, computed once at start.
pub struct OpenApi {
    v2: Bytes,
    v2_etag: String,
    v3: Vec<(String, Bytes, String)>,
    index: Bytes,
}

fn sha512_hex(bytes: &[u8]) -> String {
    Sha512::digest(bytes).iter().map(|b| format!("{b:02X}")).collect()
}

impl OpenApi {
    /// Prepares `docs` for serving.
    pub fn new(docs: OpenApiDocs) -> OpenApi {
        let v3: Vec<(String, Bytes, String)> = docs
            .v3
            .iter()
            .map(|(path, doc)| ((*path).to_string(), Bytes::from_static(doc.as_bytes()), sha512_hex(doc.as_bytes())))
            .collect();
        let mut paths = Map::new();
        for (path, _, hash) in &v3 {
            paths.insert(path.clone(), json!({ "serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}") }));
        }
        let index = Bytes::from(serde_json::to_vec(&json!({ "paths": paths })).unwrap_or_default());
        OpenApi {
            v2_etag: format!("\"{}\"", sha512_hex(docs.v2.as_bytes())),
            v2: Bytes::from_static(docs.v2.as_bytes()),
            v3,
            index,
        }
    }

    /// An empty set of documents (tests).
    pub fn empty() -> OpenApi {
        OpenApi::new(OpenApiDocs { v2: "{}", v3: &[] })
    }

    /// Serves `/openapi/v2` and `/openapi/v3[/<path>]`.
    pub fn serve(&self, path: &str, query: &Query, accept: &[MediaType], headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
        let json_ok = accept.iter().any(|m| matches!(m.essence.as_str(), "application/json" | "*/*" | "application/*"));
        if !json_ok {
            return Err(ApiError::NotAcceptable("application/json".into()));
        }
        if path == "/openapi/v2" {
            let mut r = bytes_response(StatusCode::OK, "application/json", self.v2.clone());
            if let Ok(v) = HeaderValue::from_str(&self.v2_etag) {
                r.headers_mut().insert(header::ETAG, v);
            }
            return Ok(not_modified_or(r, headers));
        }
        let rest = path.trim_start_matches("/openapi/v3").trim_matches('/');
        if rest.is_empty() {
            return Ok(bytes_response(StatusCode::OK, "application/json", self.index.clone()));
        }
        let Some((_, doc, hash)) = self.v3.iter().find(|(p, _, _)| p == rest) else {
            return Ok(json_response(StatusCode::NOT_FOUND, &Value::String(format!("404 page not found: {rest}"))));
        };
        let mut r = bytes_response(StatusCode::OK, "application/json", doc.clone());
        match query.get("hash") {
            Some(h) if h == hash => {
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
                r.headers_mut().insert(header::EXPIRES, HeaderValue::from_static("Fri, 25 Nov 2126 00:00:00 GMT"));
            }
            Some(_) => {
                // An outdated hash: redirect to the current one.
                let mut moved = Response::new(super::full(Bytes::new()));
                *moved.status_mut() = StatusCode::MOVED_PERMANENTLY;
                if let Ok(v) = HeaderValue::from_str(&format!("/openapi/v3/{rest}?hash={hash}")) {
                    moved.headers_mut().insert(header::LOCATION, v);
                }
                return Ok(moved);
            }
            None => {
                r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, private"));
            }
        }
        if let Ok(v) = HeaderValue::from_str(&format!("\"{hash}\"")) {
            r.headers_mut().insert(header::ETAG, v);
        }
        Ok(not_modified_or(r, headers))
    }
}

fn not_modified_or(r: Response<Body>, headers: &HeaderMap) -> Response<Body> {
    let etag = r.headers().get(header::ETAG).cloned();
    match (etag, headers.get(header::IF_NONE_MATCH)) {
        (Some(e), Some(inm)) if e == inm => {
            let mut nm = Response::new(super::full(Bytes::new()));
            *nm.status_mut() = StatusCode::NOT_MODIFIED;
            nm.headers_mut().insert(header::ETAG, e);
            nm
        }
        _ => r,
    }
}
