//! Per-kind rules the schema cannot say (upstream's `rest.RESTCreateStrategy` and friends): how
//! names are validated, whether `metadata.generation` is tracked, what create resets, and what a
//! delete answers. Built-in kinds follow upstream's strategies; every other kind gets the custom
//! resource rules.

use serde_json::{json, Value};

use crate::apimachinery::validation::{name_is_dns1035_label, name_is_dns_label, name_is_dns_subdomain};
use crate::apimachinery::KindInfo;
use crate::storage::keys::BUILTIN_GROUPS;

/// A name validation function (`ValidateNameFunc`).
pub type NameFn = fn(&str, bool) -> Vec<String>;

/// The rules of one kind.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// A built-in kind (upstream's own types) rather than a custom resource.
    pub builtin: bool,
    /// Validates `metadata.name`.
    pub name_fn: NameFn,
    /// `metadata.generation` is set on create and bumped when anything but metadata and status changes.
    pub tracks_generation: bool,
    /// A delete answers with the deleted object (else a `Success` Status).
    pub return_deleted_object: bool,
    /// An update without `metadata.resourceVersion` is allowed (custom resources require one).
    pub allow_unconditional_update: bool,
    /// Which built-in behaviour applies beyond the generic rules.
    pub special: Special,
}

/// Built-in behaviour beyond the generic rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// None.
    None,
    /// Namespaces: `spec.finalizers: [kubernetes]`, `status.phase`, lifecycle.
    Namespace,
    /// Pods: `status.phase: Pending` on create; graceful deletion of scheduled pods.
    Pod,
}

impl Strategy {
    /// The rules for `info`.
    pub fn for_kind(info: &KindInfo) -> Strategy {
        let builtin = BUILTIN_GROUPS.contains(&info.group);
        let has_spec = info.schema.field("spec").is_some();
        let mut s = Strategy {
            builtin,
            name_fn: name_is_dns_subdomain,
            // Custom resources always track generation; built-ins with a spec do.
            tracks_generation: !builtin || has_spec,
            return_deleted_object: !builtin,
            allow_unconditional_update: builtin,
            special: Special::None,
        };
        if !builtin {
            return s;
        }
        match (info.group, info.plural) {
            ("", "namespaces") => {
                s.name_fn = name_is_dns_label;
                s.special = Special::Namespace;
                s.tracks_generation = false;
                s.return_deleted_object = true;
            }
            ("", "services") => {
                s.name_fn = name_is_dns1035_label;
                s.tracks_generation = false;
                s.return_deleted_object = true;
            }
            ("", "pods") => {
                s.special = Special::Pod;
                s.return_deleted_object = true;
            }
            ("", "serviceaccounts") => {
                s.tracks_generation = false;
                s.return_deleted_object = true;
            }
            // Upstream's strategies for these kinds leave generation alone.
            ("", "nodes" | "persistentvolumes" | "persistentvolumeclaims" | "resourcequotas" | "limitranges")
            | ("", "endpoints" | "events")
            | ("coordination.k8s.io", "leases")
            | ("events.k8s.io", "events") => s.tracks_generation = false,
            ("rbac.authorization.k8s.io", _) => {
                s.name_fn = |name, prefix| crate::apimachinery::validation::validate_path_segment_name(name, prefix);
                s.tracks_generation = false;
            }
            _ => {}
        }
        s
    }

    /// What create resets or fills in beyond the generic rules (`PrepareForCreate`).
    pub fn prepare_for_create(&self, info: &KindInfo, object: &mut Value) {
        if info.status_subresource {
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
        }
        match self.special {
            Special::Namespace => {
                let Some(map) = object.as_object_mut() else { return };
                let spec = map.entry("spec").or_insert_with(|| json!({}));
                if let Some(spec) = spec.as_object_mut() {
                    let has = spec.get("finalizers").and_then(Value::as_array).is_some_and(|f| f.iter().any(|f| f == "kubernetes"));
                    if !has {
                        let list = spec.entry("finalizers").or_insert_with(|| json!([]));
                        if let Some(list) = list.as_array_mut() {
                            list.push(json!("kubernetes"));
                        }
                    }
                }
                map.insert("status".into(), json!({"phase": "Active"}));
            }
            Special::Pod => {
                let Some(map) = object.as_object_mut() else { return };
                let qos = pod_qos_class(map.get("spec"));
                map.insert("status".into(), json!({"phase": "Pending", "qosClass": qos}));
            }
            Special::None => {}
        }
    }
}

/// `qos.GetPodQOS`: Guaranteed when every container has equal non-zero cpu and memory requests and
/// limits, BestEffort when none has any, Burstable otherwise.
fn pod_qos_class(spec: Option<&Value>) -> &'static str {
    let containers = spec
        .into_iter()
        .flat_map(|s| ["initContainers", "containers"].into_iter().filter_map(move |k| s.get(k)))
        .filter_map(Value::as_array)
        .flatten();
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let resources = c.get("resources");
        let requests = resources.and_then(|r| r.get("requests")).and_then(Value::as_object);
        let limits = resources.and_then(|r| r.get("limits")).and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos() {
        assert_eq!(pod_qos_class(Some(&json!({"containers": [{"name": "a"}]}))), "BestEffort");
        let g = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        assert_eq!(pod_qos_class(Some(&g)), "Guaranteed");
        let b = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(pod_qos_class(Some(&b)), "Burstable");
    }
}
