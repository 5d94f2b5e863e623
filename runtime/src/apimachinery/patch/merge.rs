//! JSON merge patch (RFC 7386) as `gopkg.in/evanphx/json-patch.v4`'s `MergePatch` applies it, and
//! the inverse diff ([`create_merge_patch`]).

use serde_json::{Map, Value};

use super::PatchError;

/// Rejects what kube-apiserver rejects before merging: a merge patch that is `null` or a scalar
/// is a 400 `BadRequest` with message `Invalid JSON Patch` (evanphx's `errBadJSONPatch`).
pub fn validate_merge_patch(patch: &Value) -> Result<(), PatchError> {
    match patch {
        Value::Object(_) | Value::Array(_) => Ok(()),
        _ => Err(PatchError::BadRequest("Invalid JSON Patch".into())),
    }
}

/// Applies a JSON merge patch: objects merge recursively, `null` members delete, anything else
/// replaces. Like evanphx (and so kube-apiserver), `null` members are also dropped from objects the
/// patch introduces, including objects nested in arrays (RFC 7386 would keep those), while `null`
/// array elements are kept. A non-object patch replaces the document (call
/// [`validate_merge_patch`] first to reject `null` and scalar patches as kube-apiserver does).
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            let mut out = d.clone();
            merge_docs(&mut out, p);
            Value::Object(out)
        }
        (_, Value::Object(_) | Value::Array(_)) => {
            let mut out = patch.clone();
            prune_nulls(&mut out);
            out
        }
        _ => patch.clone(),
    }
}

fn merge_docs(doc: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            doc.shift_remove(k);
            continue;
        }
        match doc.get_mut(k) {
            Some(cur) if !cur.is_null() => merge_value(cur, v),
            _ => {
                let mut v = v.clone();
                prune_nulls(&mut v);
                doc.insert(k.clone(), v);
            }
        }
    }
}

/// evanphx's `merge(cur, patch)`: merge two objects, otherwise take the patch value (pruned only
/// when the current value is not an object).
fn merge_value(cur: &mut Value, patch: &Value) {
    if let (Value::Object(c), Value::Object(p)) = (&mut *cur, patch) {
        merge_docs(c, p);
        return;
    }
    let mut v = patch.clone();
    if !cur.is_object() {
        prune_nulls(&mut v);
    }
    *cur = v;
}

/// Removes `null` object members, recursively through objects and arrays (array elements that are
/// `null` stay).
fn prune_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(prune_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// The merge patch that turns `original` into `modified` (evanphx's `CreateMergePatch` for
/// objects): changed and added members with their new values, removed members as `null`, nested
/// objects diffed recursively, arrays and scalars replaced whole. When either side is not an
/// object the patch is `modified` itself. `merge_patch(original, &create_merge_patch(original,
/// modified))` is `modified` whenever `modified` holds no `null`s.
pub fn create_merge_patch(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(a), Value::Object(b)) => Value::Object(diff(a, b)),
        _ => modified.clone(),
    }
}

fn diff(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut into = Map::new();
    for (k, bv) in b {
        match (a.get(k), bv) {
            (None, _) => {
                into.insert(k.clone(), bv.clone());
            }
            (Some(Value::Object(ao)), Value::Object(bo)) => {
                let d = diff(ao, bo);
                if !d.is_empty() {
                    into.insert(k.clone(), Value::Object(d));
                }
            }
            (Some(av), _) if !same_value(av, bv) => {
                into.insert(k.clone(), bv.clone());
            }
            _ => {}
        }
    }
    for k in a.keys() {
        if !b.contains_key(k) {
            into.insert(k.clone(), Value::Null);
        }
    }
    into
}

/// Equality as Go compares decoded JSON (`float64` numbers, so `1` equals `1.0`).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same_value(p, q)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    // RFC 7386 appendix A: (target, patch, result).
    #[test]
    fn rfc7386_appendix_a() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "b"}), json!({"b": "c"}), json!({"a": "b", "b": "c"})),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": "b", "b": "c"}), json!({"a": null}), json!({"b": "c"})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (json!({"a": {"b": "c"}}), json!({"a": {"b": "d", "c": null}}), json!({"a": {"b": "d"}})),
            (json!({"a": [{"b": "c"}]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (json!({"e": null}), json!({"a": 1}), json!({"e": null, "a": 1})),
            (json!([1, 2]), json!({"a": "b", "c": null}), json!({"a": "b"})),
            (json!({}), json!({"a": {"bb": {"ccc": null}}}), json!({"a": {"bb": {}}})),
        ];
        for (target, patch, want) in cases {
            assert_eq!(merge_patch(&target, &patch), want, "target {target} patch {patch}");
        }
    }

    #[test]
    fn kube_rejects_null_and_scalar_merge_patches() {
        assert!(validate_merge_patch(&json!({})).is_ok());
        assert!(validate_merge_patch(&json!([])).is_ok());
        for bad in [json!(null), json!("x"), json!(1), json!(true)] {
            let err = validate_merge_patch(&bad).expect_err("rejected");
            assert_eq!((err.code(), err.reason(), err.message().as_str()), (400, "BadRequest", "Invalid JSON Patch"));
        }
    }

    #[test]
    fn evanphx_null_pruning() {
        // Nulls inside new objects are dropped, also inside arrays; null elements stay.
        assert_eq!(
            merge_patch(&json!({}), &json!({"a": [{"x": null, "y": 1}, null]})),
            json!({"a": [{"y": 1}, null]})
        );
        // Replacing a non-object prunes; replacing an object by a non-object does not.
        assert_eq!(merge_patch(&json!({"a": 1}), &json!({"a": [{"x": null}]})), json!({"a": [{}]}));
        assert_eq!(merge_patch(&json!({"a": {"k": 1}}), &json!({"a": [{"x": null}]})), json!({"a": [{"x": null}]}));
        // A null current value is replaced (pruned).
        assert_eq!(merge_patch(&json!({"a": null}), &json!({"a": {"b": null, "c": 1}})), json!({"a": {"c": 1}}));
    }

    #[test]
    fn key_order_is_kept() {
        let out = merge_patch(&json!({"a": 1, "b": 2, "c": 3}), &json!({"d": 4, "a": null, "b": 20}));
        let keys: Vec<&String> = out.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "c", "d"]);
        assert_eq!(out, json!({"b": 20, "c": 3, "d": 4}));
    }

    #[test]
    fn create_merge_patch_round_trips() {
        let pairs = [
            (json!({}), json!({})),
            (json!({"a": 1}), json!({"a": 2})),
            (json!({"a": 1, "b": {"c": [1, 2], "d": "x"}}), json!({"b": {"c": [2], "d": "x", "e": {"f": true}}})),
            (json!({"a": {"b": 1}}), json!({"a": "scalar"})),
            (json!({"a": "scalar"}), json!({"a": {"b": 1}})),
            (json!({"spec": {"containers": [{"name": "a"}]}}), json!({"spec": {"containers": []}})),
        ];
        for (a, b) in pairs {
            let p = create_merge_patch(&a, &b);
            assert_eq!(merge_patch(&a, &p), b, "original {a} modified {b} patch {p}");
        }
        assert_eq!(
            create_merge_patch(&json!({"a": 1, "b": {"c": 1, "d": 2}, "e": [1]}), &json!({"a": 1.0, "b": {"c": 1}, "e": [1]})),
            json!({"b": {"d": null}})
        );
        assert_eq!(create_merge_patch(&json!({"a": 1}), &json!([1])), json!([1]));
    }
}
