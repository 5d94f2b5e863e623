//! kapi-codegen: load YAML schemas (CRD manifests + `x-kapi-*`), validate, lower to an IR, and emit
//! Rust (for `include_schemas!`), protobuf and OpenAPI. Never depends on the runtime or generated code.

pub mod check;
pub mod diag;
pub mod generate;
pub mod model;
pub mod schema;
pub mod source;

pub use diag::{Diagnostic, Diagnostics};
pub use model::{load_dir, load_dir_partial, Model};
pub mod emit;
