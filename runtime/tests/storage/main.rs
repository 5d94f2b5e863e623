//! Storage integration tests of kapi-runtime, in one binary: the conformance suite on the
//! embedded backend and on etcd3 (a real etcd per test), the kill -9 crash test, and the (ignored) throughput benchmark.

mod bench;
mod crash;
mod embedded_conformance;
mod etcd34_conformance;
mod etcd_conformance;
