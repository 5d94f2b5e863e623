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
fn first_start_says_what_to_do_next() {
    use std::io::{BufRead, Read};
    // A relative --data-dir from a directory of its own: the paths printed must be absolute.
    let dir = std::env::temp_dir().join(format!("kapi-binary-first-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test dir");
    let dir = dir.canonicalize().expect("test dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiserver"))
        .args([&format!("--secure-port={port}"), "--bind-address=127.0.0.1", "--data-dir=kapi-data"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the apiserver binary");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut err = String::new();
    while let Ok(line) = seen.recv_timeout(std::time::Duration::from_secs(120)) {
        err.push_str(&line);
        err.push('\n');
        if line.contains("Ctrl+C") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut out = String::new();
    let _ = child.stdout.take().expect("stdout").read_to_string(&mut out);
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("kapi-data");
    let kubeconfig = data.join("kubeconfig");
    for needle in [
        format!("serving securely on https://127.0.0.1:{port}"),
        format!("data: embedded store in {}", data.display()),
        format!("kubeconfig: {}", kubeconfig.display()),
        "kubectl get ns".to_owned(),
        "default, kube-node-lease, kube-public and kube-system".to_owned(),
        "Press Ctrl+C to stop.".to_owned(),
    ] {
        assert!(err.contains(&needle), "start-up output (stderr) lacks {needle:?}:\n{err}");
    }
    // The line to copy stays alone on stdout, as scripts read it.
    assert_eq!(out, format!("export KUBECONFIG={}\n", kubeconfig.display()), "stderr:\n{err}");
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
