//! kapi-codegen's integration tests, one binary (each test binary of this package is compiled at
//! opt-level 3, the package's profile: one binary instead of nine saves minutes of a clean build).

mod cel_corpus;
mod cel_errors;
mod create_only;
mod emit_rust;
mod hooks;
mod openapi;
mod proto;
mod schemas;
mod type_descriptions;
