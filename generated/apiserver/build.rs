//! Rebuild when a schema file or a generated file is added, removed or changed (include_schemas! also
//! `include_str!`s each schema and `include_bytes!`s each generated file, and fails when they disagree).
fn main() {
    println!("cargo:rerun-if-changed=../../schemas");
    println!("cargo:rerun-if-changed=../proto");
    println!("cargo:rerun-if-changed=../openapi");
}
