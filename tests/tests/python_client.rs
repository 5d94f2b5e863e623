//! The official Kubernetes Python client (from the tools venv) against the generated apiserver:
//! list, watch, create, patch (merge and strategic), the scale subresource.

use kapi_tests::Server;

#[test]
fn python_client_list_watch_create_patch() {
    let s = Server::start(&[]);
    let script = kapi_tests::project_root().join("tests/python/client_smoke.py");
    let out = std::process::Command::new(kapi_tests::tool("python"))
        .arg(&script)
        .arg(s.kubeconfig())
        .env_remove("REQUESTS_CA_BUNDLE")
        .output()
        .unwrap_or_else(|e| panic!("running python: {e}"));
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ok"),
        "python client failed:\nstdout:\n{}\nstderr:\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
}
