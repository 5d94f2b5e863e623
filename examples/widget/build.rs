//! Rebuild when a schema, a strategy module or a generated file changes.
fn main() {
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=generated");
}
