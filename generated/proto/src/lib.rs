//! Protobuf types compiled by prost-build from generated/proto.
