//! The storage conformance suite, run against the etcd3 backend on a real etcd per test.

use kapi_runtime::storage::conformance::EtcdFixture;

kapi_runtime::storage_conformance_tests!(EtcdFixture::new());
