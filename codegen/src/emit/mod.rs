//! Emitters: IR → Rust tokens, protobuf `.proto` files, OpenAPI v2/v3 documents.

pub mod rust;
