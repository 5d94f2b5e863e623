//! `include_schemas!`: a thin proc-macro. It only parses its argument, calls kapi-codegen and turns
//! schema diagnostics into compile errors at the literal's span.

use proc_macro::TokenStream;
use std::path::PathBuf;

/// Compiles every schema file under a folder (relative to the calling crate's `Cargo.toml`) into typed
/// Rust: a module per group-version (`core::v1::Pod`), list types, `Resource` impls, schema trees and
/// the registry table `KINDS`.
///
/// With `generated = "<folder>"` (the folder `cargo xtask generate` writes), the build also derives
/// that folder's files again and fails, naming them, when the checked-in ones differ (a skipped
/// `generate`); protobuf field numbers are those of its `.proto` files, so a field added without
/// `x-kapi-proto` keeps the wire form of old objects readable. Without it, numbers are assigned as on a
/// first `generate` (fixtures and tests).
///
/// ```ignore
/// kapi_macros::include_schemas!("../../schemas", generated = "..");
/// ```
#[proc_macro]
pub fn include_schemas(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    let span = args.schemas.span();
    let base = std::env::var("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
    let resolve = |lit: &syn::LitStr| -> Result<PathBuf, syn::Error> {
        expand_env(&lit.value()).map(|d| clean(&base.join(d))).map_err(|e| syn::Error::new(lit.span(), e))
    };
    let dir = match resolve(&args.schemas) {
        Ok(d) => d,
        Err(e) => return e.to_compile_error().into(),
    };
    let generated = match args.generated.as_ref().map(resolve).transpose() {
        Ok(g) => g,
        Err(e) => return e.to_compile_error().into(),
    };
    let (mut model, diags) = kapi_codegen::load_dir_partial(&dir);
    let generation = kapi_codegen::generate::generate(&model, generated.as_deref());
    let mut problems: Vec<String> = generation.problems.iter().map(|p| format!("protobuf: {p}")).collect();
    if !diags.is_empty() {
        // Every phase's errors in one run: the schemas', then the protobuf numbering's of the files
        // without schema errors.
        let mut all: Vec<String> = diags.0.iter().map(kapi_codegen::Diagnostic::compact).collect();
        all.sort();
        all.dedup();
        all.extend(problems);
        return errors(span, &all, &format!("{} error(s) in schemas under {}", all.len(), dir.display()));
    }
    problems.extend(kapi_codegen::generate::number_fields(&mut model, &generation.proto));
    let mut tracked = Vec::new();
    if let Some(g) = &generated {
        let fresh = kapi_codegen::generate::freshness(&generation.files, g);
        if !fresh.is_fresh() {
            let mut lines: Vec<String> = fresh.stale.iter().map(|p| format!("  stale: {}", p.display())).collect();
            lines.extend(fresh.extra.iter().map(|p| format!("  not generated any more: {}", p.display())));
            problems.push(format!(
                "the files under {}/ are out of date with the schemas under {}/:\n{}\n  help: run `cargo xtask generate` (and commit the result)",
                g.display(),
                dir.display(),
                lines.join("\n")
            ));
        }
        // Rebuild when a generated file changes (a hand edit, a `generate` run).
        tracked = kapi_codegen::generate::owned(g);
    }
    if !problems.is_empty() {
        return errors(span, &problems, &format!("{} error(s) deriving the generated files of {}", problems.len(), dir.display()));
    }
    let tracked = tracked.iter().filter_map(|p| p.to_str()).map(|p| quote::quote!(const _: &[u8] = include_bytes!(#p);));
    let code = kapi_codegen::emit::rust::emit(&model);
    quote::quote!(#code #(#tracked)*).into()
}

/// `"<schemas>"` or `"<schemas>", generated = "<folder>"`.
struct Args {
    schemas: syn::LitStr,
    generated: Option<syn::LitStr>,
}

impl syn::parse::Parse for Args {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let schemas = input.parse()?;
        let mut generated = None;
        if input.parse::<Option<syn::Token![,]>>()?.is_some() && !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            if key != "generated" {
                return Err(syn::Error::new(key.span(), "expected `generated = \"<folder>\"`"));
            }
            input.parse::<syn::Token![=]>()?;
            generated = Some(input.parse()?);
            input.parse::<Option<syn::Token![,]>>()?;
        }
        Ok(Args { schemas, generated })
    }
}

/// One compile error per message at the literal's span, plus a summary when there are several.
fn errors(span: proc_macro2::Span, all: &[String], summary: &str) -> TokenStream {
    let mut err: Option<syn::Error> = None;
    for m in all {
        let e = syn::Error::new(span, relative(m));
        match &mut err {
            Some(acc) => acc.combine(e),
            None => err = Some(e),
        }
    }
    let summary = syn::Error::new(span, relative(summary));
    let mut err = err.unwrap_or_else(|| summary.clone());
    if all.len() > 1 {
        err.combine(summary);
    }
    err.to_compile_error().into()
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
        Ok(d) => clean(&base.join(d)),
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

/// `path` without `.`, `..` and doubled separators.
fn clean(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// A message with paths under the directory the compiler runs in (cargo runs it in the workspace
/// root) written relative to it, so it reads `schemas/core/pods.yaml:3:5`.
fn relative(message: &str) -> String {
    match std::env::current_dir() {
        Ok(cwd) if cwd.parent().is_some() => message.replace(&format!("{}/", cwd.display()), ""),
        _ => message.to_string(),
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
