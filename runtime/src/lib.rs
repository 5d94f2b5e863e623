//! kapi-runtime: everything generated code links to.
//!
//! The runtime never names a specific kind: generated code describes each kind through the
//! [`apimachinery::Resource`] trait and its static [`apimachinery::KindInfo`], and the runtime
//! works generically from there.

pub mod apimachinery;
pub mod auth;
pub mod cacher;
pub mod endpoints;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod registry;
pub mod server;
pub mod storage;

/// Re-exports used by generated code, so generated crates need no direct dependency on them.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
