//! The generated kapi apiserver library: every schema under `/schemas` compiled into typed Rust
//! (`core::v1::Pod`, `apps::v1::Deployment`, ...) plus the registry table [`KINDS`] and the OpenAPI
//! documents [`OPENAPI`]. Only glue lives here.

kapi_macros::include_schemas!("../../schemas", generated = "..");
kapi_macros::include_openapi!("../openapi");

/// What the runtime serves: the kinds and their OpenAPI documents.
pub fn generated() -> kapi_runtime::server::Generated {
    kapi_runtime::server::Generated { kinds: KINDS, openapi: OPENAPI }
}
