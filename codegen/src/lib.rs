//! kapi-codegen: load YAML schemas, validate, lower to an IR, emit Rust / protobuf / OpenAPI.
