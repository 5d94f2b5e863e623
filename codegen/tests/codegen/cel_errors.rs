//! Rules kube-apiserver refuses fail the build, each located in its schema file (inside the rule
//! when its columns map onto the file's).

#[test]
fn three_rules_refused_with_positions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cel_errors");
    let diags = match kapi_codegen::load_dir(&dir) {
        Ok(_) => panic!("the fixture has errors"),
        Err(d) => d,
    };
    let text = diags.to_string().replace(&format!("{}/", dir.display()), "");
    assert_eq!(diags.0.len(), 3, "{text}");
    expectorate::assert_contents("tests/snapshots/errors/cel.txt", &format!("{text}\n"));
}
