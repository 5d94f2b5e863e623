//! Compile tests of include_schemas! (trybuild, one run so builds don't race; here in kapi-macros, whose
//! few dev-dependencies keep trybuild's separate build small): `cargo xtask new-kind example.com/v1 Widget`
//! → `cargo xtask generate` → build gives a typed Widget; fixture schemas compile into typed, validated
//! kinds; bad schemas fail the build with every error located.

use std::path::Path;
use std::process::Command;

fn xtask(args: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(cargo)
        .current_dir(&root)
        .args(["run", "-q", "-p", "xtask", "--"])
        .args(args)
        .output()
        .expect("runs cargo");
    assert!(
        out.status.success(),
        "cargo xtask {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn compile_tests_new_kind_and_fixtures() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let schemas = tmp.path().join("schemas");
    let generated = tmp.path().join("generated");
    let (s, g) = (schemas.to_string_lossy().to_string(), generated.to_string_lossy().to_string());
    xtask(&["new-kind", "example.com/v1", "Widget", "--schemas-dir", &s]);
    assert!(schemas.join("example.com/widgets.yaml").is_file());
    xtask(&["generate", "--schemas", &s, "--out", &g]);
    assert!(generated.join("schema-format.json").is_file());
    // A second generate with --check finds nothing stale.
    xtask(&["generate", "--check", "--schemas", &s, "--out", &g]);

    let case = tmp.path().join("widget_case.rs");
    std::fs::write(
        &case,
        format!(
            r#"kapi_macros::include_schemas!("{s}");
use kapi_runtime::apimachinery::schema::{{apply_defaults, validate}};
use kapi_runtime::apimachinery::Resource;
fn main() {{
    let mut v = kapi_runtime::__private::serde_json::json!({{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {{"name": "w"}}, "spec": {{"message": "hi"}}}});
    let info = <example_com::v1::Widget as Resource>::INFO;
    apply_defaults(info.schema, &mut v);
    assert!(validate(info.schema, &v, "").is_empty());
    let w: example_com::v1::Widget = kapi_runtime::__private::serde_json::from_value(v).expect("typed");
    assert_eq!(w.spec.as_ref().and_then(|s| s.replicas), Some(1), "default applied");
    assert_eq!(info.plural, "widgets");
    let bad = kapi_runtime::__private::serde_json::json!({{"spec": {{"replicas": -1}}}});
    let errs = validate(info.schema, &bad, "");
    assert_eq!(errs.len(), 1, "{{errs:?}}");
}}
"#
        ),
    )
    .expect("write case");
    let t = trybuild::TestCases::new();
    t.pass(&case);
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
