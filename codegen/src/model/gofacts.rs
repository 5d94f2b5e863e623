//! Go facts about upstream's built-in types that their schemas cannot say, from
//! `codegen/omitempty.json` (read from the struct tags in a kubectl binary's reflection data).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

/// Definition name → JSON fields whose zero value means unset: Go value fields (not pointers)
/// tagged `omitempty` (scalars) or `omitzero`, flattened through inline structs. Go writes them to
/// protobuf even when zero, and upstream's JSON leaves them out.
fn omit_zero_table() -> &'static BTreeMap<String, BTreeSet<String>> {
    static TABLE: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let doc: Value = serde_json::from_str(include_str!("../../omitempty.json")).unwrap_or(Value::Null);
        let mut out = BTreeMap::new();
        for (def, fields) in doc.get("types").and_then(Value::as_object).into_iter().flatten() {
            let set = fields.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect();
            out.insert(def.clone(), set);
        }
        out
    })
}

/// Whether property `json` of definition `definition` is a Go value field whose zero means unset.
pub fn omits_zero(definition: &str, json: &str) -> bool {
    omit_zero_table().get(definition).is_some_and(|s| s.contains(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads() {
        assert!(omits_zero("io.k8s.api.core.v1.ContainerPort", "protocol"));
        assert!(omits_zero("io.k8s.api.core.v1.Probe", "timeoutSeconds"));
        // Go pointers keep their zeros.
        assert!(!omits_zero("io.k8s.api.apps.v1.DeploymentSpec", "replicas"));
        assert!(!omits_zero("io.k8s.api.core.v1.PodSecurityContext", "runAsUser"));
        assert!(!omits_zero("com.example.v1.Widget", "spec"));
    }
}
