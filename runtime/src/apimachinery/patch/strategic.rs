//! Strategic merge patch, following `k8s.io/apimachinery/pkg/util/strategicpatch`'s server-side
//! `StrategicMergeMapPatch` (merge parallel lists, ignore unmatched nulls) with the patch metadata
//! (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`) read from the schema tree.
//!
//! - Maps merge recursively; a `null` member deletes; `patchStrategy: replace` replaces a map.
//! - Lists whose field has `patchStrategy: merge` merge: lists of maps by the merge key (items with
//!   `$patch: delete` delete, `$patch: replace` replaces the list), lists of scalars as a union;
//!   `$deleteFromPrimitiveList/<field>` removes scalars. Other lists are replaced.
//! - `$patch: replace|delete` in a map, `$retainKeys` (clears the members it does not list),
//!   `$setElementOrder/<field>` (orders a merged list), with upstream's ordering rules.
//! - Where the schema gives no information (`Type::Any`, preserve-unknown-fields, fields it does
//!   not know), maps merge and lists are replaced, as merge patch does. Upstream refuses strategic
//!   merge patch for custom resources altogether (415); whether to offer it is the caller's choice.

use serde_json::{Map, Value};

use super::gofmt::{self, go_type, GoType, MAP_TYPE, SLICE_TYPE};
use super::{json_kind, PatchError};
use crate::apimachinery::schema::{Schema, Type};

const DIRECTIVE_MARKER: &str = "$patch";
const DELETE_DIRECTIVE: &str = "delete";
const REPLACE_DIRECTIVE: &str = "replace";
const MERGE_DIRECTIVE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";
const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";

const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str = "invalid patch format of setElementOrder list";

type Result<T> = std::result::Result<T, PatchError>;

/// The schema node a value sits at; `None` when the schema says nothing about it.
type Node<'s> = Option<&'s Schema>;

/// Applies a strategic merge patch to `doc` using the patch metadata in `schema` (the schema of
/// `doc`). A `null` patch changes nothing; a patch that is not an object is a
/// [`PatchError::BadRequest`] (`json: cannot unmarshal array into Go value of type
/// map[string]interface {}`), as kube-apiserver's decoding reports it.
pub fn strategic_merge_patch(doc: &Value, patch: &Value, schema: &Schema) -> Result<Value> {
    let patch = match patch {
        Value::Object(p) => p.clone(),
        Value::Null => return Ok(doc.clone()),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(other)
            )))
        }
    };
    let Value::Object(original) = doc else {
        return Err(PatchError::BadRequest(ERR_BAD_JSON_DOC.into()));
    };
    merge_map(original.clone(), patch, Some(schema)).map(Value::Object)
}

// ---------------------------------------------------------------------------------------------
// Patch metadata
// ---------------------------------------------------------------------------------------------

/// A field's patch metadata: the schema below it and its strategy and merge key.
struct PatchMeta<'s> {
    sub: Node<'s>,
    strategies: Vec<&'s str>,
    merge_key: &'s str,
}

impl PatchMeta<'_> {
    fn none() -> Self {
        PatchMeta { sub: None, strategies: Vec::new(), merge_key: "" }
    }
}

/// `LookupPatchMetadataForStruct`: the field's schema and metadata (a map's values carry none).
fn lookup_struct<'s>(node: Node<'s>, key: &str) -> PatchMeta<'s> {
    match node.map(|s| s.ty) {
        Some(Type::Object(o)) => match o.property(key) {
            Some(p) => PatchMeta {
                sub: Some(p),
                strategies: p.patch_strategy.map(|s| s.split(',').collect()).unwrap_or_default(),
                merge_key: p.patch_merge_key.unwrap_or(""),
            },
            None => PatchMeta { sub: o.additional_properties, ..PatchMeta::none() },
        },
        Some(Type::Map(values)) => PatchMeta { sub: Some(values), ..PatchMeta::none() },
        _ => PatchMeta::none(),
    }
}

/// `LookupPatchMetadataForSlice`: like [`lookup_struct`], with the schema of the list's items.
fn lookup_slice<'s>(node: Node<'s>, key: &str) -> PatchMeta<'s> {
    let meta = lookup_struct(node, key);
    PatchMeta { sub: meta.sub.and_then(Schema::items), ..meta }
}

/// `extractRetainKeysPatchStrategy`: the strategy besides `retainKeys`.
fn patch_strategy<'s>(strategies: &[&'s str]) -> Result<&'s str> {
    match strategies {
        [] => Ok(""),
        [RETAIN_KEYS_STRATEGY] => Ok(""),
        [one] => Ok(*one),
        [RETAIN_KEYS_STRATEGY, other] | [other, RETAIN_KEYS_STRATEGY] => Ok(*other),
        _ => Err(PatchError::Internal(format!("unexpected patch strategy: [{}]", strategies.join(" ")))),
    }
}

/// `PatchMetaFromStruct.Name()`: the Go kind of the list items' type.
fn kind_name(node: Node<'_>) -> &'static str {
    match node.map(|s| s.ty) {
        Some(Type::Object(_)) => "struct",
        Some(Type::Map(_)) => "map",
        Some(Type::String) => "string",
        Some(Type::Integer) => "int64",
        Some(Type::Number) => "float64",
        Some(Type::Boolean) => "bool",
        Some(Type::Array(_)) => "slice",
        Some(Type::Any) | None => "interface",
    }
}

// ---------------------------------------------------------------------------------------------
// Errors with upstream's texts
// ---------------------------------------------------------------------------------------------

fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::Internal(format!("expected a {expected}, but received a {}", gofmt::type_name(actual)))
}

fn no_merge_key(m: &Value, key: &str) -> PatchError {
    PatchError::Internal(format!("map: {} does not contain declared merge key: {key}", gofmt::v(m)))
}

fn bad_patch_type(directive: &Value, m: &Value) -> PatchError {
    PatchError::Internal(format!("unknown patch type: {} in map: {}", gofmt::s(directive), gofmt::v(m)))
}

/// `extractKey`: the field name after `<prefix>/`.
fn extract_key(s: &str, prefix: &str) -> Result<String> {
    match s.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_string()),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST_PREFIX => PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST.into()),
            SET_ELEMENT_ORDER_PREFIX => PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST.into()),
            _ => PatchError::Internal(format!("fail to find unknown prefix {} in {s}\n", crate::apimachinery::go::quote(prefix))),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------------

/// `mergeMap`: merges `patch` into `original`.
fn merge_map(mut original: Map<String, Value>, mut patch: Map<String, Value>, node: Node<'_>) -> Result<Map<String, Value>> {
    if let Some(directive) = patch.get(DIRECTIVE_MARKER).cloned() {
        return handle_directive_in_merge_map(&directive, patch);
    }
    apply_retain_keys_directive(&mut original, &mut patch)?;
    merge_patch_into_original(&mut original, &mut patch, node)?;

    for (key, patch_v) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) {
            let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            (if field.is_empty() { key } else { field }, true)
        } else {
            (key, false)
        };
        if patch_v.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let same_type = match original.get(&key) {
            None => false,
            Some(cur) => go_type(cur) == go_type(&patch_v),
        };
        if !same_type {
            // Absent from the original, or of another type: take the patch value, cleaned.
            if !is_delete_list {
                set_from_patch(&mut original, key, patch_v);
            }
            continue;
        }
        let Some(current) = original.get_mut(&key) else { continue };
        match patch_v {
            Value::Object(p) => {
                let meta = lookup_struct(node, &key);
                let strategy = patch_strategy(&meta.strategies)?;
                let Value::Object(o) = std::mem::take(current) else { continue };
                *current = Value::Object(if strategy == REPLACE_DIRECTIVE { p } else { merge_map(o, p, meta.sub)? });
            }
            Value::Array(p) => {
                let meta = lookup_slice(node, &key);
                let strategy = patch_strategy(&meta.strategies)?;
                let Value::Array(o) = std::mem::take(current) else { continue };
                *current = Value::Array(merge_slice_handler(o, p, meta.sub, strategy, meta.merge_key, is_delete_list)?);
            }
            scalar => *current = scalar,
        }
    }
    Ok(original)
}

/// Stores a patch value the original lacks: nested `null`s dropped, maps carrying `$patch`
/// removed (the field itself when its value does).
fn set_from_patch(original: &mut Map<String, Value>, key: String, mut value: Value) {
    discard_null_values(&mut value);
    match remove_directives(value) {
        Some(v) => {
            original.insert(key, v);
        }
        None => {
            original.shift_remove(&key);
        }
    }
}

/// `discardNullValuesFromPatch`: drops `null` members of maps, recursively.
fn discard_null_values(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(discard_null_values);
        }
        Value::Array(a) => a.iter_mut().for_each(discard_null_values),
        _ => {}
    }
}

/// `removeDirectives`: `None` for a map holding `$patch` (drop it), else the value without such
/// maps inside.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE_MARKER) {
                return None;
            }
            Some(Value::Object(m.into_iter().filter_map(|(k, x)| remove_directives(x).map(|x| (k, x))).collect()))
        }
        Value::Array(a) => Some(Value::Array(a.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

/// `$patch` in a map: `replace` keeps the patch as the value, `delete` empties it.
fn handle_directive_in_merge_map(directive: &Value, mut patch: Map<String, Value>) -> Result<Map<String, Value>> {
    match directive.as_str() {
        Some(REPLACE_DIRECTIVE) => {
            patch.shift_remove(DIRECTIVE_MARKER);
            Ok(patch)
        }
        Some(DELETE_DIRECTIVE) => Ok(Map::new()),
        _ => Err(bad_patch_type(directive, &Value::Object(patch))),
    }
}

/// `$retainKeys`: every patched member must be listed; unlisted members of the original go.
fn apply_retain_keys_directive(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<()> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS_DIRECTIVE) else {
        return Ok(());
    };
    let Value::Array(list) = retain else {
        return Err(PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
    };
    let retained = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.starts_with(SET_ELEMENT_ORDER_PREFIX) {
            continue;
        }
        if !retained(k) {
            return Err(PatchError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
        }
    }
    original.retain(|k, _| retained(k));
    Ok(())
}

/// The array at `key` of `m`, if present (any other value there is upstream's `ErrBadArgType`).
fn list_at(m: &Map<String, Value>, key: &str) -> Result<Option<Vec<Value>>> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.clone())),
        Some(other) => Err(bad_arg_type(SLICE_TYPE, other)),
    }
}

/// `mergePatchIntoOriginal`: merges each list named by a `$setElementOrder/<field>` directive and
/// orders it as the directive says, removing both from the patch.
fn merge_patch_into_original(original: &mut Map<String, Value>, patch: &mut Map<String, Value>, node: Node<'_>) -> Result<()> {
    let keys: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER_PREFIX)).cloned().collect();
    for key in keys {
        let Some(order) = patch.shift_remove(&key) else { continue };
        let Value::Array(set_order) = order else {
            return Err(bad_arg_type(SLICE_TYPE, &order));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER_PREFIX)?;
        let original_list = list_at(original, &field)?;
        let patch_list = list_at(patch, &field)?;
        let meta = lookup_slice(node, &field);
        let strategy = patch_strategy(&meta.strategies)?;
        let merge_key = meta.merge_key;
        validate_patch_with_set_order_list(patch_list.as_deref().unwrap_or_default(), &set_order, merge_key)?;

        let merged = match (&original_list, &patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => match remove_directives(Value::Array(p.clone())) {
                Some(Value::Array(a)) => a,
                _ => continue,
            },
            (Some(o), Some(p)) => merge_slice_handler(o.clone(), p.clone(), meta.sub, strategy, merge_key, false)?,
            (None, None) => continue,
        };
        let (patch_items, server_only) = if merge_key.is_empty() {
            partition_primitives(merged, &set_order)
        } else {
            partition_maps(merged, &set_order, merge_key)?
        };
        let original_field = original_list.unwrap_or_default();
        let kind = slice_element_type(&[original_field.as_slice(), patch_list.as_deref().unwrap_or_default()])?;
        let both = normalize_element_order(patch_items, server_only, &set_order, &original_field, merge_key, kind)?;
        original.insert(field.clone(), Value::Array(both));
        patch.shift_remove(&field);
    }
    Ok(())
}

/// Checks that the patch list's items (deletions and directives aside) appear in the
/// `$setElementOrder` list in the same relative order.
fn validate_patch_with_set_order_list(patch_list: &[Value], set_order: &[Value], merge_key: &str) -> Result<()> {
    if set_order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> =
        if merge_key.is_empty() { patch_list.iter().collect() } else { extract_to_delete_items(patch_list)?.0 };
    let (mut pi, mut si) = (0, 0);
    while let (Some(p), Some(s)) = (non_delete.get(pi), set_order.get(si)) {
        if contains_directive_marker(p) {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(p, s, merge_key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= set_order.len() {
        return Err(PatchError::Internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER_PREFIX} list:\n{}\n",
            gofmt::v(&Value::Array(patch_list.to_vec())),
            gofmt::v(&Value::Array(set_order.to_vec()))
        )));
    }
    Ok(())
}

fn contains_directive_marker(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE_MARKER))
}

fn merge_key_value_equal(left: &Value, right: &Value, merge_key: &str) -> Result<bool> {
    if merge_key.is_empty() {
        return Ok(left == right);
    }
    let l = left.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, left))?;
    let r = right.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, right))?;
    let lv = l.get(merge_key).ok_or_else(|| no_merge_key(left, merge_key))?;
    let rv = r.get(merge_key).ok_or_else(|| no_merge_key(right, merge_key))?;
    Ok(lv == rv)
}

/// Splits a list of maps into the items to keep and those marked `$patch: delete`.
fn extract_to_delete_items(list: &[Value]) -> Result<(Vec<&Value>, Vec<&Value>)> {
    let mut keep = Vec::new();
    let mut delete = Vec::new();
    for v in list {
        let m = v.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, v))?;
        if m.get(DIRECTIVE_MARKER).and_then(Value::as_str) == Some(DELETE_DIRECTIVE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

// ---------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------

/// `mergeSliceHandler`: merge lists with the merge strategy (and deletion lists), else replace.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    elem: Node<'_>,
    strategy: &str,
    merge_key: &str,
    is_delete_list: bool,
) -> Result<Vec<Value>> {
    if strategy == MERGE_DIRECTIVE || is_delete_list {
        merge_slice(original, patch, elem, merge_key, is_delete_list)
    } else {
        Ok(patch)
    }
}

/// `mergeSlice`: merges two lists of the same element type, then orders the result.
fn merge_slice(original: Vec<Value>, patch: Vec<Value>, elem: Node<'_>, merge_key: &str, is_delete_list: bool) -> Result<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = slice_element_type(&[original.as_slice(), patch.as_slice()])?;
    let (original, patch, merged) = if kind != GoType::Map {
        if is_delete_list {
            return Ok(original.into_iter().filter(|v| !patch.contains(v)).collect());
        }
        let mut both = original.clone();
        both.extend(patch.iter().cloned());
        (original, patch, deduplicate_scalars(both))
    } else {
        if merge_key.is_empty() {
            return Err(PatchError::Internal(format!("cannot merge lists without merge key for {}", kind_name(elem))));
        }
        let (original, patch) = merge_slice_with_special_elements(original, patch, merge_key)?;
        let merged = merge_slice_without_special_elements(original.clone(), &patch, merge_key, elem)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = if merge_key.is_empty() {
        partition_primitives(merged, &patch)
    } else {
        partition_maps(merged, &patch, merge_key)?
    };
    normalize_element_order(patch_items, server_only, &patch, &original, merge_key, kind)
}

/// Handles `$patch` items of a merging list of maps: `delete` removes matching entries from the
/// original, `replace` makes the remaining patch items the whole list.
fn merge_slice_with_special_elements(mut original: Vec<Value>, patch: Vec<Value>, merge_key: &str) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(directive) = v.get(DIRECTIVE_MARKER) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some(DELETE_DIRECTIVE) => {
                let Some(value) = v.get(merge_key) else {
                    return Err(no_merge_key(&v, merge_key));
                };
                while let Some(i) = find_map_in_slice(&original, merge_key, value)? {
                    original.remove(i);
                }
            }
            Some(REPLACE_DIRECTIVE) => replace = true,
            Some(MERGE_DIRECTIVE) => {
                return Err(PatchError::Internal("merging lists cannot yet be specified in the patch".into()))
            }
            _ => return Err(bad_patch_type(directive, &v)),
        }
    }
    if replace {
        Ok((plain, Vec::new()))
    } else {
        Ok((original, plain))
    }
}

/// Merges each patch item into the original item with the same merge key value, or appends it.
fn merge_slice_without_special_elements(mut original: Vec<Value>, patch: &[Value], merge_key: &str, elem: Node<'_>) -> Result<Vec<Value>> {
    for v in patch {
        let Some(item) = v.as_object() else { continue };
        let Some(value) = item.get(merge_key) else {
            return Err(no_merge_key(v, merge_key));
        };
        match find_map_in_slice(&original, merge_key, value)? {
            Some(i) => {
                let Some(slot) = original.get_mut(i) else { continue };
                let Value::Object(current) = std::mem::take(slot) else { continue };
                *slot = Value::Object(merge_map(current, item.clone(), elem)?);
            }
            None => original.push(v.clone()),
        }
    }
    Ok(original)
}

/// The index of the first map whose `key` equals `value`.
fn find_map_in_slice(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>> {
    for (i, v) in list.iter().enumerate() {
        let m = v.as_object().ok_or_else(|| PatchError::Internal(format!("value for key {i} is not a map.")))?;
        if m.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// upstream's in-place deduplication (order is fixed later by [`normalize_element_order`]).
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut i = 0;
    while i + 1 < s.len() {
        let mut j = i + 1;
        while j < s.len() {
            if s.get(i) == s.get(j) {
                let last = s.len() - 1;
                s.swap(j, last);
                s.truncate(last);
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    s
}

/// `sliceElementType`: the one Go type of all elements; lists of lists are refused.
fn slice_element_type(lists: &[&[Value]]) -> Result<GoType> {
    let mut prev: Option<GoType> = None;
    for v in lists.iter().flat_map(|l| l.iter()) {
        let t = go_type(v);
        match prev {
            None if t == GoType::Slice => return Err(PatchError::Unprocessable(ERR_NO_LIST_OF_LISTS.into())),
            // Upstream dereferences the nil type here and panics.
            None if t == GoType::Nil => {
                return Err(PatchError::Internal("runtime error: invalid memory address or nil pointer dereference".into()))
            }
            None => prev = Some(t),
            Some(p) if p != t => {
                let all = Value::Array(lists.iter().map(|l| Value::Array(l.to_vec())).collect());
                return Err(PatchError::Internal(format!("list element types are not identical: {}", gofmt::v(&all))));
            }
            Some(_) => {}
        }
    }
    prev.ok_or_else(|| PatchError::Internal("no elements in any of the given slices".into()))
}

fn partition_primitives(merged: Vec<Value>, by: &[Value]) -> (Vec<Value>, Vec<Value>) {
    merged.into_iter().partition(|v| by.contains(v))
}

fn partition_maps(merged: Vec<Value>, by: &[Value], merge_key: &str) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut in_patch = Vec::new();
    let mut server_only = Vec::new();
    for v in merged {
        let m = v.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, &v))?;
        let value = m.get(merge_key).ok_or_else(|| no_merge_key(&v, merge_key))?;
        if find_map_in_slice(by, merge_key, value)?.is_some() {
            in_patch.push(v);
        } else {
            server_only.push(v);
        }
    }
    Ok((in_patch, server_only))
}

// ---------------------------------------------------------------------------------------------
// Ordering
// ---------------------------------------------------------------------------------------------

static NIL: Value = Value::Null;

/// The value items are compared by: the merge key's value for maps (nil when absent), else the item.
fn order_value<'v>(item: &'v Value, merge_key: &str, kind: GoType) -> &'v Value {
    if kind == GoType::Map {
        item.as_object().and_then(|m| m.get(merge_key)).unwrap_or(&NIL)
    } else {
        item
    }
}

/// `index`: the position of `item` in `list`, compared by [`order_value`].
fn index_in(list: &[Value], item: &Value, merge_key: &str, kind: GoType) -> Option<usize> {
    let wanted = order_value(item, merge_key, kind);
    list.iter().position(|x| order_value(x, merge_key, kind) == wanted)
}

/// `normalizeElementOrder`: orders the patch items as `patch_order`, the server-only items as
/// `server_order`, then interleaves them by their positions in `server_order`.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: &str,
    kind: GoType,
) -> Result<Vec<Value>> {
    let patch_items = normalize_slice_order(patch_items, patch_order, merge_key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, merge_key, kind)?;
    Ok(merge_sorted_slice(server_only, patch_items, server_order, merge_key, kind))
}

/// `normalizeSliceOrder`: sorts `to_sort` by position in `order` (Go's stable sort with
/// upstream's comparison), items marked `$patch: delete` last.
fn normalize_slice_order(to_sort: Vec<Value>, order: &[Value], merge_key: &str, kind: GoType) -> Result<Vec<Value>> {
    let (mut to_sort, to_delete) = if kind == GoType::Map {
        for item in to_sort.iter().chain(order) {
            let m = item.as_object().ok_or_else(|| bad_arg_type(MAP_TYPE, item))?;
            if !m.contains_key(merge_key) {
                return Err(no_merge_key(item, merge_key));
            }
        }
        to_sort.into_iter().partition::<Vec<Value>, _>(|v| {
            v.get(DIRECTIVE_MARKER).and_then(Value::as_str) != Some(DELETE_DIRECTIVE)
        })
    } else {
        (to_sort, Vec::new())
    };
    go_stable_sort(&mut to_sort, &|a: &Value, b: &Value| {
        match (index_in(order, a, merge_key, kind), index_in(order, b, merge_key, kind)) {
            (Some(i), Some(j)) => i < j,
            _ => true,
        }
    });
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// `mergeSortedSlice`: interleaves two ordered, disjoint lists; a `left` item goes first only when
/// both are in `server_order` and it comes earlier there.
fn merge_sorted_slice(left: Vec<Value>, right: Vec<Value>, server_order: &[Value], merge_key: &str, kind: GoType) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let left_first = match (index_in(server_order, l, merge_key, kind), index_in(server_order, r, merge_key, kind)) {
            (Some(i), Some(j)) => i < j,
            _ => false,
        };
        let next = if left_first { left.next() } else { right.next() };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    out
}

/// Go's `sort.SliceStable` (insertion-sorted blocks of 20, then `symMerge`), reproduced so that
/// upstream's comparison, which is not a strict order when items are missing from the order
/// list, gives the same result.
fn go_stable_sort<T>(data: &mut [T], less: &impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, less);
    while block < n {
        a = 0;
        b = 2 * block;
        while b <= n {
            sym_merge(data, a, a + block, b, less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, less);
        }
        block *= 2;
    }
}

fn lt<T>(data: &[T], i: usize, j: usize, less: &impl Fn(&T, &T) -> bool) -> bool {
    match (data.get(i), data.get(j)) {
        (Some(x), Some(y)) => less(x, y),
        _ => false,
    }
}

fn insertion_sort<T>(data: &mut [T], a: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && lt(data, j, j - 1, less) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn sym_merge<T>(data: &mut [T], a: usize, m: usize, b: usize, less: &impl Fn(&T, &T) -> bool) {
    if m - a == 1 {
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if lt(data, h, a, less) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !lt(data, m, h, less) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !lt(data, p - c, c, less) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        rotate(data, start, m, end);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

fn swap_range<T>(data: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        data.swap(a + i, b + i);
    }
}

fn rotate<T>(data: &mut [T], a: usize, m: usize, b: usize) {
    let mut i = m - a;
    let mut j = b - m;
    while i != j {
        if i > j {
            swap_range(data, m - i, m, j);
            i -= j;
        } else {
            swap_range(data, m - i, m + j - i, i);
            j -= i;
        }
    }
    swap_range(data, m - i, m, i);
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
