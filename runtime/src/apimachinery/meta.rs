//! `meta/v1` object types: ObjectMeta, ListMeta, TypeMeta, OwnerReference, ManagedFieldsEntry,
//! LabelSelector and Condition, serialized field-for-field like upstream (`omitempty` included).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::raw::FieldsV1;
use super::serde_util::{is_zero, null_default};
use super::time::Time;

/// `metav1.TypeMeta`: `kind` and `apiVersion`, both omitted when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    /// Kind, e.g. `Pod`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// `group/version`, or `v1` for the core group.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub api_version: String,
}

/// `metav1.ObjectMeta`, with upstream's field order and `omitempty` rules: empty strings, zero
/// generation, empty maps and lists are omitted; timestamps and the grace period are optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Name, unique within a namespace.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Prefix for a server-generated name.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub generate_name: String,
    /// Namespace.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Deprecated self link.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// Server-assigned UID.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Opaque version for concurrency control and watches.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Generation of the desired state.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
    pub generation: i64,
    /// Creation time (omitted when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// Time after which the object is deleted (graceful deletion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    /// Grace period of a pending deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    /// Labels.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Owners (list-type map keyed by uid).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    /// Finalizers (list-type set).
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// Server-side apply field ownership.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub managed_fields: Vec<ManagedFieldsEntry>,
}

/// `metav1.ListMeta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    /// Deprecated self link.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub self_link: String,
    /// Resource version of the list.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub resource_version: String,
    /// Continue token for the next page.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty", rename = "continue")]
    pub continue_: String,
    /// Items left after this page (an estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
    /// Sharding information of a sharded list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_info: Option<ShardInfo>,
}

/// `metav1.ShardInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// The shard selector.
    #[serde(default, deserialize_with = "null_default")]
    pub selector: String,
}

/// `metav1.OwnerReference`: `apiVersion`, `kind`, `name` and `uid` are always written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    /// API version of the owner.
    #[serde(default, deserialize_with = "null_default")]
    pub api_version: String,
    /// Kind of the owner.
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    /// Name of the owner.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// UID of the owner.
    #[serde(default, deserialize_with = "null_default")]
    pub uid: String,
    /// True for the managing controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    /// Foreground deletion blocks on this owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// `metav1.ManagedFieldsEntry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFieldsEntry {
    /// Field manager name.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub manager: String,
    /// `Apply` or `Update`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub operation: String,
    /// Version of the field set.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// When the entry was last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Time>,
    /// `FieldsV1`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub fields_type: String,
    /// The field set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_v1: Option<FieldsV1>,
    /// Subresource the entry applies to.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "String::is_empty")]
    pub subresource: String,
}

/// `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Exact label matches.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// `metav1.LabelSelectorRequirement`: `key` and `operator` are always written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelSelectorRequirement {
    /// Label key.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default, deserialize_with = "null_default")]
    pub operator: String,
    /// Values for `In` and `NotIn`.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `metav1.FieldSelectorRequirement`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSelectorRequirement {
    /// Field path.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[serde(default, deserialize_with = "null_default")]
    pub operator: String,
    /// Values.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `metav1.Condition`: `type`, `status`, `lastTransitionTime`, `reason` and `message` are always
/// written (`lastTransitionTime` as `null` when unset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type, e.g. `Ready`.
    #[serde(default, deserialize_with = "null_default", rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    /// Generation the condition was set for.
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "is_zero")]
    pub observed_generation: i64,
    /// Last status change.
    #[serde(default)]
    pub last_transition_time: Option<Time>,
    /// Machine-readable reason.
    #[serde(default, deserialize_with = "null_default")]
    pub reason: String,
    /// Human-readable message.
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn object_meta_round_trip_reference_shape() {
        // metadata of responses/create-unknown-field-warn.http
        let text = r#"{"name":"unk","namespace":"default","uid":"bdcff5f1-78e7-4ad6-bd56-950a313c58ce","creationTimestamp":"2026-11-25T12:56:39Z","managedFields":[{"manager":"curl","operation":"Update","apiVersion":"v1","time":"2026-11-25T12:56:39Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{".":{},"f:a":{}}}}]}"#;
        let meta: ObjectMeta = serde_json::from_str(text).expect("decode");
        assert_eq!(meta.name, "unk");
        assert_eq!(serde_json::to_string(&meta).expect("encode"), text);
    }

    #[test]
    fn object_meta_omits_empty() {
        assert_eq!(serde_json::to_string(&ObjectMeta::default()).expect("encode"), "{}");
        let meta: ObjectMeta = serde_json::from_value(json!({
            "name": "", "generation": 0, "labels": {}, "finalizers": [], "creationTimestamp": null,
            "annotations": null, "deletionGracePeriodSeconds": 0
        }))
        .expect("decode");
        assert_eq!(serde_json::to_value(&meta).expect("encode"), json!({"deletionGracePeriodSeconds": 0}));
        let full = json!({
            "name": "a", "generateName": "a-", "namespace": "ns", "selfLink": "/x", "uid": "u",
            "resourceVersion": "5", "generation": 2, "creationTimestamp": "2026-01-01T00:00:00Z",
            "deletionTimestamp": "2026-01-01T00:00:30Z", "deletionGracePeriodSeconds": 30,
            "labels": {"b": "2", "a": "1"}, "annotations": {"x": "y"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "1", "controller": true}],
            "finalizers": ["f"],
        });
        let meta: ObjectMeta = serde_json::from_value(full.clone()).expect("decode");
        let text = serde_json::to_string(&meta).expect("encode");
        assert_eq!(serde_json::from_str::<Value>(&text).expect("json"), full);
        // Field order and sorted map keys as upstream.
        assert!(text.starts_with(r#"{"name":"a","generateName":"a-","namespace":"ns","selfLink":"/x","uid":"u","resourceVersion":"5","generation":2,"creationTimestamp""#));
        assert!(text.contains(r#""labels":{"a":"1","b":"2"}"#));
    }

    #[test]
    fn owner_reference_required_fields_always_written() {
        assert_eq!(
            serde_json::to_string(&OwnerReference::default()).expect("encode"),
            r#"{"apiVersion":"","kind":"","name":"","uid":""}"#
        );
    }

    #[test]
    fn list_meta_and_condition() {
        let lm = ListMeta { resource_version: "7".into(), continue_: "tok".into(), remaining_item_count: Some(3), ..Default::default() };
        assert_eq!(serde_json::to_string(&lm).expect("encode"), r#"{"resourceVersion":"7","continue":"tok","remainingItemCount":3}"#);
        let c = Condition { type_: "Ready".into(), status: "True".into(), ..Default::default() };
        assert_eq!(
            serde_json::to_string(&c).expect("encode"),
            r#"{"type":"Ready","status":"True","lastTransitionTime":null,"reason":"","message":""}"#
        );
        let sel: LabelSelector = serde_json::from_value(json!({"matchLabels": {"app": "d"}})).expect("decode");
        assert_eq!(serde_json::to_value(&sel).expect("encode"), json!({"matchLabels": {"app": "d"}}));
        let tm = TypeMeta { kind: "Pod".into(), api_version: "v1".into() };
        assert_eq!(serde_json::to_string(&tm).expect("encode"), r#"{"kind":"Pod","apiVersion":"v1"}"#);
    }
}
