//! The storage conformance suite, run against the embedded (SQLite) backend.

use kapi_runtime::storage::conformance::EmbeddedFixture;

kapi_runtime::storage_conformance_tests!(EmbeddedFixture::new());
