//! `cargo xtask generate [--check]`: writes everything under `generated/` that is derived from
//! `schemas/` (protobuf, OpenAPI, the schema-format JSON Schema). With `--check` nothing is written and
//! a stale or missing file is an error (rust-analyzer's `ensure_file_contents` pattern).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use kapi_codegen::emit::GeneratedFile;

pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut check = false;
    let mut schemas = None;
    let mut generated = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--schemas" => schemas = Some(PathBuf::from(it.next().context("--schemas needs a folder")?)),
            "--out" => generated = Some(PathBuf::from(it.next().context("--out needs a folder")?)),
            bad => bail!("generate: unknown argument {bad:?} (usage: cargo xtask generate [--check] [--schemas DIR] [--out DIR])"),
        }
    }
    let sets: Vec<(PathBuf, PathBuf)> = match (schemas, generated) {
        (Some(s), Some(g)) => vec![(s, g)],
        (Some(s), None) => vec![(s, root.join("generated"))],
        (None, Some(g)) => vec![(root.join("schemas"), g)],
        (None, None) => SETS.iter().map(|(s, g)| (root.join(s), root.join(g))).collect(),
    };
    let mut failed = Vec::new();
    for (schemas, generated) in &sets {
        if let Err(e) = run_one(root, check, schemas, generated) {
            failed.push(format!("{e:#}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{}", failed.join("\n"))
    }
}

/// Every schema folder of the workspace and the folder its generated files go to: the product's
/// kinds, the worked example of user kinds (examples/widget), and the real-world CRD corpus compiled
/// into one apiserver (generated/corpus, the generator's acceptance test).
pub(crate) const SETS: &[(&str, &str)] = &[
    ("schemas", "generated"),
    ("examples/widget/schemas", "examples/widget/generated"),
    ("tests/reference/crds/corpus", "generated/corpus"),
];

fn run_one(root: &Path, check: bool, schemas: &Path, generated: &Path) -> anyhow::Result<()> {
    let (schemas, generated) = (schemas.to_path_buf(), generated.to_path_buf());
    let started = Instant::now();
    let files = generate(&schemas, &generated)?;
    let mut stale = Vec::new();
    let mut wanted = BTreeSet::new();
    for f in &files {
        let path = generated.join(&f.path);
        wanted.insert(path.clone());
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() != Some(f.contents.as_str()) {
            stale.push(path.clone());
            if !check {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                }
                std::fs::write(&path, &f.contents).with_context(|| format!("writing {}", path.display()))?;
            }
        }
    }
    // Files in owned folders that no emitter produces any more.
    let mut extra = kapi_codegen::generate::owned(&generated);
    extra.retain(|p| !wanted.contains(p));
    for p in &extra {
        if !check {
            std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    let rel = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).display().to_string();
    if check {
        if stale.is_empty() && extra.is_empty() {
            println!("generate --check: {}: {} files up to date ({:.2?})", rel(&generated), files.len(), started.elapsed());
            return Ok(());
        }
        for p in &stale {
            eprintln!("stale: {}", rel(p));
        }
        for p in &extra {
            eprintln!("not generated any more: {}", rel(p));
        }
        bail!("generated files are out of date with schemas/: run `cargo xtask generate` and commit the result");
    }
    println!(
        "generate: {}: {} files ({} changed, {} removed) in {:.2?}",
        rel(&generated),
        files.len(),
        stale.len(),
        extra.len(),
        started.elapsed()
    );
    Ok(())
}

/// Everything `generated/` should contain, derived from `schemas/` (protobuf numbers continue the
/// checked-in `.proto` files under `generated`).
pub(crate) fn generate(schemas: &Path, generated: &Path) -> anyhow::Result<Vec<GeneratedFile>> {
    // Every phase's errors in one run: the schemas', then the protobuf numbering's of the files
    // without schema errors.
    let (model, diags) = kapi_codegen::load_dir_partial(schemas);
    let generation = kapi_codegen::generate::generate(&model, Some(generated));
    let mut report = Vec::new();
    if !diags.is_empty() {
        report.push(diags.to_string());
    }
    if !generation.problems.is_empty() {
        let problems: Vec<String> = generation.problems.iter().map(|p| format!("  {p}")).collect();
        report.push(format!("protobuf emitter:\n{}", problems.join("\n")));
    }
    if !report.is_empty() {
        bail!("{}", report.join("\n"));
    }
    Ok(generation.files)
}

#[cfg(test)]
mod tests {
    /// The checked-in files under generated/ match what the schemas produce (`cargo xtask generate --check`).
    #[test]
    fn generated_files_are_fresh() {
        let root = crate::project_root();
        if let Err(e) = super::run(&root, &["--check".to_string()]) {
            panic!("{e:#}");
        }
    }
}
