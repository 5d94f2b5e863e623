//! Content negotiation: what a client accepts (`Accept`), what it sent (`Content-Type`), and
//! decoding request bodies (JSON and YAML).

use serde_json::Value;

use crate::apimachinery::proto;
use crate::apimachinery::schema::Schema;
use crate::apimachinery::table::IncludeObject;
use crate::registry::{ApiError, PatchType};

/// The largest request body accepted (upstream's 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// One media range of an `Accept` header (or a `Content-Type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower case.
    pub essence: String,
    /// Parameters (`as`, `g`, `v`, ...).
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Parses `application/json;as=Table;v=v1;g=meta.k8s.io`.
    pub fn parse(s: &str) -> MediaType {
        let mut parts = s.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
            })
            .collect();
        MediaType { essence, params }
    }

    /// A parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn is_json(&self) -> bool {
        matches!(self.essence.as_str(), "application/json" | "application/*" | "*/*")
    }
}

/// Parses an `Accept` header into its media ranges, in the client's order (q-values are honoured
/// only to drop `q=0`).
pub fn parse_accept(header: Option<&str>) -> Vec<MediaType> {
    let header = header.unwrap_or("").trim();
    if header.is_empty() {
        return vec![MediaType::parse("application/json")];
    }
    header
        .split(',')
        .map(MediaType::parse)
        .filter(|m| m.param("q") != Some("0"))
        .collect()
}

/// How a resource response is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The object (or list) as JSON.
    Json,
    /// The object as YAML.
    Yaml,
    /// A `meta.k8s.io/v1` Table.
    Table(IncludeObject),
    /// `PartialObjectMetadata` (or its list).
    PartialMetadata,
    /// `application/vnd.kubernetes.protobuf` (built-in kinds, when the client accepts no JSON).
    Protobuf,
}

/// Kubernetes protobuf.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The media types a resource response can be given in (for 406 messages).
pub const SUPPORTED: &str = "application/json, application/yaml, application/vnd.kubernetes.protobuf";

/// Chooses the output for a resource request. Protobuf is chosen only for kinds that have a
/// protobuf form (`protobuf_ok`) and clients that accept no JSON.
pub fn negotiate(accept: &[MediaType], include_object: IncludeObject, protobuf_ok: bool) -> Result<Output, ApiError> {
    let json_acceptable = accept.iter().any(|m| m.param("as").is_none() && (m.is_json() || m.essence == "application/yaml"));
    for m in accept {
        if m.essence == PROTOBUF && m.param("as").is_none() && protobuf_ok && !json_acceptable {
            return Ok(Output::Protobuf);
        }
        match m.param("as") {
            Some("Table") if m.is_json() && m.param("g") == Some("meta.k8s.io") && matches!(m.param("v"), Some("v1" | "v1beta1")) => {
                return Ok(Output::Table(include_object))
            }
            Some("PartialObjectMetadata" | "PartialObjectMetadataList")
                if m.is_json() && m.param("g") == Some("meta.k8s.io") && matches!(m.param("v"), Some("v1" | "v1beta1")) =>
            {
                return Ok(Output::PartialMetadata)
            }
            Some(_) => continue,
            None => {}
        }
        match m.essence.as_str() {
            "application/json" | "application/*" | "*/*" | "*" => return Ok(Output::Json),
            "application/yaml" => return Ok(Output::Yaml),
            _ => {}
        }
    }
    Err(ApiError::NotAcceptable(SUPPORTED.into()))
}

/// Decodes a create/update body by its `Content-Type`; protobuf bodies need the kind's schema.
pub fn decode_body(content_type: Option<&str>, body: &[u8], kind: &str, schema: Option<&Schema>) -> Result<Value, ApiError> {
    let ct = MediaType::parse(content_type.unwrap_or("application/json"));
    match ct.essence.as_str() {
        "application/json" | "" => parse_json(body, kind),
        "application/yaml" => parse_yaml(body, kind),
        PROTOBUF => match schema {
            Some(schema) => proto::decode_object(schema, body).map_err(|e| match e {
                proto::ProtoError::NoProtobuf { .. } => unsupported_body(),
                other => ApiError::BadRequest(format!("the object provided is unrecognized (must be of type {kind}): {other}")),
            }),
            None => Err(unsupported_body()),
        },
        _ => Err(unsupported_body()),
    }
}

fn unsupported_body() -> ApiError {
    ApiError::UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf".into(),
    )
}

/// The patch type of a PATCH's `Content-Type`.
pub fn patch_type(content_type: Option<&str>) -> Option<PatchType> {
    let ct = MediaType::parse(content_type.unwrap_or(""));
    match ct.essence.as_str() {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        "application/apply-patch+yaml" => Some(PatchType::Apply),
        _ => None,
    }
}

/// Parses a JSON body; failures read as upstream's decoder reports them.
pub fn parse_json(body: &[u8], kind: &str) -> Result<Value, ApiError> {
    crate::apimachinery::heavy::off_the_workers(body.len(), || crate::apimachinery::json::from_slice(body)).map_err(|e| {
        ApiError::BadRequest(format!(
            "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {e} ({})",
            summarize(body)
        ))
    })
}

/// Parses a YAML body (its first document) into JSON as upstream does (sigs.k8s.io/yaml): linear in
/// the body, nesting up to 10,000 levels, YAML 1.1 scalars.
pub fn parse_yaml(body: &[u8], kind: &str) -> Result<Value, ApiError> {
    crate::apimachinery::heavy::off_the_workers(body.len(), || crate::apimachinery::yaml::to_json(body)).map_err(|e| {
        ApiError::BadRequest(format!("the object provided is unrecognized (must be of type {kind}): {e} ({})", summarize(body)))
    })
}

/// The start of a body in a decode error, as upstream's `summarizeData` writes it: JSON objects
/// as text, anything else as hex, 30 bytes at most.
pub fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let head = &body[..body.len().min(MAX)];
    let more = if body.len() > MAX { " ..." } else { "" };
    match body.first() {
        None => "<empty>".into(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(head)),
        Some(_) => format!("{}{more}", head.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_accept_header() {
        let a = parse_accept(Some(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        ));
        assert_eq!(negotiate(&a, IncludeObject::Metadata, true).ok(), Some(Output::Table(IncludeObject::Metadata)));
        let a = parse_accept(Some("application/vnd.kubernetes.protobuf, application/json"));
        assert_eq!(negotiate(&a, IncludeObject::Metadata, true).ok(), Some(Output::Json));
        let a = parse_accept(Some("application/vnd.kubernetes.protobuf"));
        assert_eq!(negotiate(&a, IncludeObject::Metadata, true).ok(), Some(Output::Protobuf));
        assert_eq!(negotiate(&a, IncludeObject::Metadata, false).map_err(|e| e.code()).err(), Some(406));
        assert_eq!(negotiate(&parse_accept(None), IncludeObject::Metadata, true).ok(), Some(Output::Json));
        assert_eq!(negotiate(&parse_accept(Some("application/yaml")), IncludeObject::Metadata, true).ok(), Some(Output::Yaml));
    }

    #[test]
    fn bodies() {
        let v = decode_body(Some("application/yaml"), b"a: 1\nb: [x, true]\n", "ConfigMap", None).ok();
        assert_eq!(v, Some(serde_json::json!({"a": 1, "b": ["x", true]})));
        let e = decode_body(Some("application/json"), b"{not json", "ConfigMap", None).err().map(|e| e.code());
        assert_eq!(e, Some(400));
        assert_eq!(decode_body(Some("text/plain"), b"x", "ConfigMap", None).err().map(|e| e.code()), Some(415));
        assert_eq!(patch_type(Some("application/merge-patch+json; charset=utf-8")), Some(PatchType::Merge));
        assert_eq!(patch_type(Some("application/json")), None);
    }
}
