// A fixture schema compiles into a typed, validated kind.
kapi_macros::include_schemas!("${KAPI_WORKSPACE_DIR}/codegen/tests/fixtures/rust");

use kapi_runtime::apimachinery::Resource;

fn main() {
    let w: example_com::v1::Widget = kapi_runtime::__private::serde_json::from_value(kapi_runtime::__private::serde_json::json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"color": "red", "replicas": 2, "size": "10%", "labels": {"a": "b"}, "parts": [{"name": "x", "weight": 1.5}]}
    }))
    .expect("decodes");
    assert_eq!(w.metadata().name, "w1");
    let spec = w.spec.as_ref().expect("spec");
    assert_eq!(spec.color, "red");
    assert_eq!(spec.replicas, Some(2i32));
    assert_eq!(spec.parts.as_ref().map(|p| p[0].name.as_str()), Some("x"));
    assert_eq!(<example_com::v1::Widget as Resource>::INFO.plural, "widgets");
    assert_eq!(KINDS.len(), 1);
}
