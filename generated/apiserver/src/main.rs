//! The apiserver binary: kube-apiserver's flags, the embedded store, the generated kinds.

fn main() {
    kapi_runtime::server::main(apiserver::generated());
}
