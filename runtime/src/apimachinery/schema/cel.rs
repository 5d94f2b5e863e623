//! `x-kubernetes-validations` on create and update: the static schema tree's rules compiled once by
//! kapi-cel (cached per schema node, keyed by the node's address) and evaluated over the object as
//! upstream's `apiextensions-apiserver/pkg/apiserver/schema/cel.Validator` does: nodes in the object's
//! order, `oldSelf` correlated by field name, map key and `x-kubernetes-list-type: map` keys (atomic and
//! set lists are not correlated), one cost budget per object, errors reading as upstream's 422 causes,
//! and ratcheting (an update's errors of rules without `oldSelf` are dropped where the value is
//! unchanged, upstream's `CRDValidationRatcheting`, on by default since v1.30).
//!
//! It lives beside the other schema walkers (`validate`, `prune`, `apply_defaults`) because it walks
//! the same tree the same way; the CEL language itself is the kapi-cel crate.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock};

use kapi_cel::{Activation, CompileOptions, CompiledRule, DeclType, ListKind, Outcome, Reason, Rule, RUNTIME_CEL_COST_BUDGET};
use serde_json::Value;

use super::{CelRule, ListType, MapType, Schema, Type};
use crate::apimachinery::field::{ErrorType, FieldError, Path};

/// Evaluates every rule of `schema`'s tree over `new` (and `old` on update), returning upstream's
/// field errors. `prior` are the errors found before (metadata, schema): as upstream, rules are not
/// run over an object with a blocking error (wrong type, missing, too long, too many, unsupported),
/// one error says so instead.
pub fn validate_cel(schema: &'static Schema, new: &Value, old: Option<&Value>, prior: &[FieldError]) -> Vec<FieldError> {
    if !has_rules(schema) {
        return Vec::new();
    }
    let blocking = |e: &FieldError| {
        matches!(e.error_type, ErrorType::NotSupported | ErrorType::Required | ErrorType::TooLong | ErrorType::TooMany | ErrorType::TypeInvalid)
    };
    if prior.iter().any(blocking) {
        let detail = "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";
        return vec![FieldError::invalid("<nil>", Value::Null, detail)];
    }
    let mut walk = Walk { errors: Vec::new(), budget: RUNTIME_CEL_COST_BUDGET };
    walk.node(schema, new, old, &Path::root(), true, old.is_some_and(|o| o == new));
    walk.errors
}

/// The rules of one schema node, compiled.
struct NodeRules {
    decl: DeclType,
    rules: Vec<Result<CompiledRule, String>>,
}

fn cache() -> &'static RwLock<HashMap<usize, Arc<NodeRules>>> {
    static CACHE: OnceLock<RwLock<HashMap<usize, Arc<NodeRules>>>> = OnceLock::new();
    CACHE.get_or_init(|| RwLock::new(HashMap::new()))
}

fn compiled(schema: &'static Schema, root: bool) -> Arc<NodeRules> {
    let key = schema as *const Schema as usize ^ usize::from(root);
    if let Some(n) = cache().read().ok().and_then(|m| m.get(&key).cloned()) {
        return n;
    }
    let decl = decl_type(schema, 0);
    let opts = CompileOptions { old_self: Some(&decl), cardinality: 1, resource_root: root, check_cost: false };
    let rules = schema
        .rules
        .iter()
        .map(|r| kapi_cel::compile_with(&to_rule(r), &decl, &opts).map_err(|e| e.message))
        .collect();
    let node = Arc::new(NodeRules { decl, rules });
    if let Ok(mut m) = cache().write() {
        m.insert(key, Arc::clone(&node));
    }
    node
}

fn to_rule(r: &CelRule) -> Rule<'static> {
    Rule {
        rule: r.rule,
        message: r.message,
        message_expression: r.message_expression,
        reason: r.reason,
        field_path: r.field_path,
        optional_old_self: r.optional_old_self,
    }
}

/// Whether any node of the tree under `schema` has rules (cached per root; cycles allowed).
fn has_rules(schema: &'static Schema) -> bool {
    static CACHE: OnceLock<RwLock<HashMap<usize, bool>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| RwLock::new(HashMap::new()));
    let key = schema as *const Schema as usize;
    if let Some(v) = cache.read().ok().and_then(|m| m.get(&key).copied()) {
        return v;
    }
    fn walk(s: &'static Schema, seen: &mut HashSet<usize>) -> bool {
        if !seen.insert(s as *const Schema as usize) {
            return false;
        }
        if !s.rules.is_empty() {
            return true;
        }
        match s.ty {
            Type::Array(i) | Type::Map(i) => walk(i, seen),
            Type::Object(o) => {
                o.properties.iter().any(|(_, p)| walk(p, seen)) || o.additional_properties.is_some_and(|a| walk(a, seen))
            }
            _ => false,
        }
    }
    let v = walk(schema, &mut HashSet::new());
    if let Ok(mut m) = cache.write() {
        m.insert(key, v);
    }
    v
}

/// The declared type of a schema node (upstream's `SchemaDeclType`); deep or cyclic trees end in `dyn`.
fn decl_type(s: &'static Schema, depth: usize) -> DeclType {
    if depth > 32 || s.int_or_string {
        return DeclType::dyn_type().nullable(s.nullable);
    }
    let d = match s.ty {
        Type::Any => DeclType::dyn_type(),
        Type::String => DeclType::string(s.format, s.max_length, s.enum_values),
        Type::Integer => DeclType::int(),
        Type::Number => DeclType::double(),
        Type::Boolean => DeclType::bool(),
        Type::Array(items) => {
            let (kind, keys) = match s.list_type {
                ListType::Atomic => (ListKind::Atomic, Vec::new()),
                ListType::Set => (ListKind::Set, Vec::new()),
                ListType::Map(keys) => (ListKind::Map, keys.iter().map(|k| k.to_string()).collect()),
            };
            DeclType::list(decl_type(items, depth + 1), kind, keys, s.max_items)
        }
        Type::Map(values) => DeclType::map(decl_type(values, depth + 1), s.max_properties),
        Type::Object(o) if o.properties.is_empty() && o.additional_properties.is_none() && s.preserves_unknown_fields() => {
            DeclType::dyn_type()
        }
        Type::Object(o) => {
            let fields: BTreeMap<String, DeclType> = o.properties.iter().map(|(n, p)| (n.to_string(), decl_type(p, depth + 1))).collect();
            let required = o.required.iter().filter(|r| o.property(r).is_some_and(|p| p.default.is_none())).map(|r| r.to_string()).collect();
            let name = if o.name.is_empty() { "object" } else { o.name };
            let d = DeclType::object(name, fields, required, s.max_properties);
            if s.embedded_resource {
                d.with_type_and_object_meta()
            } else {
                d
            }
        }
    };
    d.nullable(s.nullable)
}

struct Walk {
    errors: Vec<FieldError>,
    budget: i64,
}

/// The field path as upstream prints it: `<nil>` for the root.
fn path_text(p: &Path) -> String {
    if p.as_str().is_empty() {
        "<nil>".to_string()
    } else {
        p.as_str().to_string()
    }
}

/// The key values of a `x-kubernetes-list-type: map` item.
fn map_key<'v>(item: &'v Value, keys: &[&str]) -> Vec<Option<&'v Value>> {
    keys.iter().map(|k| item.get(*k)).collect()
}

impl Walk {
    /// Validates `value` at `path`; `ratchet` says the nearest correlated value is unchanged.
    fn node(&mut self, s: &'static Schema, value: &Value, old: Option<&Value>, path: &Path, root: bool, ratchet: bool) {
        if value.is_null() || self.budget < 0 {
            return;
        }
        if !s.rules.is_empty() {
            self.rules(s, value, old, path, root || s.embedded_resource, ratchet);
            if self.budget < 0 {
                return;
            }
        }
        match (s.ty, value) {
            (Type::Object(o), Value::Object(map)) => {
                // Maps correlate whether granular or atomic (upstream's MapIsCorrelatable).
                let correlatable = matches!(s.map_type, MapType::Granular | MapType::Atomic);
                for (k, v) in map {
                    let child = match o.property(k) {
                        Some(p) => Some((p, path.child(k))),
                        None => o.additional_properties.map(|a| (a, path.key(k))),
                    };
                    let Some((child, child_path)) = child else { continue };
                    let old_v = old.filter(|_| correlatable).and_then(|o| o.get(k));
                    let r = old_v.is_some_and(|o| o == v);
                    self.node(child, v, old_v, &child_path, false, r);
                    if self.budget < 0 {
                        return;
                    }
                }
            }
            (Type::Map(values), Value::Object(map)) => {
                for (k, v) in map {
                    let old_v = old.and_then(|o| o.get(k));
                    let r = old_v.is_some_and(|o| o == v);
                    self.node(values, v, old_v, &path.key(k), false, r);
                    if self.budget < 0 {
                        return;
                    }
                }
            }
            (Type::Array(items), Value::Array(list)) => {
                let old_items = old.and_then(Value::as_array);
                for (i, v) in list.iter().enumerate() {
                    // Only map lists correlate their items (upstream's makeMapList).
                    let old_v = match (s.list_type, old_items) {
                        (ListType::Map(keys), Some(olds)) => {
                            let key = map_key(v, keys);
                            olds.iter().find(|o| map_key(o, keys) == key)
                        }
                        _ => None,
                    };
                    let r = match old_v {
                        Some(o) => o == v,
                        None => ratchet,
                    };
                    self.node(items, v, old_v, &path.index(i), false, r);
                    if self.budget < 0 {
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    fn rules(&mut self, s: &'static Schema, value: &Value, old: Option<&Value>, path: &Path, root: bool, ratchet: bool) {
        let node = compiled(s, root);
        let type_name = node.decl.schema_type_name();
        let act = Activation::new(value, old);
        for rule in &node.rules {
            let rule = match rule {
                Ok(r) => r,
                Err(msg) => {
                    self.errors.push(FieldError::invalid(path_text(path), type_name, format!("rule compile error: {msg}")));
                    continue;
                }
            };
            match rule.evaluate(&act, &mut self.budget) {
                Outcome::Pass => {}
                Outcome::Fail { reason, field_path, detail } => {
                    if ratchet && !rule.uses_old_self {
                        continue;
                    }
                    let mut p = path.clone();
                    if !field_path.is_empty() {
                        p = Path::new(&join_field_path(p.as_str(), &field_path));
                    }
                    self.errors.push(fail_error(path_text(&p), reason, value, detail));
                }
                Outcome::Error { detail } => {
                    self.errors.push(FieldError::invalid(path_text(path), type_name, detail));
                }
                Outcome::Stop { detail } => {
                    self.errors.push(FieldError::invalid(path_text(path), type_name, detail));
                    self.budget = -1;
                    return;
                }
            }
        }
    }
}

/// `path.Child(fieldPath)`: a normalized `a.b[c]` path appended to the node's.
fn join_field_path(base: &str, rel: &str) -> String {
    if base.is_empty() {
        rel.to_string()
    } else if rel.starts_with('[') {
        format!("{base}{rel}")
    } else {
        format!("{base}.{rel}")
    }
}

/// `fieldErrorForReason`: scalar values are shown, objects and lists are not.
fn fail_error(field: String, reason: Reason, value: &Value, detail: String) -> FieldError {
    let shown = match value {
        Value::Object(_) | Value::Array(_) => None,
        v => Some(v.clone()),
    };
    match reason {
        Reason::Forbidden => FieldError::forbidden(field, detail),
        Reason::Required => FieldError::required(field, detail),
        Reason::Duplicate => FieldError { error_type: ErrorType::Duplicate, field, bad_value: shown, detail: String::new() },
        Reason::Invalid => FieldError { error_type: ErrorType::Invalid, field, bad_value: shown, detail },
    }
}

#[cfg(test)]
mod tests;
