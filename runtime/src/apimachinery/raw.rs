//! `runtime.RawExtension` and `metav1.FieldsV1`: opaque JSON carried through unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `runtime.RawExtension`: any embedded JSON object, kept as decoded JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawExtension(pub Value);

/// `metav1.FieldsV1`: the managed-fields set in its JSON trie form (`{"f:spec":{".":{}}}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldsV1(pub Value);

impl From<Value> for RawExtension {
    fn from(v: Value) -> Self {
        RawExtension(v)
    }
}

impl From<Value> for FieldsV1 {
    fn from(v: Value) -> Self {
        FieldsV1(v)
    }
}
