//! The HTTP API: request parsing, routing from the registry table, negotiation, discovery, OpenAPI.

pub mod discovery;
