//! Rebuild when a corpus CRD or a generated file is added, removed or changed (include_schemas! also
//! `include_str!`s each CRD and `include_bytes!`s each generated file, and fails when they disagree).
fn main() {
    println!("cargo:rerun-if-changed=../../tests/reference/crds/corpus");
    println!("cargo:rerun-if-changed=openapi");
}
