// A root without apiVersion/kind/metadata (Istio's CRDs) compiles into a kind with ObjectMeta, and
// identical inline objects are one type under each of their names.
kapi_macros::include_schemas!("${KAPI_WORKSPACE_DIR}/codegen/tests/fixtures/bare");

use kapi_runtime::apimachinery::Resource;

fn main() {
    let g: example_com::v1::Gadget = kapi_runtime::__private::serde_json::from_value(kapi_runtime::__private::serde_json::json!({
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": "g1", "namespace": "default"},
        "spec": {"left": {"name": "l"}, "right": {"name": "r", "port": 80}}
    }))
    .expect("decodes");
    assert_eq!(g.metadata().name, "g1");
    assert_eq!(g.api_version.as_deref(), Some("example.com/v1"));
    let right: example_com::v1::GadgetSpecRight = g.spec.as_ref().and_then(|s| s.right.clone()).expect("right");
    let as_left: example_com::v1::GadgetSpecLeft = right;
    assert_eq!(as_left.port, Some(80));
    let old: example_com::v1beta1::GadgetSpecLeft = as_left;
    assert_eq!(old.name, "r");
    assert!(std::ptr::eq(&example_com::v1::GADGET_SPEC_RIGHT_SCHEMA, &example_com::v1::GADGET_SPEC_LEFT_SCHEMA));
    let info = <example_com::v1::Gadget as Resource>::INFO;
    assert!(info.status_subresource);
    assert_eq!(KINDS.len(), 2);
}
