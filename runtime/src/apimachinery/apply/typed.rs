//! The schema tree seen through upstream's server-side-apply type model, and the walks over values
//! that use it (structured-merge-diff's `typed` package).
//!
//! The model follows how upstream derives it from OpenAPI (kube-openapi `schemaconv`): scalars are
//! leaves; objects are granular maps unless `x-kubernetes-map-type: atomic`; lists are atomic unless
//! `x-kubernetes-list-type` says `set` or `map`, and without a list type a list with
//! `x-kubernetes-patch-strategy: merge` is associative (keyed by `x-kubernetes-patch-merge-key`, or
//! a set of scalars without one). Untyped nodes (`x-kubernetes-preserve-unknown-fields`, no type) are
//! "deduced": maps are granular, lists atomic. A resource (the root, or an
//! `x-kubernetes-embedded-resource` object) always has `apiVersion`, `kind` and an ObjectMeta
//! `metadata`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldpath::{FieldSet, PathElement};
use super::value::{equals, go_quote, go_sharp_v, go_type_name, go_v};
use crate::apimachinery::schema::{wellknown, ListType, MapType, Schema, Type};

static STRING: Schema = Schema { ty: Type::String, ..Schema::DEFAULT };
static NULL: Value = Value::Null;

/// A node of the type model.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ty {
    /// A schema node; `resource` when it is a resource (implicit apiVersion, kind, metadata).
    Node { schema: &'static Schema, resource: bool },
    /// Upstream's `__untyped_deduced_`: the value decides (maps granular, lists atomic).
    Deduced,
}

impl Ty {
    /// The root of a kind's schema.
    pub(crate) fn root(schema: &'static Schema) -> Ty {
        Ty::Node { schema, resource: true }
    }

    fn of(schema: &'static Schema) -> Ty {
        Ty::Node { schema, resource: schema.embedded_resource }
    }
}

/// How a list's items are identified.
#[derive(Clone, Debug)]
pub(crate) enum ListKind {
    /// The list is one value.
    Atomic,
    /// Scalars identified by value (`v:`).
    Set,
    /// Objects identified by key fields (`k:`).
    Keyed(Vec<&'static str>),
    /// Granular but positional (`i:`), as for `x-kubernetes-patch-strategy: retainKeys` lists.
    Indexed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar {
    Numeric,
    String,
    Boolean,
    Untyped,
}

#[derive(Clone, Debug)]
enum Atom {
    Scalar(Scalar),
    List { item: Ty, kind: ListKind },
    Map { atomic: bool },
}

impl Atom {
    fn same_shape(&self, other: &Atom) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// The list kind of an array schema; `x-kubernetes-list-type` wins over the patch strategy.
pub(crate) fn list_kind(s: &Schema) -> ListKind {
    match s.list_type {
        ListType::Set => ListKind::Set,
        ListType::Map([]) => ListKind::Set,
        ListType::Map(keys) => ListKind::Keyed(keys.to_vec()),
        ListType::Atomic => match s.patch_strategy.map(str::trim) {
            Some("merge") | Some("merge,retainKeys") => match s.patch_merge_key {
                Some(k) => ListKind::Keyed(vec![k]),
                None => ListKind::Set,
            },
            Some("retainKeys") => ListKind::Indexed,
            _ => ListKind::Atomic,
        },
    }
}

fn deduced(v: Option<&Value>) -> Atom {
    match v {
        Some(Value::Array(_)) => Atom::List { item: Ty::Deduced, kind: ListKind::Atomic },
        Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => Atom::Scalar(Scalar::Untyped),
        _ => Atom::Map { atomic: false },
    }
}

/// The atom for `ty`; only deduced nodes look at the value.
fn atom(ty: Ty, v: Option<&Value>) -> Atom {
    let Ty::Node { schema, .. } = ty else { return deduced(v) };
    match schema.ty {
        Type::String if matches!(schema.format, None | Some("byte")) => Atom::Scalar(Scalar::String),
        Type::String => Atom::Scalar(Scalar::Untyped),
        Type::Integer | Type::Number => Atom::Scalar(Scalar::Numeric),
        Type::Boolean => Atom::Scalar(Scalar::Boolean),
        Type::Any if schema.int_or_string => Atom::Scalar(Scalar::Untyped),
        Type::Any => deduced(v),
        Type::Array(item) => Atom::List { item: Ty::of(item), kind: list_kind(schema) },
        Type::Map(_) | Type::Object(_) => Atom::Map { atomic: schema.map_type == MapType::Atomic },
    }
}

/// A map key's type: a declared struct field, an undeclared (map) entry, or not allowed here.
pub(crate) enum FieldTy {
    Declared(Ty),
    Undeclared(Ty),
    Unknown,
}

pub(crate) fn field(ty: Ty, name: &str) -> FieldTy {
    let Ty::Node { schema, resource } = ty else { return FieldTy::Undeclared(Ty::Deduced) };
    if let Some(p) = schema.property(name) {
        return FieldTy::Declared(Ty::of(p));
    }
    if resource {
        match name {
            "apiVersion" | "kind" => return FieldTy::Declared(Ty::of(&STRING)),
            "metadata" => return FieldTy::Declared(Ty::of(&wellknown::OBJECT_META)),
            _ => {}
        }
    }
    match schema.ty {
        Type::Map(v) => FieldTy::Undeclared(Ty::of(v)),
        Type::Object(o) => match o.additional_properties {
            Some(ap) => FieldTy::Undeclared(Ty::of(ap)),
            None if schema.preserves_unknown_fields() => FieldTy::Undeclared(Ty::Deduced),
            None => FieldTy::Unknown,
        },
        Type::Any if !schema.int_or_string => FieldTy::Undeclared(Ty::Deduced),
        _ => FieldTy::Unknown,
    }
}

/// The type of a map entry, lenient about undeclared keys (values already checked or stored).
fn field_lenient(ty: Ty, name: &str) -> (Ty, bool) {
    match field(ty, name) {
        FieldTy::Declared(t) => (t, true),
        FieldTy::Undeclared(t) => (t, false),
        FieldTy::Unknown => (Ty::Deduced, false),
    }
}

fn key_default(item: Ty, key: &str) -> Result<Option<Value>, &'static str> {
    let Ty::Node { schema, .. } = item else { return Ok(None) };
    match schema.ty {
        Type::Object(o) => Ok(o.property(key).and_then(Schema::default_value)),
        Type::Map(_) | Type::Any => Ok(None),
        _ => Err("associative list may not have non-map types"),
    }
}

/// The path element of list item `index`, with upstream's error texts.
pub(crate) fn item_pe(kind: &ListKind, item: Ty, index: usize, v: &Value) -> Result<PathElement, String> {
    match kind {
        ListKind::Atomic | ListKind::Indexed => Ok(PathElement::Index(index as i64)),
        ListKind::Set => match v {
            Value::Object(_) => Err("associative list without keys has an element that's a map type".into()),
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            Value::Null => Err("associative list without keys has an element that's an explicit null".into()),
            _ => Ok(PathElement::Value(v.clone())),
        },
        ListKind::Keyed(keys) => {
            let m = match v {
                Value::Null => return Err("associative list with keys may not have a null element".into()),
                Value::Object(m) => m,
                _ => return Err("associative list with keys may not have non-map elements".into()),
            };
            let mut fields = Vec::with_capacity(keys.len());
            for k in keys {
                if let Some(x) = m.get(*k) {
                    fields.push((k.to_string(), x.clone()));
                    continue;
                }
                match key_default(item, k) {
                    Ok(Some(d)) => fields.push((k.to_string(), d)),
                    Ok(None) => {
                        return Err(format!(
                            "associative list with keys has an element that omits key field {} (and doesn't have default value)",
                            go_quote(k)
                        ))
                    }
                    Err(e) => return Err(format!("couldn't find default value for {k}: {e}")),
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
    }
}

/// One schema violation, with upstream's path prefix (`.spec.ports`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidationError {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Upstream's `ValidationErrors.Error()`.
pub(crate) fn errors_text(errs: &[ValidationError]) -> String {
    let one = |e: &ValidationError| if e.path.is_empty() { e.message.clone() } else { format!("{}: {}", e.path, e.message) };
    match errs {
        [e] => one(e),
        _ => {
            let mut lines = vec!["errors:".to_string()];
            lines.extend(errs.iter().map(|e| format!("  {}", one(e))));
            lines.join("\n")
        }
    }
}

fn scalar_error(kind: Scalar, v: &Value) -> Option<String> {
    match (kind, v) {
        (_, Value::Null) => None,
        (Scalar::Numeric, Value::Number(_)) | (Scalar::String, Value::String(_)) | (Scalar::Boolean, Value::Bool(_)) => None,
        (Scalar::Untyped, Value::Number(_) | Value::String(_) | Value::Bool(_)) => None,
        (Scalar::Numeric, _) => Some(format!("expected numeric (int or float), got {}", go_type_name(v))),
        (Scalar::String, _) => Some(format!("expected string, got &value.valueUnstructured{{Value:{}}}", go_sharp_v(v))),
        (Scalar::Boolean, _) => Some(format!("expected boolean, got &{{{}}}", go_v(v))),
        (Scalar::Untyped, _) => Some(format!("expected any scalar, got &{{{}}}", go_v(v))),
    }
}

/// Checks `v` against the model as upstream does for an applied configuration: undeclared fields,
/// wrong shapes or scalar types, bad or duplicate list keys.
pub(crate) fn validate(ty: Ty, v: &Value, path: &str, errs: &mut Vec<ValidationError>) {
    let err = |errs: &mut Vec<ValidationError>, path: &str, message: String| errs.push(ValidationError { path: path.to_string(), message });
    match atom(ty, Some(v)) {
        Atom::Scalar(kind) => {
            if let Some(m) = scalar_error(kind, v) {
                err(errs, path, m);
            }
        }
        Atom::List { item, kind } => {
            let items = match v {
                Value::Null => return,
                Value::Array(items) => items,
                _ => return err(errs, path, format!("expected list, got &{{{}}}", go_v(v))),
            };
            let associative = matches!(kind, ListKind::Set | ListKind::Keyed(_));
            let mut seen = BTreeSet::new();
            for (i, x) in items.iter().enumerate() {
                let child = if associative {
                    let pe = match item_pe(&kind, item, i, x) {
                        Ok(pe) => pe,
                        Err(e) => return err(errs, path, format!("element {i}: {e}")),
                    };
                    if seen.contains(&pe) {
                        err(errs, path, format!("duplicate entries for key {pe}"));
                    }
                    let child = format!("{path}{pe}");
                    seen.insert(pe);
                    child
                } else {
                    format!("{path}[{i}]")
                };
                validate(item, x, &child, errs);
            }
        }
        Atom::Map { .. } => {
            let m = match v {
                Value::Null => return,
                Value::Object(m) => m,
                _ => return err(errs, path, format!("expected map, got &{{{}}}", go_v(v))),
            };
            for (k, x) in m {
                let child = format!("{path}.{k}");
                match field(ty, k) {
                    FieldTy::Declared(t) | FieldTy::Undeclared(t) => validate(t, x, &child, errs),
                    FieldTy::Unknown => return err(errs, &child, "field not declared in schema".into()),
                }
            }
        }
    }
}

/// The fields `v` sets (upstream's `ToFieldSet`): leaves, list items, and entries of non-struct maps.
pub(crate) fn field_set(ty: Ty, v: &Value) -> FieldSet {
    let mut set = FieldSet::default();
    walk_set(ty, v, &mut Vec::new(), &mut set);
    set
}

fn walk_set(ty: Ty, v: &Value, path: &mut Vec<PathElement>, set: &mut FieldSet) {
    match atom(ty, Some(v)) {
        Atom::Scalar(_) => set.insert(path),
        Atom::List { item, kind } => {
            if matches!(kind, ListKind::Atomic) {
                return set.insert(path);
            }
            let Value::Array(items) = v else { return };
            for (i, x) in items.iter().enumerate() {
                let Ok(pe) = item_pe(&kind, item, i, x) else { continue };
                path.push(pe);
                walk_set(item, x, path, set);
                set.insert(path);
                path.pop();
            }
        }
        Atom::Map { atomic } => {
            if atomic {
                return set.insert(path);
            }
            let Value::Object(m) = v else { return };
            for (k, x) in m {
                let (t, declared) = field_lenient(ty, k);
                path.push(PathElement::Field(k.clone()));
                walk_set(t, x, path, set);
                if !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
    }
}

fn as_list(v: Option<&Value>) -> Option<&Vec<Value>> {
    match v {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    }
}

fn as_map(v: Option<&Value>) -> Option<&Map<String, Value>> {
    match v {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn both_empty_lists(l: Option<&Vec<Value>>, r: Option<&Vec<Value>>) -> bool {
    l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty)
}

fn both_empty_maps(l: Option<&Map<String, Value>>, r: Option<&Map<String, Value>>) -> bool {
    l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty)
}

/// Merges the configuration `rhs` into the live `lhs` (upstream's `TypedValue.Merge`): leaves and
/// atomic nodes take `rhs`, granular maps and associative lists merge item by item, keeping live
/// items in their order and inserting new ones where the configuration puts them. Live list items
/// that cannot be keyed are reported in `errs`.
pub(crate) fn merge(ty: Ty, lhs: Option<&Value>, rhs: Option<&Value>, path: &str, errs: &mut Vec<ValidationError>) -> Option<Value> {
    // Typed nodes have one atom; for deduced ones the configuration's shape wins, as in upstream,
    // where the right-hand side's pass runs last.
    let a = match rhs {
        Some(_) => atom(ty, rhs),
        None => atom(ty, lhs),
    };
    let leaf = || rhs.or(lhs).cloned();
    match a {
        Atom::Scalar(_) => leaf(),
        Atom::List { item, kind } => {
            let (l, r) = (as_list(lhs), as_list(rhs));
            if matches!(kind, ListKind::Atomic) || both_empty_lists(l, r) {
                return leaf();
            }
            let empty = Vec::new();
            merge_list(item, &kind, l.unwrap_or(&empty), r.unwrap_or(&empty), path, errs)
        }
        Atom::Map { atomic } => {
            let (l, r) = (as_map(lhs), as_map(rhs));
            if atomic || both_empty_maps(l, r) {
                return leaf();
            }
            let mut out = Map::new();
            if let Some(l) = l {
                for (k, lv) in l {
                    let (t, _) = field_lenient(ty, k);
                    if let Some(x) = merge(t, Some(lv), r.and_then(|r| r.get(k)), &format!("{path}.{k}"), errs) {
                        out.insert(k.clone(), x);
                    }
                }
            }
            if let Some(r) = r {
                for (k, rv) in r {
                    if l.is_some_and(|l| l.contains_key(k)) {
                        continue;
                    }
                    let (t, _) = field_lenient(ty, k);
                    if let Some(x) = merge(t, None, Some(rv), &format!("{path}.{k}"), errs) {
                        out.insert(k.clone(), x);
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
    }
}

fn merge_list(item: Ty, kind: &ListKind, lhs: &[Value], rhs: &[Value], path: &str, errs: &mut Vec<ValidationError>) -> Option<Value> {
    let mut bad = |i: usize, e: String| errs.push(ValidationError { path: path.to_string(), message: format!("element {i}: {e}") });
    // The configuration must not repeat a key; the live object may (the repeats are replaced as one
    // when the configuration sets that key).
    let mut rhs_pes: Vec<(PathElement, &Value)> = Vec::new();
    let mut observed_rhs: BTreeMap<PathElement, &Value> = BTreeMap::new();
    for (i, x) in rhs.iter().enumerate() {
        match item_pe(kind, item, i, x) {
            Ok(pe) if observed_rhs.contains_key(&pe) => bad(i, format!("duplicate entries for key {pe}")),
            Ok(pe) => {
                observed_rhs.insert(pe.clone(), x);
                rhs_pes.push((pe, x));
            }
            Err(e) => bad(i, e),
        }
    }
    let mut lhs_pes: Vec<(PathElement, &Value)> = Vec::new();
    let mut observed_lhs: BTreeMap<PathElement, &Value> = BTreeMap::new();
    for (i, x) in lhs.iter().enumerate() {
        match item_pe(kind, item, i, x) {
            Ok(pe) => {
                if observed_lhs.contains_key(&pe) {
                    observed_lhs.insert(pe.clone(), &NULL);
                } else {
                    observed_lhs.insert(pe.clone(), x);
                }
                lhs_pes.push((pe, x));
            }
            Err(e) => bad(i, e),
        }
    }

    let mut shared = rhs_pes.iter().filter(|(pe, _)| observed_lhs.contains_key(pe)).map(|(pe, _)| pe);
    let mut next_shared = shared.next();
    let mut merged_rhs: BTreeSet<&PathElement> = BTreeSet::new();
    let mut out = Vec::with_capacity(lhs.len().max(rhs.len()));
    let push = |out: &mut Vec<Value>, pe: &PathElement, l: Option<&Value>, r: Option<&Value>, errs: &mut Vec<ValidationError>| {
        if let Some(x) = merge(item, l, r, &format!("{path}{pe}"), errs) {
            out.push(x);
        }
    };
    let (mut li, mut ri) = (0, 0);
    while li < lhs_pes.len() || ri < rhs_pes.len() {
        if li < lhs_pes.len() && ri < rhs_pes.len() {
            let pe = &lhs_pes[li].0;
            if *pe == rhs_pes[ri].0 {
                merged_rhs.insert(pe);
                push(&mut out, pe, observed_lhs.get(pe).copied(), observed_rhs.get(pe).copied(), errs);
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if observed_rhs.contains_key(pe) && next_shared.is_some_and(|n| n != pe) {
                // A shared item, but not the one to place in this round.
                li += 1;
                continue;
            }
        }
        if li < lhs_pes.len() {
            let (pe, x) = (&lhs_pes[li].0, lhs_pes[li].1);
            if !observed_rhs.contains_key(pe) {
                push(&mut out, pe, Some(x), None, errs);
                li += 1;
                continue;
            }
            if merged_rhs.contains(pe) {
                li += 1;
                continue;
            }
        }
        if ri < rhs_pes.len() {
            let pe = &rhs_pes[ri].0;
            merged_rhs.insert(pe);
            push(&mut out, pe, observed_lhs.get(pe).copied(), observed_rhs.get(pe).copied(), errs);
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.next();
            }
        }
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// What changed from one object to another (upstream's `Comparison`): fields only in the new one,
/// fields whose value differs, fields only in the old one. Granular maps and lists that appear or
/// disappear count themselves too.
#[derive(Debug, Clone, Default)]
pub(crate) struct Comparison {
    pub(crate) added: FieldSet,
    pub(crate) modified: FieldSet,
    pub(crate) removed: FieldSet,
}

impl Comparison {
    /// Drops `fields` and everything below them from all three sets.
    pub(crate) fn exclude(&mut self, fields: &FieldSet) {
        if fields.is_empty() {
            return;
        }
        self.added = self.added.recursive_difference(fields);
        self.modified = self.modified.recursive_difference(fields);
        self.removed = self.removed.recursive_difference(fields);
    }
}

/// Compares `lhs` (old) with `rhs` (new).
pub(crate) fn compare(ty: Ty, lhs: &Value, rhs: &Value) -> Comparison {
    let mut c = Comparison::default();
    cmp_node(ty, Some(lhs), Some(rhs), &mut Vec::new(), &mut c);
    c
}

fn cmp_node(ty: Ty, lhs: Option<&Value>, rhs: Option<&Value>, path: &mut Vec<PathElement>, c: &mut Comparison) {
    let (al, ar) = (atom(ty, lhs), atom(ty, rhs));
    let in_leaf = if rhs.is_none() {
        cmp_atom(ty, al, lhs, rhs, path, c)
    } else if lhs.is_none() || al.same_shape(&ar) {
        cmp_atom(ty, ar, lhs, rhs, path, c)
    } else {
        cmp_atom(ty, al, lhs, rhs, path, c);
        cmp_atom(ty, ar, lhs, rhs, path, c)
    };
    if !in_leaf {
        if lhs.is_none() {
            c.added.insert(path);
        } else if rhs.is_none() {
            c.removed.insert(path);
        }
    }
}

fn cmp_leaf(lhs: Option<&Value>, rhs: Option<&Value>, path: &[PathElement], c: &mut Comparison) -> bool {
    match (lhs, rhs) {
        (None, _) => c.added.insert(path),
        (_, None) => c.removed.insert(path),
        (Some(l), Some(r)) => {
            if !equals(l, r) {
                c.modified.insert(path);
            }
        }
    }
    true
}

/// Compares under one atom; true when the node was a leaf.
fn cmp_atom(ty: Ty, a: Atom, lhs: Option<&Value>, rhs: Option<&Value>, path: &mut Vec<PathElement>, c: &mut Comparison) -> bool {
    match a {
        Atom::Scalar(_) => cmp_leaf(lhs, rhs, path, c),
        Atom::List { item, kind } => {
            let (l, r) = (as_list(lhs), as_list(rhs));
            if matches!(kind, ListKind::Atomic) || both_empty_lists(l, r) {
                return cmp_leaf(lhs, rhs, path, c);
            }
            let (l, r) = (l.map(Vec::as_slice).unwrap_or(&[]), r.map(Vec::as_slice).unwrap_or(&[]));
            let mut lvals: BTreeMap<PathElement, &Value> = BTreeMap::new();
            for (i, x) in l.iter().enumerate() {
                if let Ok(pe) = item_pe(&kind, item, i, x) {
                    lvals.entry(pe).or_insert(x);
                }
            }
            let mut rseen: BTreeSet<PathElement> = BTreeSet::new();
            for (i, x) in r.iter().enumerate() {
                let Ok(pe) = item_pe(&kind, item, i, x) else { continue };
                if !rseen.insert(pe.clone()) {
                    continue;
                }
                let lv = lvals.get(&pe).copied();
                path.push(pe);
                cmp_node(item, lv, Some(x), path, c);
                path.pop();
            }
            for (i, x) in l.iter().enumerate() {
                let Ok(pe) = item_pe(&kind, item, i, x) else { continue };
                if rseen.contains(&pe) {
                    continue;
                }
                path.push(pe);
                cmp_node(item, Some(x), None, path, c);
                path.pop();
            }
            false
        }
        Atom::Map { atomic } => {
            let (l, r) = (as_map(lhs), as_map(rhs));
            if atomic || both_empty_maps(l, r) {
                return cmp_leaf(lhs, rhs, path, c);
            }
            if let Some(l) = l {
                for (k, lv) in l {
                    let (t, _) = field_lenient(ty, k);
                    path.push(PathElement::Field(k.clone()));
                    cmp_node(t, Some(lv), r.and_then(|r| r.get(k)), path, c);
                    path.pop();
                }
            }
            if let Some(r) = r {
                for (k, rv) in r {
                    if l.is_some_and(|l| l.contains_key(k)) {
                        continue;
                    }
                    let (t, _) = field_lenient(ty, k);
                    path.push(PathElement::Field(k.clone()));
                    cmp_node(t, None, Some(rv), path, c);
                    path.pop();
                }
            }
            false
        }
    }
}

/// `v` without the members of `set` (upstream's `RemoveItems`). A granular map or list emptied by
/// the removal becomes null, as upstream leaves it.
pub(crate) fn remove_items(ty: Ty, v: &Value, set: &FieldSet) -> Value {
    match atom(ty, Some(v)) {
        Atom::Scalar(_) => v.clone(),
        Atom::List { item, kind } => {
            let Value::Array(items) = v else { return v.clone() };
            if matches!(kind, ListKind::Atomic) {
                return v.clone();
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                let Ok(pe) = item_pe(&kind, item, i, x) else {
                    out.push(x.clone());
                    continue;
                };
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) if !sub.is_empty() => out.push(remove_items(item, x, sub)),
                    _ => out.push(x.clone()),
                }
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Array(out)
            }
        }
        Atom::Map { atomic } => {
            let Value::Object(m) = v else { return v.clone() };
            if atomic {
                return v.clone();
            }
            let mut out = Map::new();
            for (k, x) in m {
                let pe = PathElement::Field(k.clone());
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
                    Some(sub) if !sub.is_empty() => {
                        let (t, _) = field_lenient(ty, k);
                        out.insert(k.clone(), remove_items(t, x, sub));
                    }
                    _ => {
                        out.insert(k.clone(), x.clone());
                    }
                }
            }
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
    }
}

/// `set` plus every declared struct field on the way to its members (upstream's
/// `EnsureNamedFieldsAreMembers`), so that removing it removes those fields too.
pub(crate) fn ensure_named_fields(set: &FieldSet, ty: Option<Ty>) -> FieldSet {
    let mut out = FieldSet { members: set.members.clone(), children: BTreeMap::new() };
    for (pe, sub) in &set.children {
        let child_ty = match (pe, ty) {
            (PathElement::Field(name), Some(t)) if is_map_node(t) => match field(t, name) {
                FieldTy::Declared(ct) => {
                    out.members.insert(pe.clone());
                    Some(ct)
                }
                FieldTy::Undeclared(ct) => Some(ct),
                FieldTy::Unknown => None,
            },
            (PathElement::Key(_), Some(Ty::Node { schema, .. })) => schema.items().map(Ty::of),
            (PathElement::Key(_), Some(Ty::Deduced)) => Some(Ty::Deduced),
            _ => None,
        };
        out.children.insert(pe.clone(), ensure_named_fields(sub, child_ty));
    }
    out
}

fn is_map_node(ty: Ty) -> bool {
    match ty {
        Ty::Deduced => true,
        Ty::Node { schema, .. } => match schema.ty {
            Type::Map(_) | Type::Object(_) => true,
            Type::Any => !schema.int_or_string,
            _ => false,
        },
    }
}

/// Rewrites `v` (a copy used for comparison only) the way a built-in kind reads after a round trip
/// through its Go struct: struct fields (`default: {}` objects) are always present, required fields
/// read `null` when unset, and empty or null optional maps, lists and pointers are absent.
pub(crate) fn go_struct_normalize(ty: Ty, v: &mut Value) {
    let Ty::Node { schema, .. } = ty else { return };
    match (schema.ty, v) {
        (Type::Object(o), Value::Object(m)) => {
            for (name, p) in o.properties {
                let required = o.required.contains(name);
                match m.get_mut(*name) {
                    None if is_go_struct(p) => {
                        let mut child = Value::Object(Map::new());
                        go_struct_normalize(Ty::of(p), &mut child);
                        m.insert((*name).to_string(), child);
                    }
                    None if required => {
                        m.insert((*name).to_string(), Value::Null);
                    }
                    None => {}
                    Some(child) => {
                        if is_go_struct(p) && child.is_null() {
                            *child = Value::Object(Map::new());
                        }
                        let empty = match child {
                            Value::Null => true,
                            Value::Array(a) => a.is_empty(),
                            Value::Object(c) => c.is_empty() && matches!(p.ty, Type::Map(_)),
                            _ => false,
                        };
                        if empty && !required && !is_go_struct(p) {
                            m.remove(*name);
                        } else {
                            go_struct_normalize(Ty::of(p), child);
                        }
                    }
                }
            }
        }
        (Type::Map(item), Value::Object(m)) => {
            for x in m.values_mut() {
                go_struct_normalize(Ty::of(item), x);
            }
        }
        (Type::Array(item), Value::Array(items)) => {
            for x in items {
                go_struct_normalize(Ty::of(item), x);
            }
        }
        _ => {}
    }
}

fn is_go_struct(s: &Schema) -> bool {
    matches!(s.ty, Type::Object(_)) && s.default.is_some_and(|d| d.trim() == "{}")
}
