//! `include_schemas!`: a thin proc-macro. It only parses its argument, calls kapi-codegen and turns
//! schema diagnostics into compile errors at the literal's span.

use proc_macro::TokenStream;
use std::path::PathBuf;

/// Compiles every schema file under a folder (relative to the calling crate's `Cargo.toml`) into typed
/// Rust: a module per group-version (`core::v1::Pod`), list types, `Resource` impls, schema trees and
/// the registry table `KINDS`.
///
/// ```ignore
/// kapi_macros::include_schemas!("../../schemas");
/// ```
#[proc_macro]
pub fn include_schemas(input: TokenStream) -> TokenStream {
    let lit = syn::parse_macro_input!(input as syn::LitStr);
    let base = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let dir = match expand_env(&lit.value()) {
        // Normalise `a//b` and `./` so paths in messages read cleanly.
        Ok(d) => base.join(d).components().collect::<PathBuf>(),
        Err(e) => return syn::Error::new(lit.span(), e).to_compile_error().into(),
    };
    match kapi_codegen::load_dir(&dir) {
        Ok(model) => kapi_codegen::emit::rust::emit(&model).into(),
        Err(diags) => {
            let mut all = diags.0.clone();
            all.sort();
            all.dedup();
            let mut err: Option<syn::Error> = None;
            for d in &all {
                let e = syn::Error::new(lit.span(), d.compact());
                match &mut err {
                    Some(acc) => acc.combine(e),
                    None => err = Some(e),
                }
            }
            let summary = syn::Error::new(lit.span(), format!("{} error(s) in schemas under {}", all.len(), dir.display()));
            let mut err = err.unwrap_or_else(|| summary.clone());
            if all.len() > 1 {
                err.combine(summary);
            }
            err.to_compile_error().into()
        }
    }
}

/// Expands `${VAR}` references (e.g. `${KAPI_WORKSPACE_DIR}`, set by the workspace's .cargo/config.toml).
fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
        let var = &after[..end];
        let val = std::env::var(var).map_err(|_| format!("environment variable {var} is not set (used in {s:?})"))?;
        out.push_str(&val);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
