//! Snapshot of the Rust the `include_schemas!` macro expands to, and of schema diagnostics.

use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn rust_snapshot() {
    let model = kapi_codegen::load_dir(&fixture("rust")).unwrap_or_else(|d| panic!("{d}"));
    let mut model = model;
    model.files.clear(); // include_str! paths are machine-specific
    let code = kapi_codegen::emit::rust::pretty(kapi_codegen::emit::rust::emit(&model));
    expectorate::assert_contents("tests/snapshots/rust/widgets.rs", &code);
}

/// What real CRDs have and upstream accepts (`fixtures/bare`): a root without apiVersion, kind and
/// metadata still gets them (every object has ObjectMeta); a status subresource without a `status`
/// property; identical inline objects are one struct and one schema static, re-exported under every
/// name (texts aside: descriptions are only docs); a webhook listing only ConversionReview v1beta1.
#[test]
fn bare_crd_snapshot() {
    let mut model = kapi_codegen::load_dir(&fixture("bare")).unwrap_or_else(|d| panic!("{d}"));
    model.files.clear();
    let root = model.named("com.example.v1.Gadget").and_then(|t| t.object()).expect("root");
    let props: Vec<&str> = root.properties.keys().map(String::as_str).collect();
    assert_eq!(props, ["apiVersion", "kind", "metadata", "spec"]);
    assert_eq!(root.properties["metadata"].ty, kapi_codegen::model::Ty::Named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta".into()));
    assert!(model.kinds.iter().any(|k| k.version == "v1" && k.status));
    let code = kapi_codegen::emit::rust::pretty(kapi_codegen::emit::rust::emit(&model));
    assert_eq!(code.matches("pub struct GadgetSpecLeft ").count(), 1, "one struct for left, right and v1beta1's left");
    assert!(!code.contains("pub struct GadgetSpecRight ") && code.contains("GadgetSpecLeft as GadgetSpecRight"), "{code}");
    assert!(code.contains("pub struct GadgetSpecOther "), "maxLength makes other a shape of its own");
    expectorate::assert_contents("tests/snapshots/rust/bare.rs", &code);
}

#[test]
fn three_errors_reported_with_positions() {
    let dir = fixture("errors");
    let diags = match kapi_codegen::load_dir(&dir) {
        Ok(_) => panic!("the fixture has errors"),
        Err(d) => d,
    };
    let text = diags.to_string().replace(&format!("{}/", dir.display()), "");
    assert_eq!(diags.0.len(), 3, "{text}");
    expectorate::assert_contents("tests/snapshots/errors/three.txt", &format!("{text}\n"));
}
