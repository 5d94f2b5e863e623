//! An apiserver serving the example kinds (and no built-in ones): `cargo run -p apiserver-widget-example`.

fn main() {
    kapi_runtime::server::main(apiserver_widget_example::generated());
}
