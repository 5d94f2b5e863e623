//! `metadata.managedFields` in and out (upstream's `managedfields/internal`): manager identifiers,
//! decoding and validating entries, encoding them in upstream's order, the strip set, and the cap on
//! update entries.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::fieldpath::{FieldSet, PathElement};
use super::value::{go_json, go_quote, write_go_string};

/// One manager's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionedSet {
    pub(crate) set: FieldSet,
    pub(crate) api_version: String,
    pub(crate) applied: bool,
}

/// Managers by identifier (see [`identifier`]).
pub(crate) type ManagedFields = BTreeMap<String, VersionedSet>;

/// Managed fields with the time each manager last changed the object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Managed {
    pub(crate) fields: ManagedFields,
    pub(crate) times: BTreeMap<String, Option<String>>,
    /// Each decoded entry's set and `fieldsV1` as stored: an unchanged entry is written back as it
    /// was (upstream reuses the original entries), whatever order its keys were in.
    pub(crate) original: BTreeMap<String, (VersionedSet, Value)>,
}

/// How many `Update` entries upstream keeps before folding the oldest into `ancient-changes`.
pub(crate) const MAX_UPDATE_MANAGERS: usize = 10;

/// Upstream's manager identifier: the entry's JSON without time and fields (and without apiVersion
/// for appliers, so one applier is one entry whatever version it applies).
pub(crate) fn identifier(manager: &str, operation: &str, api_version: &str, subresource: &str) -> String {
    let mut out = String::from("{");
    let mut first = true;
    let mut field = |out: &mut String, name: &str, value: &str| {
        if value.is_empty() {
            return;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_go_string(name, out);
        out.push(':');
        write_go_string(value, out);
    };
    field(&mut out, "manager", manager);
    field(&mut out, "operation", operation);
    if operation != "Apply" {
        field(&mut out, "apiVersion", api_version);
    }
    field(&mut out, "subresource", subresource);
    out.push('}');
    out
}

/// The parts of an identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ManagerInfo {
    pub(crate) manager: String,
    pub(crate) operation: String,
    pub(crate) api_version: String,
    pub(crate) subresource: String,
}

/// Splits an identifier back into its parts; `None` if it is not one.
pub(crate) fn parse_identifier(id: &str) -> Option<ManagerInfo> {
    let v: Map<String, Value> = crate::apimachinery::json::from_str(id).ok()?;
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    Some(ManagerInfo {
        manager: get("manager"),
        operation: get("operation"),
        api_version: get("apiVersion"),
        subresource: get("subresource"),
    })
}

/// Upstream's `printManager`: `"kubectl"`, `"kube-controller-manager" using apps/v1`,
/// `"m" with subresource "status" using v1`.
pub(crate) fn print_manager(id: &str) -> String {
    let Some(info) = parse_identifier(id) else { return go_quote(id) };
    let mut s = go_quote(&info.manager);
    if !info.subresource.is_empty() {
        s = format!("{s} with subresource {}", go_quote(&info.subresource));
    }
    if info.operation == "Update" {
        s = format!("{s} using {}", info.api_version);
    }
    s
}

/// An RFC 3339 time in upstream's `metav1.Time` form (UTC, whole seconds); `None` if unparsable.
pub(crate) fn normalize_time(s: &str) -> Option<String> {
    let t = DateTime::parse_from_rfc3339(s).ok()?;
    Some(t.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn unix_seconds(t: Option<&str>) -> i64 {
    t.and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map_or(0, |t| t.timestamp())
}

/// Decodes `metadata.managedFields` (absent or null: none) with upstream's checks and messages.
pub(crate) fn decode(entries: Option<&Value>) -> Result<Managed, String> {
    let mut managed = Managed::default();
    let items = match entries {
        None | Some(Value::Null) => return Ok(managed),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(format!("expected a list of managed fields entries, got {}", go_json(other))),
    };
    for (i, e) in items.iter().enumerate() {
        let Value::Object(m) = e else {
            return Err(format!("managed fields entry {i} is not an object"));
        };
        let text = |k: &str| -> Result<String, String> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(format!("managed fields entry {i}: {k} must be a string, got {}", go_json(other))),
            }
        };
        let operation = text("operation")?;
        if operation != "Apply" && operation != "Update" {
            return Err("operation must be `Apply` or `Update`".into());
        }
        let api_version = text("apiVersion")?;
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match text("fieldsType")?.as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => return Err(format!("invalid fieldsType {} in managed fields entry {i}", go_quote(other))),
        }
        let (manager, subresource) = (text("manager")?, text("subresource")?);
        let id = identifier(&manager, &operation, &api_version, &subresource);
        let set = FieldSet::from_fields_v1(m.get("fieldsV1").unwrap_or(&Value::Null))
            .map_err(|err| format!("error decoding versioned set from {}: {err}", go_json(e)))?;
        let time = text("time")?;
        managed.times.insert(id.clone(), normalize_time(&time));
        let vs = VersionedSet { set, api_version, applied: operation == "Apply" };
        if let Some(raw) = m.get("fieldsV1").filter(|v| v.is_object()) {
            managed.original.insert(id.clone(), (vs.clone(), raw.clone()));
        }
        managed.fields.insert(id, vs);
    }
    Ok(managed)
}

/// Encodes managed fields as upstream does: one entry per manager, sorted by operation, time,
/// manager, apiVersion and subresource; `None` when there are none.
pub(crate) fn encode(managed: &Managed) -> Option<Value> {
    if managed.fields.is_empty() {
        return None;
    }
    let mut entries: Vec<(ManagerInfo, Option<&str>, Value)> = Vec::new();
    for (id, vs) in &managed.fields {
        let mut info = parse_identifier(id).unwrap_or_default();
        info.api_version = vs.api_version.clone();
        if vs.applied {
            info.operation = "Apply".into();
        }
        let time = managed.times.get(id).and_then(Option::as_deref);
        let mut e = Map::new();
        let mut put = |k: &str, v: &str| {
            if !v.is_empty() {
                e.insert(k.into(), Value::String(v.into()));
            }
        };
        put("manager", &info.manager);
        put("operation", &info.operation);
        put("apiVersion", &info.api_version);
        put("time", time.unwrap_or_default());
        put("fieldsType", "FieldsV1");
        let fields = match managed.original.get(id) {
            Some((orig, raw)) if orig == vs => raw.clone(),
            _ => vs.set.to_fields_v1(),
        };
        e.insert("fieldsV1".into(), fields);
        if !info.subresource.is_empty() {
            e.insert("subresource".into(), Value::String(info.subresource.clone()));
        }
        entries.push((info, time, Value::Object(e)));
    }
    entries.sort_by(|(a, ta, _), (b, tb, _)| {
        a.operation
            .cmp(&b.operation)
            .then_with(|| unix_seconds(*ta).cmp(&unix_seconds(*tb)))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    Some(Value::Array(entries.into_iter().map(|(_, _, e)| e).collect()))
}

/// Fields upstream never records as owned (its `stripMetaManager`).
pub(crate) fn strip_set() -> FieldSet {
    let f = |s: &str| PathElement::Field(s.into());
    let mut set = FieldSet::default();
    for p in ["apiVersion", "kind", "metadata"] {
        set.insert(&[f(p)]);
    }
    for p in ["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion"]
    {
        set.insert(&[f("metadata"), f(p)]);
    }
    set
}

/// Removes the strip set from `manager`'s entry, dropping the entry when nothing is left.
pub(crate) fn strip(fields: &mut ManagedFields, manager: &str) {
    let Some(vs) = fields.get_mut(manager) else { return };
    vs.set = vs.set.difference(&strip_set());
    if vs.set.is_empty() {
        fields.remove(manager);
    }
}

/// Folds the oldest `Update` entries into per-version `ancient-changes` entries until at most `max`
/// remain (upstream's `capManagersManager`).
pub(crate) fn cap_update_managers(managed: &mut Managed, max: usize) {
    let mut updaters: Vec<String> = managed.fields.iter().filter(|(_, vs)| !vs.applied).map(|(id, _)| id.clone()).collect();
    if updaters.len() <= max {
        return;
    }
    let time_of = |m: &Managed, id: &str| unix_seconds(m.times.get(id).and_then(Option::as_deref));
    updaters.sort_by(|a, b| time_of(managed, a).cmp(&time_of(managed, b)).then_with(|| a.cmp(b)));
    let mut first_by_version: BTreeMap<String, String> = BTreeMap::new();
    let mut length = updaters.len();
    for id in &updaters {
        if length <= max {
            break;
        }
        let Some(vs) = managed.fields.get(id).cloned() else { continue };
        let time = managed.times.get(id).cloned().flatten();
        let bucket = identifier("ancient-changes", "Update", &vs.api_version, "");
        let Some(first) = first_by_version.get(&vs.api_version).cloned() else {
            first_by_version.insert(vs.api_version.clone(), id.clone());
            continue;
        };
        if !managed.fields.contains_key(&bucket) {
            if let Some(s) = managed.fields.remove(&first) {
                managed.fields.insert(bucket.clone(), s);
            }
        }
        let existing = managed.fields.get(&bucket).map(|b| b.set.clone()).unwrap_or_default();
        managed
            .fields
            .insert(bucket.clone(), VersionedSet { set: vs.set.union(&existing), api_version: vs.api_version.clone(), applied: false });
        if *id != bucket {
            managed.fields.remove(id);
        }
        length -= 1;
        managed.times.insert(bucket, time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_and_printing() {
        let apply = identifier("kubectl", "Apply", "apps/v1", "");
        assert_eq!(apply, r#"{"manager":"kubectl","operation":"Apply"}"#);
        let update = identifier("kube-controller-manager", "Update", "apps/v1", "status");
        assert_eq!(update, r#"{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","subresource":"status"}"#);
        assert_eq!(print_manager(&apply), r#""kubectl""#);
        assert_eq!(print_manager(&update), r#""kube-controller-manager" with subresource "status" using apps/v1"#);
        assert_eq!(print_manager("not json"), r#""not json""#);
    }

    #[test]
    fn decode_checks_entries() {
        let ok = json!([{"manager": "m", "operation": "Update", "apiVersion": "v1", "time": "2026-01-01T01:00:00+01:00", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}]);
        let m = decode(Some(&ok)).expect("decode");
        let id = identifier("m", "Update", "v1", "");
        assert_eq!(m.times.get(&id).cloned().flatten().as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(m.fields[&id].set.has(&[PathElement::Field("data".into())]));
        let bad_op = json!([{"manager": "m", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}]);
        assert_eq!(decode(Some(&bad_op)).err().as_deref(), Some("operation must be `Apply` or `Update`"));
        let no_version = json!([{"manager": "m", "operation": "Apply", "fieldsType": "FieldsV1"}]);
        assert_eq!(decode(Some(&no_version)).err().as_deref(), Some("apiVersion must not be empty"));
        let no_type = json!([{"manager": "m", "operation": "Apply", "apiVersion": "v1"}]);
        assert_eq!(decode(Some(&no_type)).err().as_deref(), Some("missing fieldsType in managed fields entry 0"));
        let bad_type = json!([{"manager": "m", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV2"}]);
        assert_eq!(decode(Some(&bad_type)).err().as_deref(), Some(r#"invalid fieldsType "FieldsV2" in managed fields entry 0"#));
        assert!(decode(Some(&json!(null))).expect("null").fields.is_empty());
    }

    #[test]
    fn encode_sorts_like_upstream() {
        let mut m = Managed::default();
        let set = FieldSet::from_paths([&[PathElement::Field("a".into())][..]]);
        for (name, op, time) in
            [("z", "Update", "2026-01-01T00:00:02Z"), ("b", "Update", "2026-01-01T00:00:01Z"), ("a", "Apply", "2026-01-01T00:00:09Z")]
        {
            let id = identifier(name, op, "v1", "");
            m.fields.insert(id.clone(), VersionedSet { set: set.clone(), api_version: "v1".into(), applied: op == "Apply" });
            m.times.insert(id, Some(time.into()));
        }
        let out = encode(&m).expect("entries");
        let names: Vec<&str> = out.as_array().expect("list").iter().filter_map(|e| e["manager"].as_str()).collect();
        assert_eq!(names, ["a", "b", "z"]);
        assert_eq!(
            serde_json::to_string(&out[0]).expect("json"),
            r#"{"manager":"a","operation":"Apply","apiVersion":"v1","time":"2026-01-01T00:00:09Z","fieldsType":"FieldsV1","fieldsV1":{"f:a":{}}}"#
        );
        assert!(encode(&Managed::default()).is_none());
    }

    #[test]
    fn cap_folds_oldest_updates() {
        let mut m = Managed::default();
        for i in 0..12 {
            let id = identifier(&format!("m{i:02}"), "Update", "v1", "");
            let set = FieldSet::from_paths([&[PathElement::Field(format!("f{i}"))][..]]);
            m.fields.insert(id.clone(), VersionedSet { set, api_version: "v1".into(), applied: false });
            m.times.insert(id, Some(format!("2026-01-01T00:00:{i:02}Z")));
        }
        cap_update_managers(&mut m, MAX_UPDATE_MANAGERS);
        assert_eq!(m.fields.len(), 10);
        let bucket = &m.fields[&identifier("ancient-changes", "Update", "v1", "")];
        assert_eq!(bucket.set.paths().len(), 3);
        assert!(!m.fields.contains_key(&identifier("m00", "Update", "v1", "")));
        assert!(m.fields.contains_key(&identifier("m03", "Update", "v1", "")));
    }
}
