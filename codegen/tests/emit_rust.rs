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
