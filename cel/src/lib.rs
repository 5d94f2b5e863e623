//! CEL for kapi: `x-kubernetes-validations` rules compiled and evaluated as kube-apiserver v1.36
//! compiles and evaluates them for custom resources.
//!
//! Built on cel-rust (the `cel` crate): its parser (with spans, macros and optional syntax) and its
//! interpreter and standard library. This crate extends it where it stops short of cel-go and
//! Kubernetes:
//! - a **type checker** ([`check`](crate::check) module; cel-rust has none) typing every node against a
//!   [`DeclType`] built from the structural schema, with cel-go's diagnostics;
//! - a **cost estimator** with cel-go's cost model, for upstream's static limit at compile time and as
//!   the measure of an evaluation's cost at run time (an upper bound computed with the actual sizes of
//!   the value being validated, see [`CompiledRule::evaluate`]);
//! - the **Kubernetes libraries** registered as overloads (`libs` module): lists, regex, URLs, IPs
//!   and CIDRs, quantities, semver, sets, format; cel-rust brings the standard library, macros,
//!   optionals, ext strings and ext lists;
//! - **two-variable comprehensions** (`twovar` module), expanded, checked, and lowered for
//!   cel-rust's interpreter;
//! - **regexes compiled once** (`regexes` module): the literal patterns of `matches`, `find` and
//!   `findAll`, as cel-go's regex optimizer does (cel-rust's `matches` compiles on every call);
//! - the CRD environment of v1.36 and no more: ext.Math, ext.Encoders, ext.Bindings and ext.Strings
//!   past version 2 are undeclared references, list and map literals must be homogeneous;
//! - JSON to CEL values by declared type (`date-time` strings are timestamps, `number` nodes doubles).
//!
//! The entry points are [`compile`] (parse + check + cost) and [`CompiledRule::evaluate`].

mod check;
pub mod decl;
mod libs;
mod regexes;
mod twovar;
mod value;

use std::fmt;
use std::sync::{Arc, OnceLock};

use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Env, ExecutionError, Program, Value};
use serde_json::Value as Json;

pub use decl::{DeclKind, DeclType, ListKind, MAX_REQUEST_SIZE_BYTES};

/// Upstream's `PerCallLimit`: the most one evaluation may cost.
pub const PER_CALL_LIMIT: u64 = 1_000_000;
/// Upstream's `RuntimeCELCostBudget`: what all the rules of one object may cost together.
pub const RUNTIME_CEL_COST_BUDGET: i64 = 10_000_000;
/// Upstream's `StaticEstimatedCostLimit`: the most one rule's estimated cost (times its cardinality)
/// may be.
pub const STATIC_ESTIMATED_COST_LIMIT: u64 = 10_000_000;
/// Upstream's `StaticEstimatedCRDCostLimit`: the most all the rules of one schema may be estimated at.
pub const STATIC_ESTIMATED_CRD_COST_LIMIT: u64 = 100_000_000;
/// Upstream's `MaxEvaluatedMessageExpressionSizeBytes`.
pub const MAX_MESSAGE_EXPRESSION_SIZE: usize = 5 * 1024;

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rule<'a> {
    /// `rule`.
    pub rule: &'a str,
    /// `message`.
    pub message: Option<&'a str>,
    /// `messageExpression`.
    pub message_expression: Option<&'a str>,
    /// `reason` (`FieldValueInvalid`, `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`).
    pub reason: Option<&'a str>,
    /// `fieldPath` (`.spec.x`, `.m['k']`), relative to the node.
    pub field_path: Option<&'a str>,
    /// `optionalOldSelf`.
    pub optional_old_self: bool,
}

/// Which field of a rule an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleField {
    /// `rule`.
    Rule,
    /// `messageExpression`.
    MessageExpression,
}

impl RuleField {
    /// The JSON name (`rule`, `messageExpression`), for field paths.
    pub fn json_name(self) -> &'static str {
        match self {
            RuleField::Rule => "rule",
            RuleField::MessageExpression => "messageExpression",
        }
    }
}

/// Why a rule does not compile, as upstream reports it at CRD creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The field the error is about.
    pub field: RuleField,
    /// `true` for upstream's `Forbidden` errors (cost), `false` for `Invalid` ones.
    pub forbidden: bool,
    /// Upstream's text, e.g. `compilation failed: ERROR: <input>:1:6: Syntax error: ...` followed by the
    /// `| rule` and `| ....^` lines.
    pub message: String,
    /// 1-based line within the expression text (1 when the error is about the whole expression).
    pub line: usize,
    /// 1-based column (in characters) within that line.
    pub column: usize,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompileError {}

/// How `compile` places a rule.
#[derive(Debug, Clone, Copy)]
pub struct CompileOptions<'a> {
    /// The type of `oldSelf`: `None` where the node cannot be correlated with its old value (under an
    /// atomic or set list); upstream's CRD validation then refuses rules that use `oldSelf`.
    pub old_self: Option<&'a DeclType>,
    /// How many times the rule may run per object (the product of `maxItems`/`maxProperties` of the
    /// lists and maps above it, upstream's `MaxCardinality`); its estimated cost is multiplied by it.
    pub cardinality: u64,
    /// Whether the node is a resource root (then `self` also has `apiVersion`, `kind`, `metadata`).
    pub resource_root: bool,
    /// Whether to refuse rules over the static cost limit (CRD creation, build time); a server
    /// evaluating rules already admitted compiles without it.
    pub check_cost: bool,
}

impl Default for CompileOptions<'_> {
    fn default() -> Self {
        CompileOptions { old_self: None, cardinality: 1, resource_root: false, check_cost: true }
    }
}

/// A compiled rule: the programs, whether it is a transition rule, its estimated cost.
pub struct CompiledRule {
    program: Prog,
    message_program: Option<Prog>,
    self_type: Arc<DeclType>,
    /// The rule's texts (owned).
    rule: String,
    message: Option<String>,
    message_expression: Option<String>,
    reason: Option<String>,
    field_path: Option<String>,
    optional_old_self: bool,
    /// The rule refers to `oldSelf` (a transition rule).
    pub uses_old_self: bool,
    /// The estimated worst-case cost of one evaluation.
    pub max_cost: u64,
    /// The estimated worst-case cost of the message expression.
    pub message_max_cost: u64,
}

impl fmt::Debug for CompiledRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledRule").field("rule", &self.rule).field("max_cost", &self.max_cost).finish()
    }
}

/// A parsed expression and, when cel-rust cannot run it as checked (two-variable comprehensions) or
/// would run it slower (`matches`, see `regexes`), its lowered form to run instead.
struct Prog {
    program: Program,
    lowered: Option<cel::common::ast::IdedExpr>,
}

impl Prog {
    fn new(program: Program) -> Self {
        let lowered = twovar::lower(program.expression());
        let lowered = match lowered {
            Some(l) => Some(regexes::lower(&l).unwrap_or(l)),
            None => regexes::lower(program.expression()),
        };
        Prog { program, lowered }
    }

    /// The tree the checker typed.
    fn checked(&self) -> &cel::common::ast::IdedExpr {
        self.program.expression()
    }

    fn execute(&self, ctx: &Context) -> Result<Value, ExecutionError> {
        match &self.lowered {
            Some(e) => Value::resolve(e, ctx),
            None => self.program.execute(ctx),
        }
    }
}

/// The environment every rule runs in: cel-rust's standard library, macros and optionals, ext
/// strings, and the Kubernetes libraries.
fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // Registration only fails on a duplicate declaration, a bug caught by the tests.
        let _ = env.add_extension(cel::extensions::strings);
        let _ = libs::register_overrides(&mut env);
        let _ = env.add_extension(cel::extensions::lists);
        for m in twovar::macros() {
            let _ = env.add_macro(m);
        }
        let _ = libs::register(&mut env);
        let _ = regexes::register(&mut env);
        Arc::new(env)
    })
}

/// `getCostErrorMessage`: how far over a limit an estimate is.
pub fn cost_error_message(what: &str, cost: u64, limit: u64) -> String {
    let factor = cost as f64 / limit as f64;
    let factor = if factor > 100.0 {
        "more than 100x".to_string()
    } else if factor < 1.5 {
        format!("{factor:.6}x")
    } else {
        format!("{factor:.1}x")
    };
    format!("{what} exceeds budget by factor of {factor} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)")
}

/// The character column of byte `offset` in `src` (1-based line and column).
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// cel-go's `issues.String()` for one error at `offset`: `ERROR: <input>:L:C: msg`, then the source
/// line and a caret under the column.
fn format_issue(src: &str, offset: usize, msg: &str) -> (String, usize, usize) {
    let (line, col) = line_col(src, offset);
    let mut out = format!("ERROR: <input>:{line}:{col}: {msg}");
    if let Some(text) = src.split('\n').nth(line - 1) {
        out.push_str(&format!("\n | {text}\n | {}^", ".".repeat(col - 1)));
    }
    (out, line, col)
}

/// Parses and checks one expression; `Err` holds the joined issue text and the first position.
fn compile_expr(src: &str, decl: &DeclType, old: Option<(&DeclType, bool)>) -> Result<(Program, check::Checked), (String, usize, usize)> {
    let program = match env().compile(src) {
        Ok(p) => p,
        Err(errs) => {
            let mut texts = Vec::new();
            let mut first = None;
            for e in &errs.errors {
                let (l, c) = (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize);
                // cel-rust reports columns 1-based in characters of the line.
                let offset = byte_offset(src, l, c);
                let (text, line, col) = format_issue(src, offset, &e.msg);
                first.get_or_insert((line, col));
                texts.push(text);
            }
            let (line, col) = first.unwrap_or((1, 1));
            return Err((texts.join("\n"), line, col));
        }
    };
    let checked = check::check(program.expression(), decl, old);
    if !checked.issues.is_empty() {
        // cel-go prints its issues sorted by position (`Errors.ToDisplayString`).
        let mut found: Vec<(usize, usize, String)> = checked
            .issues
            .iter()
            .map(|issue| {
                let offset = program.source_info().offset_for(issue.expr_id).map_or(0, |(s, _)| s as usize);
                // Offsets are in characters (ANTLR's code points); convert to bytes.
                let offset = src.char_indices().nth(offset).map_or(src.len(), |(b, _)| b);
                let (text, line, col) = format_issue(src, offset, &issue.message);
                (line, col, text)
            })
            .collect();
        found.sort_by_key(|(line, col, _)| (*line, *col));
        let (line, col) = (found[0].0, found[0].1);
        let texts: Vec<String> = found.into_iter().map(|(_, _, t)| t).collect();
        return Err((texts.join("\n"), line, col));
    }
    Ok((program, checked))
}

fn byte_offset(src: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + l.char_indices().nth(col - 1).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    src.len()
}

/// Compiles `rule` for a node of type `decl`: parses, type-checks and estimates its cost (and its
/// messageExpression's), as upstream does when a CRD is created. The first error is returned.
pub fn compile(rule: &Rule<'_>, decl: &DeclType) -> Result<CompiledRule, CompileError> {
    compile_with(rule, decl, &CompileOptions::default())
}

/// [`compile`] with placement options. All errors, in upstream's order.
pub fn compile_all(rule: &Rule<'_>, decl: &DeclType, opts: &CompileOptions<'_>) -> Result<CompiledRule, Vec<CompileError>> {
    let self_type = if opts.resource_root { decl.clone().with_type_and_object_meta() } else { decl.clone() };
    let old_type = opts.old_self.map(|o| if opts.resource_root { o.clone().with_type_and_object_meta() } else { o.clone() });
    // Upstream declares oldSelf everywhere; CRD validation refuses it where it cannot correlate.
    let old_decl = old_type.as_ref().unwrap_or(&self_type);
    let mut errors = Vec::new();
    let invalid = |field, message: String, line, column| CompileError { field, forbidden: false, message, line, column };
    let compiled = match compile_expr(rule.rule, &self_type, Some((old_decl, rule.optional_old_self))) {
        Err((text, line, col)) => {
            errors.push(invalid(RuleField::Rule, format!("compilation failed: {text}"), line, col));
            None
        }
        Ok((program, checked)) if !(checked.is_bool && (checked.ty == "bool" || checked.ty == "dyn")) => {
            let _ = program;
            errors.push(invalid(RuleField::Rule, "cel expression must evaluate to a bool".into(), 1, 1));
            None
        }
        Ok((program, checked)) => {
            if checked.uses_old_self && opts.old_self.is_none() {
                errors.push(invalid(
                    RuleField::Rule,
                    "oldSelf cannot be used on the uncorrelatable portion of the schema".into(),
                    1,
                    1,
                ));
            }
            let cost = checked.cost.max.saturating_mul(opts.cardinality.max(1));
            if opts.check_cost && cost > STATIC_ESTIMATED_COST_LIMIT {
                let msg = cost_error_message("estimated rule cost", cost, STATIC_ESTIMATED_COST_LIMIT);
                errors.push(CompileError { field: RuleField::Rule, forbidden: true, message: msg, line: 1, column: 1 });
            }
            Some((program, checked))
        }
    };
    let mut message = None;
    if let Some(src) = rule.message_expression.filter(|s| !s.trim().is_empty()) {
        match compile_expr(src, &self_type, Some((old_decl, rule.optional_old_self))) {
            Err((text, line, col)) => {
                errors.push(invalid(RuleField::MessageExpression, format!("messageExpression compilation failed: {text}"), line, col));
            }
            Ok((_, checked)) if !(checked.ty == "string" || checked.ty == "dyn") => {
                errors.push(invalid(RuleField::MessageExpression, "messageExpression must evaluate to a string".into(), 1, 1));
            }
            Ok((program, checked)) => {
                let cost = checked.cost.max.saturating_mul(opts.cardinality.max(1));
                if opts.check_cost && cost > STATIC_ESTIMATED_COST_LIMIT {
                    let msg = cost_error_message("estimated messageExpression cost", cost, STATIC_ESTIMATED_COST_LIMIT);
                    errors.push(CompileError { field: RuleField::MessageExpression, forbidden: true, message: msg, line: 1, column: 1 });
                }
                message = Some((program, checked.cost.max));
            }
        }
    }
    match compiled {
        Some((program, checked)) if errors.is_empty() => {
            let (message_program, message_max_cost) = match message {
                Some((p, c)) => (Some(p), c),
                None => (None, 0),
            };
            Ok(CompiledRule {
                program: Prog::new(program),
                message_program: message_program.map(Prog::new),
                self_type: Arc::new(self_type),
                rule: rule.rule.to_string(),
                message: rule.message.map(str::to_string),
                message_expression: rule.message_expression.map(str::to_string),
                reason: rule.reason.map(str::to_string),
                field_path: rule.field_path.map(str::to_string),
                optional_old_self: rule.optional_old_self,
                uses_old_self: checked.uses_old_self,
                max_cost: checked.cost.max,
                message_max_cost,
            })
        }
        _ => Err(errors),
    }
}

/// [`compile_all`] keeping the first error.
pub fn compile_with(rule: &Rule<'_>, decl: &DeclType, opts: &CompileOptions<'_>) -> Result<CompiledRule, CompileError> {
    compile_all(rule, decl, opts).map_err(|mut errs| {
        if errs.is_empty() {
            CompileError { field: RuleField::Rule, forbidden: false, message: "compilation failed".into(), line: 1, column: 1 }
        } else {
            errs.remove(0)
        }
    })
}

/// The reason a failed rule reports (`reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `FieldValueInvalid` (the default).
    Invalid,
    /// `FieldValueForbidden`.
    Forbidden,
    /// `FieldValueRequired`.
    Required,
    /// `FieldValueDuplicate`.
    Duplicate,
}

/// What one evaluation of a rule came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The rule holds (or was not run: a transition rule without an old value).
    Pass,
    /// The rule does not hold: report `detail` with `reason` at the node's path plus `field_path`
    /// (already normalized to `a.b[c]` form; empty for the node itself).
    Fail {
        /// The reason.
        reason: Reason,
        /// Relative field path (`fieldPath` normalized), possibly empty.
        field_path: String,
        /// The message: messageExpression's value, else `message`, else `failed rule: <rule>`.
        detail: String,
    },
    /// The rule could not be evaluated: upstream reports `field.Invalid(path, <schema type>, detail)`.
    Error {
        /// E.g. `no such key: mode evaluating rule: self.mode != 'bad'`.
        detail: String,
    },
    /// The evaluation was too costly, or the object's budget ran out: report
    /// `field.Invalid(path, <schema type>, detail)` and run no further rules.
    Stop {
        /// Upstream's text.
        detail: String,
    },
}

/// The variables of one evaluation: the JSON values, and what the rules of one node share of them
/// (converted once for all the node's rules, which have the same declared type).
pub struct Activation<'a> {
    self_value: &'a Json,
    old_value: Option<&'a Json>,
    converted: OnceLock<Box<dyn Val>>,
    converted_old: OnceLock<Box<dyn Val>>,
    /// `oldSelf` as an optional (`optionalOldSelf`).
    optional_old: OnceLock<Box<dyn Val>>,
    actual: OnceLock<(DeclType, Option<DeclType>)>,
}

impl<'a> Activation<'a> {
    /// `self` and, on update where the node correlates, `oldSelf`.
    pub fn new(self_value: &'a Json, old_value: Option<&'a Json>) -> Self {
        Activation {
            self_value,
            old_value,
            converted: OnceLock::new(),
            converted_old: OnceLock::new(),
            optional_old: OnceLock::new(),
            actual: OnceLock::new(),
        }
    }
}

/// `self` and `oldSelf` lent to the interpreter.
struct Vars<'a> {
    this: &'a (dyn Val + 'a),
    old_self: Option<&'a (dyn Val + 'a)>,
}

impl VariableResolver for Vars<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        match variable {
            "self" => Some(CowVal::Borrowed(self.this)),
            "oldSelf" => self.old_self.map(CowVal::Borrowed),
            _ => None,
        }
    }
}

/// Static estimates up to this are charged as they are; above it the evaluation is priced with the
/// actual sizes of the value.
const CHEAP_RULE: u64 = 1000;

fn rule_error_string(message: Option<&str>, rule: &str) -> String {
    match message.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => rule.trim().to_string(),
    }
}

impl CompiledRule {
    /// The rule text.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// `ruleErrorString`: the message if any, else the rule.
    pub fn error_string(&self) -> String {
        rule_error_string(self.message.as_deref(), &self.rule)
    }

    fn price(&self, program: &Prog, static_max: u64, act: &Activation<'_>) -> u64 {
        if static_max <= CHEAP_RULE {
            return static_max;
        }
        let (new, old) = act.actual.get_or_init(|| {
            let new = decl::with_actual_sizes(&self.self_type, act.self_value);
            let old = act.old_value.map(|o| decl::with_actual_sizes(&self.self_type, o));
            (new, old)
        });
        let old_decl = old.as_ref().unwrap_or(new);
        check::price(program.checked(), new, Some((old_decl, self.optional_old_self)))
    }

    fn run(&self, program: &Prog, act: &Activation<'_>) -> Result<Value, ExecutionError> {
        // The variables are converted once per activation and lent to each rule's run: converting
        // a `Value` for the interpreter copies it whole, which cost more than running a simple rule.
        let this = act.converted.get_or_init(|| value::to_val(act.self_value, Some(&self.self_type)));
        let old = act.old_value.map(|o| act.converted_old.get_or_init(|| value::to_val(o, Some(&self.self_type))));
        let old_self = if self.optional_old_self {
            Some(act.optional_old.get_or_init(|| value::optional(old.map(AsRef::as_ref))))
        } else {
            old
        };
        let vars = Vars { this: this.as_ref(), old_self: old_self.map(AsRef::as_ref) };
        let mut ctx = Context::with_env(Arc::clone(env()));
        ctx.set_variable_resolver(&vars);
        program.execute(&ctx)
    }

    /// Evaluates the rule with `act`, charging its cost to `budget` (start from
    /// [`RUNTIME_CEL_COST_BUDGET`] per object). A transition rule without an old value passes
    /// unevaluated unless `optionalOldSelf` is set.
    pub fn evaluate(&self, act: &Activation<'_>, budget: &mut i64) -> Outcome {
        if self.uses_old_self && act.old_value.is_none() && !self.optional_old_self {
            return Outcome::Pass;
        }
        let cost = self.price(&self.program, self.max_cost, act);
        if cost > PER_CALL_LIMIT {
            *budget = -1;
            let detail = format!(
                "'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: {}",
                self.error_string()
            );
            return Outcome::Stop { detail };
        }
        if cost as i64 > *budget {
            *budget = -1;
            return Outcome::Stop { detail: "validation failed due to running out of cost budget, no further validation rules will be run".into() };
        }
        *budget -= cost as i64;
        match self.run(&self.program, act) {
            Ok(Value::Bool(true)) => Outcome::Pass,
            Ok(Value::Bool(false)) => self.failure(act, budget),
            Ok(other) => Outcome::Error {
                detail: format!("'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {} ({other:?})", self.error_string()),
            },
            Err(e) => {
                let text = libs::error_text(&e);
                if text.starts_with("no such overload") {
                    Outcome::Error {
                        detail: format!(
                            "'{text}': call arguments did not match a supported operator, function or macro signature for rule: {}",
                            self.error_string()
                        ),
                    }
                } else {
                    Outcome::Error { detail: format!("{text} evaluating rule: {}", self.error_string()) }
                }
            }
        }
    }

    fn failure(&self, act: &Activation<'_>, budget: &mut i64) -> Outcome {
        let field_path = self.field_path.as_deref().map(normalize_field_path).unwrap_or_default();
        let reason = match self.reason.as_deref() {
            Some("FieldValueForbidden") => Reason::Forbidden,
            Some("FieldValueRequired") => Reason::Required,
            Some("FieldValueDuplicate") => Reason::Duplicate,
            _ => Reason::Invalid,
        };
        let mut detail = None;
        if let (Some(program), Some(src)) = (&self.message_program, &self.message_expression) {
            let cost = self.price(program, self.message_max_cost, act);
            if cost > PER_CALL_LIMIT {
                *budget = -1;
                return Outcome::Stop {
                    detail: format!("no further validation rules will be run due to call cost exceeds limit for messageExpression: {}", go_quote(src)),
                };
            }
            if cost as i64 > *budget {
                *budget = -1;
                return Outcome::Stop {
                    detail: "messageExpression evaluation failed due to running out of cost budget, no further validation rules will be run".into(),
                };
            }
            *budget -= cost as i64;
            if let Ok(Value::String(s)) = self.run(program, act) {
                let t = s.trim();
                if !t.is_empty() && t.len() <= MAX_MESSAGE_EXPRESSION_SIZE && !t.contains('\n') {
                    detail = Some(t.to_string());
                }
            }
        }
        let detail = detail.unwrap_or_else(|| match self.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => m.trim().to_string(),
            None => format!("failed rule: {}", self.error_string()),
        });
        Outcome::Fail { reason, field_path, detail }
    }
}

/// Go's `%q` for the texts upstream quotes.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `fieldPath` (`.a.b`, `.m['k']`, `.l[0]`) as `field.Path` prints it relative to the node:
/// `a.b`, `m[k]`, `l[0]`.
pub fn normalize_field_path(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&r[..end]);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']").unwrap_or(r.len());
            out.push('[');
            out.push_str(&r[..end].replace("\\'", "'"));
            out.push(']');
            rest = r.get(end + 2..).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            out.push('[');
            out.push_str(&r[..end]);
            out.push(']');
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

#[cfg(test)]
mod tests;
