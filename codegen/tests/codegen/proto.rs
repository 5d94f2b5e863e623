//! The protobuf emitter: upstream's numbers and types for the built-in kinds, stable numbers for
//! fields without `x-kapi-proto`, and a snapshot of a small fixture.

use std::collections::BTreeMap;
use std::path::Path;

use kapi_codegen::emit::proto::{self, ParsedField, ParsedFile};
use kapi_codegen::emit::GeneratedFile;
use kapi_codegen::model::{Model, Schema, Ty};
use serde_json::Value;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &Path) -> Model {
    kapi_codegen::load_dir(dir).unwrap_or_else(|d| panic!("{d}"))
}

fn fixture_model() -> Model {
    load(&manifest().join("tests/fixtures/proto"))
}

fn none(_: &Path) -> Option<String> {
    None
}

fn file<'a>(files: &'a [GeneratedFile], path: &str) -> &'a GeneratedFile {
    files.iter().find(|f| f.path == Path::new(path)).unwrap_or_else(|| panic!("{path} not emitted; got {:?}", files.iter().map(|f| &f.path).collect::<Vec<_>>()))
}

fn numbers(f: &ParsedFile, message: &str) -> BTreeMap<String, u32> {
    f.messages.get(message).unwrap_or_else(|| panic!("no message {message}")).fields.iter().map(|f| (f.name.clone(), f.number)).collect()
}

const SCALARS: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];

/// A type as written in an emitted file → fully qualified without the leading dot (as fields.json has it).
fn qualify(t: &str, package: &str) -> String {
    let t = t.trim();
    if let Some(rest) = t.strip_prefix('.') {
        rest.to_string()
    } else if SCALARS.contains(&t) || t.contains('.') {
        t.to_string()
    } else {
        format!("{package}.{t}")
    }
}

/// (label, type, map_key, map_value) of an emitted field, in fields.json's terms.
fn facts_of(f: &ParsedField, package: &str) -> (String, String, String, String) {
    match f.ty.strip_prefix("map<").and_then(|r| r.strip_suffix('>')).and_then(|r| r.split_once(',')) {
        Some((k, v)) => ("repeated".into(), "map".into(), k.trim().into(), qualify(v, package)),
        None => (f.label.clone(), qualify(&f.ty, package), String::new(), String::new()),
    }
}

fn upstream_facts(u: &Value) -> (String, String, String, String) {
    let s = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    (s("label"), s("type"), s("map_key"), s("map_value"))
}

/// Every field of every message emitted into a k8s.io package has upstream's number, label and type.
#[test]
fn builtin_numbers_match_upstream() {
    let model = load(&manifest().join("../schemas"));
    let (files, diags) = proto::emit_with_diagnostics(&model, &none);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(manifest().join("../tests/reference/proto/fields.json")).expect("tests/reference/proto/fields.json"))
        .expect("fields.json parses");
    let packages = &reference["packages"];
    let (mut messages, mut fields, mut matching, mut missing_upstream) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    let mut absent = Vec::new();
    for f in &files {
        let parsed = proto::parse(&f.contents);
        if !parsed.package.starts_with("k8s.io.") {
            continue;
        }
        for (name, m) in &parsed.messages {
            messages += 1;
            let Some(up) = packages.get(&parsed.package).and_then(|p| p.get(name)) else {
                mismatches.push(format!("{}.{name}: message is not upstream", parsed.package));
                fields += m.fields.len();
                continue;
            };
            let up_fields = up["fields"].as_array().cloned().unwrap_or_default();
            for field in &m.fields {
                fields += 1;
                let Some(u) = up_fields.iter().find(|u| u["number"].as_u64() == Some(u64::from(field.number))) else {
                    mismatches.push(format!("{}.{name}.{} = {}: no upstream field with that number", parsed.package, field.name, field.number));
                    continue;
                };
                let ours = facts_of(field, &parsed.package);
                let theirs = upstream_facts(u);
                let up_name = u["name"].as_str().unwrap_or("");
                if ours == theirs && up_name == field.name {
                    matching += 1;
                } else {
                    mismatches.push(format!("{}.{name}.{} = {}: ours {ours:?}, upstream {up_name} {theirs:?}", parsed.package, field.name, field.number));
                }
            }
            for u in &up_fields {
                let n = u["number"].as_u64().unwrap_or(0);
                if !m.fields.iter().any(|f| u64::from(f.number) == n) {
                    missing_upstream += 1;
                    absent.push(format!("{}.{name}: upstream field {} = {n} not emitted", parsed.package, u["name"].as_str().unwrap_or("?")));
                }
            }
        }
    }
    let total_messages: usize = files.iter().map(|f| proto::parse(&f.contents).messages.len()).sum();
    let total_fields: usize = files.iter().map(|f| proto::parse(&f.contents).messages.values().map(|m| m.fields.len()).sum::<usize>()).sum();
    println!(
        "{} files, {total_messages} messages, {total_fields} fields; k8s.io packages: {messages} messages, {fields} fields, {matching} match upstream ({:.1}%), {missing_upstream} upstream fields not emitted",
        files.len(),
        100.0 * matching as f64 / fields.max(1) as f64
    );
    for d in &diags {
        println!("diagnostic: {d}");
    }
    for a in &absent {
        println!("absent: {a}");
    }
    for m in &mismatches {
        println!("MISMATCH: {m}");
    }
    assert!(mismatches.is_empty(), "{} of {fields} fields differ from upstream (see MISMATCH lines)", mismatches.len());
    assert!(diags.is_empty(), "emitter diagnostics: {diags:#?}");
    assert!(absent.is_empty(), "{} upstream fields are not emitted (see absent: lines)", absent.len());
}

/// Adding a field never renumbers an old one; the new one gets max + 1; a removed field's number is reserved.
#[test]
fn numbers_are_stable_across_schema_changes() {
    let mut model = fixture_model();
    let first = proto::emit(&model, &none);
    let path = "proto/com/example/v1/generated.proto";
    let before = proto::parse(&file(&first, path).contents);
    let spec_before = numbers(&before, "WidgetSpec");
    // Explicit numbers are kept; unnumbered fields follow them.
    assert_eq!(spec_before["handler"], 1);
    assert_eq!(spec_before["color"], 7);

    // Add a field whose name sorts first: a naive renumbering would shift every other field.
    let spec = model.types.get_mut("com.example.v1.WidgetSpec").expect("WidgetSpec");
    let Ty::Object(obj) = &mut spec.schema.ty else { panic!("WidgetSpec is an object") };
    obj.properties.insert("aaaNew".into(), Schema { ty: Ty::String, ..Schema::default() });
    let removed = "bigNumber";
    obj.properties.remove(removed);
    let prev_text = file(&first, path).contents.clone();
    let existing = move |p: &Path| (p == Path::new(path)).then(|| prev_text.clone());
    let second = proto::emit(&model, &existing);
    let after = proto::parse(&file(&second, path).contents);
    let spec_after = numbers(&after, "WidgetSpec");
    let max_before = spec_before.values().copied().max().unwrap_or(0);
    for (name, n) in &spec_before {
        if name != removed {
            assert_eq!(spec_after.get(name), Some(n), "{name} was renumbered");
        }
    }
    assert_eq!(spec_after["aaaNew"], max_before + 1, "the new field gets max + 1");
    assert!(after.messages["WidgetSpec"].reserved.contains(&spec_before[removed]), "the removed field's number is reserved");

    // Emitting again from the second output changes nothing.
    let second_text = file(&second, path).contents.clone();
    let existing2 = move |p: &Path| (p == Path::new(path)).then(|| second_text.clone());
    let third = proto::emit(&model, &existing2);
    assert_eq!(file(&third, path).contents, file(&second, path).contents);
}

#[test]
fn fixture_snapshot() {
    let model = fixture_model();
    let (files, diags) = proto::emit_with_diagnostics(&model, &none);
    assert!(diags.is_empty(), "{diags:#?}");
    let paths: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "proto/com/example/v1/generated.proto",
            "proto/k8s.io/apimachinery/pkg/api/resource/generated.proto",
            "proto/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
            "proto/k8s.io/apimachinery/pkg/runtime/generated.proto",
            "proto/k8s.io/apimachinery/pkg/util/intstr/generated.proto",
        ]
    );
    for f in &files {
        assert!(f.contents.starts_with(&format!("{}\n", proto::HEADER)), "{}", f.path.display());
    }
    expectorate::assert_contents("tests/snapshots/proto/widgets.proto", &file(&files, "proto/com/example/v1/generated.proto").contents);
    expectorate::assert_contents("tests/snapshots/proto/meta-v1.proto", &file(&files, "proto/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto").contents);
}

/// The apimachinery messages are upstream's, field for field.
#[test]
fn apimachinery_messages_match_upstream() {
    let files = proto::emit(&fixture_model(), &none);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(manifest().join("../tests/reference/proto/fields.json")).expect("fields.json")).expect("parses");
    let mut checked = 0;
    for f in files.iter().filter(|f| f.path.starts_with("proto/k8s.io/apimachinery")) {
        let parsed = proto::parse(&f.contents);
        for (name, m) in &parsed.messages {
            let up = &reference["packages"][&parsed.package][name]["fields"];
            let up = up.as_array().unwrap_or_else(|| panic!("{}.{name} is not upstream", parsed.package));
            assert_eq!(m.fields.len(), up.len(), "{}.{name}", parsed.package);
            for (ours, theirs) in m.fields.iter().zip(up) {
                assert_eq!(facts_of(ours, &parsed.package), upstream_facts(theirs), "{}.{name}.{}", parsed.package, ours.name);
                assert_eq!(Some(ours.name.as_str()), theirs["name"].as_str());
                assert_eq!(Some(u64::from(ours.number)), theirs["number"].as_u64());
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} apimachinery fields");
}

/// One run reports every phase's errors: a YAML error in one file does not hide a protobuf numbering
/// error in another (which the emitter only finds on a model that loaded), and each comes with its
/// file and a hint.
#[test]
fn schema_and_protobuf_errors_come_in_one_run() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("one-run-diagnostics");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let good = std::fs::read_to_string(manifest().join("tests/fixtures/proto/widgets.yaml")).expect("fixture");
    // Two fields whose protobuf names clash: only the protobuf emitter sees it.
    let clash = good.replace("bigNumber: {type: integer}", "bigNumber: {type: integer}\n              big_number: {type: integer}");
    assert_ne!(clash, good);
    std::fs::write(dir.join("widgets.yaml"), clash).expect("write");
    std::fs::write(dir.join("broken.yaml"), "apiVersion: apiextensions.k8s.io/v1\nkind:\n\tCustomResourceDefinition\n").expect("write");
    let (model, diags) = kapi_codegen::load_dir_partial(&dir);
    let schema_errors = diags.to_string();
    assert!(schema_errors.contains("broken.yaml:3:2: error: invalid YAML"), "{schema_errors}");
    assert!(schema_errors.contains("help: YAML indents with spaces only"), "{schema_errors}");
    assert_eq!(model.kinds.iter().map(|k| k.kind.as_str()).collect::<Vec<_>>(), ["Widget"], "the file without schema errors");
    let generation = kapi_codegen::generate::generate(&model, None);
    assert!(
        generation.problems.iter().any(|p| p.contains("another field has the same name")),
        "{:?}",
        generation.problems
    );
    assert!(kapi_codegen::load_dir(&dir).is_err());
}
