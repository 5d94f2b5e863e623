//! Storage media types (`--storage-media-type`): how objects are written to storage, as
//! kube-apiserver does — `application/vnd.kubernetes.protobuf` (the default: `k8s\0` and a
//! `runtime.Unknown` envelope), `application/json` or `application/yaml`. Custom resources have no
//! protobuf form and are stored as JSON under the protobuf media type (as upstream).
//!
//! The registry and the watch cache work on JSON objects. [`Transcoded`] wraps a backend for one
//! kind: it encodes the registry's objects once, straight from the value, and serves reads as JSON;
//! the watch cache reads the backend itself and decodes with [`ObjectCodec::decode_value`] (no JSON
//! in between). Reads recognise every format whatever the flag says (by the protobuf magic, else
//! JSON, else YAML), so changing the flag needs no migration: objects are rewritten in the new
//! format as they are next written.

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

use super::{Event, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchItem, WatchStream};
use crate::apimachinery::conversion::Converter;
use crate::apimachinery::{heavy, proto};

use crate::apimachinery::schema::Schema;

/// `--storage-media-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaType {
    /// `application/json`.
    Json,
    /// `application/yaml`.
    Yaml,
    /// `application/vnd.kubernetes.protobuf` (upstream's default).
    #[default]
    Protobuf,
}

impl MediaType {
    /// Parses the flag's value (upstream's three media types).
    pub fn parse(value: &str) -> Result<MediaType, String> {
        match value {
            "application/json" => Ok(MediaType::Json),
            "application/yaml" => Ok(MediaType::Yaml),
            proto::CONTENT_TYPE => Ok(MediaType::Protobuf),
            other => Err(format!(
                "unsupported storage media type {other:?}: use application/json, application/yaml or {}",
                proto::CONTENT_TYPE
            )),
        }
    }

    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Json => "application/json",
            MediaType::Yaml => "application/yaml",
            MediaType::Protobuf => proto::CONTENT_TYPE,
        }
    }
}

/// Converts one kind's objects between the registry's JSON and the stored format.
#[derive(Debug, Clone)]
pub struct ObjectCodec {
    /// The format new writes use (JSON for a protobuf flag on a kind without protobuf).
    media: MediaType,
    /// The schema objects are stored with (the storage version's).
    schema: &'static Schema,
    /// For a version other than the storage version: the conversions between them.
    versions: Option<Arc<Versions>>,
}

/// The versions a codec converts between.
#[derive(Debug)]
struct Versions {
    /// The version the codec's user reads and writes (`v2`).
    served: &'static str,
    /// The version objects are stored at (`v1`).
    storage: &'static str,
    converter: Converter,
}

impl ObjectCodec {
    /// The codec of a kind with root schema `schema` under `--storage-media-type=media`.
    pub fn new(media: MediaType, schema: &'static Schema) -> ObjectCodec {
        let has_protobuf = schema.object().is_some_and(|o| o.protobuf);
        let media = if media == MediaType::Protobuf && !has_protobuf { MediaType::Json } else { media };
        ObjectCodec { media, schema, versions: None }
    }

    /// The codec of version `served` of a resource stored at version `storage` (whose schema
    /// `schema` is): reads convert stored objects (at any version) to `served`, writes convert to
    /// `storage`.
    pub fn versioned(media: MediaType, schema: &'static Schema, served: &'static str, storage: &'static str, converter: Converter) -> ObjectCodec {
        let codec = ObjectCodec::new(media, schema);
        ObjectCodec { versions: Some(Arc::new(Versions { served, storage, converter })), ..codec }
    }

    /// `object` at the served version (stored objects may be at any version: written before the
    /// storage version changed, or by another server).
    fn to_served(&self, object: Value) -> Result<Value, String> {
        match &self.versions {
            Some(v) => v.converter.convert(object, v.served).map_err(|e| e.to_string()),
            None => Ok(object),
        }
    }

    /// The format writes use.
    pub fn media_type(&self) -> MediaType {
        self.media
    }

    /// An object (as the registry holds it) → stored bytes: encoded once, straight from the value.
    pub fn encode_value(&self, object: &Value) -> Result<Bytes, StorageError> {
        heavy::off_the_workers_for(object, || self.encode_value_here(object))
    }

    fn encode_value_here(&self, object: &Value) -> Result<Bytes, StorageError> {
        if let Some(v) = &self.versions {
            if object.get("apiVersion").and_then(Value::as_str).is_none_or(|av| av.rsplit('/').next() != Some(v.storage)) {
                let stored = v.converter.convert(object.clone(), v.storage).map_err(|e| StorageError::Encoding(e.to_string()))?;
                return ObjectCodec { versions: None, ..self.clone() }.encode_value_here(&stored);
            }
        }
        match self.media {
            MediaType::Json => serde_json::to_vec(object).map(Bytes::from).map_err(encode_error),
            MediaType::Yaml => serde_yaml::to_string(object).map(Bytes::from).map_err(encode_error),
            MediaType::Protobuf => proto::encode_object(self.schema, object).map(Bytes::from).map_err(encode_error),
        }
    }

    /// Stored bytes (any format) → the object, without a JSON round trip for protobuf and YAML.
    pub fn decode_value(&self, stored: &[u8]) -> Result<Value, String> {
        heavy::off_the_workers(stored.len(), || self.decode_value_here(stored))
    }

    fn decode_value_here(&self, stored: &[u8]) -> Result<Value, String> {
        self.to_served(self.parse_stored(stored)?)
    }

    /// Stored bytes → the object as stored (at the version it was written at).
    fn parse_stored(&self, stored: &[u8]) -> Result<Value, String> {
        if stored.starts_with(&proto::MAGIC) {
            return proto::decode_object(self.schema, stored).map_err(|e| e.to_string());
        }
        match stored.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => crate::apimachinery::json::from_slice(stored).map_err(|e| e.to_string()),
            Some(_) => serde_yaml::from_slice(stored).map_err(|e| e.to_string()),
        }
    }

    /// JSON (as the registry writes it) → stored bytes.
    pub fn encode(&self, json: Bytes) -> Result<Bytes, StorageError> {
        if self.media == MediaType::Json {
            return Ok(json);
        }
        heavy::off_the_workers(json.len(), || {
            let value: Value = crate::apimachinery::json::from_slice(&json).map_err(encode_error)?;
            self.encode_value_here(&value)
        })
    }

    /// Stored bytes (any format) → JSON. Bytes that are none of the formats are passed on as they
    /// are, for the JSON decoder above to report.
    pub fn decode(&self, stored: Bytes) -> Result<Bytes, StorageError> {
        if self.versions.is_some() {
            return heavy::off_the_workers(stored.len(), || match self.parse_stored(&stored) {
                Ok(v @ Value::Object(_)) => {
                    let served = self.to_served(v).map_err(StorageError::Encoding)?;
                    Ok(serde_json::to_vec(&served).map(Bytes::from).unwrap_or(stored))
                }
                // Not an object: passed on for the JSON decoder to report.
                _ => Ok(stored),
            });
        }
        Ok(match stored.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | None => stored,
            _ => heavy::off_the_workers(stored.len(), || match self.decode_value_here(&stored) {
                Ok(v @ Value::Object(_)) => serde_json::to_vec(&v).map(Bytes::from).unwrap_or(stored),
                _ => stored,
            }),
        })
    }

    fn decode_kv(&self, mut kv: KeyValue) -> Result<KeyValue, StorageError> {
        if !kv.value.is_empty() {
            kv.value = self.decode(kv.value)?;
        }
        Ok(kv)
    }
}

fn encode_error(e: impl std::fmt::Display) -> StorageError {
    StorageError::Encoding(e.to_string())
}

/// A backend seen through one kind's [`ObjectCodec`]: JSON in, JSON out.
pub struct Transcoded {
    inner: Arc<dyn Storage>,
    codec: ObjectCodec,
}

impl Transcoded {
    /// Wraps `inner` (under every media type: reads may meet objects written under another).
    /// Writes of objects the caller holds as values go through [`Transcoded::create_object`] and
    /// [`Transcoded::update_object`], encoded once.
    pub fn new(inner: Arc<dyn Storage>, codec: ObjectCodec) -> Arc<Transcoded> {
        Arc::new(Transcoded { inner, codec })
    }

    /// [`Storage::create`] of an object, encoded once from the value (no JSON in between).
    pub async fn create_object(&self, key: &str, object: &Value) -> Result<Revision, StorageError> {
        self.inner.create(key, self.codec.encode_value(object)?).await
    }

    /// [`Storage::update`] of an object, encoded once from the value.
    pub async fn update_object(&self, key: &str, object: &Value, expected: Revision) -> Result<Revision, StorageError> {
        self.inner.update(key, self.codec.encode_value(object)?, expected).await
    }
}

#[async_trait::async_trait]
impl Storage for Transcoded {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError> {
        self.inner.get(key, revision).await?.map(|kv| self.codec.decode_kv(kv)).transpose()
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let mut result = self.inner.list(prefix, opts).await?;
        result.items = result.items.into_iter().map(|kv| self.codec.decode_kv(kv)).collect::<Result<_, _>>()?;
        Ok(result)
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError> {
        self.inner.create(key, self.codec.encode(value)?).await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision, StorageError> {
        self.inner.update(key, self.codec.encode(value)?, expected).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision), StorageError> {
        let (kv, rev) = self.inner.delete(key, expected).await?;
        Ok((self.codec.decode_kv(kv)?, rev))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        let codec = self.codec.clone();
        let stream = self.inner.watch(prefix, after).await?;
        Ok(Box::pin(stream.map(move |item| match item {
            Ok(WatchItem::Event(e)) => Ok(WatchItem::Event(Event {
                kind: e.kind,
                kv: codec.decode_kv(e.kv)?,
                prev: e.prev.map(|p| codec.decode_kv(p)).transpose()?,
            })),
            other => other,
        })))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        self.inner.compacted_revision().await
    }

    fn progress_requests(&self) -> bool {
        self.inner.progress_requests()
    }

    fn writable(&self) -> Result<(), StorageError> {
        self.inner.writable()
    }
}
