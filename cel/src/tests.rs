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
