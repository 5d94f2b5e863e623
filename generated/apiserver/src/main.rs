//! The apiserver binary: kube-apiserver's flags, the embedded store, the generated kinds.

/// jemalloc: measured on the create and GET paths (`cargo xtask bench`), glibc malloc/free took
/// ~12% of the apiserver's CPU and fragmented the heap under concurrent requests. Built with its
/// background threads on (the workspace's Cargo.toml), which give freed memory back while idle.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    kapi_runtime::server::main(apiserver::generated());
}
