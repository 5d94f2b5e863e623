//! The walker against a real kube-apiserver v1.36.2: the Widget CRD below was installed there and the
//! objects below created and updated; every expected text is what it answered (422 causes).

use serde_json::{json, Value};

use super::super::crd_tests::leak_schema;
use super::super::{validate, Schema};
use super::validate_cel;
use crate::apimachinery::field::FieldError;

/// The CRD's `openAPIV3Schema` as installed on the oracle.
const WIDGET: &str = r#"{"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('w')", "message": "name must start with w"}], "properties": {"spec": {"type": "object", "x-kubernetes-validations": [{"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must be <= maxReplicas"}, {"rule": "self.minReplicas < 100"}, {"rule": "self.mode != 'bad'", "messageExpression": "'mode ' + self.mode + ' is bad'"}, {"rule": "self.mode != 'forbidden'", "reason": "FieldValueForbidden", "fieldPath": ".mode", "message": "mode is forbidden"}, {"rule": "self.mode != 'req'", "reason": "FieldValueRequired", "fieldPath": ".mode", "message": "mode req"}, {"rule": "self.mode != 'dup'", "reason": "FieldValueDuplicate", "message": "mode dup"}, {"rule": "self.mode != 'empty'", "messageExpression": "''", "message": "fallback msg"}, {"rule": "self.mode != 'err'", "messageExpression": "self.minReplicas / 0 > 1 ? 'a' : 'b'"}, {"rule": "self.mode != 'err2'", "messageExpression": "self.minReplicas / 0 > 1 ? 'a' : 'b'"}], "properties": {"minReplicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}, "mode": {"type": "string", "maxLength": 20}, "immutable": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "Value is immutable"}]}, "immutable2": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}, "opt": {"type": "string", "x-kubernetes-validations": [{"rule": "!oldSelf.hasValue() || self.size() >= oldSelf.value().size()", "optionalOldSelf": true, "message": "opt may not shrink"}]}, "ports": {"type": "array", "maxItems": 100, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "port": {"type": "integer", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "port is immutable"}]}}}}, "tags": {"type": "object", "maxProperties": 10, "additionalProperties": {"type": "string", "maxLength": 10, "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "tag immutable"}]}}, "num": {"type": "number", "x-kubernetes-validations": [{"rule": "self > 1.5"}]}, "ios": {"x-kubernetes-int-or-string": true, "x-kubernetes-validations": [{"rule": "self > 1"}]}, "nested": {"type": "object", "properties": {"flag": {"type": "boolean"}}, "x-kubernetes-validations": [{"rule": "self.flag"}]}, "big": {"type": "array", "maxItems": 200, "items": {"type": "string", "maxLength": 1000, "x-kubernetes-validations": [{"rule": "self.matches('^[a-z]+$') && self.size() < 1000 && self.contains('xyz') == false && self.lowerAscii() == self"}]}}, "divz": {"type": "integer", "x-kubernetes-validations": [{"rule": "100 / self > 1"}]}}}}}
"#;

fn widget() -> &'static Schema {
    static ONE: std::sync::OnceLock<&'static Schema> = std::sync::OnceLock::new();
    ONE.get_or_init(|| leak_schema(&serde_json::from_str(WIDGET).expect("schema json")))
}

/// `(field, reason, message)` of each cause, as the Status lists them.
fn causes(errors: &[FieldError]) -> Vec<(String, String, String)> {
    errors.iter().map(|e| (e.field.clone(), e.reason().to_string(), e.body())).collect()
}

fn check(obj: Value, old: Option<Value>) -> Vec<(String, String, String)> {
    let prior = validate(widget(), &obj, "");
    let mut errs = prior.clone();
    errs.extend(validate_cel(widget(), &obj, old.as_ref(), &prior));
    causes(&errs)
}

fn c(field: &str, reason: &str, message: &str) -> (String, String, String) {
    (field.to_string(), reason.to_string(), message.to_string())
}

fn sorted(mut v: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    v.sort();
    v
}

#[test]
fn cross_field_message_expression_and_eval_errors() {
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x1"},
        "spec": {"minReplicas": 5, "maxReplicas": 3, "mode": "bad", "num": 1, "ios": "a", "nested": {"flag": false}, "divz": 0}});
    // Upstream walks properties in Go map order; compare as sets.
    assert_eq!(
        sorted(check(obj, None)),
        sorted(vec![
            c("<nil>", "FieldValueInvalid", "Invalid value: name must start with w"),
            c("spec", "FieldValueInvalid", "Invalid value: minReplicas must be <= maxReplicas"),
            c("spec", "FieldValueInvalid", "Invalid value: mode bad is bad"),
            c("spec.nested", "FieldValueInvalid", "Invalid value: failed rule: self.flag"),
            c("spec.divz", "FieldValueInvalid", "Invalid value: \"integer\": division by zero evaluating rule: 100 / self > 1"),
            c("spec.num", "FieldValueInvalid", "Invalid value: 1: failed rule: self > 1.5"),
            c("spec.ios", "FieldValueInvalid", "Invalid value: \"\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self > 1"),
        ])
    );
}

#[test]
fn reasons_field_paths_and_message_fallbacks() {
    let cases = [
        ("forbidden", c("spec.mode", "FieldValueForbidden", "Forbidden: mode is forbidden")),
        ("req", c("spec.mode", "FieldValueRequired", "Required value: mode req")),
        ("dup", c("spec", "FieldValueDuplicate", "Duplicate value")),
        ("empty", c("spec", "FieldValueInvalid", "Invalid value: fallback msg")),
        ("err", c("spec", "FieldValueInvalid", "Invalid value: failed rule: self.mode != 'err'")),
        ("err2", c("spec", "FieldValueInvalid", "Invalid value: failed rule: self.mode != 'err2'")),
    ];
    for (mode, want) in cases {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
            "spec": {"minReplicas": 1, "maxReplicas": 3, "mode": mode}});
        assert_eq!(check(obj, None), vec![want], "{mode}");
    }
}

#[test]
fn missing_fields_are_evaluation_errors() {
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w3"},
        "spec": {"minReplicas": 1, "maxReplicas": 3, "opt": "x", "immutable": "z", "big": ["A"]}});
    let got = check(obj, None);
    let no_key = |r: &str| c("spec", "FieldValueInvalid", &format!("Invalid value: \"object\": no such key: mode evaluating rule: {r}"));
    assert_eq!(
        got,
        vec![
            no_key("self.mode != 'bad'"),
            no_key("mode is forbidden"),
            no_key("mode req"),
            no_key("mode dup"),
            no_key("fallback msg"),
            no_key("self.mode != 'err'"),
            no_key("self.mode != 'err2'"),
            c("spec.big[0]", "FieldValueInvalid", "Invalid value: \"A\": failed rule: self.matches('^[a-z]+$') && self.size() < 1000 && self.contains('xyz') == false && self.lowerAscii() == self"),
        ]
    );
}

#[test]
fn transition_rules_correlate_fields_map_keys_and_list_map_items() {
    let old = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"},
        "spec": {"minReplicas": 1, "maxReplicas": 3, "mode": "ok", "immutable": "a", "immutable2": "a", "opt": "abc",
            "ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}], "tags": {"t": "v"}, "big": ["abc"]}});
    let new = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"},
        "spec": {"minReplicas": 1, "maxReplicas": 3, "mode": "ok", "immutable": "b", "immutable2": "b", "opt": "ab",
            "ports": [{"name": "b", "port": 3}, {"name": "a", "port": 1}, {"name": "c", "port": 9}], "tags": {"t": "v2", "u": "x"},
            "big": ["abc", "Q"]}});
    assert_eq!(check(old.clone(), None), vec![], "the old object is valid on create");
    assert_eq!(
        sorted(check(new, Some(old))),
        sorted(vec![
            c("spec.immutable", "FieldValueInvalid", "Invalid value: \"b\": Value is immutable"),
            c("spec.ports[0].port", "FieldValueInvalid", "Invalid value: 3: port is immutable"),
            c("spec.tags[t]", "FieldValueInvalid", "Invalid value: \"v2\": tag immutable"),
            c("spec.opt", "FieldValueInvalid", "Invalid value: \"ab\": opt may not shrink"),
            c("spec.immutable2", "FieldValueInvalid", "Invalid value: \"b\": failed rule: self == oldSelf"),
            c("spec.big[1]", "FieldValueInvalid", "Invalid value: \"Q\": failed rule: self.matches('^[a-z]+$') && self.size() < 1000 && self.contains('xyz') == false && self.lowerAscii() == self"),
        ])
    );
}

#[test]
fn ratcheting_keeps_unchanged_invalid_values() {
    // A value that fails a rule without oldSelf may stay as it is on update (CRDValidationRatcheting).
    let old = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w4"},
        "spec": {"minReplicas": 1, "maxReplicas": 3, "mode": "ok", "num": 1}});
    let mut new = old.clone();
    new["spec"]["maxReplicas"] = json!(4);
    assert_eq!(check(new, Some(old)), vec![]);
}

#[test]
fn blocking_schema_errors_skip_rules() {
    let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x9"},
        "spec": {"minReplicas": "a", "maxReplicas": 3}});
    assert_eq!(
        check(obj, None),
        vec![
            c("spec.minReplicas", "FieldValueTypeInvalid", "Invalid value: \"string\": spec.minReplicas in body must be of type integer: \"string\""),
            c("<nil>", "FieldValueInvalid", "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"),
        ]
    );
}

#[test]
fn cost_budget_runs_out() {
    // 1000 items, each with a rule quadratic in its 100 strings (~50k per evaluation): the object's
    // budget (10M) runs out part way, and no rule runs after that.
    let schema = leak_schema(&json!({"type": "object", "properties": {"l": {"type": "array", "maxItems": 1000,
        "items": {"type": "object", "properties": {"s": {"type": "array", "maxItems": 100, "items": {"type": "string", "maxLength": 10}}},
            "x-kubernetes-validations": [{"rule": "self.s.all(x, self.s.all(y, x.size() + y.size() >= 0))"}]}}}}));
    let item = json!({"s": vec!["abc"; 100]});
    let obj = json!({"l": vec![item; 1000]});
    let errs = causes(&validate_cel(schema, &obj, None, &[]));
    assert_eq!(errs.len(), 1, "{errs:?}");
    let (field, reason, msg) = errs.last().cloned().expect("one error");
    assert!(field.starts_with("l[") && field != "l[0]", "{field}");
    assert_eq!(reason, "FieldValueInvalid");
    assert_eq!(msg, "Invalid value: \"object\": validation failed due to running out of cost budget, no further validation rules will be run");
}
