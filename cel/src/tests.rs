//! Unit tests: compile diagnostics pinned against kube-apiserver v1.36.2 (a CRD with the rule was
//! refused with these texts), evaluation, libraries, costs.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn spec_type() -> DeclType {
    let mut f = BTreeMap::new();
    f.insert("a".to_string(), DeclType::string(None, None, &[]));
    f.insert("b".to_string(), DeclType::string(None, None, &[]));
    f.insert("n".to_string(), DeclType::int());
    f.insert("items".to_string(), DeclType::list(DeclType::string(None, None, &[]), ListKind::Atomic, vec![], None));
    DeclType::object("spec", f, vec![], None)
}

fn rule(r: &str) -> Rule<'_> {
    Rule { rule: r, ..Rule::default() }
}

fn err_of(r: &str) -> String {
    match compile(&rule(r), &spec_type()) {
        Ok(_) => "ok".into(),
        Err(e) => e.message,
    }
}

#[test]
fn compile_errors_read_like_upstream() {
    assert_eq!(
        err_of("self.a == "),
        "compilation failed: ERROR: <input>:1:11: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | self.a == \n | ..........^"
    );
    assert_eq!(err_of("self.foo == 1"), "compilation failed: ERROR: <input>:1:5: undefined field 'foo'\n | self.foo == 1\n | ....^");
    assert_eq!(err_of("bar == 1"), "compilation failed: ERROR: <input>:1:1: undeclared reference to 'bar' (in container '')\n | bar == 1\n | ^");
    assert_eq!(
        err_of("self.a + 1 == 2"),
        "compilation failed: ERROR: <input>:1:8: found no matching overload for '_+_' applied to '(string, int)'\n | self.a + 1 == 2\n | .......^"
    );
    assert_eq!(err_of("self.a"), "cel expression must evaluate to a bool");
    assert_eq!(
        err_of("self.a == 1"),
        "compilation failed: ERROR: <input>:1:8: found no matching overload for '_==_' applied to '(string, int)'\n | self.a == 1\n | .......^"
    );
    assert_eq!(
        err_of("self.a.size() > 1 &&\n  self.b.foo()"),
        "compilation failed: ERROR: <input>:2:13: undeclared reference to 'foo' (in container '')\n |   self.b.foo()\n | ............^"
    );
    assert_eq!(err_of("self.a.matches('[')"), "compilation failed: ERROR: <input>:1:16: invalid matches argument\n | self.a.matches('[')\n | ...............^");
    assert_eq!(
        err_of("self.items.all(x, self.items.all(y, x == y))"),
        "estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    );
    let e = compile(&rule("self.a.size() > 1 &&\n  self.b.foo()"), &spec_type()).err().map(|e| (e.line, e.column));
    assert_eq!(e, Some((2, 13)));
    let m = Rule { rule: "self.a == 'x'", message_expression: Some("1"), ..Rule::default() };
    assert_eq!(compile(&m, &spec_type()).err().map(|e| (e.field, e.message)), Some((RuleField::MessageExpression, "messageExpression must evaluate to a string".into())));
}

#[test]
fn good_rules_compile() {
    for r in [
        "self.a.startsWith('x') && self.n > 0",
        "has(self.a) ? self.a.size() < 10 : true",
        "self.items.all(x, x.size() < 10)",
        "self.items.exists(x, x == 'a')",
        "['a', 'b'].map(x, x + 'a').filter(y, y.size() > 1).size() >= 0",
        "self.?a.orValue('') == ''",
        "[1, 2, 3].isSorted() && [1, 2].sum() == 3 && [3, 1].min() == 1",
        "self.a.lowerAscii().upperAscii().trim().replace('a', 'b').split(',').size() > 0",
        "quantity('1Gi').isGreaterThan(quantity('1M'))",
        "isURL('https://example.com') && url('https://example.com:80/p').getPort() == '80'",
        "ip('10.0.0.1').family() == 4 && cidr('10.0.0.0/8').containsIP('10.1.2.3')",
        "semver('1.2.3').isLessThan(semver('1.10.0'))",
        "sets.contains([1, 2, 3], [1, 2])",
        "!format.dns1123Label().validate('Abc').hasValue() || true",
        "self.a.find('[0-9]+') == '' || self.a.findAll('x').size() > 0",
        "int(self.n) + 1 > 1.5",
        "self.items.indexOf('a') >= -1",
        "type(self.n) == int",
    ] {
        if let Err(e) = compile(&rule(r), &spec_type()) {
            panic!("{r}: {e}");
        }
    }
}

fn eval(r: &str, v: serde_json::Value) -> Outcome {
    let c = compile(&rule(r), &spec_type()).expect("compiles");
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    c.evaluate(&Activation::new(&v, None), &mut budget)
}

#[test]
fn evaluation() {
    let v = json!({"a": "abc", "n": 3, "items": ["x", "y"]});
    for r in [
        "self.a.startsWith('ab') && self.n == 3",
        "self.items.all(x, x.size() == 1)",
        "self.a.charAt(1) == 'b' && self.a.indexOf('c') == 2",
        "self.?b.orValue('none') == 'none' && !has(self.b)",
        "quantity('1Gi').isGreaterThan(quantity('1G')) && quantity('500m').asApproximateFloat() == 0.5",
        "quantity('2').add(3).asInteger() == 5 && quantity('1.5').isInteger() == false",
        "url('https://user@example.com:8443/a/b?x=1&x=2').getHostname() == 'example.com'",
        "url('https://example.com:8443/a?x=1&x=2').getQuery()['x'] == ['1', '2']",
        "ip('fe80::1').isLinkLocalUnicast() && !ip('8.8.8.8').isLoopback() && ip('8.8.8.8').isGlobalUnicast()",
        "cidr('192.168.0.0/16').containsCIDR('192.168.1.0/24') && cidr('10.1.2.3/8').masked() == cidr('10.0.0.0/8')",
        "string(cidr('10.0.0.0/8').ip()) == '10.0.0.0' && cidr('10.0.0.0/8').prefixLength() == 8",
        "semver('1.2.3-alpha').isLessThan(semver('1.2.3')) && semver('v1.2', true).minor() == 2",
        "[3, 1, 2].max() == 3 && ['b', 'a'].isSorted() == false && [1.5, 2.5].sum() == 4.0",
        "sets.equivalent([1, 2], [2, 1]) && sets.intersects([1], [1, 5])",
        "format.dns1123Label().validate('Abc').hasValue() && !format.named('dns1123Label').value().validate('abc').hasValue()",
        "'abc123def'.find('[0-9]+') == '123' && 'a1b2'.findAll('[0-9]') == ['1', '2']",
        "self.items.exists_one(x, x == 'x')",
        "'%s-%d'.format(['a', 1]) == 'a-1'",
    ] {
        assert_eq!(eval(r, v.clone()), Outcome::Pass, "{r}");
    }
    assert_eq!(
        eval("self.b == 'x'", v.clone()),
        Outcome::Error { detail: "no such key: b evaluating rule: self.b == 'x'".into() }
    );
    assert_eq!(
        eval("100 / (self.n - 3) > 1", v.clone()),
        Outcome::Error { detail: "division by zero evaluating rule: 100 / (self.n - 3) > 1".into() }
    );
    assert_eq!(
        eval("self.n < 3", v),
        Outcome::Fail { reason: Reason::Invalid, field_path: String::new(), detail: "failed rule: self.n < 3".into() }
    );
}

#[test]
fn messages_reasons_and_field_paths() {
    let v = json!({"a": "bad", "n": 3});
    let c = compile(
        &Rule { rule: "self.a != 'bad'", message_expression: Some("'a is ' + self.a"), reason: Some("FieldValueForbidden"), field_path: Some(".a"), ..Rule::default() },
        &spec_type(),
    )
    .expect("compiles");
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    assert_eq!(
        c.evaluate(&Activation::new(&v, None), &mut budget),
        Outcome::Fail { reason: Reason::Forbidden, field_path: "a".into(), detail: "a is bad".into() }
    );
    // An empty or failing messageExpression falls back to message, then to the rule.
    let c = compile(&Rule { rule: "self.a != 'bad'", message_expression: Some("''"), message: Some("fallback"), ..Rule::default() }, &spec_type()).expect("compiles");
    assert!(matches!(c.evaluate(&Activation::new(&v, None), &mut budget), Outcome::Fail { detail, .. } if detail == "fallback"));
    let c = compile(&Rule { rule: "self.a != 'bad'", message_expression: Some("self.n / 0 > 1 ? 'a' : 'b'"), ..Rule::default() }, &spec_type()).expect("compiles");
    assert!(matches!(c.evaluate(&Activation::new(&v, None), &mut budget), Outcome::Fail { detail, .. } if detail == "failed rule: self.a != 'bad'"));
    assert_eq!(normalize_field_path(".m['a.b'].c[0]"), "m[a.b].c[0]");
}

#[test]
fn transition_rules_and_optional_old_self() {
    let d = DeclType::string(None, None, &[]);
    let opts = CompileOptions { old_self: Some(&d), ..CompileOptions::default() };
    let c = compile_with(&Rule { rule: "self == oldSelf", message: Some("Value is immutable"), ..Rule::default() }, &d, &opts).expect("compiles");
    assert!(c.uses_old_self);
    let (new, old) = (json!("b"), json!("a"));
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    assert_eq!(c.evaluate(&Activation::new(&new, None), &mut budget), Outcome::Pass);
    assert!(matches!(c.evaluate(&Activation::new(&new, Some(&old)), &mut budget), Outcome::Fail { detail, .. } if detail == "Value is immutable"));
    let r = Rule { rule: "!oldSelf.hasValue() || self.size() >= oldSelf.value().size()", optional_old_self: true, ..Rule::default() };
    let c = compile_with(&r, &d, &opts).expect("compiles");
    assert_eq!(c.evaluate(&Activation::new(&new, None), &mut budget), Outcome::Pass);
    let long = json!("abc");
    assert!(matches!(c.evaluate(&Activation::new(&new, Some(&long)), &mut budget), Outcome::Fail { .. }));
    // Without an old type (uncorrelatable), oldSelf is refused.
    assert!(compile(&rule("self.n == oldSelf.n"), &spec_type()).is_err());
}

#[test]
fn runtime_cost_and_budget() {
    let items = DeclType::list(DeclType::string(None, Some(10), &[]), ListKind::Atomic, vec![], Some(1000));
    let mut f = BTreeMap::new();
    f.insert("items".to_string(), items);
    let d = DeclType::object("o", f, vec![], None);
    let c = compile(&rule("self.items.all(x, self.items.all(y, x == y || true))"), &d).expect("compiles");
    assert!(c.max_cost > PER_CALL_LIMIT / 10, "{}", c.max_cost);
    let small = json!({"items": ["a", "a"]});
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    assert_eq!(c.evaluate(&Activation::new(&small, None), &mut budget), Outcome::Pass);
    assert!(budget > RUNTIME_CEL_COST_BUDGET - 100, "{budget}");
    let big = json!({"items": vec!["a"; 200]});
    let mut budget = 100;
    assert_eq!(
        c.evaluate(&Activation::new(&big, None), &mut budget),
        Outcome::Stop { detail: "validation failed due to running out of cost budget, no further validation rules will be run".into() }
    );
    assert_eq!(budget, -1);
    let huge = json!({"items": vec!["a"; 1000]});
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    assert!(matches!(c.evaluate(&Activation::new(&huge, None), &mut budget), Outcome::Stop { detail } if detail.starts_with("'operation cancelled: actual cost limit exceeded'")));
}

#[test]
fn cost_messages() {
    assert_eq!(cost_error_message("estimated rule cost", 12_000_000, 10_000_000).split(" (").next(), Some("estimated rule cost exceeds budget by factor of 1.200000x"));
    assert_eq!(cost_error_message("x", 25_000_000, 10_000_000).split(" (").next(), Some("x exceeds budget by factor of 2.5x"));
}

/// Facts of real CRDs kube-apiserver v1.36.2 accepts (gateway-api's `p1.__namespace__`,
/// OpenTelemetry's `self.affinity != null`, argo's 14 artifact rules under unbounded lists).
#[test]
fn escaped_names_null_comparisons_and_presence_cost() {
    let mut f = BTreeMap::new();
    f.insert("namespace".to_string(), DeclType::string(None, None, &[]));
    f.insert("x-y".to_string(), DeclType::int());
    f.insert("a__b".to_string(), DeclType::int());
    f.insert("9lives".to_string(), DeclType::int());
    f.insert("affinity".to_string(), DeclType::object("affinity", BTreeMap::new(), vec![], None));
    let d = DeclType::object("o", f, vec![], None);
    assert_eq!(decl::escape("namespace").as_deref(), Some("__namespace__"));
    assert_eq!(decl::escape("a.b/c-d__e").as_deref(), Some("a__dot__b__slash__c__dash__d__underscores__e"));
    assert_eq!(decl::escape("9lives"), None);
    assert_eq!(decl::escape("a b"), None);
    let v = json!({"namespace": "ns", "x-y": 2, "a__b": 3, "affinity": {}});
    let c = compile(&rule("self.__namespace__ == 'ns' && self.x__dash__y == 2 && self.a__underscores__b == 3 && self.affinity != null"), &d).expect("compiles");
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    assert_eq!(c.evaluate(&Activation::new(&v, None), &mut budget), Outcome::Pass);
    let err = compile(&rule("self.namespace == 'ns'"), &d).err().map(|e| e.message);
    assert_eq!(err.as_deref(), Some("compilation failed: ERROR: <input>:1:5: undefined field 'namespace'\n | self.namespace == 'ns'\n | ....^"));
    assert!(compile(&rule("self.__namespace__ != null"), &d).is_err(), "strings do not compare with null");
    // has() costs its operand only.
    assert_eq!(compile(&rule("has(self.x__dash__y)"), &d).map(|c| c.max_cost).ok(), Some(1));
    // The least size of an object counts its required properties without a default.
    let mut f = BTreeMap::new();
    f.insert("name".to_string(), DeclType::string(None, None, &[]));
    f.insert("n".to_string(), DeclType::int());
    assert_eq!(DeclType::object("o", f.clone(), vec!["name".into()], None).min_serialized_size(), 2 + 4 + 2 + 4);
    assert_eq!(DeclType::object("o", f, vec![], None).min_serialized_size(), 2);
}

/// The probe schema of the v1.36.2 observations below: lists of ints (`l`), strings (`ls`), int
/// lists (`ln`), a list-map (`lmap`), maps of strings (`m`) and ints (`mi`); at most 10 items or
/// entries, strings of at most 10 characters.
fn probe_type() -> DeclType {
    let int = DeclType::int;
    let s10 = || DeclType::string(None, Some(10), &[]);
    let mut f = BTreeMap::new();
    f.insert("l".to_string(), DeclType::list(int(), ListKind::Atomic, vec![], Some(10)));
    f.insert("ls".to_string(), DeclType::list(s10(), ListKind::Atomic, vec![], Some(10)));
    f.insert("ln".to_string(), DeclType::list(DeclType::list(int(), ListKind::Atomic, vec![], Some(10)), ListKind::Atomic, vec![], Some(10)));
    let mut e = BTreeMap::new();
    e.insert("k".to_string(), DeclType::string(None, Some(5), &[]));
    e.insert("v".to_string(), int());
    f.insert("lmap".to_string(), DeclType::list(DeclType::object("item", e, vec!["k".into()], None), ListKind::Map, vec!["k".into()], Some(10)));
    f.insert("lbig".to_string(), DeclType::list(DeclType::string(None, None, &[]), ListKind::Atomic, vec![], None));
    f.insert("m".to_string(), DeclType::map(s10(), Some(10)));
    f.insert("mi".to_string(), DeclType::map(int(), Some(10)));
    f.insert("s".to_string(), s10());
    f.insert("i".to_string(), int());
    DeclType::object("spec", f, vec![], None)
}

fn probe_err(r: &str) -> String {
    match compile(&rule(r), &probe_type()) {
        Ok(_) => "ok".into(),
        Err(e) => e.message,
    }
}

fn probe_cost(r: &str) -> u64 {
    compile(&rule(r), &probe_type()).unwrap_or_else(|e| panic!("{r}: {e}")).max_cost
}

fn probe_eval(r: &str) -> Outcome {
    let v = json!({"l": [3, 1, 2, 1], "ls": ["b", "a", "c"], "ln": [[1, 2], [3]], "lmap": [{"k": "x", "v": 2}, {"k": "y", "v": 1}],
        "m": {"a": "x", "b": "y"}, "mi": {"a": 1, "b": 2}, "s": "hello", "i": 3, "lbig": []});
    let c = compile(&rule(r), &probe_type()).unwrap_or_else(|e| panic!("{r}: {e}"));
    let mut budget = RUNTIME_CEL_COST_BUDGET;
    c.evaluate(&Activation::new(&v, None), &mut budget)
}

/// Two-variable comprehensions (ext.TwoVarComprehensions): results and estimated costs as a CRD
/// with the rule got them from kube-apiserver v1.36.2 (the costs read back from the "exceeds budget
/// by factor of" text with the rule on the items of a list of 1,000,000).
#[test]
fn two_variable_comprehensions() {
    for r in [
        "self.l.all(i, v, i < 4 && v > 0)",
        "self.l.exists(i, v, i == 2 && v == 2)",
        "self.l.existsOne(i, v, v == 3)",
        "!self.l.exists_one(i, v, v == 1)",
        "self.m.all(k, v, k != v) && self.m.exists(k, v, k == 'b' && v == 'y')",
        "self.mi.existsOne(k, v, v == 2)",
        "self.l.transformList(i, v, i * v) == [0, 1, 4, 3]",
        "self.l.transformList(i, v, v > 1, i * 10 + v) == [3, 22]",
        "self.m.transformList(k, v, k + v).sort() == ['ax', 'by']",
        "self.l.transformMap(i, v, v * 2) == {0: 6, 1: 2, 2: 4, 3: 2}",
        "self.l.transformMap(i, v, i % 2 == 0, v) == {0: 3, 2: 2}",
        "self.mi.transformMap(k, v, v + 1) == {'a': 2, 'b': 3}",
        "self.m.transformMapEntry(k, v, {v: k}) == {'x': 'a', 'y': 'b'}",
        "self.ls.transformMapEntry(i, v, i > 0, {v: i}) == {'a': 1, 'c': 2}",
        "self.lmap.transformMapEntry(i, e, {e.k: e.v}) == {'x': 2, 'y': 1}",
        // Shadowing: the inner `i` is the inner index.
        "self.l.all(i, v, self.ls.all(i, w, i >= 0 && i < 3))",
        "self.l.exists(i, v, self.ls.exists(j, w, i == j && v == 2 && w == 'c'))",
    ] {
        assert_eq!(probe_eval(r), Outcome::Pass, "{r}");
    }
    assert_eq!(
        probe_eval("self.l.transformMapEntry(i, v, {v: i}) == {}"),
        Outcome::Error { detail: "insert failed: key 1 already exists evaluating rule: self.l.transformMapEntry(i, v, {v: i}) == {}".into() }
    );
    for (r, cost) in [
        ("self.l.all(i, v, i < 4 && v > 0)", 73),
        ("self.l.exists(i, v, i == 2 && v == 2)", 73),
        ("self.l.existsOne(i, v, v == 3)", 34),
        ("self.m.all(k, v, k != v)", 53),
        ("self.l.transformList(i, v, i * v) == [0, 1, 4, 3]", 174),
        ("self.l.transformMap(i, v, v * 2) == {0: 6}", 114),
        ("self.m.transformMapEntry(k, v, {v: k}) == {'x': 'a'}", 404),
        ("self.ls.transformMapEntry(i, v, i > 0, {v: i}) == {'a': 1}", 424),
        // The loop condition of `all`/`exists` costs its call too.
        ("self.l.all(x, true)", 33),
        ("self.l.exists(x, x > 0)", 63),
        ("self.l.exists_one(x, x > 0)", 44),
    ] {
        assert_eq!(probe_cost(r), cost, "{r}");
    }
    let at = |r: &str, col: usize, msg: &str| format!("compilation failed: ERROR: <input>:1:{col}: {msg}\n | {r}\n | {}^", ".".repeat(col - 1));
    for (r, col, msg) in [
        ("self.l.all(i, i, true)", 15, "duplicate variable name: i"),
        ("self.l.all(__result__, v, true)", 12, "iteration variable overwrites accumulator variable"),
        ("self.s.all(i, v, true)", 5, "expression of type 'string' cannot be range of a comprehension (must be list, map, or dynamic)"),
        ("self.l.transformMapEntry(i, v, v) == {}", 25, "found no matching overload for 'cel.@mapInsert' applied to '(map(dyn, dyn), int)'"),
        ("self.l.all(i, v, v.startsWith('a'))", 30, "found no matching overload for 'startsWith' applied to 'int.(string)'"),
    ] {
        assert_eq!(probe_err(r), at(r, col, msg), "{r}");
    }
}

/// ext.Lists (version 3) and the optional types' list functions, as v1.36.2 evaluates and prices them.
#[test]
fn ext_lists() {
    for r in [
        "self.l.distinct() == [3, 1, 2]",
        "self.ln.flatten() == [1, 2, 3]",
        "self.ln.flatten(0) == self.ln",
        "self.l.reverse() == [1, 2, 1, 3]",
        "self.l.slice(1, 3) == [1, 2]",
        "self.l.sort() == [1, 1, 2, 3] && self.ls.sort() == ['a', 'b', 'c']",
        "self.lmap.sortBy(e, -e.v)[0].k == 'x'",
        "self.lmap.sortBy(e, e.v).map(e, e.k) == ['y', 'x']",
        "lists.range(4) == [0, 1, 2, 3] && lists.range(0) == []",
        // cel-go v0.26 makes an empty list of a negative size.
        "lists.range(-1) == []",
        "self.l.first() == optional.of(3) && self.l.last() == optional.of(1)",
        "!self.lbig.first().hasValue() && !self.lbig.last().hasValue()",
        "[optional.of(1), optional.none()].unwrapOpt() == [1]",
        "optional.unwrap([optional.none(), optional.of('a')]) == ['a']",
    ] {
        assert_eq!(probe_eval(r), Outcome::Pass, "{r}");
    }
    assert_eq!(
        probe_eval("self.l.slice(3, 5) == []"),
        Outcome::Error { detail: "cannot slice(3, 5), list is length 4 evaluating rule: self.l.slice(3, 5) == []".into() }
    );
    assert_eq!(
        probe_eval("self.ln.flatten(-1) == []"),
        Outcome::Error { detail: "level must be non-negative evaluating rule: self.ln.flatten(-1) == []".into() }
    );
    for (r, cost) in [
        ("self.l.distinct() == [3]", 224),
        ("self.ls.distinct() == ['a']", 224),
        ("self.ln.flatten() == [1, 2, 3]", 34),
        ("self.ln.flatten(2) == [1, 2, 3]", 44),
        ("self.l.reverse() == [1]", 34),
        ("self.l.slice(1, 3) == [1, 2]", 26),
        ("self.l.slice(1, self.i) == [1, 2]", 35),
        ("self.l.sort() == [1]", 224),
        ("self.ls.sort() == ['a']", 234),
        ("self.lmap.sortBy(e, -e.v)[0].k == 'x'", 389),
        ("lists.range(40) == [0]", 62),
        ("self.l.distinct().size() == 1", 215),
        ("self.l.reverse().all(x, x > 0)", 74),
        ("self.l.slice(1, 3).all(x, x > 0)", 26),
    ] {
        assert_eq!(probe_cost(r), cost, "{r}");
    }
    // `slice(2, 1)` is estimated with Go's unsigned subtraction: refused.
    assert!(probe_err("self.l.slice(2, 1) == []").starts_with("estimated rule cost exceeds budget by factor of more than 100x"));
    assert_eq!(
        probe_err("self.l.flatten() == [1]"),
        "compilation failed: ERROR: <input>:1:15: found no matching overload for 'flatten' applied to 'list(int).()'\n | self.l.flatten() == [1]\n | ..............^"
    );
}

/// What v1.36.2's CRD environment does not have is refused with its texts: ext.Math, ext.Encoders,
/// ext.Bindings, ext.Strings past version 2; and mixed list and map literals.
#[test]
fn refused_like_upstream() {
    assert_eq!(
        probe_err("math.greatest(1, 2) == 2"),
        "compilation failed: ERROR: <input>:1:1: undeclared reference to 'math' (in container '')\n | math.greatest(1, 2) == 2\n | ^\n\
         ERROR: <input>:1:14: undeclared reference to 'greatest' (in container '')\n | math.greatest(1, 2) == 2\n | .............^"
    );
    for r in ["math.abs(-1) == 1", "math.ceil(1.2) == 2.0", "math.bitOr(1, 2) == 3", "math.isNaN(1.0)", "math.least(1, 2) == 1"] {
        assert!(probe_err(r).starts_with("compilation failed: ERROR: <input>:1:1: undeclared reference to 'math' (in container '')"), "{r}");
    }
    assert_eq!(
        probe_err("base64.encode(b'a') == 'YQ=='"),
        "compilation failed: ERROR: <input>:1:1: undeclared reference to 'base64' (in container '')\n | base64.encode(b'a') == 'YQ=='\n | ^\n\
         ERROR: <input>:1:14: undeclared reference to 'encode' (in container '')\n | base64.encode(b'a') == 'YQ=='\n | .............^"
    );
    // Issues print in position order, as cel-go's do.
    let r = "cel.bind(x, 1, x == 1)";
    assert_eq!(
        probe_err(r),
        format!(
            "compilation failed: ERROR: <input>:1:1: undeclared reference to 'cel' (in container '')\n | {r}\n | ^\n\
             ERROR: <input>:1:9: undeclared reference to 'bind' (in container '')\n | {r}\n | ........^\n\
             ERROR: <input>:1:10: undeclared reference to 'x' (in container '')\n | {r}\n | .........^\n\
             ERROR: <input>:1:16: undeclared reference to 'x' (in container '')\n | {r}\n | ...............^"
        )
    );
    assert_eq!(
        probe_err("self.s.reverse() == ''"),
        "compilation failed: ERROR: <input>:1:15: found no matching overload for 'reverse' applied to 'string.()'\n | self.s.reverse() == ''\n | ..............^"
    );
    let at = |r: &str, col: usize, msg: &str| format!("compilation failed: ERROR: <input>:1:{col}: {msg}\n | {r}\n | {}^", ".".repeat(col - 1));
    for (r, col, msg) in [
        ("[1, 'a'] == [1]", 5, "expected type 'int' but found 'string'"),
        ("[1, 2.0].size() == 2", 5, "expected type 'int' but found 'double'"),
        ("[1, dyn('a')].size() == 2", 8, "expected type 'int' but found 'dyn'"),
        ("[dyn(1), 1].size() == 2", 10, "expected type 'dyn' but found 'int'"),
        ("[null, 1].size() == 2", 8, "expected type 'null' but found 'int'"),
        ("[self.m, {'a': 1}].size() == 2", 10, "expected type 'map(string, string)' but found 'map(string, int)'"),
    ] {
        assert_eq!(probe_err(r), at(r, col, msg), "{r}");
    }
    let r = "{1: 'a', 'b': 2} == {}";
    assert_eq!(
        probe_err(r),
        format!("{}\n{}", at(r, 10, "expected type 'int' but found 'string'"), at(r, 15, "expected type 'string' but found 'int'").trim_start_matches("compilation failed: "))
    );
    // Accepted: `format`'s arguments are exempt; `[]`, `{}` and `optional.none()` take the others' type.
    for r in [
        "'%s-%d'.format(['a', 1]) == 'a-1'",
        "[[], [1]].size() == 2",
        "[{}, {'a': 1}].size() == 2",
        "[optional.of(1), optional.none()].size() == 2",
        "{'a': optional.none(), 'b': optional.of(1)}.size() == 2",
    ] {
        assert_eq!(probe_err(r), "ok", "{r}");
    }
}

/// `matches` runs as `@matches` (literal patterns compiled once, see `regexes`) with cel-rust's
/// results and error texts: member and global forms, a pattern from the object, an invalid one, a
/// value of another type, inside a two-variable comprehension.
#[test]
fn matches_with_precompiled_patterns() {
    let v = json!({"l": [3], "ls": ["ab", "a1"], "m": {"a1": "x", "b2": "y"}, "s": "hello", "i": 3, "lbig": ["^h.*o$", "["]});
    let c = |r: &str| compile(&rule(r), &probe_type()).unwrap_or_else(|e| panic!("{r}: {e}"));
    let run = |r: &str| {
        let mut budget = RUNTIME_CEL_COST_BUDGET;
        c(r).evaluate(&Activation::new(&v, None), &mut budget)
    };
    for r in [
        "self.s.matches('^h.*o$') && !self.s.matches('^x')",
        "matches(self.s, 'ell') && !matches(self.s, '^ell')",
        "self.s.matches(self.lbig[0])",
        "self.ls.all(x, x.matches('^a[a-z0-9]$'))",
        "self.m.all(k, v, k.matches('^[ab][0-9]$') && v.matches('^[xy]$'))",
        "self.ls.filter(x, x.matches('[0-9]')) == ['a1']",
        "'abc123def'.find('[0-9]+') == '123' && self.s.find(self.lbig[0]) == 'hello'",
    ] {
        assert_eq!(run(r), Outcome::Pass, "{r}");
    }
    assert_eq!(run("self.s.matches('^x')"), Outcome::Fail { reason: Reason::Invalid, field_path: String::new(), detail: "failed rule: self.s.matches('^x')".into() });
    let r = "self.s.matches(self.lbig[1])";
    let Outcome::Error { detail } = run(r) else { panic!("{r}") };
    assert!(detail.starts_with("'[' not a valid regex:\nregex parse error:"), "{detail}");
    assert!(detail.ends_with(" evaluating rule: self.s.matches(self.lbig[1])"), "{detail}");
    let r = "dyn(self.i).matches('1')";
    assert_eq!(
        run(r),
        Outcome::Error { detail: format!("'no such overload': call arguments did not match a supported operator, function or macro signature for rule: {r}") }
    );
}

/// Pricing an evaluation (`check::price`) gives the checker's estimate.
#[test]
fn price_is_the_checked_cost() {
    let d = probe_type();
    for r in [
        "self.ls.all(x, x.matches('^a[a-z0-9]$'))",
        "self.l.all(i, v, self.ls.all(j, w, w.size() > i))",
        "self.m.exists(k, v, k.find('[0-9]') == '' || v.findAll('x', 2).size() > 0)",
        "self.lmap.transformMapEntry(i, e, {e.k: e.v}).size() >= 0",
        "'%s'.format([self.s]) == self.s && [1, 'a'.size()].size() == 2",
    ] {
        let p = env().compile(r).unwrap_or_else(|e| panic!("{r}: {e:?}"));
        let checked = check::check(p.expression(), &d, Some((&d, false)));
        assert!(checked.issues.is_empty(), "{r}");
        assert_eq!(check::price(p.expression(), &d, Some((&d, false))), checked.cost.max, "{r}");
    }
}
