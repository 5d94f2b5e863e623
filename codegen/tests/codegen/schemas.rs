//! The checked-in schemas (built-in kinds and the real-world CRDs) load, validate and lower cleanly.

use std::path::Path;

#[test]
fn workspace_schemas_lower_without_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let model = match kapi_codegen::load_dir(&dir) {
        Ok(m) => m,
        Err(d) => panic!("schemas under {} have errors:\n{d}", dir.display()),
    };
    let kinds: Vec<String> = model.kinds.iter().map(|k| format!("{}/{}", k.api_version(), k.kind)).collect();
    for want in ["v1/Pod", "apps/v1/Deployment", "rbac.authorization.k8s.io/v1/ClusterRole", "events.k8s.io/v1/Event"] {
        assert!(kinds.iter().any(|k| k == want), "{want} missing from {kinds:?}");
    }
    let pod_spec = model.named("io.k8s.api.core.v1.PodSpec").expect("PodSpec is a named type");
    assert!(pod_spec.object().is_some_and(|o| o.properties.contains_key("containers")));
}
