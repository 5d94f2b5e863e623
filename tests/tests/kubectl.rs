//! Real kubectl (the pinned one from the tools venv) against the generated apiserver, with the
//! kubeconfig the server wrote.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use kapi_tests::Server;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
"#;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_string_lossy().into_owned()
}

fn fails(s: &Server, args: &[&str]) -> String {
    let out = s.kubectl(args);
    assert!(!out.status.success(), "kubectl {args:?} should fail; stdout: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn discovery_and_explain() {
    let s = Server::start(&[]);
    let resources = s.kubectl_ok(&["api-resources"]);
    for line in ["pods", "po", "deployments", "deploy", "configmaps", "cm", "namespaces", "ns"] {
        assert!(resources.split_whitespace().any(|w| w == line), "{line} missing from api-resources:\n{resources}");
    }
    assert!(resources.contains("servicemonitors"), "CRD kinds are served too:\n{resources}");
    let explain = s.kubectl_ok(&["explain", "pod.spec.containers"]);
    assert!(explain.contains("KIND:") && explain.contains("Pod"), "{explain}");
    assert!(explain.contains("FIELD: containers <[]Container>"), "{explain}");
    assert!(explain.contains("image"), "{explain}");
    let version = s.kubectl_ok(&["version", "-o", "json"]);
    assert!(version.contains("serverVersion"), "{version}");
}

#[test]
fn apply_get_patch_scale_delete() {
    let s = Server::start(&[]);
    let file = write(s.dir(), "web.yaml", DEPLOYMENT);
    let applied = s.kubectl_ok(&["apply", "-f", &file]);
    assert_eq!(applied.trim(), "deployment.apps/web created");
    // Re-applying the same file changes nothing.
    assert_eq!(s.kubectl_ok(&["apply", "-f", &file]).trim(), "deployment.apps/web unchanged");
    let table = s.kubectl_ok(&["get", "deployments"]);
    let header: Vec<&str> = table.lines().next().unwrap_or("").split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], "{table}");
    assert!(table.lines().nth(1).is_some_and(|l| l.starts_with("web ")), "{table}");
    let wide = s.kubectl_ok(&["get", "deploy", "web", "-o", "wide"]);
    assert!(wide.contains("CONTAINERS") && wide.contains("nginx:1.25") && wide.contains("app=web"), "{wide}");
    let yaml = s.kubectl_ok(&["get", "deploy", "web", "-o", "yaml"]);
    assert!(yaml.contains("kubectl.kubernetes.io/last-applied-configuration"), "{yaml}");
    assert!(yaml.contains("generation: 1"), "{yaml}");

    // Patches of all three kinds.
    s.kubectl_ok(&["patch", "deployment", "web", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}"#]);
    let image = s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[*].image}"]);
    assert_eq!(image, "nginx:1.26", "strategic merge keeps one container, by name");
    s.kubectl_ok(&["patch", "deployment", "web", "--type=merge", "-p", r#"{"metadata":{"annotations":{"m":"1"}}}"#]);
    s.kubectl_ok(&["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"replace","path":"/spec/replicas","value":4}]"#]);
    let replicas = s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.annotations.m} {.metadata.generation}"]);
    assert_eq!(replicas, "4 1 3");
    let bad = fails(&s, &["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":9}]"#]);
    assert!(bad.contains("the server rejected our request due to an error in our request"), "{bad}");

    s.kubectl_ok(&["scale", "deployment", "web", "--replicas=5"]);
    assert_eq!(s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "5");
    s.kubectl_ok(&["label", "deployment", "web", "tier=front"]);
    s.kubectl_ok(&["annotate", "deployment", "web", "note=hi"]);
    let labels = s.kubectl_ok(&["get", "deploy", "-l", "tier=front", "-o", "name"]);
    assert_eq!(labels.trim(), "deployment.apps/web");
    assert_eq!(s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.note}"]), "hi");

    // replace with a changed file; a bad manifest is refused with a 422 naming the field.
    let changed = DEPLOYMENT.replace("replicas: 2", "replicas: 1");
    let changed = write(s.dir(), "web2.yaml", &changed);
    s.kubectl_ok(&["replace", "-f", &changed]);
    assert_eq!(s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "1");
    let invalid = DEPLOYMENT.replace("replicas: 2", "replicas: -1").replace("name: web\n  labels", "name: web3\n  labels");
    let invalid = write(s.dir(), "bad.yaml", &invalid);
    let err = fails(&s, &["apply", "-f", &invalid]);
    assert!(err.contains("spec.replicas"), "{err}");

    s.kubectl_ok(&["create", "configmap", "cfg", "--from-literal=a=b"]);
    assert_eq!(s.kubectl_ok(&["get", "cm", "cfg", "-o", "jsonpath={.data.a}"]), "b");
    let deleted = s.kubectl_ok(&["delete", "deployment", "web", "--wait"]);
    assert_eq!(deleted.trim(), "deployment.apps \"web\" deleted from default namespace");
    let gone = fails(&s, &["get", "deployment", "web"]);
    assert!(gone.contains("NotFound") || gone.contains("not found"), "{gone}");
}

#[test]
fn server_side_apply_conflicts() {
    let s = Server::start(&[]);
    let file = write(s.dir(), "web.yaml", DEPLOYMENT);
    s.kubectl_ok(&["apply", "--server-side", "-f", &file]);
    let managed = s.kubectl_ok(&["get", "deploy", "web", "-o", "yaml", "--show-managed-fields"]);
    assert!(managed.contains("manager: kubectl") && managed.contains("operation: Apply"), "{managed}");
    // Another manager changes a field kubectl owns: conflict, then --force-conflicts takes it.
    let other = DEPLOYMENT.replace("replicas: 2", "replicas: 7");
    let other = write(s.dir(), "other.yaml", &other);
    let err = fails(&s, &["apply", "--server-side", "--field-manager=other", "-f", &other]);
    assert!(err.contains("conflict") && err.contains(".spec.replicas"), "{err}");
    s.kubectl_ok(&["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", &other]);
    assert_eq!(s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "7");
}

#[test]
fn diff_edit_and_watch() {
    let s = Server::start(&[]);
    let file = write(s.dir(), "web.yaml", DEPLOYMENT);
    s.kubectl_ok(&["apply", "-f", &file]);
    // diff: exit 0 when equal, 1 with a diff when not.
    let same = s.kubectl(&["diff", "-f", &file]);
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stderr));
    let changed = write(s.dir(), "web3.yaml", &DEPLOYMENT.replace("nginx:1.25", "nginx:1.27"));
    let diff = s.kubectl(&["diff", "-f", &changed]);
    assert_eq!(diff.status.code(), Some(1), "{}", String::from_utf8_lossy(&diff.stderr));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("-      - image: nginx:1.25") && text.contains("+      - image: nginx:1.27"), "{text}");
    assert!(!text.contains("-  resourceVersion"), "a dry run keeps the live resourceVersion:\n{text}");

    // edit with a scripted editor.
    let editor = write(s.dir(), "editor.sh", "#!/bin/sh\nsed -i 's/replicas: 2/replicas: 6/' \"$1\"\n");
    let _ = Command::new("chmod").arg("+x").arg(&editor).status();
    let out = Command::new(kapi_tests::tool("kubectl"))
        .arg("--kubeconfig")
        .arg(s.kubeconfig())
        .args(["edit", "deployment", "web"])
        .env("KUBE_EDITOR", &editor)
        .output()
        .unwrap_or_else(|e| panic!("kubectl edit: {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(s.kubectl_ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "6");

    // get -w prints the table then each change.
    let mut child = Command::new(kapi_tests::tool("kubectl"))
        .arg("--kubeconfig")
        .arg(s.kubeconfig())
        .args(["get", "configmaps", "-w", "--request-timeout=10s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("kubectl get -w: {e}"));
    std::thread::sleep(Duration::from_millis(1500));
    s.kubectl_ok(&["create", "configmap", "watched", "--from-literal=x=y"]);
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("kubectl get -w: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().next().is_some_and(|l| l.starts_with("NAME")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("watched ")), "the watch should print the new configmap:\n{text}");
    let _ = std::io::stdout().flush();
}
