//! `x-kubernetes-validations` checked at build time, as kube-apiserver checks them when a CRD is
//! created: every `rule` and `messageExpression` is compiled by kapi-cel against the declared type of
//! its node (the same mapping kapi-runtime's `schema::cel` makes from the emitted schema tree), with
//! `oldSelf` only where the node correlates with its old value, the resource root's `apiVersion`,
//! `kind` and `metadata`, and the estimated cost times the node's cardinality (from the enclosing
//! `maxItems`/`maxProperties`) against the per-rule and the per-schema limits; plus upstream's checks
//! of the entry itself (`reason`, `fieldPath`, `message`, `optionalOldSelf`). Each problem is a
//! [`Diagnostic`](crate::diag::Diagnostic) at the entry's key in the schema file, inside the rule's
//! text when the rule is written so that its columns map onto the file's.
//!
//! The texts after `x-kubernetes-validations[i].<key>: ` are kube-apiserver v1.36's (pinned in this
//! module's tests against a real one); where upstream prints the whole entry as the invalid value,
//! the location says which entry it is instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kapi_cel::{
    CompileError, CompileOptions, DeclType, ListKind, Rule, RuleField, MAX_REQUEST_SIZE_BYTES, STATIC_ESTIMATED_COST_LIMIT, STATIC_ESTIMATED_CRD_COST_LIMIT,
};
use serde_json::Value;

use super::{wellknown, Kind, NamedType, Schema, Ty};
use crate::diag::{did_you_mean, Diagnostics};
use crate::schema::ValidationRule;
use crate::source::{Location, SourceDoc};

/// Where a `x-kubernetes-validations` entry and its keys are in the schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// Its index in the list.
    pub index: usize,
    /// The entry.
    pub entry: Location,
    /// The `rule` value.
    pub rule: Location,
    /// The `message` value.
    pub message: Location,
    /// The `messageExpression` value.
    pub message_expression: Location,
    /// The `reason` value.
    pub reason: Location,
    /// The `fieldPath` value.
    pub field_path: Location,
    /// The `optionalOldSelf` value.
    pub optional_old_self: Location,
}

/// The rules of the node at `path` of `doc`, each with where it is written.
pub(crate) fn located(doc: &SourceDoc, path: &[String], rules: &[ValidationRule]) -> Vec<ValidationRule> {
    rules
        .iter()
        .enumerate()
        .map(|(index, r)| {
            let at = |key: Option<&str>| {
                let mut p = path.to_vec();
                p.push("x-kubernetes-validations".into());
                p.push(index.to_string());
                p.extend(key.map(str::to_string));
                doc.locate(&p)
            };
            let source = RuleSource {
                index,
                entry: at(None),
                rule: at(Some("rule")),
                message: at(Some("message")),
                message_expression: at(Some("messageExpression")),
                reason: at(Some("reason")),
                field_path: at(Some("fieldPath")),
                optional_old_self: at(Some("optionalOldSelf")),
            };
            ValidationRule { source: Some(source), ..r.clone() }
        })
        .collect()
}

/// Checks the rules of every kind's schema (each version's on its own, as upstream prices each
/// version's schema apart).
pub(crate) fn check(kinds: &[Kind], types: &BTreeMap<String, NamedType>, diags: &mut Diagnostics) {
    for k in kinds {
        let Some(root) = types.get(&k.definition) else { continue };
        let mut walk = Walk { types, diags, total: 0, expensive: Vec::new(), stack: Vec::new() };
        let ctx = Ctx { cardinality: Some(1), uncorrelatable: None, root: true, path: "openAPIV3Schema".into() };
        walk.node(&root.schema, &ctx);
        if walk.total > STATIC_ESTIMATED_CRD_COST_LIMIT {
            let Walk { expensive, total, .. } = walk;
            for (_, at, key) in &expensive {
                diags.push(at.clone(), format!("{key}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema"), None);
            }
            let at = expensive.first().map(|(_, at, _)| at.clone()).unwrap_or_else(|| Location { file: k.source.clone(), pos: Default::default() });
            let msg = kapi_cel::cost_error_message("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema", total, STATIC_ESTIMATED_CRD_COST_LIMIT);
            diags.push(at, format!("openAPIV3Schema of {} {}: Forbidden: {msg}", k.kind, k.version), None);
        }
    }
}

/// Where a node is: what its rules run with.
#[derive(Clone)]
struct Ctx {
    /// Upstream's `MaxCardinality`: how many times the node can occur in an object; `None` under an
    /// unbounded list or map.
    cardinality: Option<u64>,
    /// The outermost atomic list or set above the node (its items do not correlate), for messages.
    uncorrelatable: Option<String>,
    /// A resource root (the kind's or an embedded resource).
    root: bool,
    /// Upstream's field path of the node (`openAPIV3Schema.properties[spec]`), for messages.
    path: String,
}

impl Ctx {
    fn property(&self, name: &str) -> Ctx {
        Ctx { root: false, path: format!("{}.properties[{name}]", self.path), ..self.clone() }
    }

    /// A list's items or a map's values: `max` of them at most.
    fn elements(&self, key: &str, max: Option<u64>, correlates: bool) -> Ctx {
        Ctx {
            cardinality: self.cardinality.zip(max).map(|(c, m)| c.saturating_mul(m)),
            uncorrelatable: if correlates { self.uncorrelatable.clone() } else { self.uncorrelatable.clone().or_else(|| Some(self.path.clone())) },
            root: false,
            path: format!("{}.{key}", self.path),
        }
    }
}

/// The top 4 contributions of at least 1% of the schema-wide limit, as upstream's `TotalCost` keeps them.
type Expensive = Vec<(u64, Location, String)>;

struct Walk<'a> {
    types: &'a BTreeMap<String, NamedType>,
    diags: &'a mut Diagnostics,
    total: u64,
    expensive: Expensive,
    /// Named types being walked (a recursive type is walked once).
    stack: Vec<String>,
}

/// How deep declared types are built before the rest is `dyn` (kapi-runtime's bound).
const MAX_DEPTH: usize = 32;

impl Walk<'_> {
    fn node(&mut self, s: &Schema, ctx: &Ctx) {
        let root = ctx.root || s.embedded_resource;
        if !s.rules.is_empty() {
            self.rules(s, &Ctx { root, ..ctx.clone() });
        }
        match &s.ty {
            Ty::Named(n) => {
                let Some(t) = self.types.get(n).filter(|t| t.well_known.is_none()) else { return };
                if self.stack.contains(n) {
                    return;
                }
                self.stack.push(n.clone());
                self.properties(&t.schema, ctx);
                self.stack.pop();
            }
            Ty::Object(_) => self.properties(s, ctx),
            Ty::Array(items) => {
                let map_list = s.list_type.as_deref() == Some("map");
                self.node(items, &ctx.elements("items", s.max_items, map_list));
            }
            Ty::Map(values) => self.node(values, &ctx.elements("additionalProperties", s.max_properties, true)),
            _ => {}
        }
    }

    fn properties(&mut self, s: &Schema, ctx: &Ctx) {
        if let Ty::Object(o) = &s.ty {
            for (name, p) in &o.properties {
                self.node(p, &ctx.property(name));
            }
        }
    }

    /// Checks and compiles the rules of one node.
    fn rules(&mut self, s: &Schema, ctx: &Ctx) {
        let decl = decl_type(self.types, s, 0, &mut Vec::new());
        // Upstream's `maxCardinality(MinSerializedSize)` when a list or map above is unbounded.
        let cardinality = ctx.cardinality.unwrap_or_else(|| MAX_REQUEST_SIZE_BYTES / (decl.min_serialized_size() + 1));
        for r in &s.rules {
            let Some(src) = &r.source else { continue };
            let key = |k: &str| format!("x-kubernetes-validations[{}].{k}", src.index);
            entry_checks(self.types, s, r, src, self.diags);
            if r.rule.trim().is_empty() {
                continue;
            }
            let rule = Rule {
                rule: &r.rule,
                message: r.message.as_deref(),
                message_expression: r.message_expression.as_deref(),
                reason: r.reason.as_deref(),
                field_path: r.field_path.as_deref(),
                optional_old_self: r.optional_old_self.unwrap_or(false),
            };
            // Costs are checked here, to count the rules over the limit in the schema's total too.
            let opts = CompileOptions { old_self: Some(&decl), cardinality, resource_root: ctx.root, check_cost: false };
            match kapi_cel::compile_all(&rule, &decl, &opts) {
                Ok(compiled) => {
                    if compiled.uses_old_self {
                        if let Some(list) = &ctx.uncorrelatable {
                            self.diags.push(
                                src.rule.clone(),
                                format!("{}: Invalid value: {}: oldSelf cannot be used on the uncorrelatable portion of the schema within {list}", key("rule"), go_quote(&r.rule)),
                                Some("items of a list correlate with their old values only in `x-kubernetes-list-type: map` lists; move the rule above the list or make it a map list".into()),
                            );
                        }
                    } else if let Some(v) = r.optional_old_self {
                        self.diags.push(src.optional_old_self.clone(), format!("{}: Invalid value: {v}: may not be set if oldSelf is not used in rule", key("optionalOldSelf")), None);
                    }
                    let mut costs = vec![(compiled.max_cost, "rule", &src.rule)];
                    if r.message_expression.as_deref().is_some_and(|m| !m.trim().is_empty()) {
                        costs.push((compiled.message_max_cost, "messageExpression", &src.message_expression));
                    }
                    for (cost, field, at) in costs {
                        let cost = cost.saturating_mul(cardinality);
                        if cost > STATIC_ESTIMATED_COST_LIMIT {
                            let msg = kapi_cel::cost_error_message(&format!("estimated {field} cost"), cost, STATIC_ESTIMATED_COST_LIMIT);
                            self.diags.push(at.clone(), format!("{}: Forbidden: {msg}", key(field)), None);
                        }
                        self.observe(cost, at, key(field));
                    }
                }
                Err(errors) => {
                    for e in errors {
                        let (field, at) = match e.field {
                            RuleField::Rule => ("rule", &src.rule),
                            RuleField::MessageExpression => ("messageExpression", &src.message_expression),
                        };
                        let text = if e.field == RuleField::Rule { &r.rule } else { r.message_expression.as_deref().unwrap_or("") };
                        let kind = if e.forbidden { "Forbidden" } else { "Invalid value" };
                        let (location, message) = place(at, text, &e);
                        let help = undefined_field_help(&e.message, &decl);
                        self.diags.push(location, format!("{}: {kind}: {message}", key(field)), help);
                    }
                }
            }
        }
    }

    /// Upstream's `TotalCost.ObserveExpressionCost`.
    fn observe(&mut self, cost: u64, at: &Location, key: String) {
        self.total = self.total.saturating_add(cost);
        if cost < STATIC_ESTIMATED_CRD_COST_LIMIT / 100 {
            return;
        }
        self.expensive.push((cost, at.clone(), key));
        self.expensive.sort_by_key(|e| std::cmp::Reverse(e.0));
        self.expensive.truncate(4);
    }
}

/// Upstream's checks of an entry's own keys (`validation.go`, before the rule is compiled).
fn entry_checks(types: &BTreeMap<String, NamedType>, s: &Schema, r: &ValidationRule, src: &RuleSource, diags: &mut Diagnostics) {
    let key = |k: &str| format!("x-kubernetes-validations[{}].{k}", src.index);
    let rule = r.rule.trim();
    let message = r.message.as_deref().unwrap_or("");
    if rule.is_empty() {
        diags.push(src.rule.clone(), format!("{}: Required value: rule is not specified", key("rule")), None);
    } else if !message.is_empty() && message.trim().is_empty() {
        diags.push(src.message.clone(), format!("{}: Invalid value: {}: must be non-empty if specified", key("message"), go_quote(message)), None);
    } else if has_newlines(message.trim()) {
        diags.push(src.message.clone(), format!("{}: Invalid value: {}: must not contain line breaks", key("message"), go_quote(message)), None);
    } else if has_newlines(rule) && message.trim().is_empty() {
        diags.push(
            src.entry.clone(),
            format!("{}: Required value: message must be specified if rule contains line breaks", key("message")),
            Some("add `message: <what is wrong>` (a failed rule is reported with its message, else with its text)".into()),
        );
    }
    if r.message_expression.as_deref().is_some_and(|m| !m.is_empty() && m.trim().is_empty()) {
        diags.push(src.message_expression.clone(), format!("{}: Required value: messageExpression must be non-empty if specified", key("messageExpression")), None);
    }
    if let Some(reason) = &r.reason {
        if !REASONS.contains(&reason.as_str()) {
            let supported: Vec<String> = REASONS.iter().map(|r| format!("\"{r}\"")).collect();
            let help = did_you_mean(reason, REASONS.iter().copied()).map(|r| format!("did you mean `{r}`?"));
            diags.push(src.reason.clone(), format!("{}: Unsupported value: {}: supported values: {}", key("reason"), go_quote(reason), supported.join(", ")), help);
        }
    }
    if let Some(fp) = r.field_path.as_deref().filter(|fp| !fp.is_empty()) {
        if fp.trim().is_empty() {
            diags.push(src.field_path.clone(), format!("{}: Invalid value: {}: must be non-empty if specified", key("fieldPath"), go_quote(fp)), None);
        }
        if has_newlines(fp) {
            diags.push(src.field_path.clone(), format!("{}: Invalid value: {}: must not contain line breaks", key("fieldPath"), go_quote(fp)), None);
        }
        if !field_path_valid(types, s, fp) {
            diags.push(
                src.field_path.clone(),
                format!("{}: Invalid value: {}: must be a valid path", key("fieldPath"), go_quote(fp)),
                Some("write a path of fields and map keys below this node, e.g. `.spec.replicas` or `.labels['app']` (no list indexes)".into()),
            );
        }
    }
}

/// Upstream's `supportedValidationReason`.
const REASONS: [&str; 4] = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"];

fn has_newlines(s: &str) -> bool {
    s.contains('\n') || s.contains('\r')
}

/// Go's `%q` of the texts upstream quotes.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Upstream's `ValidFieldPath`: `.a`, `['a']` steps through properties and map keys only.
fn field_path_valid<'a>(types: &'a BTreeMap<String, NamedType>, s: &'a Schema, path: &str) -> bool {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            '.' | '[' | ']' if !quoted => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
                tokens.push(c.to_string());
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    let mut node = Step::Schema(s);
    let mut it = tokens.into_iter();
    while let Some(tok) = it.next() {
        let name = match tok.as_str() {
            "[" => {
                let Some(q) = it.next() else { return false };
                if q.len() < 2 || !q.starts_with('\'') || !q.ends_with('\'') {
                    return false;
                }
                if it.next().as_deref() != Some("]") {
                    return false;
                }
                q[1..q.len() - 1].replace("\\'", "'").replace("\\\\", "\\")
            }
            "." => match it.next() {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
        match node.child(types, &name) {
            Some(next) => node = next,
            None => return false,
        }
    }
    true
}

/// A node met walking a field path: an IR schema or a well-known type's OpenAPI definition.
enum Step<'a> {
    Schema(&'a Schema),
    Json(&'static Value),
}

impl<'a> Step<'a> {
    fn child(&self, types: &'a BTreeMap<String, NamedType>, name: &str) -> Option<Step<'a>> {
        match *self {
            Step::Schema(s) => match &s.ty {
                Ty::Named(n) => match types.get(n).filter(|t| t.well_known.is_none()) {
                    Some(t) => Step::Schema(&t.schema).child(types, name),
                    None => Step::Json(wellknown::definition(n)?).child(types, name),
                },
                Ty::Object(o) => o.properties.get(name).map(Step::Schema),
                Ty::Map(v) => Some(Step::Schema(v)),
                _ => None,
            },
            Step::Json(v) => {
                let v = resolve_ref(v)?;
                if let Some(p) = v.get("properties").and_then(Value::as_object) {
                    return p.get(name).map(Step::Json);
                }
                v.get("additionalProperties").filter(|a| a.is_object()).map(Step::Json)
            }
        }
    }
}

/// A well-known definition's `$ref` (possibly inside `allOf`) resolved.
fn resolve_ref(v: &'static Value) -> Option<&'static Value> {
    let r = v.get("$ref").or_else(|| v.get("allOf").and_then(|a| a.get(0)).and_then(|a| a.get("$ref")));
    match r.and_then(Value::as_str) {
        Some(r) => wellknown::definition(r.rsplit('/').next()?),
        None => Some(v),
    }
}

/// The declared type of a node, as kapi-runtime's `schema::cel::decl_type` builds it from the
/// emitted tree (int-or-string, preserve-unknown-fields without properties and Quantity are `dyn`;
/// embedded resources have `apiVersion`, `kind` and `metadata`). `seen` holds the named types being
/// expanded: a type met a third time inside itself is `dyn`.
fn decl_type(types: &BTreeMap<String, NamedType>, s: &Schema, depth: usize, seen: &mut Vec<String>) -> DeclType {
    if depth > MAX_DEPTH {
        return DeclType::dyn_type().nullable(s.nullable);
    }
    let enums: Vec<&str> = s.enum_values.iter().filter_map(Value::as_str).collect();
    let d = match &s.ty {
        Ty::Any | Ty::IntOrString => DeclType::dyn_type(),
        Ty::FreeObject => DeclType::map(DeclType::dyn_type(), s.max_properties),
        Ty::String => DeclType::string(s.format.as_deref(), s.max_length, &enums),
        Ty::Integer => DeclType::int(),
        Ty::Number => DeclType::double(),
        Ty::Boolean => DeclType::bool(),
        Ty::Array(items) => {
            let (kind, keys) = match s.list_type.as_deref() {
                Some("set") => (ListKind::Set, Vec::new()),
                Some("map") => (ListKind::Map, s.list_map_keys.clone()),
                _ => (ListKind::Atomic, Vec::new()),
            };
            DeclType::list(decl_type(types, items, depth + 1, seen), kind, keys, s.max_items)
        }
        Ty::Map(values) => DeclType::map(decl_type(types, values, depth + 1, seen), s.max_properties),
        Ty::Object(o) => object(types, "object", o, s, depth, seen),
        Ty::Named(n) => match types.get(n) {
            Some(t) if t.well_known.is_none() => {
                if seen.iter().filter(|x| *x == n).count() >= 2 {
                    DeclType::dyn_type()
                } else {
                    let Ty::Object(o) = &t.schema.ty else { return DeclType::dyn_type().nullable(s.nullable) };
                    seen.push(n.clone());
                    let d = object(types, n, o, s, depth, seen);
                    seen.pop();
                    d
                }
            }
            _ => well_known(n, s, depth),
        },
    };
    d.nullable(s.nullable)
}

fn object(types: &BTreeMap<String, NamedType>, name: &str, o: &super::Object, s: &Schema, depth: usize, seen: &mut Vec<String>) -> DeclType {
    let fields = o.properties.iter().map(|(k, p)| (k.clone(), decl_type(types, p, depth + 1, seen))).collect();
    // Required properties with a default do not count in the least size (upstream's SchemaDeclType).
    let required = o.required.iter().filter(|r| o.properties.get(*r).is_some_and(|p| p.default.is_none())).cloned().collect();
    let d = DeclType::object(name, fields, required, s.max_properties);
    if s.embedded_resource {
        d.with_type_and_object_meta()
    } else {
        d
    }
}

/// A well-known type as kapi-runtime's schema tree has it (`emit::rust::well_known_type`).
fn well_known(name: &str, s: &Schema, depth: usize) -> DeclType {
    let enums: Vec<&str> = s.enum_values.iter().filter_map(Value::as_str).collect();
    match name.rsplit('.').next().unwrap_or("") {
        "Time" | "MicroTime" => DeclType::string(Some(s.format.as_deref().unwrap_or("date-time")), s.max_length, &enums),
        "Duration" => DeclType::string(s.format.as_deref(), s.max_length, &enums),
        "Quantity" | "IntOrString" | "RawExtension" | "FieldsV1" => DeclType::dyn_type(),
        _ => match wellknown::definition(name) {
            Some(def) => json_decl(def, s.max_properties, depth),
            None => DeclType::dyn_type(),
        },
    }
}

/// The declared type of a well-known type's OpenAPI definition.
fn json_decl(v: &'static Value, max_properties: Option<u64>, depth: usize) -> DeclType {
    let Some(v) = resolve_ref(v) else { return DeclType::dyn_type() };
    if depth > MAX_DEPTH || v.get("x-kubernetes-int-or-string").is_some() {
        return DeclType::dyn_type();
    }
    let u = |k: &str| v.get(k).and_then(Value::as_u64);
    match v.get("type").and_then(Value::as_str) {
        Some("string") => {
            let format = v.get("format").and_then(Value::as_str);
            DeclType::string(format, u("maxLength"), &[])
        }
        Some("integer") => DeclType::int(),
        Some("number") => DeclType::double(),
        Some("boolean") => DeclType::bool(),
        Some("array") => match v.get("items") {
            Some(items) => {
                let kind = match v.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListKind::Set,
                    Some("map") => ListKind::Map,
                    _ => ListKind::Atomic,
                };
                let keys = v.get("x-kubernetes-list-map-keys").and_then(Value::as_array).map(|k| k.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
                DeclType::list(json_decl(items, None, depth + 1), kind, keys, u("maxItems"))
            }
            None => DeclType::dyn_type(),
        },
        _ => {
            if let Some(props) = v.get("properties").and_then(Value::as_object) {
                let fields = props.iter().map(|(k, p)| (k.clone(), json_decl(p, None, depth + 1))).collect();
                let required = v.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).filter(|r| props.get(*r).is_some_and(|p| p.get("default").is_none())).map(str::to_string).collect()).unwrap_or_default();
                DeclType::object("object", fields, required, max_properties)
            } else if let Some(a) = v.get("additionalProperties").filter(|a| a.is_object()) {
                DeclType::map(json_decl(a, None, depth + 1), max_properties)
            } else {
                DeclType::dyn_type()
            }
        }
    }
}

/// Where an error of kapi-cel points in the file: inside the expression when its text maps onto the
/// file's columns (a single-line plain or quoted scalar without escapes, or a literal/folded block
/// whose lines are the expression's), else the expression's start with upstream's `| rule` and
/// `| ...^` lines kept.
fn place(at: &Location, text: &str, e: &CompileError) -> (Location, String) {
    let single_issue = e.message.matches("ERROR: <input>:").count() == 1;
    let mapped = if e.message.contains("ERROR: <input>:") { map_position(at, text, e.line, e.column) } else { None };
    match mapped {
        Some(pos) if single_issue => {
            // The position says where; the excerpt lines repeat it.
            let first = e.message.lines().next().unwrap_or("").to_string();
            (Location { file: at.file.clone(), pos }, first)
        }
        Some(pos) => (Location { file: at.file.clone(), pos }, e.message.clone()),
        None => (at.clone(), e.message.clone()),
    }
}

/// The file position of `line:column` (1-based, characters) of the scalar `text` written at `at`:
/// line for line when the file holds the text's lines at one column (a plain or quoted scalar on one
/// line, a literal block), else along the file's lines when they fold into the text (a plain,
/// single-quoted or folded scalar over several lines). `None` when the file's characters are not
/// the text's (escapes in quoted scalars, more-indented lines).
fn map_position(at: &Location, text: &str, line: usize, column: usize) -> Option<crate::source::Pos> {
    let src = read_source(&at.file)?;
    let lines: Vec<&str> = src.lines().collect();
    let first = lines.get(at.pos.line.checked_sub(1)?)?;
    let col0 = at.pos.col.checked_sub(1)?;
    let rest: String = first.chars().skip(col0).collect();
    let pos = |l: usize, c: usize| Some(crate::source::Pos { line: l + 1, col: c + 1 });
    // (0-based line, 0-based character column) where the text starts.
    let (l0, c0) = if rest.starts_with(['|', '>']) {
        let next = lines.get(at.pos.line)?;
        (at.pos.line, next.chars().take_while(|c| *c == ' ').count())
    } else if let Some(q) = rest.chars().next().filter(|c| matches!(c, '"' | '\'')) {
        let escaped = if q == '"' { text.contains(['\\', '"']) } else { text.contains('\'') };
        if escaped {
            return None;
        }
        (at.pos.line - 1, col0 + 1)
    } else {
        (at.pos.line - 1, col0)
    };
    let from = |l: usize, c: usize| lines.get(l).map(|t| t.chars().skip(c).collect::<String>());
    let wanted: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
    let literal = wanted.iter().enumerate().all(|(i, w)| {
        let Some(file) = from(l0 + i, c0) else { return false };
        let indent_ok = i == 0 || lines[l0 + i].chars().take(c0).all(|c| c == ' ');
        let same = if i + 1 == wanted.len() { file.starts_with(w) } else { file.trim_end() == w.trim_end() };
        indent_ok && same
    });
    if literal {
        return pos(l0 + line - 1, c0 + column - 1);
    }
    if wanted.len() != 1 || line != 1 {
        return None;
    }
    // Folded: the file's lines, trimmed, joined by spaces.
    let target = text.chars().count();
    let (mut acc, mut segments) = (String::new(), Vec::new());
    for (i, l) in (l0..lines.len().min(l0 + 500)).enumerate() {
        let (c, content) = if i == 0 {
            (c0, from(l, c0)?)
        } else {
            let t = lines[l];
            let indent = t.chars().take_while(|c| *c == ' ').count();
            (indent, t.trim().to_string())
        };
        if i > 0 {
            acc.push(' ');
        }
        segments.push((l, c, acc.chars().count()));
        acc.push_str(&content);
        if acc.chars().count() >= target {
            break;
        }
    }
    if !acc.starts_with(text) {
        return None;
    }
    let offset = column - 1;
    let (l, c, start) = segments.iter().rev().find(|(_, _, start)| *start <= offset)?;
    pos(*l, c + (offset - start))
}

/// A schema file's text (read again only when an error is to be placed inside a rule).
fn read_source(file: &Path) -> Option<String> {
    std::fs::read_to_string(file).ok()
}

/// "did you mean" for `undefined field 'x'`: the closest field name of the node's type (and the
/// objects below it).
fn undefined_field_help(message: &str, decl: &DeclType) -> Option<String> {
    let rest = message.split("undefined field '").nth(1)?;
    let field = rest.split('\'').next()?;
    let mut names = BTreeSet::new();
    field_names(decl, 0, &mut names);
    did_you_mean(field, names.iter().map(String::as_str).filter(|n| *n != field)).map(|s| format!("did you mean `{s}`?"))
}

fn field_names(decl: &DeclType, depth: usize, out: &mut BTreeSet<String>) {
    if depth > 4 {
        return;
    }
    match &decl.kind {
        kapi_cel::DeclKind::Object { fields, .. } => {
            for (k, f) in fields {
                out.insert(k.clone());
                field_names(f, depth + 1, out);
            }
        }
        kapi_cel::DeclKind::List { elem, .. } => field_names(elem, depth + 1, out),
        kapi_cel::DeclKind::Map { value } => field_names(value, depth + 1, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
