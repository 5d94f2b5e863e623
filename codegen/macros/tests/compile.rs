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
    let (added_field, stale) = field_addition_cases(tmp.path(), &schemas, &generated);
    let t = trybuild::TestCases::new();
    t.pass(&case);
    t.pass(&added_field);
    t.compile_fail(&stale);
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}

/// A field added to a kind with a protobuf form, without `x-kapi-proto`: `generate` numbers it in the
/// `.proto` and the build takes that number, so objects written before the edit still decode and the
/// kind keeps its protobuf form (once, a field without a number turned the kind JSON-only and old
/// objects unreadable). And a build whose generated files were not regenerated fails, naming them.
fn field_addition_cases(tmp: &Path, schemas: &Path, generated: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    // The workspace's target dir, so the paths in the expected compiler output read `$WORKSPACE/...`.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root");
    let work = root.join("target/tmp/kfa");
    let _ = std::fs::remove_dir_all(&work);
    let (old, new) = (work.join("old"), work.join("new"));
    let (old_gen, new_gen) = (work.join("old-gen"), work.join("new-gen"));
    copy_dir(schemas, &old);
    copy_dir(generated, &old_gen);
    copy_dir(schemas, &new);
    copy_dir(generated, &new_gen);
    let file = new.join("example.com/widgets.yaml");
    let text = std::fs::read_to_string(&file).expect("scaffold");
    let anchor = "                maxLength: 256\n";
    assert!(text.contains(anchor), "the scaffold changed: {text}");
    let text = text.replacen("              message:\n", "              note:\n                type: string\n              message:\n", 1);
    std::fs::write(&file, text).expect("edit schema");
    let s = |p: &Path| p.to_string_lossy().to_string();
    xtask(&["generate", "--schemas", &s(&new), "--out", &s(&new_gen)]);
    let proto = std::fs::read_to_string(new_gen.join("proto/com/example/v1/generated.proto")).expect("proto");
    assert!(proto.contains("optional string note = 3;"), "the new field gets the next number:\n{proto}");
    assert!(proto.contains("optional string message = 2;") && proto.contains("optional int32 replicas = 1;"), "{proto}");

    let _ = tmp;
    let added = work.join("added_field.rs");
    std::fs::write(
        &added,
        format!(
            r#"mod old {{ kapi_macros::include_schemas!("{old}", generated = "{old_gen}"); }}
mod new {{ kapi_macros::include_schemas!("{new}", generated = "{new_gen}"); }}
use kapi_runtime::__private::serde_json::json;
use kapi_runtime::apimachinery::proto::{{decode_object, encode_object}};
use kapi_runtime::apimachinery::Resource;
fn main() {{
    let (old, new) = (<old::example_com::v1::Widget as Resource>::INFO, <new::example_com::v1::Widget as Resource>::INFO);
    let before = json!({{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {{"name": "w", "namespace": "default"}}, "spec": {{"replicas": 2, "message": "hi"}}}});
    let stored = encode_object(old.schema, &before).expect("the old kind has a protobuf form");
    assert_eq!(decode_object(new.schema, &stored).expect("an old object decodes after the edit"), before);
    let after = json!({{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {{"name": "w", "namespace": "default"}}, "spec": {{"replicas": 2, "message": "hi", "note": "new"}}}});
    let stored = encode_object(new.schema, &after).expect("the edited kind keeps its protobuf form");
    assert_eq!(decode_object(new.schema, &stored).expect("decodes"), after);
    assert_eq!(decode_object(old.schema, &stored).expect("an old binary skips the new field"), before);
}}
"#,
            old = s(&old),
            old_gen = s(&old_gen),
            new = s(&new),
            new_gen = s(&new_gen)
        ),
    )
    .expect("write case");

    // The edited schemas against the generated files of before the edit: `generate` was skipped.
    let stale = work.join("stale_generated.rs");
    let literal = r#""${KAPI_WORKSPACE_DIR}/target/tmp/kfa/new""#;
    let call = format!("kapi_macros::include_schemas!(\n    {literal},\n    generated = \"${{KAPI_WORKSPACE_DIR}}/target/tmp/kfa/old-gen\"\n);\n");
    std::fs::write(&stale, format!("{call}fn main() {{}}\n")).expect("write case");
    let w = "$WORKSPACE/target/tmp/kfa";
    let stderr = format!(
        "error: the files under {w}/old-gen/ are out of date with the schemas under {w}/new/:
         stale: {w}/old-gen/openapi/v2.json
         stale: {w}/old-gen/openapi/v3/apis__example.com__v1.json
         stale: {w}/old-gen/proto/com/example/v1/generated.proto
         help: run `cargo xtask generate` (and commit the result)
 --> {path}:2:5
  |
2 |     {literal},
  |     {carets}
",
        path = stale.display(),
        carets = "^".repeat(literal.len()),
    );
    std::fs::write(stale.with_extension("stderr"), stderr).expect("write expected output");
    (added, stale)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}
