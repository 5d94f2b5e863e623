//! Storage integration tests of kapi-runtime, in one binary: the conformance suite on the
//! embedded backend and on etcd3 (a real etcd per test) and the kill -9 crash test. (The store's
//! throughput against raw SQLite is measured by `cargo xtask bench embedded`.)

mod crash;
mod embedded_conformance;
mod etcd34_conformance;
mod etcd_conformance;
