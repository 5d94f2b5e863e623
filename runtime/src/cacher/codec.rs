//! `JsonCodec`: a kind-agnostic [`ObjectCodec`] for objects stored as JSON (or, with
//! [`JsonCodec::for_storage`], in any storage media type: protobuf is decoded straight into the
//! object, without JSON in between). It stamps `metadata.resourceVersion` and reads labels, name,
//! namespace and the kind's selectable fields; the cache keeps the object's JSON.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::object::{AttrMap, CachedObject, DecodeError, Decoded, ObjectCodec, FIELD_NAME, FIELD_NAMESPACE};
use crate::apimachinery::jsonpath::JsonPath;
use crate::storage::codec::ObjectCodec as StorageCodec;
use crate::storage::{KeyValue, Revision};

/// Decodes JSON-stored objects of one kind.
#[derive(Debug, Clone)]
pub struct JsonCodec {
    /// Selectable fields beyond name and namespace (`spec.nodeName`), with their parsed paths.
    fields: Vec<(String, Option<JsonPath>)>,
    /// How stored bytes decode; `None`: they are JSON.
    stored: Option<StorageCodec>,
}

impl JsonCodec {
    /// A codec reporting `metadata.name`, `metadata.namespace` (when set) and these selectable
    /// fields (`KindInfo::selectable_fields`, without leading dot).
    pub fn new<S: AsRef<str>>(selectable_fields: &[S]) -> JsonCodec {
        let fields = selectable_fields
            .iter()
            .map(|f| {
                let f = f.as_ref().trim_start_matches('.');
                (f.to_string(), JsonPath::parse(&format!(".{f}")).ok())
            })
            .collect();
        JsonCodec { fields, stored: None }
    }

    /// [`JsonCodec::new`] for stored bytes in any of `stored`'s formats.
    pub fn for_storage<S: AsRef<str>>(selectable_fields: &[S], stored: StorageCodec) -> JsonCodec {
        JsonCodec { stored: Some(stored), ..JsonCodec::new(selectable_fields) }
    }

    fn parse_stored(&self, bytes: &[u8]) -> Result<Value, DecodeError> {
        let Some(stored) = &self.stored else { return JsonCodec::parse(bytes) };
        let value = stored.decode_value(bytes).map_err(DecodeError)?;
        if !value.is_object() {
            return Err(DecodeError("stored value is not a JSON object".into()));
        }
        Ok(value)
    }

    fn parse(bytes: &[u8]) -> Result<Value, DecodeError> {
        let value: Value = crate::apimachinery::json::from_slice(bytes).map_err(|e| DecodeError(e.to_string()))?;
        if !value.is_object() {
            return Err(DecodeError("stored value is not a JSON object".into()));
        }
        Ok(value)
    }

    /// Sets `metadata.resourceVersion`, creating `metadata` if needed.
    fn stamp(value: &mut Value, revision: Revision) -> Result<(), DecodeError> {
        let object = value.as_object_mut().ok_or_else(|| DecodeError("stored value is not a JSON object".into()))?;
        let metadata = object.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        let metadata = metadata.as_object_mut().ok_or_else(|| DecodeError("metadata is not an object".into()))?;
        metadata.insert("resourceVersion".into(), Value::String(revision.to_string()));
        Ok(())
    }

    /// Encodes exactly sized: the cache keeps these bytes as long as the object lives.
    fn encode(value: &Value, size_hint: usize) -> Result<Bytes, DecodeError> {
        let mut out = Vec::with_capacity(size_hint);
        serde_json::to_writer(&mut out, value).map_err(|e| DecodeError(e.to_string()))?;
        out.shrink_to_fit();
        Ok(Bytes::from(out))
    }
}

impl ObjectCodec for JsonCodec {
    fn decode(&self, kv: &KeyValue) -> Result<Decoded, DecodeError> {
        let mut value = self.parse_stored(&kv.value)?;
        JsonCodec::stamp(&mut value, kv.mod_revision)?;
        let metadata = value.get("metadata");
        let labels: AttrMap = metadata
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| labels.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect())
            .unwrap_or_default();
        let text = |field: &str| metadata.and_then(|m| m.get(field)).and_then(Value::as_str);
        let mut fields: Vec<(&str, String)> = Vec::with_capacity(self.fields.len() + 2);
        fields.push((FIELD_NAME, text("name").unwrap_or_default().to_string()));
        if let Some(ns) = text("namespace").filter(|ns| !ns.is_empty()) {
            fields.push((FIELD_NAMESPACE, ns.to_string()));
        }
        for (name, path) in &self.fields {
            let found = path.as_ref().and_then(|p| p.find_first(&value));
            let text = match found {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => crate::apimachinery::go::format_number(n),
                _ => String::new(),
            };
            fields.push((name.as_str(), text));
        }
        let fields = AttrMap::from_pairs(fields);
        let bytes = JsonCodec::encode(&value, kv.value.len() + 48)?;
        Ok(Decoded { bytes, labels, fields })
    }

    fn with_revision(&self, object: &CachedObject, revision: Revision) -> Result<Bytes, DecodeError> {
        let mut value = JsonCodec::parse(&object.bytes)?;
        JsonCodec::stamp(&mut value, revision)?;
        JsonCodec::encode(&value, object.bytes.len() + 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(value: &str, rev: Revision) -> KeyValue {
        KeyValue {
            key: "/registry/pods/ns/p".into(),
            value: Bytes::from(value.to_string()),
            create_revision: rev,
            mod_revision: rev,
        }
    }

    #[test]
    fn decodes_attrs_and_stamps_revision() {
        let codec = JsonCodec::new(&["spec.nodeName", ".status.ready", "spec.replicas", "spec.missing"]);
        let d = codec
            .decode(&kv(
                r#"{"kind":"Pod","metadata":{"name":"p","namespace":"ns","labels":{"app":"web","n":1}},"spec":{"nodeName":"n1","replicas":3},"status":{"ready":true}}"#,
                42,
            ))
            .expect("decode");
        let json: Value = crate::apimachinery::json::from_slice(&d.bytes).expect("json");
        assert_eq!(json["metadata"]["resourceVersion"], "42");
        assert_eq!(d.labels.get("app"), Some("web"));
        assert_eq!(d.labels.get("n"), None, "non-string label values are ignored");
        assert_eq!(d.fields.get(FIELD_NAME), Some("p"));
        assert_eq!(d.fields.get(FIELD_NAMESPACE), Some("ns"));
        assert_eq!(d.fields.get("spec.nodeName"), Some("n1"));
        assert_eq!(d.fields.get("status.ready"), Some("true"));
        assert_eq!(d.fields.get("spec.replicas"), Some("3"));
        assert_eq!(d.fields.get("spec.missing"), Some(""));
        let obj = CachedObject::new("/registry/pods/ns/p", 42, d);
        let restamped = codec.with_revision(&obj, 50).expect("restamp");
        let json: Value = crate::apimachinery::json::from_slice(&restamped).expect("json");
        assert_eq!(json["metadata"]["resourceVersion"], "50");
        assert_eq!(json["spec"]["nodeName"], "n1");
    }

    #[test]
    fn rejects_non_objects() {
        let codec = JsonCodec::new::<&str>(&[]);
        assert!(codec.decode(&kv("[1]", 2)).is_err());
        assert!(codec.decode(&kv("not json", 2)).is_err());
        assert!(codec.decode(&kv(r#"{"metadata":[]}"#, 2)).is_err());
        let d = codec.decode(&kv(r#"{"kind":"X"}"#, 7)).expect("no metadata is fine");
        assert_eq!(d.fields.get(FIELD_NAME), Some(""));
    }
}
