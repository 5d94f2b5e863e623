//! kapi's worked example of user kinds (examples/widget/schemas): the schemas compiled into typed Rust
//! with their strategy modules, and the OpenAPI documents `cargo xtask generate` wrote for them.

kapi_macros::include_schemas!("schemas", generated = "generated");
kapi_macros::include_openapi!("generated/openapi");

/// What the runtime serves: the kinds and their OpenAPI documents.
pub fn generated() -> kapi_runtime::server::Generated {
    kapi_runtime::server::Generated { kinds: KINDS, openapi: OPENAPI }
}
