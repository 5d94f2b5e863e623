//! The generated OpenAPI documents (v2 and every v3 document, from `schemas/`) pass the real
//! `openapi-spec-validator` (it detects Swagger 2.0 vs OpenAPI 3.0 by itself).
//!
//! One allowance, and only as far as upstream needs it: kube-apiserver publishes `default` values
//! that do not validate against their own schema (`default: {}` on a type with required fields,
//! `default: ""` on an enum without ""), and the validator reports them: the reference v1.36
//! `/openapi/v3/api/v1` has 26 such errors. kapi copies upstream's defaults, so a v3 document may
//! report such errors only if (a) with its `default`s removed it validates cleanly and (b) each
//! error also occurs in upstream's document for that group-version.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kapi_codegen::emit::openapi;
use kapi_tests::tools::tool;
use serde_json::Value;

/// (success, error messages) of one validator run.
fn validate(file: &Path) -> (bool, Vec<String>) {
    let out = Command::new(tool("openapi-spec-validator"))
        .arg("--validation-errors")
        .arg("all")
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("running openapi-spec-validator: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors = stdout
        .lines()
        .filter_map(|l| l.split_once("Validation Error: ").map(|(_, m)| m))
        .map(
            |m| match m.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => rest.to_string(),
                _ => m.to_string(),
            },
        )
        .collect();
    let ok = out.status.success();
    if !ok && stdout.lines().all(|l| !l.contains("Validation Error")) {
        panic!(
            "openapi-spec-validator failed on {}:\n{stdout}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (ok, errors)
}

/// `v` without `default` keywords (property names are left alone).
fn without_defaults(v: &Value, is_properties: bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| is_properties || k.as_str() != "default")
                .map(|(k, x)| {
                    (
                        k.clone(),
                        without_defaults(x, !is_properties && k == "properties"),
                    )
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| without_defaults(x, false)).collect()),
        other => other.clone(),
    }
}

fn counts(errors: &[String]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for e in errors {
        *m.entry(e.as_str()).or_insert(0) += 1;
    }
    m
}

#[test]
fn generated_documents_pass_openapi_spec_validator() {
    let root = kapi_tests::project_root();
    let model = kapi_codegen::load_dir(&root.join("schemas"))
        .unwrap_or_else(|d| panic!("schemas/ have errors:\n{d}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let files = openapi::emit(&model);
    assert!(
        files.iter().any(|f| f.path == Path::new("openapi/v2.json")),
        "no v2 document"
    );
    assert!(
        files
            .iter()
            .filter(|f| f.path.starts_with("openapi/v3"))
            .count()
            >= 5,
        "too few v3 documents"
    );

    let mut failures = Vec::new();
    for f in &files {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &f.contents).expect("write");
        let (ok, errors) = validate(&path);
        if ok {
            println!("{}: OK", f.path.display());
            continue;
        }
        // Only upstream's own invalid defaults are allowed.
        let doc: Value = serde_json::from_str(&f.contents).expect("JSON");
        let stripped = path.with_extension("without-defaults.json");
        std::fs::write(
            &stripped,
            serde_json::to_string(&without_defaults(&doc, false)).expect("JSON"),
        )
        .expect("write");
        let (stripped_ok, stripped_errors) = validate(&stripped);
        if !stripped_ok {
            failures.push(format!(
                "{}: invalid even without defaults:\n  {}",
                f.path.display(),
                stripped_errors.join("\n  ")
            ));
            continue;
        }
        let reference = root
            .join("tests/reference/openapi")
            .join(f.path.strip_prefix("openapi").expect("openapi/"));
        if !reference.is_file() {
            failures.push(format!(
                "{}: invalid defaults (no upstream document to excuse them):\n  {}",
                f.path.display(),
                errors.join("\n  ")
            ));
            continue;
        }
        let (_, upstream_errors) = validate(&reference);
        let upstream = counts(&upstream_errors);
        for (e, n) in counts(&errors) {
            let allowed = upstream.get(e).copied().unwrap_or(0);
            if n > allowed {
                failures.push(format!(
                    "{}: {e} ({n}x; upstream's document has it {allowed}x)",
                    f.path.display()
                ));
            }
        }
        println!(
            "{}: OK but for {} invalid defaults upstream publishes too ({} in upstream's document)",
            f.path.display(),
            errors.len(),
            upstream_errors.len()
        );
    }
    assert!(
        failures.is_empty(),
        "openapi-spec-validator:\n{}",
        failures.join("\n")
    );
}
