//! The generated kapi apiserver library: every schema under `/schemas` compiled into typed Rust
//! (`core::v1::Pod`, `apps::v1::Deployment`, ...) plus the registry table [`KINDS`]. Only glue lives here.

kapi_macros::include_schemas!("../../schemas");
