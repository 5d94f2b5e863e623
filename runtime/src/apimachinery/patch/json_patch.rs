//! JSON Patch (RFC 6902) with the semantics and error texts of `gopkg.in/evanphx/json-patch.v4`
//! v4.13, which kube-apiserver uses: `replace` of a missing object member adds it, negative array
//! indices count from the end, `add`/`copy` without a value write `null`, and `copy` is limited to
//! [`JSON_PATCH_MAX_COPY_BYTES`] of accumulated growth.

use serde_json::{Map, Value};

use super::{json_kind, PatchError};
use crate::apimachinery::go;

/// kube-apiserver's limit on the number of operations in one JSON Patch (413 beyond it).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// kube-apiserver's default `JSONPatchMaxCopyBytes`: the most `copy` operations may grow a document.
pub const JSON_PATCH_MAX_COPY_BYTES: usize = 3 * 1024 * 1024;

/// Applies an RFC 6902 patch to `doc` (an object or array) and returns the patched document.
///
/// A `patch` that is not an array of objects is a [`PatchError::BadRequest`] with Go's decode
/// error (a `null` patch is an empty one, as upstream); more than [`MAX_JSON_PATCH_OPERATIONS`]
/// operations is [`PatchError::TooManyOperations`]; an operation that fails is
/// [`PatchError::Unprocessable`] carrying evanphx's text (`testing value /a failed: test failed`,
/// `add operation does not apply: doc is missing path: "/a/b": missing value`, ...).
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops: Vec<Option<&Map<String, Value>>> = match patch {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|op| match op {
                Value::Object(m) => Ok(Some(m)),
                Value::Null => Ok(None),
                other => Err(PatchError::BadRequest(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    json_kind(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                json_kind(other)
            )))
        }
    };
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations { max: MAX_JSON_PATCH_OPERATIONS, got: ops.len() });
    }
    let target = if doc.is_array() { "jsonpatch.partialArray" } else { "jsonpatch.partialDoc" };
    if !doc.is_object() && !doc.is_array() {
        return Err(PatchError::Unprocessable(format!(
            "json: cannot unmarshal {} into Go value of type {target}",
            json_kind(doc)
        )));
    }
    let mut doc = doc.clone();
    let mut copied = 0usize;
    for op in ops {
        apply(&mut doc, op, &mut copied).map_err(PatchError::Unprocessable)?;
    }
    Ok(doc)
}

/// One operation's fields, read the way evanphx's `Operation` accessors read them.
struct Op<'a>(Option<&'a Map<String, Value>>);

impl Op<'_> {
    fn kind(&self) -> &str {
        match self.0.and_then(|m| m.get("op")) {
            Some(Value::String(s)) => s,
            _ => "unknown",
        }
    }

    fn string_field(&self, name: &str, missing: &str) -> Result<String, String> {
        match self.0.and_then(|m| m.get(name)) {
            None | Some(Value::Null) => Err(missing.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!("json: cannot unmarshal {} into Go value of type string", json_kind(other))),
        }
    }

    fn path(&self) -> Result<String, String> {
        self.string_field("path", "operation missing path field: missing value")
    }

    fn from(&self) -> Result<String, String> {
        self.string_field("from", "operation, missing from field: missing value")
    }

    /// `None` when the operation has no `value` member (a JSON `null` value is `Some(Null)`).
    fn value(&self) -> Option<Value> {
        self.0.and_then(|m| m.get("value")).cloned()
    }
}

fn apply(doc: &mut Value, op: Option<&Map<String, Value>>, copied: &mut usize) -> Result<(), String> {
    let op = Op(op);
    match op.kind() {
        "add" => add(doc, &op),
        "remove" => remove(doc, &op),
        "replace" => replace(doc, &op),
        "move" => move_op(doc, &op),
        "test" => test(doc, &op),
        "copy" => copy(doc, &op, copied),
        other => Err(format!("Unexpected kind: {other}")),
    }
}

fn add(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|_| "add operation failed to decode path: missing value".to_string())?;
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("add operation does not apply: doc is missing path: \"{path}\": missing value"))?;
    container_add(con, &key, op.value().unwrap_or(Value::Null)).map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|_| "remove operation failed to decode path: missing value".to_string())?;
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("remove operation does not apply: doc is missing path: \"{path}\": missing value"))?;
    container_remove(con, &key).map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    if path.is_empty() {
        return match op.value() {
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                *doc = v;
                Ok(())
            }
            // Upstream wraps a nil error here, hence Go's `%!w(<nil>)`.
            _ => Err("replace operation value must be object or array: %!w(<nil>)".to_string()),
        };
    }
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("replace operation does not apply: doc is missing path: {path}: missing value"))?;
    if container_get(con, &key).is_err() {
        return Err(format!("replace operation does not apply: doc is missing key: {path}: missing value"));
    }
    container_set(con, &key, op.value().unwrap_or(Value::Null)).map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn move_op(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let from = op.from().map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let (con, key) = find_object(doc, &from)
        .ok_or_else(|| format!("move operation does not apply: doc is missing from path: {from}: missing value"))?;
    let val = container_get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    container_remove(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = op.path().map_err(|e| format!("move operation failed to decode path: {e}"))?;
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("move operation does not apply: doc is missing destination path: {path}: missing value"))?;
    container_add(con, &key, val.unwrap_or(Value::Null)).map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn test(doc: &mut Value, op: &Op<'_>) -> Result<(), String> {
    let path = op.path().map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let failed = || format!("testing value {path} failed: test failed");
    if path.is_empty() {
        return if op.value().as_ref() == Some(&*doc) { Ok(()) } else { Err(failed()) };
    }
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("test operation does not apply: is missing path: {path}: missing value"))?;
    let actual = container_get(con, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    let expected = op.value();
    let ok = match (actual, expected) {
        // A missing member or a null matches an absent or null value.
        (None, None | Some(Value::Null)) => true,
        (None, Some(_)) | (Some(_), None) => false,
        (Some(a), Some(e)) => a == e,
    };
    if ok {
        Ok(())
    } else {
        Err(failed())
    }
}

fn copy(doc: &mut Value, op: &Op<'_>, copied: &mut usize) -> Result<(), String> {
    let from = op.from().map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let (con, key) = find_object(doc, &from)
        .ok_or_else(|| format!("copy operation does not apply: doc is missing from path: {from}: missing value"))?;
    let val = container_get(con, &key).map_err(|e| format!("error in copy for from: '{from}': {e}"))?;
    let path = op.path().map_err(|_| "copy operation failed to decode path: missing value".to_string())?;
    let (con, key) = find_object(doc, &path)
        .ok_or_else(|| format!("copy operation does not apply: doc is missing destination path: {path}: missing value"))?;
    *copied += val.as_ref().map_or(0, |v| go::json(v).len());
    if *copied > JSON_PATCH_MAX_COPY_BYTES {
        return Err(format!(
            "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {JSON_PATCH_MAX_COPY_BYTES}"
        ));
    }
    container_add(con, &key, val.unwrap_or(Value::Null)).map_err(|e| format!("error while adding value during copy: {e}"))
}

/// RFC 6901 unescaping in one pass (`~1` → `/`, `~0` → `~`).
fn decode_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut rest = k;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("~1") {
            out.push('/');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("~0") {
            out.push('~');
            rest = r;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The container holding the last token of `path`, and that token decoded. Like evanphx, the
/// first token (before the leading `/`) is ignored and every intermediate value must be a
/// non-null object or array.
fn find_object<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    let (last, parents) = split.split_last()?;
    let parents = parents.get(1..)?;
    let mut cur = doc;
    for part in parents {
        let part = decode_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&part)?,
            Value::Array(a) => {
                let idx = get_index(&part, a.len()).ok()?;
                a.get_mut(idx)?
            }
            _ => return None,
        };
        if !next.is_object() && !next.is_array() {
            return None;
        }
        cur = next;
    }
    Some((cur, decode_key(last)))
}

/// `strconv.Atoi` with Go's error texts.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {}: invalid syntax", go::quote(s)));
    }
    s.parse::<i64>().map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go::quote(s)))
}

fn invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: invalid index referenced")
}

/// `partialArray.get`'s index rules: negative indices count from the end, the result must exist.
fn get_index(key: &str, len: usize) -> Result<usize, String> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut idx = atoi(key)?;
    if idx < 0 {
        if idx < -len {
            return Err(invalid_index(idx));
        }
        idx += len;
    }
    if idx >= len {
        return Err(invalid_index(idx));
    }
    usize::try_from(idx).map_err(|_| invalid_index(idx))
}

/// The value at `key`; `Ok(None)` for a missing object member or a `null`.
fn container_get(con: &Value, key: &str) -> Result<Option<Value>, String> {
    let found = match con {
        Value::Object(m) => m.get(key),
        Value::Array(a) => a.get(get_index(key, a.len())?),
        _ => None,
    };
    Ok(found.filter(|v| !v.is_null()).cloned())
}

fn container_add(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(val);
                return Ok(());
            }
            let mut idx = atoi(key).map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = i64::try_from(a.len()).unwrap_or(i64::MAX).saturating_add(1);
            if idx >= size {
                return Err(invalid_index(idx));
            }
            if idx < 0 {
                if idx < -size {
                    return Err(invalid_index(idx));
                }
                idx += size;
            }
            let idx = usize::try_from(idx).map_err(|_| invalid_index(idx))?;
            a.insert(idx, val);
            Ok(())
        }
        _ => Err("unknown object type".to_string()),
    }
}

fn container_set(con: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match con {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            let idx = get_index(key, a.len())?;
            match a.get_mut(idx) {
                Some(slot) => {
                    *slot = val;
                    Ok(())
                }
                None => Err(invalid_index(i64::try_from(idx).unwrap_or(i64::MAX))),
            }
        }
        _ => Err("unknown object type".to_string()),
    }
}

fn container_remove(con: &mut Value, key: &str) -> Result<(), String> {
    match con {
        Value::Object(m) => match m.shift_remove(key) {
            Some(_) => Ok(()),
            None => Err(format!("Unable to remove nonexistent key: {key}: missing value")),
        },
        Value::Array(a) => {
            let mut idx = atoi(key)?;
            let len = i64::try_from(a.len()).unwrap_or(i64::MAX);
            if idx >= len {
                return Err(invalid_index(idx));
            }
            if idx < 0 {
                if idx < -len {
                    return Err(invalid_index(idx));
                }
                idx += len;
            }
            let idx = usize::try_from(idx).map_err(|_| invalid_index(idx))?;
            a.remove(idx);
            Ok(())
        }
        _ => Err("unknown object type".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(doc: Value, patch: Value) -> Value {
        json_patch(&doc, &patch).unwrap_or_else(|e| panic!("patch failed: {e}"))
    }

    fn failed(doc: Value, patch: Value) -> String {
        match json_patch(&doc, &patch) {
            Err(PatchError::Unprocessable(m)) => m,
            other => panic!("expected a failed operation, got {other:?}"),
        }
    }

    // RFC 6902 appendix A.
    #[test]
    fn rfc6902_appendix_a() {
        assert_eq!(
            ok(json!({"foo": "bar"}), json!([{"op": "add", "path": "/baz", "value": "qux"}])),
            json!({"baz": "qux", "foo": "bar"})
        );
        assert_eq!(
            ok(json!({"foo": ["bar", "baz"]}), json!([{"op": "add", "path": "/foo/1", "value": "qux"}])),
            json!({"foo": ["bar", "qux", "baz"]})
        );
        assert_eq!(
            ok(json!({"baz": "qux", "foo": "bar"}), json!([{"op": "remove", "path": "/baz"}])),
            json!({"foo": "bar"})
        );
        assert_eq!(
            ok(json!({"foo": ["bar", "qux", "baz"]}), json!([{"op": "remove", "path": "/foo/1"}])),
            json!({"foo": ["bar", "baz"]})
        );
        assert_eq!(
            ok(json!({"baz": "qux", "foo": "bar"}), json!([{"op": "replace", "path": "/baz", "value": "boo"}])),
            json!({"baz": "boo", "foo": "bar"})
        );
        assert_eq!(
            ok(
                json!({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}),
                json!([{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}])
            ),
            json!({"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}})
        );
        assert_eq!(
            ok(json!({"foo": ["all", "grass", "cows", "eat"]}), json!([{"op": "move", "from": "/foo/1", "path": "/foo/3"}])),
            json!({"foo": ["all", "cows", "eat", "grass"]})
        );
        let doc = json!({"baz": "qux", "foo": ["a", 2, "c"]});
        assert_eq!(
            ok(
                doc.clone(),
                json!([{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}])
            ),
            doc
        );
        assert_eq!(
            failed(json!({"baz": "qux"}), json!([{"op": "test", "path": "/baz", "value": "bar"}])),
            "testing value /baz failed: test failed"
        );
        assert_eq!(
            ok(json!({"foo": "bar"}), json!([{"op": "add", "path": "/child", "value": {"grandchild": {}}}])),
            json!({"foo": "bar", "child": {"grandchild": {}}})
        );
        assert_eq!(
            ok(json!({"foo": "bar"}), json!([{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}])),
            json!({"foo": "bar", "baz": "qux"})
        );
        assert_eq!(
            failed(json!({"foo": "bar"}), json!([{"op": "add", "path": "/baz/bat", "value": "qux"}])),
            "add operation does not apply: doc is missing path: \"/baz/bat\": missing value"
        );
        assert_eq!(ok(json!({"/": 9, "~1": 10}), json!([{"op": "test", "path": "/~01", "value": 10}])), json!({"/": 9, "~1": 10}));
        assert_eq!(
            failed(json!({"/": 9, "~1": 10}), json!([{"op": "test", "path": "/~01", "value": "10"}])),
            "testing value /~01 failed: test failed"
        );
        assert_eq!(
            ok(json!({"foo": ["bar"]}), json!([{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}])),
            json!({"foo": ["bar", ["abc", "def"]]})
        );
    }

    #[test]
    fn new_members_are_appended_and_existing_keep_their_place() {
        let out = ok(json!({"a": 1, "b": 2, "c": 3}), json!([{"op": "replace", "path": "/b", "value": 20}, {"op": "add", "path": "/d", "value": 4}]));
        let keys: Vec<&String> = out.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
        let out = ok(json!({"a": 1, "b": 2, "c": 3}), json!([{"op": "remove", "path": "/a"}]));
        let keys: Vec<&String> = out.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["b", "c"]);
    }

    #[test]
    fn evanphx_v4_leniencies() {
        // replace of a missing member adds it.
        assert_eq!(ok(json!({}), json!([{"op": "replace", "path": "/a", "value": 1}])), json!({"a": 1}));
        // negative indices count from the end.
        assert_eq!(ok(json!({"a": [1, 2, 3]}), json!([{"op": "remove", "path": "/a/-1"}])), json!({"a": [1, 2]}));
        assert_eq!(ok(json!({"a": [1, 2]}), json!([{"op": "add", "path": "/a/-1", "value": 9}])), json!({"a": [1, 2, 9]}));
        assert_eq!(ok(json!({"a": [1, 2]}), json!([{"op": "replace", "path": "/a/-2", "value": 9}])), json!({"a": [9, 2]}));
        // add without a value adds null; copy from a missing member copies null.
        assert_eq!(ok(json!({}), json!([{"op": "add", "path": "/a"}])), json!({"a": null}));
        assert_eq!(ok(json!({}), json!([{"op": "copy", "from": "/x", "path": "/a"}])), json!({"a": null}));
        // the token before the first slash is ignored.
        assert_eq!(ok(json!({}), json!([{"op": "add", "path": "ignored/a", "value": 1}])), json!({"a": 1}));
        // test of null matches a missing member.
        assert_eq!(ok(json!({"a": null}), json!([{"op": "test", "path": "/b", "value": null}, {"op": "test", "path": "/a"}])), json!({"a": null}));
        // a null patch is an empty one.
        assert_eq!(ok(json!({"a": 1}), Value::Null), json!({"a": 1}));
        // whole-document replace and test.
        assert_eq!(ok(json!({"a": 1}), json!([{"op": "replace", "path": "", "value": {"b": 2}}])), json!({"b": 2}));
        assert_eq!(ok(json!({"a": 1}), json!([{"op": "test", "path": "", "value": {"a": 1}}])), json!({"a": 1}));
    }

    #[test]
    fn copy_deep_copies() {
        assert_eq!(
            ok(json!({"a": {"x": [1]}}), json!([{"op": "copy", "from": "/a", "path": "/b"}, {"op": "add", "path": "/b/x/-", "value": 2}])),
            json!({"a": {"x": [1]}, "b": {"x": [1, 2]}})
        );
        let big = "x".repeat(1024 * 1024);
        let patch: Vec<Value> = (0..3).map(|i| json!({"op": "copy", "from": "/a", "path": format!("/c{i}")})).collect();
        assert_eq!(
            failed(json!({"a": big}), Value::Array(patch)),
            format!("Unable to complete the copy, the accumulated size increase of copy is {}, exceeding the limit 3145728", 3 * (1024 * 1024 + 2))
        );
    }

    #[test]
    fn operation_errors() {
        let doc = json!({"a": {"b": [1, 2]}, "s": "x"});
        let cases = [
            (json!({"op": "remove", "path": "/nope"}), "error in remove for path: '/nope': Unable to remove nonexistent key: nope: missing value"),
            (json!({"op": "remove", "path": "/a/b/5"}), "error in remove for path: '/a/b/5': Unable to access invalid index: 5: invalid index referenced"),
            (json!({"op": "remove", "path": "/a/b/x"}), "error in remove for path: '/a/b/x': strconv.Atoi: parsing \"x\": invalid syntax"),
            (json!({"op": "remove", "path": "/x/y"}), "remove operation does not apply: doc is missing path: \"/x/y\": missing value"),
            (json!({"op": "remove", "path": "/s/y"}), "remove operation does not apply: doc is missing path: \"/s/y\": missing value"),
            (json!({"op": "add", "path": "/a/b/3", "value": 0}), "error in add for path: '/a/b/3': Unable to access invalid index: 3: invalid index referenced"),
            (json!({"op": "add", "path": "/a/b/q", "value": 0}), "error in add for path: '/a/b/q': value was not a proper array index: 'q': strconv.Atoi: parsing \"q\": invalid syntax"),
            (json!({"op": "add", "value": 0}), "add operation failed to decode path: missing value"),
            (json!({"op": "replace", "path": 5}), "replace operation failed to decode path: json: cannot unmarshal number into Go value of type string"),
            (json!({"op": "replace", "value": 5}), "replace operation failed to decode path: operation missing path field: missing value"),
            (json!({"op": "replace", "path": "/a/b/2", "value": 0}), "replace operation does not apply: doc is missing key: /a/b/2: missing value"),
            (json!({"op": "replace", "path": "/x/y", "value": 0}), "replace operation does not apply: doc is missing path: /x/y: missing value"),
            (json!({"op": "replace", "path": "", "value": 0}), "replace operation value must be object or array: %!w(<nil>)"),
            (json!({"op": "move", "path": "/c"}), "move operation failed to decode from: operation, missing from field: missing value"),
            (json!({"op": "move", "from": "/nope", "path": "/c"}), "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"),
            (json!({"op": "move", "from": "/a", "path": "/a/b/c"}), "move operation does not apply: doc is missing destination path: /a/b/c: missing value"),
            (json!({"op": "copy", "from": "/a/b/9", "path": "/c"}), "error in copy for from: '/a/b/9': Unable to access invalid index: 9: invalid index referenced"),
            (json!({"op": "copy", "from": "/a"}), "copy operation failed to decode path: missing value"),
            (json!({"op": "test", "path": "/a/b/0", "value": 1.0}), "testing value /a/b/0 failed: test failed"),
            (json!({"op": "test", "path": "/a/b/0"}), "testing value /a/b/0 failed: test failed"),
            (json!({"op": "test", "path": "/x/y", "value": 1}), "test operation does not apply: is missing path: /x/y: missing value"),
            (json!({"op": "frobnicate", "path": "/a"}), "Unexpected kind: frobnicate"),
            (json!({"path": "/a"}), "Unexpected kind: unknown"),
            (json!({"op": 1, "path": "/a"}), "Unexpected kind: unknown"),
        ];
        for (op, want) in cases {
            assert_eq!(failed(doc.clone(), json!([op.clone()])), want, "op {op}");
        }
        assert_eq!(failed(doc, json!([null])), "Unexpected kind: unknown");
    }

    #[test]
    fn a_failed_operation_leaves_no_partial_result_and_maps_to_422() {
        let err = json_patch(&json!({"a": 1}), &json!([{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 2}]))
            .expect_err("test fails");
        assert_eq!(err.code(), 422);
        assert_eq!(err.reason(), "Invalid");
        assert_eq!(err.message(), "the server rejected our request due to an error in our request");
    }

    #[test]
    fn undecodable_patches_are_bad_requests() {
        let err = json_patch(&json!({}), &json!({"op": "add"})).expect_err("object");
        assert_eq!(err, PatchError::BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch".into()));
        assert_eq!(err.code(), 400);
        let err = json_patch(&json!({}), &json!([1])).expect_err("number op");
        assert_eq!(err.message(), "json: cannot unmarshal number into Go value of type jsonpatch.Operation");
        let many = Value::Array(vec![json!({"op": "test", "path": "/a"}); MAX_JSON_PATCH_OPERATIONS + 1]);
        let err = json_patch(&json!({}), &many).expect_err("too many");
        assert_eq!(err.code(), 413);
        assert_eq!(err.message(), "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");
    }

    #[test]
    fn pointer_unescaping() {
        assert_eq!(decode_key("a~1b~0c~01"), "a/b~c~1");
        assert_eq!(ok(json!({"a/b": {"~": 1}}), json!([{"op": "replace", "path": "/a~1b/~0", "value": 2}])), json!({"a/b": {"~": 2}}));
    }
}
