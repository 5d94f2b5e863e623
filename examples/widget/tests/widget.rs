//! The worked example through real clients: a Widget served at v1 (storage) and v2, converted by
//! typed Rust hooks, defaulted and validated by hooks and CEL rules; a Gadget converted by a real
//! HTTPS ConversionReview webhook this test serves. kubectl and kube-rs see the same objects at both
//! versions, in gets, lists, watches, patches and server-side applies, and managed fields recorded at
//! one version stay right when the other writes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kapi_tests::Server;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::{watcher, WatchStreamExt};
use serde_json::{json, Value};

fn server() -> Server {
    Server::start_binary(Path::new(env!("CARGO_BIN_EXE_apiserver-widget-example")), &[])
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

fn kubectl_json(s: &Server, args: &[&str]) -> Value {
    let out = s.kubectl_ok(args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}: {out}"))
}

fn kubectl_err(s: &Server, args: &[&str]) -> String {
    let out = s.kubectl(args);
    assert!(!out.status.success(), "kubectl {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Managers and their field sets, by manager name.
fn managed(object: &Value) -> Vec<(String, String, Value)> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| (e["manager"].as_str().unwrap_or_default().to_string(), e["apiVersion"].as_str().unwrap_or_default().to_string(), e["fieldsV1"].clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn widget_versions_hooks_and_rules_through_kubectl() {
    let s = server();
    let dir = tempfile::tempdir().expect("tempdir");

    // Created at v2: stored at v1, read at both; the hook defaulted displayName from color.
    let v2 = write(dir.path(), "w.yaml", "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\nspec: {color: red, replicas: 3}\n");
    s.kubectl_ok(&["create", "-f", v2.to_str().unwrap_or_default()]);
    let at_v1 = kubectl_json(&s, &["get", "widgets.v1.example.com", "w", "-o", "json"]);
    assert_eq!(at_v1["apiVersion"], "example.com/v1");
    assert_eq!(at_v1["spec"], json!({"color": "red", "displayName": "red widget", "size": 3, "minReplicas": 1, "maxReplicas": 10}));
    // A hook's change to metadata is kept (it ran at v1 for a request at v2).
    assert_eq!(at_v1["metadata"]["labels"], json!({"example.com/color": "red"}));
    let selected = s.kubectl_ok(&["get", "widgets.v2.example.com", "-l", "example.com/color=red", "-o", "name"]);
    assert_eq!(selected.trim(), "widget.example.com/w");
    let list = kubectl_json(&s, &["get", "widgets.v2.example.com", "-o", "json"]);
    assert_eq!(list["items"][0]["apiVersion"], "example.com/v2");
    assert_eq!(list["items"][0]["spec"]["replicas"], 3);
    let table = s.kubectl_ok(&["get", "widgets.v1.example.com"]);
    assert!(table.lines().next().is_some_and(|h| h.contains("COLOR") && h.contains("SIZE")), "{table}");

    // A merge patch at v1 by another manager: the creator (recorded at v2) loses the field it no
    // longer holds, compared at its own version (replicas), and the patcher owns size at v1.
    let patched = kubectl_json(&s, &["patch", "widgets.v1.example.com", "w", "--type", "merge", "-p", r#"{"spec":{"size":4}}"#, "-o", "json", "--show-managed-fields"]);
    let m = managed(&patched);
    let creator = m.iter().find(|(n, _, _)| n == "kubectl-create").expect("creator entry");
    assert_eq!(creator.1, "example.com/v2");
    assert!(creator.2["f:spec"].get("f:replicas").is_none(), "the creator lost replicas: {m:?}");
    let patcher = m.iter().find(|(n, _, _)| n == "kubectl-patch").expect("patcher entry");
    assert_eq!((patcher.1.as_str(), &patcher.2), ("example.com/v1", &json!({"f:spec": {"f:size": {}}})));
    assert_eq!(kubectl_json(&s, &["get", "widgets.v2.example.com", "w", "-o", "json"])["spec"]["replicas"], 4);

    // A server-side apply at v2 of replicas conflicts with the v1 owner of size.
    let apply = write(dir.path(), "a.yaml", "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\nspec: {replicas: 5}\n");
    let err = kubectl_err(&s, &["apply", "--server-side", "--field-manager", "applier", "-f", apply.to_str().unwrap_or_default()]);
    assert!(err.contains(r#"conflict with "kubectl-patch" using example.com/v1: .spec.size"#), "{err}");
    let applied = kubectl_json(
        &s,
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            "applier",
            "-f",
            apply.to_str().unwrap_or_default(),
            "-o",
            "json",
            "--show-managed-fields",
        ],
    );
    assert_eq!(applied["spec"]["replicas"], 5);
    let m = managed(&applied);
    assert!(m.iter().all(|(n, _, _)| n != "kubectl-patch"), "the forced apply took size from the patcher: {m:?}");
    let applier = m.iter().find(|(n, _, _)| n == "applier").expect("applier entry");
    assert_eq!((applier.1.as_str(), &applier.2), ("example.com/v2", &json!({"f:spec": {"f:replicas": {}}})));
    assert_eq!(kubectl_json(&s, &["get", "widgets.v1.example.com", "w", "-o", "json"])["spec"]["size"], 5);

    // CEL (both versions' rule), the transition rule, and the hooks' cross-field checks.
    let bad = write(dir.path(), "b.yaml", "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: b}\nspec: {color: red, minReplicas: 7, maxReplicas: 2}\n");
    let err = kubectl_err(&s, &["create", "-f", bad.to_str().unwrap_or_default()]);
    assert!(err.contains(r#"The Widget "b" is invalid: spec: Invalid value: minReplicas must be <= maxReplicas"#), "{err}");
    let err = kubectl_err(&s, &["patch", "widgets.v2.example.com", "w", "--type", "merge", "-p", r#"{"spec":{"color":"blue"}}"#]);
    assert!(err.contains(r#"spec.color: Invalid value: "blue": color is immutable"#), "{err}");
    let big = write(dir.path(), "g.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: g}\nspec: {color: red, size: 30, maxReplicas: 20}\n");
    let err = kubectl_err(&s, &["create", "-f", big.to_str().unwrap_or_default()]);
    assert!(err.contains("spec.size: Invalid value: 30: must not be greater than maxReplicas (20)"), "{err}");
    // validateUpdate sees the old object (at v1, whatever version the request used).
    let err = kubectl_err(&s, &["patch", "widgets.v2.example.com", "w", "--type", "merge", "-p", r#"{"spec":{"replicas":1}}"#]);
    assert!(err.contains("spec.size: Invalid value: 1: may not shrink below half of 5 at once"), "{err}");
}

async fn client_from(s: &Server) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(s.kubeconfig()).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await.expect("config");
    kube::Client::try_from(config).expect("client")
}

fn widgets(client: &kube::Client, version: &str) -> Api<DynamicObject> {
    let gvk = kube::api::GroupVersionKind::gvk("example.com", version, "Widget");
    Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk_with_plural(&gvk, "widgets"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_versions_through_kube_rs() {
    let s = server();
    let client = client_from(&s).await;
    let (v1, v2) = (widgets(&client, "v1"), widgets(&client, "v2"));

    // A watcher at v2 sees objects written at v1 as v2.
    let seen = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let sink = seen.clone();
    let watching = tokio::spawn(watcher(v2.clone(), watcher::Config::default()).applied_objects().for_each(move |o| {
        if let Ok(o) = o {
            sink.lock().unwrap_or_else(|e| e.into_inner()).push(serde_json::to_value(&o).unwrap_or_default());
        }
        futures::future::ready(())
    }));

    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "k"}, "spec": {"color": "green", "size": 2}
    }))
    .expect("object");
    let created = v1.create(&PostParams::default(), &object).await.expect("create at v1");
    assert_eq!(created.data["spec"]["displayName"], "green widget");
    let got = v2.get("k").await.expect("get at v2");
    assert_eq!(got.types.as_ref().map(|t| t.api_version.as_str()), Some("example.com/v2"));
    assert_eq!(got.data["spec"]["replicas"], 2);
    let listed = v2.list(&Default::default()).await.expect("list at v2");
    assert!(listed.items.iter().all(|o| o.types.as_ref().is_some_and(|t| t.api_version == "example.com/v2")));

    // Patched at v2, read at v1.
    v2.patch("k", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": 3}}))).await.expect("patch at v2");
    assert_eq!(v1.get("k").await.expect("get at v1").data["spec"]["size"], 3);
    // Applied at v2: displayName was set (defaulted) by the creator at v1, so taking it conflicts
    // with that v1 entry unless forced.
    let apply = json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "k"}, "spec": {"displayName": "mine"}});
    let conflict = v2.patch("k", &PatchParams::apply("kube-rs-applier"), &Patch::Apply(apply.clone())).await.expect_err("a conflict");
    let kube::Error::Api(status) = conflict else { panic!("expected a Status: {conflict:?}") };
    assert_eq!(status.code, 409);
    assert!(status.message.contains("using example.com/v1: .spec.displayName"), "{}", status.message);
    let applied = v2.patch("k", &PatchParams::apply("kube-rs-applier").force(), &Patch::Apply(apply)).await.expect("apply at v2");
    assert_eq!(applied.data["spec"]["displayName"], "mine");
    assert_eq!(v1.get("k").await.expect("get").data["spec"]["displayName"], "mine");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let done = seen.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|o| o["spec"]["displayName"] == "mine");
        if done {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the watcher at v2 did not see the apply: {:?}", seen.lock().map(|v| v.clone()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for o in seen.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        assert_eq!(o["apiVersion"], "example.com/v2", "{o}");
        assert!(o["spec"].get("size").is_none(), "{o}");
    }
    watching.abort();
}

/// The Gadget's webhook: `size` (v1) ⟷ `replicas` (v2), on 127.0.0.1:18443 (the URL in
/// gadgets.yaml) with the checked-in certificate.
async fn serve_webhook(calls: Arc<AtomicUsize>) -> tokio::task::JoinHandle<()> {
    use http_body_util::{BodyExt, Full};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let pki = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhook-pki");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki.join("server.crt")).expect("cert").filter_map(Result::ok).collect();
    let key = PrivateKeyDer::from_pem_file(pki.join("server.key")).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:18443").await.expect("bind 127.0.0.1:18443 (the URL gadgets.yaml names)");
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { continue };
            let (acceptor, calls) = (acceptor.clone(), calls.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let calls = calls.clone();
                    async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let review: Value = serde_json::from_slice(&body).unwrap_or_default();
                        let desired = review["request"]["desiredAPIVersion"].as_str().unwrap_or_default().to_string();
                        let converted: Vec<Value> = review["request"]["objects"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|mut o| {
                                let spec = o["spec"].as_object_mut().map(std::mem::take).unwrap_or_default();
                                let mut out = serde_json::Map::new();
                                for (k, v) in spec {
                                    let k = match (k.as_str(), desired.as_str()) {
                                        ("size", "example.com/v2") => "replicas".to_string(),
                                        ("replicas", "example.com/v1") => "size".to_string(),
                                        _ => k,
                                    };
                                    out.insert(k, v);
                                }
                                o["spec"] = Value::Object(out);
                                o["apiVersion"] = Value::String(desired.clone());
                                o
                            })
                            .collect();
                        let answer = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": {
                            "uid": review["request"]["uid"], "result": {"status": "Success"}, "convertedObjects": converted}});
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from(answer.to_string()))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(tls), service).await;
            });
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gadget_converts_through_a_webhook() {
    let s = server();
    let client = client_from(&s).await;
    let gadgets = |version: &str| {
        let gvk = kube::api::GroupVersionKind::gvk("example.com", version, "Gadget");
        Api::<DynamicObject>::namespaced_with(client.clone(), "default", &ApiResource::from_gvk_with_plural(&gvk, "gadgets"))
    };
    let (v1, v2) = (gadgets("v1"), gadgets("v2"));
    let calls = Arc::new(AtomicUsize::new(0));
    let webhook = serve_webhook(calls.clone()).await;

    // Written at both versions: stored at v1 (converted by the webhook), read back at both.
    let object: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 7}})).expect("object");
    v1.create(&PostParams::default(), &object).await.expect("create at v1");
    let got = v2.get("g").await.expect("converted by the webhook");
    assert_eq!(got.data["spec"], json!({"replicas": 7}));
    assert_eq!(got.types.as_ref().map(|t| t.api_version.as_str()), Some("example.com/v2"));
    let object: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "example.com/v2", "kind": "Gadget", "metadata": {"name": "h"}, "spec": {"replicas": 2}})).expect("object");
    v2.create(&PostParams::default(), &object).await.expect("create at v2");
    assert_eq!(v1.get("h").await.expect("get at v1").data["spec"], json!({"size": 2}));
    let listed = v2.list(&Default::default()).await.expect("list at v2");
    let sizes: Vec<&Value> = listed.items.iter().map(|o| &o.data["spec"]["replicas"]).collect();
    assert_eq!(sizes, [&json!(7), &json!(2)]);
    assert!(calls.load(Ordering::SeqCst) >= 3, "the webhook was called");

    // Without the webhook a read at v2 fails as upstream's does; the storage version needs none.
    webhook.abort();
    let _ = webhook.await;
    let object: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "late"}, "spec": {"size": 1}})).expect("object");
    v1.create(&PostParams::default(), &object).await.expect("create at the storage version needs no webhook");
    let err = v2.get("late").await.expect_err("no webhook to convert");
    let kube::Error::Api(status) = err else { panic!("expected a Status: {err:?}") };
    assert_eq!(status.code, 500);
    assert!(
        status.message.contains(
            "conversion webhook for example.com/v1, Kind=Gadget failed: Post \"https://127.0.0.1:18443/convert?timeout=30s\": dial tcp 127.0.0.1:18443: connect: connection refused"
        ),
        "{}",
        status.message
    );
    assert_eq!(v1.get("late").await.expect("the storage version reads without conversion").data["spec"], json!({"size": 1}));
}
