//! Protobuf types compiled by prost-build from the checked-in `generated/proto/**/*.proto` (written by
//! `cargo xtask generate` from `schemas/`). Modules mirror the protobuf packages:
//! `kapi_proto::k8s::io::api::core::v1::Pod`, `kapi_proto::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta`,
//! `kapi_proto::com::example::v1::Widget`.
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic, rustdoc::all)]

include!(concat!(env!("OUT_DIR"), "/_includes.rs"));

/// The encoded `google.protobuf.FileDescriptorSet` of every compiled `.proto` file (for dynamic
/// JSON ↔ protobuf conversion).
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

/// The 4-byte prefix of upstream's protobuf wire format (`application/vnd.kubernetes.protobuf`),
/// followed by an encoded `k8s.io.apimachinery.pkg.runtime.Unknown`.
pub const MAGIC: [u8; 4] = [0x6b, 0x38, 0x73, 0x00];
