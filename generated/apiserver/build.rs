//! Rebuild when a schema file is added, removed or changed (include_schemas! also `include_str!`s each file).
fn main() {
    println!("cargo:rerun-if-changed=../../schemas");
}
