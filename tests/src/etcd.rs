//! Real etcd processes for tests: the runtime's harness (`kapi_runtime::storage::etcd_process`,
//! feature `testing`), re-exported so the suites here and the runtime's own storage tests start etcd
//! the same way.
//!
//! [`EtcdCluster::start`] runs one or three members of the pinned etcd that `cargo xtask test`
//! provisions into `.tools/bin` (loopback only, in a temp dir removed on drop, optionally with client
//! mTLS); a test that needs etcd and can't find it fails naming `cargo xtask test`, it never skips.

pub use kapi_runtime::storage::etcd_process::{EtcdCluster, EtcdOptions, EtcdTls};
