//! The real-world CRD corpus (`tests/reference/crds/corpus/`: 57 CustomResourceDefinitions of public
//! projects, byte for byte as published) compiled unchanged into one apiserver: typed Rust for every
//! kind and version, the registry table [`KINDS`] and the OpenAPI documents [`OPENAPI`] (written by
//! `cargo xtask generate` into this folder). Whatever kube-apiserver accepts, kapi compiles; the
//! `corpus` tests serve it. Only glue lives here.

kapi_macros::include_schemas!("../../tests/reference/crds/corpus", generated = ".");
kapi_macros::include_openapi!("openapi");

/// What the runtime serves: the corpus kinds and their OpenAPI documents.
pub fn generated() -> kapi_runtime::server::Generated {
    kapi_runtime::server::Generated { kinds: KINDS, openapi: OPENAPI }
}
