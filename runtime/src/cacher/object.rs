//! What the watch cache keeps per object: the served bytes (made once, shared by every list and
//! watcher) plus the few decoded facts selectors need, and the codec interface that makes them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;

use crate::storage::{KeyValue, Revision};

/// A small immutable string map (labels, selectable field values) stored compactly: all keys and
/// values in one string, plus one offset pair per entry, sorted by key. Two allocations however many
/// entries (a `BTreeMap<String, String>` costs a 500-byte node plus two allocations per entry), which
/// matters when it sits beside a 1 KiB object in a cache of 100,000.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct AttrMap {
    /// Keys and values back to back: entry `i` is `text[start..key_end]` → `text[key_end..value_end]`
    /// with `start` the previous entry's `value_end`.
    text: Box<str>,
    /// `(key_end, value_end)` per entry, entries sorted by key.
    ends: Box<[(u32, u32)]>,
}

impl AttrMap {
    /// The empty map (allocates nothing).
    pub fn new() -> AttrMap {
        AttrMap::default()
    }

    /// Builds a map from pairs in any order; a repeated key keeps its last value.
    pub fn from_pairs<K, V, I>(pairs: I) -> AttrMap
    where
        K: Into<String>,
        V: Into<String>,
        I: IntoIterator<Item = (K, V)>,
    {
        let sorted: BTreeMap<String, String> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        AttrMap::from(&sorted)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let (mut lo, mut hi) = (0, self.ends.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.entry(mid);
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(v),
            }
        }
        None
    }

    /// True if `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        (0..self.ends.len()).map(|i| self.entry(i))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True if there are no entries.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Heap bytes held (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + std::mem::size_of_val::<[(u32, u32)]>(&self.ends)
    }

    /// Entry `i`: its key starts where the previous entry's value ends.
    fn entry(&self, i: usize) -> (&str, &str) {
        let start = if i == 0 { 0 } else { self.ends.get(i - 1).map_or(0, |e| e.1 as usize) };
        let (key_end, value_end) = self.ends.get(i).map_or((start, start), |&(k, v)| (k as usize, v as usize));
        (self.text.get(start..key_end).unwrap_or_default(), self.text.get(key_end..value_end).unwrap_or_default())
    }
}

impl From<&BTreeMap<String, String>> for AttrMap {
    fn from(map: &BTreeMap<String, String>) -> AttrMap {
        let mut text = String::with_capacity(map.iter().map(|(k, v)| k.len() + v.len()).sum());
        let mut ends = Vec::with_capacity(map.len());
        for (k, v) in map {
            // Offsets are u32: attributes come from objects of at most 1.5 MiB; anything beyond
            // 4 GiB of text (impossible) is dropped rather than mis-indexed.
            let (Ok(key_end), Ok(value_end)) =
                (u32::try_from(text.len() + k.len()), u32::try_from(text.len() + k.len() + v.len()))
            else {
                break;
            };
            text.push_str(k);
            text.push_str(v);
            ends.push((key_end, value_end));
        }
        AttrMap { text: text.into_boxed_str(), ends: ends.into_boxed_slice() }
    }
}

impl From<BTreeMap<String, String>> for AttrMap {
    fn from(map: BTreeMap<String, String>) -> AttrMap {
        AttrMap::from(&map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> AttrMap {
        AttrMap::from_pairs(iter)
    }
}

impl fmt::Debug for AttrMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The field-set key of an object's name, as in upstream's `fields.Set`.
pub const FIELD_NAME: &str = "metadata.name";
/// The field-set key of an object's namespace.
pub const FIELD_NAMESPACE: &str = "metadata.namespace";

/// One object revision as the cache holds it. Shared (`Arc`) by the current state, the event ring, every
/// watcher and every list that serves it: its `bytes` are made once per revision.
pub struct CachedObject {
    /// Storage key (`/registry/pods/default/web-0`).
    pub key: Arc<str>,
    /// The revision these bytes carry as `metadata.resourceVersion` (for a DELETED event: the delete's).
    pub revision: Revision,
    /// The served encoding (JSON), ready to write to the wire.
    pub bytes: Bytes,
    /// `metadata.labels`.
    pub labels: AttrMap,
    /// Selectable field values, including `metadata.name` and (namespaced kinds) `metadata.namespace`.
    pub fields: AttrMap,
    /// The protobuf form (`k8s\0` envelope), made when a protobuf watcher first asks and then
    /// shared by all of them (None inside: the object has no protobuf form).
    pub protobuf: OnceLock<Option<Bytes>>,
}

impl CachedObject {
    /// Builds the cached form of `decoded` for `key` at `revision`.
    pub fn new(key: impl Into<Arc<str>>, revision: Revision, decoded: Decoded) -> CachedObject {
        CachedObject::with_bytes(key, revision, decoded.bytes, decoded.labels, decoded.fields)
    }

    /// The cached form of an object whose JSON is `bytes`.
    pub fn with_bytes(key: impl Into<Arc<str>>, revision: Revision, bytes: Bytes, labels: AttrMap, fields: AttrMap) -> CachedObject {
        CachedObject { key: key.into(), revision, bytes, labels, fields, protobuf: OnceLock::new() }
    }

    /// This revision's protobuf form, encoded by `encode` (from the JSON bytes) once for every
    /// watcher and request that asks.
    pub fn protobuf(&self, encode: impl FnOnce(&[u8]) -> Option<Vec<u8>>) -> Option<Bytes> {
        self.protobuf.get_or_init(|| encode(&self.bytes).map(Bytes::from)).clone()
    }

    /// `metadata.name` (empty if the codec did not report it).
    pub fn name(&self) -> &str {
        self.fields.get(FIELD_NAME).unwrap_or_default()
    }

    /// `metadata.namespace` (empty for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        self.fields.get(FIELD_NAMESPACE).unwrap_or_default()
    }

    /// Approximate bytes this object holds, allocations included (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<CachedObject>()
            + self.key.len()
            + self.bytes.len()
            + self.labels.heap_bytes()
            + self.fields.heap_bytes()
            + self.protobuf.get().and_then(Option::as_ref).map_or(0, Bytes::len)
    }
}

impl fmt::Debug for CachedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedObject")
            .field("key", &self.key)
            .field("revision", &self.revision)
            .field("bytes", &self.bytes.len())
            .field("labels", &self.labels)
            .field("fields", &self.fields)
            .finish()
    }
}

/// What a codec makes of one stored value.
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    /// The served encoding with `metadata.resourceVersion` set. Make it exactly sized
    /// (`Vec::shrink_to_fit` before `Bytes::from`): the cache keeps these bytes for the object's life.
    pub bytes: Bytes,
    /// `metadata.labels`.
    pub labels: AttrMap,
    /// Selectable field values, including `metadata.name` and `metadata.namespace`.
    pub fields: AttrMap,
}

/// A stored value the codec could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// Turns stored values into served objects. The runtime's cacher never names a kind: the codec (one
/// per resource, from the codec layer) knows the encoding and which fields are selectable.
pub trait ObjectCodec: Send + Sync + 'static {
    /// Decodes `kv.value`, stamping `metadata.resourceVersion` with `kv.mod_revision`.
    fn decode(&self, kv: &KeyValue) -> Result<Decoded, DecodeError>;

    /// The served bytes of `object` with `metadata.resourceVersion` set to `revision`: a watch sends
    /// an object that left a selector as DELETED carrying the event's revision, as upstream does.
    fn with_revision(&self, object: &CachedObject, revision: Revision) -> Result<Bytes, DecodeError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_map_lookup_and_order() {
        let m = AttrMap::from_pairs([("tier", "web"), ("app", "nginx"), ("a", ""), ("app", "httpd")]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("app"), Some("httpd"));
        assert_eq!(m.get("a"), Some(""));
        assert_eq!(m.get("tier"), Some("web"));
        assert_eq!(m.get("ap"), None);
        assert_eq!(m.get("zzz"), None);
        let pairs: Vec<_> = m.iter().collect();
        assert_eq!(pairs, vec![("a", ""), ("app", "httpd"), ("tier", "web")]);
        assert_eq!(format!("{m:?}"), r#"{"a": "", "app": "httpd", "tier": "web"}"#);
        assert!(AttrMap::new().is_empty());
        assert_eq!(AttrMap::new().get("x"), None);
    }

    #[test]
    fn attr_map_keys_that_prefix_each_other() {
        // Empty values make consecutive entries share offsets; lookups must still find each key.
        let m = AttrMap::from_pairs([("x", ""), ("xy", ""), ("xyz", "1"), ("", "empty-key")]);
        assert_eq!(m.get(""), Some("empty-key"));
        assert_eq!(m.get("x"), Some(""));
        assert_eq!(m.get("xy"), Some(""));
        assert_eq!(m.get("xyz"), Some("1"));
        assert_eq!(m.iter().count(), 4);
    }
}
