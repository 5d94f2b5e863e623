//! Regular expressions compiled once (cel-go's regex optimizer, `interpreter.MatchesRegexOptimization`
//! and the Kubernetes regex library's `CompileRegexOptimization`): the patterns written as string
//! literals in rules are compiled when the rule is compiled, and the calls that take them (`matches`,
//! `find`, `findAll`) look them up instead of compiling them on every call, which cost more than the
//! rest of a simple rule's evaluation together (tens of µs per call). Patterns computed at run time
//! are compiled per call, as upstream does.
//!
//! cel-rust's own `matches` compiles per call and cannot be replaced on its `Env` (the first
//! overload registered wins), so [`lower`] renames the calls to [`MATCHES`], registered by
//! [`register`]; the checker types and prices the tree before renaming, as `matches`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use cel::common::ast::{CallExpr, Expr, IdedExpr, LiteralValue};
use cel::common::types::{CelBool, CelString, STRING_TYPE};
use cel::common::value::CowVal;
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

/// The function `matches` calls are renamed to (global, `(string, string) -> bool`).
pub(crate) const MATCHES: &str = "@matches";

/// The most constant patterns kept; past it (only a process compiling rules without end gets
/// there) new ones are compiled per call.
const MAX_CONSTANT_PATTERNS: usize = 4096;

fn constants() -> &'static RwLock<HashMap<String, Arc<Regex>>> {
    static CONSTANTS: OnceLock<RwLock<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    CONSTANTS.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Compiles `pattern`, a literal of a rule, once for the life of the process. Invalid patterns are
/// not kept (the checker refuses them; a call compiling one reports the error).
pub(crate) fn precompile(pattern: &str) {
    if constants().read().is_ok_and(|m| m.contains_key(pattern)) {
        return;
    }
    let Ok(re) = Regex::new(pattern) else { return };
    if let Ok(mut m) = constants().write() {
        if m.len() < MAX_CONSTANT_PATTERNS {
            m.entry(pattern.to_string()).or_insert_with(|| Arc::new(re));
        }
    }
}

/// `pattern` compiled: the precompiled regex of a literal, else a new one.
pub(crate) fn compiled(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    if let Some(re) = constants().read().ok().and_then(|m| m.get(pattern).cloned()) {
        return Ok(re);
    }
    Regex::new(pattern).map(Arc::new)
}

/// The pattern argument of a regex call (the last argument of `matches`, the first of `find` and
/// `findAll`), with the call's arguments as the checker numbers them (a member call's target
/// first).
fn pattern_arg(call: &CallExpr) -> Option<&IdedExpr> {
    match (call.func_name.as_str(), call.target.is_some(), call.args.len()) {
        ("matches", true, 1) | ("matches", false, 2) => call.args.last(),
        ("find", true, 1) | ("findAll", true, 1 | 2) => call.args.first(),
        _ => None,
    }
}

/// Precompiles the literal patterns of `e`'s regex calls, and returns `e` with its `matches` calls
/// renamed to [`MATCHES`] (`s.matches(re)` as `@matches(s, re)`), or `None` when it has none.
pub(crate) fn lower(e: &IdedExpr) -> Option<IdedExpr> {
    let mut has_matches = false;
    crate::twovar::visit(e, &mut |x| {
        let Expr::Call(c) = &x.expr else { return };
        if let Some(IdedExpr { expr: Expr::Literal(LiteralValue::String(p)), .. }) = pattern_arg(c) {
            precompile(p.inner());
        }
        has_matches |= c.func_name == "matches" && pattern_arg(c).is_some();
    });
    if !has_matches {
        return None;
    }
    let mut out = e.clone();
    rename(&mut out);
    Some(out)
}

fn rename(e: &mut IdedExpr) {
    for c in crate::twovar::children_mut(e) {
        rename(c);
    }
    if let Expr::Call(c) = &mut e.expr {
        if c.func_name == "matches" && pattern_arg(c).is_some() {
            c.func_name = MATCHES.to_string();
            if let Some(target) = c.target.take() {
                c.args.insert(0, *target);
            }
        }
    }
}

/// `@matches(s, re)`: cel-rust's `matches` (same regex engine, same error text) with the pattern
/// compiled once when it is a literal of the rule.
fn f_matches<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let string = |i: usize| args.get(i).and_then(|a| a.as_ref().downcast_ref::<CelString>());
    let (Some(s), Some(re)) = (string(0), string(1)) else {
        return Err(ExecutionError::no_such_overload("matches", Vec::new()));
    };
    match compiled(re.inner()) {
        Ok(compiled) => Ok(CowVal::owned(CelBool::from(compiled.is_match(s.inner())))),
        Err(err) => Err(ExecutionError::FunctionError {
            function: "matches".to_string(),
            message: format!("'{}' not a valid regex:\n{err}", re.inner()),
        }),
    }
}

/// Registers [`MATCHES`] on `env`.
pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(MATCHES, "string_matches_precompiled", vec![STRING_TYPE, STRING_TYPE], f_matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_patterns_are_compiled_once() {
        let p = "^regexes-test-[a-z]+$";
        precompile(p);
        let a = compiled(p).ok();
        let b = compiled(p).ok();
        assert!(a.is_some_and(|a| b.is_some_and(|b| Arc::ptr_eq(&a, &b))));
        // Not a literal: compiled anew each time.
        let q = "^regexes-test-dynamic$";
        let (a, b) = (compiled(q).ok(), compiled(q).ok());
        assert!(a.is_some_and(|a| b.is_some_and(|b| !Arc::ptr_eq(&a, &b))));
        assert!(compiled("[").is_err());
    }
}
