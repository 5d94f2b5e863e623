//! Emitters: IR → Rust tokens, protobuf `.proto` files, OpenAPI v2/v3 documents.

use std::path::PathBuf;

pub mod openapi;
pub mod proto;
pub mod rust;
pub mod share;

/// One file an emitter writes under `generated/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to `generated/`.
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}
