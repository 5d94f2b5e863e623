//! Every rule of real CRDs compiles at build time: the 57 CRDs of `tests/reference/crds/corpus/`
//! (each accepted by kube-apiserver v1.36) and kapi's own `schemas/` give no `x-kubernetes-validations`
//! diagnostic. A diagnostic here is a false positive of the build-time check (or of kapi-cel).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus: in the repository, else where the reference facts are gathered.
fn corpus() -> PathBuf {
    let candidates = [root().join("tests/reference/crds/corpus"), PathBuf::from("/work/shared/reference/crds/corpus")];
    candidates.iter().find(|d| d.is_dir()).cloned().unwrap_or_else(|| {
        panic!("the CRD corpus is missing: expected it at {} (or {})", candidates[0].display(), candidates[1].display())
    })
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// The CEL diagnostics of each file loaded on its own (other problems are other tests' business).
fn cel_diagnostics(files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        if let Err(d) = kapi_codegen::model::load_files(std::slice::from_ref(f)) {
            out.extend(d.0.iter().filter(|d| d.message.starts_with("x-kubernetes-validations[") || d.message.starts_with("openAPIV3Schema of ")).map(|d| d.to_string()));
        }
    }
    out
}

#[test]
fn corpus_rules_compile() {
    let mut files = Vec::new();
    yaml_files(&corpus(), &mut files);
    files.sort();
    assert!(files.len() >= 57, "{} CRDs in the corpus", files.len());
    let lists: usize = files.iter().map(|f| std::fs::read_to_string(f).unwrap_or_default().matches("x-kubernetes-validations:").count()).sum();
    assert!(lists > 300, "{lists} rule lists");
    let diags = cel_diagnostics(&files);
    assert!(diags.is_empty(), "{} CEL diagnostics on CRDs kube-apiserver accepts:\n{}", diags.len(), diags.join("\n"));
}

#[test]
fn schemas_rules_compile() {
    let mut files = Vec::new();
    yaml_files(&root().join("schemas"), &mut files);
    files.sort();
    let diags = cel_diagnostics(&files);
    assert!(diags.is_empty(), "{}", diags.join("\n"));
}
