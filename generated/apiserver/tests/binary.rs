//! The generated binary starts and speaks kube-apiserver's flags. Being an integration test of this
//! package, it also makes `cargo test --workspace` build the `apiserver` binary with the test build's
//! features, the one the end-to-end suites run (so `cargo xtask test` need not build it separately).

use std::process::Command;

fn apiserver(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apiserver")).args(args).output().expect("run the apiserver binary")
}

#[test]
fn help_lists_kube_apiserver_flags() {
    let out = apiserver(&["--help"]);
    assert!(out.status.success(), "--help failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--etcd-servers",
        "--etcd-prefix",
        "--etcd-cafile",
        "--storage-backend",
        "--storage-media-type",
        "--etcd-compaction-interval",
        "--watch-cache-sizes",
        "--max-mutating-requests-inflight",
        "--secure-port",
        "--bind-address",
        "--tls-cert-file",
        "--tls-private-key-file",
        "--tls-min-version",
        "--cert-dir",
        "--insecure-port",
    ] {
        assert!(text.contains(flag), "--help does not list {flag}:\n{text}");
    }
}

#[test]
fn refuses_what_it_cannot_honour() {
    for (args, needle) in [
        (&["--storage-backend=etcd2"][..], "etcd2"),
        (&["--storage-media-type=application/cbor"][..], "unsupported storage media type"),
        (&["--secure-port=0", "--insecure-port=0"][..], "nothing to serve"),
        (&["--tls-min-version=VersionTLS10"][..], "TLS 1.2 and 1.3 only"),
        (&["--tls-cert-file=server.crt"][..], "must be given together"),
        (&["--authorization-mode=RBAC,Magic"][..], "authorization-mode \"Magic\" is not a valid mode"),
        (&["--authorization-mode=ABAC"][..], "authorization-mode ABAC's authorization policy file not passed"),
        (&["--authorization-webhook-config-file=hook.yaml"][..], "without mode Webhook"),
        (&["--authorization-config=authz.yaml"][..], "structured authorization configuration is not supported"),
        (&["--token-auth-file=/nonexistent/tokens.csv"][..], "/nonexistent/tokens.csv"),
    ] {
        // Refused before anything binds; loopback all the same, as every test's server, and a data
        // dir of its own (a file error is found after the store opened).
        let data = std::env::temp_dir().join(format!("kapi-binary-test-{}", std::process::id()));
        let data_arg = format!("--data-dir={}", data.display());
        let args: Vec<&str> = args.iter().copied().chain(["--bind-address=127.0.0.1", data_arg.as_str()]).collect();
        let args = &args[..];
        let out = apiserver(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let _ = std::fs::remove_dir_all(&data);
        assert!(!out.status.success(), "{args:?} started");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}
