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

/// Embeds the OpenAPI documents `cargo xtask generate` wrote into a folder (`v2.json` and
/// `v3/<api__v1>.json`, relative to the calling crate's `Cargo.toml`) as
/// `pub static OPENAPI: ::kapi_runtime::endpoints::openapi::OpenApiDocs`.
///
/// ```ignore
/// kapi_macros::include_openapi!("../openapi");
/// ```
#[proc_macro]
pub fn include_openapi(input: TokenStream) -> TokenStream {
    let lit = syn::parse_macro_input!(input as syn::LitStr);
    let base = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let dir = match expand_env(&lit.value()) {
        Ok(d) => base.join(d).components().collect::<PathBuf>(),
        Err(e) => return syn::Error::new(lit.span(), e).to_compile_error().into(),
    };
    let v2 = dir.join("v2.json");
    if !v2.is_file() {
        let msg = format!("{} does not exist: run `cargo xtask generate`", v2.display());
        return syn::Error::new(lit.span(), msg).to_compile_error().into();
    }
    let mut docs: Vec<(String, String)> = match std::fs::read_dir(dir.join("v3")) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter_map(|p| {
                let stem = p.file_stem()?.to_str()?.replace("__", "/");
                Some((stem, p.to_str()?.to_string()))
            })
            .collect(),
        Err(e) => {
            let msg = format!("reading {}: {e}: run `cargo xtask generate`", dir.join("v3").display());
            return syn::Error::new(lit.span(), msg).to_compile_error().into();
        }
    };
    docs.sort();
    let v2 = v2.to_string_lossy().into_owned();
    let entries = docs.iter().map(|(path, file)| quote::quote!((#path, include_str!(#file))));
    quote::quote!(
        /// The OpenAPI documents served at `/openapi/v2` and `/openapi/v3`.
        pub static OPENAPI: ::kapi_runtime::endpoints::openapi::OpenApiDocs = ::kapi_runtime::endpoints::openapi::OpenApiDocs {
            v2: include_str!(#v2),
            v3: &[#(#entries),*],
        };
    )
    .into()
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
