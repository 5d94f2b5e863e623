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
    serde_json::from_slice(body).map_err(|e| {
        let snippet: String = String::from_utf8_lossy(body).chars().take(100).collect();
        ApiError::BadRequest(format!(
            "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {e} ({snippet})"
        ))
    })
}

/// Parses a YAML body (one document) into JSON.
pub fn parse_yaml(body: &[u8], kind: &str) -> Result<Value, ApiError> {
    let yaml: serde_yaml::Value = serde_yaml::from_slice(body).map_err(|e| {
        ApiError::BadRequest(format!("the object provided is unrecognized (must be of type {kind}): yaml: {e}"))
    })?;
    yaml_to_json(yaml).map_err(|e| ApiError::BadRequest(format!("error converting YAML to JSON: {e}")))
}

/// YAML → JSON as sigs.k8s.io/yaml does: keys become strings, non-finite floats are refused.
pub fn yaml_to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f).map(Value::Number).ok_or_else(|| format!("invalid number {f}"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".into(),
                    other => return Err(format!("unsupported map key {other:?}")),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value)?,
    })
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
