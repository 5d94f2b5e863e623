//! Validation of built-in kinds that their OpenAPI schemas cannot express (upstream's Go
//! `ValidateDeployment`, `ValidatePodSpec`, `ValidateConfigMap`, ...): the common rules, with
//! upstream's field paths and messages. Custom resources are validated by their schema alone.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::apimachinery::validation::is_dns1123_label;
use crate::apimachinery::{FieldError, KindInfo, Path};

/// Field errors of `object` beyond its schema, for the built-in kinds that have such rules.
pub fn validate(info: &KindInfo, object: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = object.get("spec");
    let spec_path = Path::new("spec");
    match (info.group, info.plural) {
        ("apps", "deployments" | "replicasets" | "statefulsets" | "daemonsets") => {
            if info.plural != "daemonsets" {
                non_negative(spec, "replicas", &spec_path, &mut errs);
            }
            let selector = spec.and_then(|s| s.get("selector"));
            let match_labels = selector.and_then(|s| s.get("matchLabels")).and_then(Value::as_object);
            let has_exprs = selector.and_then(|s| s.get("matchExpressions")).and_then(Value::as_array).is_some_and(|a| !a.is_empty());
            if selector.is_none() {
                errs.push(FieldError::required(spec_path.child("selector"), ""));
            } else if match_labels.is_none_or(|m| m.is_empty()) && !has_exprs {
                errs.push(FieldError::invalid(
                    spec_path.child("selector"),
                    selector.cloned().unwrap_or(Value::Null),
                    "empty selector is invalid for deployment",
                ));
            }
            template(spec, match_labels.map(to_map), &spec_path, &mut errs);
        }
        ("", "replicationcontrollers") => {
            non_negative(spec, "replicas", &spec_path, &mut errs);
            let selector = spec.and_then(|s| s.get("selector")).and_then(Value::as_object).map(to_map);
            template(spec, selector, &spec_path, &mut errs);
        }
        ("", "pods") => pod_spec(spec, &spec_path, &mut errs),
        ("", "configmaps") => {
            for field in ["data", "binaryData"] {
                config_keys(object.get(field), &Path::new(field), &mut errs);
            }
        }
        ("", "secrets") => {
            for field in ["data", "stringData"] {
                config_keys(object.get(field), &Path::new(field), &mut errs);
            }
        }
        ("", "services") => {
            let ports = spec.and_then(|s| s.get("ports")).and_then(Value::as_array);
            for (i, p) in ports.into_iter().flatten().enumerate() {
                port_range(p.get("port"), &spec_path.child("ports").index(i).child("port"), &mut errs);
            }
        }
        _ => {}
    }
    errs
}

fn to_map(m: &serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
}

fn non_negative(spec: Option<&Value>, field: &str, path: &Path, errs: &mut Vec<FieldError>) {
    if let Some(n) = spec.and_then(|s| s.get(field)).and_then(Value::as_i64).filter(|n| *n < 0) {
        errs.push(FieldError::invalid(path.child(field), n, "must be greater than or equal to 0"));
    }
}

/// A pod template: labels must satisfy the selector, and the pod spec must be valid.
fn template(spec: Option<&Value>, selector: Option<BTreeMap<String, String>>, path: &Path, errs: &mut Vec<FieldError>) {
    let tpath = path.child("template");
    let Some(t) = spec.and_then(|s| s.get("template")) else {
        errs.push(FieldError::required(tpath, ""));
        return;
    };
    if let Some(selector) = selector.filter(|s| !s.is_empty()) {
        let labels = t.pointer("/metadata/labels").and_then(Value::as_object).map(to_map).unwrap_or_default();
        if !selector.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            errs.push(FieldError::invalid(
                tpath.child("metadata").child("labels"),
                serde_json::to_value(&labels).unwrap_or_default(),
                "`selector` does not match template `labels`",
            ));
        }
    }
    pod_spec(t.get("spec"), &tpath.child("spec"), errs);
}

fn pod_spec(spec: Option<&Value>, path: &Path, errs: &mut Vec<FieldError>) {
    let containers = spec.and_then(|s| s.get("containers")).and_then(Value::as_array);
    match containers {
        None => errs.push(FieldError::required(path.child("containers"), "")),
        Some(list) if list.is_empty() => errs.push(FieldError::required(path.child("containers"), "")),
        Some(_) => {}
    }
    let mut names = HashSet::new();
    for field in ["initContainers", "containers"] {
        let list = spec.and_then(|s| s.get(field)).and_then(Value::as_array);
        for (i, c) in list.into_iter().flatten().enumerate() {
            let cpath = path.child(field).index(i);
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                errs.push(FieldError::required(cpath.child("name"), ""));
            } else {
                for msg in is_dns1123_label(name) {
                    errs.push(FieldError::invalid(cpath.child("name"), name, msg));
                }
                if !names.insert(name.to_string()) {
                    errs.push(FieldError::duplicate(cpath.child("name"), name));
                }
            }
            if c.get("image").and_then(Value::as_str).is_none_or(|s| s.trim().is_empty()) {
                errs.push(FieldError::required(cpath.child("image"), ""));
            }
            let ports = c.get("ports").and_then(Value::as_array);
            for (j, p) in ports.into_iter().flatten().enumerate() {
                port_range(p.get("containerPort"), &cpath.child("ports").index(j).child("containerPort"), errs);
            }
        }
    }
}

fn port_range(port: Option<&Value>, path: &Path, errs: &mut Vec<FieldError>) {
    if let Some(p) = port.and_then(Value::as_i64).filter(|p| !(1..=65535).contains(p)) {
        errs.push(FieldError::invalid(path, p, "must be between 1 and 65535, inclusive"));
    }
}

/// `IsConfigMapKey`.
fn config_keys(data: Option<&Value>, path: &Path, errs: &mut Vec<FieldError>) {
    let Some(map) = data.and_then(Value::as_object) else { return };
    for key in map.keys() {
        let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            errs.push(FieldError::invalid(
                path.key(key),
                key.as_str(),
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
            ));
        } else if key == "." || key == ".." {
            errs.push(FieldError::invalid(path.key(key), key.as_str(), format!("must not be '{key}'")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(group: &'static str, plural: &'static str) -> KindInfo {
        KindInfo { group, kind: "X", list_kind: "XList", plural, singular: "x", definition: "x", ..KindInfo::BLANK }
    }

    #[test]
    fn deployments() {
        let ok = json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
        assert!(validate(&info("apps", "deployments"), &ok).is_empty());
        let bad = json!({"spec": {"replicas": -1, "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "b"}}, "spec": {"containers": [{"name": "C"}, {"name": "C", "image": "i"}]}}}});
        let msgs: Vec<String> = validate(&info("apps", "deployments"), &bad).iter().map(|e| e.to_string()).collect();
        assert!(msgs.contains(&"spec.replicas: Invalid value: -1: must be greater than or equal to 0".to_string()), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.starts_with("spec.template.metadata.labels: Invalid value")), "{msgs:?}");
        assert!(msgs.contains(&"spec.template.spec.containers[0].image: Required value".to_string()), "{msgs:?}");
        assert!(msgs.contains(&"spec.template.spec.containers[1].name: Duplicate value: \"C\"".to_string()), "{msgs:?}");
    }

    #[test]
    fn config_map_keys() {
        let bad = json!({"data": {"ok-key": "", "bad key": ""}});
        let errs = validate(&info("", "configmaps"), &bad);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "data[bad key]");
    }
}
