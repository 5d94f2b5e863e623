//! The storage conformance suite against Debian's etcd 3.4 (`.tools/bin/etcd-3.4`, provisioned by
//! `cargo xtask test` from the Debian archive): the backend must keep working with 3.4, whose
//! requested progress notifications are not ordered with events.

use kapi_runtime::storage::conformance::EtcdFixture;
use kapi_runtime::storage::etcd_process::{tool, EtcdOptions};

kapi_runtime::storage_conformance_tests!(EtcdFixture::with_etcd(EtcdOptions {
    binary: Some(tool("etcd-3.4")),
    ..EtcdFixture::etcd_options()
}));
