//! Two-variable comprehensions (cel-go's `ext.TwoVarComprehensions`, in Kubernetes' CRD environment
//! since 1.32): `all`, `exists`, `existsOne`/`exists_one` with an index (or key) and a value variable,
//! and `transformList`, `transformMap`, `transformMapEntry`, with or without a filter.
//!
//! The macros expand as cel-go's do, into comprehensions with a second iteration variable, which the
//! checker types (`check.rs`: index `int` or the map's key, and the element or value). cel-rust's
//! interpreter binds one iteration variable only, so before evaluation [`lower`] rewrites each such
//! comprehension to range over `@pairs(range)` (`[index, value]` or `[key, value]` pairs) and reads
//! the two variables as `@itN[0]` and `@itN[1]`, keeping the loop step's shape (`@result && p`,
//! `@result + [e]`) so that cel-rust's short-circuit and error rules for `all`/`exists` still apply.

use cel::common::ast::{operators, CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue, MapExpr};
use cel::parser::{Macro, MacroExprHelper, ParseError};

/// The accumulator cel-rust's macros use (cel-go's `@result`).
const ACCU: &str = "@result";
/// cel-go's legacy accumulator name, refused as an iteration variable too.
const LEGACY_ACCU: &str = "__result__";
/// `cel.@mapInsert(map, key, value)` / `cel.@mapInsert(map, map)`: the step of `transformMap(Entry)`.
pub(crate) const MAP_INSERT: &str = "cel.@mapInsert";
/// The function the lowered comprehensions range over.
pub(crate) const PAIRS: &str = "@pairs";

/// The macros, for `Env::add_macro`.
pub(crate) fn macros() -> Vec<Macro> {
    let mut out = vec![
        Macro::receiver("all", 3, |h, t, a| quantifier(h, t, a, Quantifier::All).map(Some)),
        Macro::receiver("exists", 3, |h, t, a| quantifier(h, t, a, Quantifier::Exists).map(Some)),
        Macro::receiver("existsOne", 3, |h, t, a| quantifier(h, t, a, Quantifier::ExistsOne).map(Some)),
        Macro::receiver("exists_one", 3, |h, t, a| quantifier(h, t, a, Quantifier::ExistsOne).map(Some)),
    ];
    for n in [3, 4] {
        out.push(Macro::receiver("transformList", n, |h, t, a| transform(h, t, a, Transform::List).map(Some)));
        out.push(Macro::receiver("transformMap", n, |h, t, a| transform(h, t, a, Transform::Map).map(Some)));
        out.push(Macro::receiver("transformMapEntry", n, |h, t, a| transform(h, t, a, Transform::MapEntry).map(Some)));
    }
    out
}

#[derive(Clone, Copy)]
enum Quantifier {
    All,
    Exists,
    ExistsOne,
}

#[derive(Clone, Copy)]
enum Transform {
    List,
    Map,
    MapEntry,
}

fn call(h: &mut MacroExprHelper<'_>, name: &str, args: Vec<IdedExpr>) -> IdedExpr {
    h.next_expr(Expr::Call(CallExpr { func_name: name.to_string(), target: None, args }))
}

fn accu(h: &mut MacroExprHelper<'_>) -> IdedExpr {
    h.next_expr(Expr::Ident(ACCU.to_string()))
}

fn lit(h: &mut MacroExprHelper<'_>, v: LiteralValue) -> IdedExpr {
    h.next_expr(Expr::Literal(v))
}

/// `extractIterVars`: two simple names, distinct, neither the accumulator.
fn iter_vars(h: &mut MacroExprHelper<'_>, a0: &IdedExpr, a1: &IdedExpr) -> Result<(String, String), ParseError> {
    let name = |h: &mut MacroExprHelper<'_>, e: &IdedExpr| match &e.expr {
        Expr::Ident(n) => Ok(n.clone()),
        _ => Err(h.new_error(e.id, "argument must be a simple name")),
    };
    let v1 = name(h, a0)?;
    let v2 = name(h, a1)?;
    if v1 == v2 {
        return Err(h.new_error(a1.id, format!("duplicate variable name: {v1}")));
    }
    for (v, e) in [(&v1, a0), (&v2, a1)] {
        if v == ACCU || v == LEGACY_ACCU {
            return Err(h.new_error(e.id, "iteration variable overwrites accumulator variable"));
        }
    }
    Ok((v1, v2))
}

#[allow(clippy::too_many_arguments)]
fn comprehension(
    h: &mut MacroExprHelper<'_>,
    range: IdedExpr,
    (v1, v2): (String, String),
    init: IdedExpr,
    cond: IdedExpr,
    step: IdedExpr,
    result: IdedExpr,
) -> IdedExpr {
    h.next_expr(Expr::Comprehension(Box::new(ComprehensionExpr {
        iter_range: range,
        iter_var: v1,
        iter_var2: Some(v2),
        accu_var: ACCU.to_string(),
        accu_init: init,
        loop_cond: cond,
        loop_step: step,
        result,
    })))
}

fn quantifier(h: &mut MacroExprHelper<'_>, target: &mut Option<IdedExpr>, args: &mut Vec<IdedExpr>, q: Quantifier) -> Result<IdedExpr, ParseError> {
    let vars = iter_vars(h, &args[0], &args[1])?;
    let pred = args.pop().unwrap_or_default();
    args.clear();
    let range = target.take().unwrap_or_default();
    let (init, cond, step, result) = match q {
        Quantifier::All => {
            let init = lit(h, LiteralValue::Boolean(true.into()));
            let a = accu(h);
            let cond = call(h, operators::NOT_STRICTLY_FALSE, vec![a]);
            let a = accu(h);
            let step = call(h, operators::LOGICAL_AND, vec![a, pred]);
            (init, cond, step, accu(h))
        }
        Quantifier::Exists => {
            let init = lit(h, LiteralValue::Boolean(false.into()));
            let a = accu(h);
            let not = call(h, operators::LOGICAL_NOT, vec![a]);
            let cond = call(h, operators::NOT_STRICTLY_FALSE, vec![not]);
            let a = accu(h);
            let step = call(h, operators::LOGICAL_OR, vec![a, pred]);
            (init, cond, step, accu(h))
        }
        Quantifier::ExistsOne => {
            let init = lit(h, LiteralValue::Int(0.into()));
            let cond = lit(h, LiteralValue::Boolean(true.into()));
            let a = accu(h);
            let one = lit(h, LiteralValue::Int(1.into()));
            let inc = call(h, operators::ADD, vec![a, one]);
            let a = accu(h);
            let step = call(h, operators::CONDITIONAL, vec![pred, inc, a]);
            let a = accu(h);
            let one = lit(h, LiteralValue::Int(1.into()));
            (init, cond, step, call(h, operators::EQUALS, vec![a, one]))
        }
    };
    Ok(comprehension(h, range, vars, init, cond, step, result))
}

fn transform(h: &mut MacroExprHelper<'_>, target: &mut Option<IdedExpr>, args: &mut Vec<IdedExpr>, t: Transform) -> Result<IdedExpr, ParseError> {
    let vars = iter_vars(h, &args[0], &args[1])?;
    let expr = args.pop().unwrap_or_default();
    let filter = if args.len() == 3 { args.pop() } else { None };
    args.clear();
    let range = target.take().unwrap_or_default();
    let (init, step) = match t {
        Transform::List => {
            let init = h.next_expr(Expr::List(ListExpr::new(Vec::new())));
            let a = accu(h);
            let item = h.next_expr(Expr::List(ListExpr::new(vec![expr])));
            (init, call(h, operators::ADD, vec![a, item]))
        }
        Transform::Map => {
            let init = h.next_expr(Expr::Map(MapExpr { entries: Vec::new() }));
            let a = accu(h);
            let key = h.next_expr(Expr::Ident(vars.0.clone()));
            (init, call(h, MAP_INSERT, vec![a, key, expr]))
        }
        Transform::MapEntry => {
            let init = h.next_expr(Expr::Map(MapExpr { entries: Vec::new() }));
            let a = accu(h);
            (init, call(h, MAP_INSERT, vec![a, expr]))
        }
    };
    let step = match filter {
        Some(f) => {
            let a = accu(h);
            call(h, operators::CONDITIONAL, vec![f, step, a])
        }
        None => step,
    };
    let cond = lit(h, LiteralValue::Boolean(true.into()));
    let result = accu(h);
    Ok(comprehension(h, range, vars, init, cond, step, result))
}

/// `e` with its two-variable comprehensions rewritten for cel-rust's interpreter, or `None` when it
/// has none.
pub(crate) fn lower(e: &IdedExpr) -> Option<IdedExpr> {
    if !has_two_var(e) {
        return None;
    }
    let mut out = e.clone();
    lower_in(&mut out);
    Some(out)
}

fn has_two_var(e: &IdedExpr) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= matches!(&x.expr, Expr::Comprehension(c) if c.iter_var2.is_some()));
    found
}

/// Calls `f` on `e` and every node under it, parents first.
pub(crate) fn visit(e: &IdedExpr, f: &mut dyn FnMut(&IdedExpr)) {
    f(e);
    match &e.expr {
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                visit(t, f);
            }
            c.args.iter().for_each(|a| visit(a, f));
        }
        Expr::Comprehension(c) => {
            for x in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                visit(x, f);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|a| visit(a, f)),
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    visit(&me.key, f);
                    visit(&me.value, f);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                if let EntryExpr::StructField(sf) = &entry.expr {
                    visit(&sf.value, f);
                }
            }
        }
        Expr::Select(s) => visit(&s.operand, f),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The direct children of `e`.
pub(crate) fn children_mut(e: &mut IdedExpr) -> Vec<&mut IdedExpr> {
    match &mut e.expr {
        Expr::Call(c) => {
            let mut v: Vec<&mut IdedExpr> = Vec::new();
            if let Some(t) = c.target.as_deref_mut() {
                v.push(t);
            }
            v.extend(c.args.iter_mut());
            v
        }
        Expr::Comprehension(c) => {
            let c = &mut **c;
            vec![&mut c.iter_range, &mut c.accu_init, &mut c.loop_cond, &mut c.loop_step, &mut c.result]
        }
        Expr::List(l) => l.elements.iter_mut().collect(),
        Expr::Map(m) => m
            .entries
            .iter_mut()
            .flat_map(|entry| match &mut entry.expr {
                EntryExpr::MapEntry(me) => vec![&mut me.key, &mut me.value],
                EntryExpr::StructField(sf) => vec![&mut sf.value],
            })
            .collect(),
        Expr::Struct(s) => s
            .entries
            .iter_mut()
            .flat_map(|entry| match &mut entry.expr {
                EntryExpr::MapEntry(me) => vec![&mut me.key, &mut me.value],
                EntryExpr::StructField(sf) => vec![&mut sf.value],
            })
            .collect(),
        Expr::Select(s) => vec![&mut *s.operand],
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

/// Lowers bottom-up: inner comprehensions first, each with its own pair variable (`@it<id>`).
fn lower_in(e: &mut IdedExpr) {
    for c in children_mut(e) {
        lower_in(c);
    }
    let id = e.id;
    let Expr::Comprehension(c) = &mut e.expr else { return };
    let Some(v2) = c.iter_var2.take() else { return };
    let v1 = std::mem::take(&mut c.iter_var);
    let it = format!("@it{id}");
    let range = std::mem::take(&mut c.iter_range);
    c.iter_range = node(Expr::Call(CallExpr { func_name: PAIRS.to_string(), target: None, args: vec![range] }));
    c.iter_var = it.clone();
    // Only the condition and the step see the iteration variables (the result sees the accumulator).
    let shadowed = |n: &str| n == c.accu_var;
    if !shadowed(&v1) {
        subst(&mut c.loop_cond, &v1, &it, 0);
        subst(&mut c.loop_step, &v1, &it, 0);
    }
    if !shadowed(&v2) {
        subst(&mut c.loop_cond, &v2, &it, 1);
        subst(&mut c.loop_step, &v2, &it, 1);
    }
}

fn node(expr: Expr) -> IdedExpr {
    // Ids of lowered nodes are never looked up (positions come from the checked tree).
    IdedExpr { id: 0, expr }
}

/// Replaces the free occurrences of `name` in `e` with `it[index]`.
fn subst(e: &mut IdedExpr, name: &str, it: &str, index: i64) {
    match &mut e.expr {
        Expr::Ident(n) if n == name => {
            let pair = node(Expr::Ident(it.to_string()));
            let i = node(Expr::Literal(LiteralValue::Int(index.into())));
            e.expr = Expr::Call(CallExpr { func_name: operators::INDEX.to_string(), target: None, args: vec![pair, i] });
        }
        Expr::Comprehension(c) => {
            let c = &mut **c;
            subst(&mut c.iter_range, name, it, index);
            subst(&mut c.accu_init, name, it, index);
            let binds = |n: &str| c.iter_var == n || c.iter_var2.as_deref() == Some(n) || c.accu_var == n;
            if !binds(name) {
                subst(&mut c.loop_cond, name, it, index);
                subst(&mut c.loop_step, name, it, index);
            }
            if c.accu_var != name {
                subst(&mut c.result, name, it, index);
            }
        }
        _ => {
            for c in children_mut(e) {
                subst(c, name, it, index);
            }
        }
    }
}
