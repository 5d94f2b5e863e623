//! Strategy modules: `<name>.rs` next to a schema file (`x-kapi-strategy: <name>`) holding the kind's
//! typed Rust hooks (`x-kapi-hooks`), written against the generated types of its storage version.
//! Checked when the schemas load, so each mistake is a schema error with its place: a hook the
//! schema names that the module lacks, a hook function the schema does not name, a module no
//! schema names.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Hook, Kind};
use crate::diag::Diagnostics;
use crate::source::{Location, Pos, SourceDoc};

/// The public functions of a strategy module, or why it cannot be read.
fn public_fns(file: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let parsed = syn::parse_file(&text).map_err(|e| format!("not valid Rust: {e}"))?;
    Ok(parsed
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(f) if matches!(f.vis, syn::Visibility::Public(_)) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect())
}

/// The functions hook `h` needs in a kind whose versions are `versions` (stored at `storage`).
pub fn functions(h: Hook, versions: &[String], storage: &str) -> Vec<String> {
    match h {
        Hook::Convert => versions
            .iter()
            .filter(|v| *v != storage)
            .flat_map(|v| [format!("convert_{v}_to_{storage}"), format!("convert_{storage}_to_{v}")])
            .collect(),
        other => vec![other.function().to_string()],
    }
}

fn is_hook_name(name: &str) -> bool {
    Hook::ALL.iter().any(|(h, _, f)| *h != Hook::Convert && *f == name)
        || name.strip_prefix("convert_").is_some_and(|rest| rest.split_once("_to_").is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()))
}

/// Checks the strategy module of one CRD (`kind` is any of its versions).
pub fn check_crd(doc: &SourceDoc, kind: &Kind, versions: &[String], diags: &mut Diagnostics) {
    let (Some(name), Some(file)) = (&kind.strategy, &kind.strategy_file) else { return };
    let strategy_at = doc.locate(&["spec".to_string(), "x-kapi-strategy".to_string()]);
    let fns = match public_fns(file) {
        Ok(f) => f,
        Err(e) if !file.exists() => {
            let _ = e;
            diags.push(
                strategy_at,
                format!("x-kapi-strategy: {name} names the strategy module {}, which does not exist", file.display()),
                Some(format!("write the hooks of x-kapi-hooks in {name}.rs next to this file (see codegen/SCHEMA.md)")),
            );
            return;
        }
        Err(e) => {
            diags.push(Location { file: file.clone(), pos: Pos { line: 1, col: 1 } }, e, None);
            return;
        }
    };
    let mut wanted = BTreeSet::new();
    for (i, h) in kind.hooks.iter().enumerate() {
        for f in functions(*h, versions, &kind.storage_version) {
            if !fns.contains(&f) {
                diags.push(
                    doc.locate(&["spec".to_string(), "x-kapi-hooks".to_string(), i.to_string()]),
                    format!("hook {} is named here but {} has no `pub fn {f}`", h.name(), file.display()),
                    Some(signature(*h, &f)),
                );
            }
            wanted.insert(f);
        }
    }
    for f in fns.iter().filter(|f| is_hook_name(f) && !wanted.contains(*f)) {
        let hook = Hook::ALL.iter().find(|(_, _, rf)| rf == f).map(|(_, n, _)| *n).unwrap_or("convert");
        diags.push(
            Location { file: file.clone(), pos: Pos { line: 1, col: 1 } },
            format!("`pub fn {f}` is a hook that x-kapi-hooks of {} does not name", doc.file.display()),
            Some(format!("add {hook} to x-kapi-hooks (or rename the function)")),
        );
    }
}

/// How hook `h`'s function is written (`T` is the kind's type at its storage version).
fn signature(h: Hook, f: &str) -> String {
    match h {
        Hook::Default => "write `pub fn default(object: &mut T)`".into(),
        Hook::PrepareForCreate => "write `pub fn prepare_for_create(object: &mut T)`".into(),
        Hook::PrepareForUpdate => "write `pub fn prepare_for_update(object: &mut T, old: &T)`".into(),
        Hook::ValidateCreate => "write `pub fn validate_create(object: &T) -> Vec<FieldError>`".into(),
        Hook::ValidateUpdate => "write `pub fn validate_update(object: &T, old: &T) -> Vec<FieldError>`".into(),
        Hook::Convert => format!("write `pub fn {f}(object: <from>::T) -> Result<<to>::T, String>`"),
    }
}

/// Strategy modules under the schema folder that no schema names (`files`: every `.rs` found).
pub fn check_unnamed(kinds: &[Kind], files: &[PathBuf], diags: &mut Diagnostics) {
    let named: BTreeSet<&PathBuf> = kinds.iter().filter_map(|k| k.strategy_file.as_ref()).collect();
    for f in files.iter().filter(|f| !named.contains(f)) {
        diags.push(
            Location { file: f.clone(), pos: Pos { line: 1, col: 1 } },
            "a strategy module that no schema names",
            Some(format!(
                "name it in its kind's schema (`x-kapi-strategy: {}` and `x-kapi-hooks: [...]`), or remove it",
                f.file_stem().and_then(|s| s.to_str()).unwrap_or_default()
            )),
        );
    }
}
