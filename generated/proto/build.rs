//! Compiles every `*.proto` under this folder (written by `cargo xtask generate`) with prost-build and
//! the protoc shipped by `protoc-bin-vendored` (no system protoc). Also writes the FileDescriptorSet
//! (for dynamic JSON ↔ protobuf conversion) and `_includes.rs`, the module tree of all packages.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name();
        if p.is_dir() {
            if name != "target" && name != "src" && name != "tests" {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "proto") {
            out.push(p);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=build.rs");
    // A directory: cargo rescans it, so added and removed packages are seen too.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut protos = Vec::new();
    collect(&root, &mut protos);
    protos.sort();
    let descriptors = out.join("file_descriptor_set.bin");
    if protos.is_empty() {
        std::fs::write(out.join("_includes.rs"), "")?;
        std::fs::write(&descriptors, [])?;
        return Ok(());
    }
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let mut config = prost_build::Config::new();
    config
        .protoc_executable(protoc_bin_vendored::protoc_bin_path()?)
        .file_descriptor_set_path(&descriptors)
        .include_file("_includes.rs");
    config.compile_protos(&protos, &[&root])?;
    Ok(())
}
