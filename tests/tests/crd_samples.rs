//! The three real-world CRDs in schemas/ compile into typed, validated kinds: their upstream samples
//! validate and decode, and broken samples get the errors kube-apiserver gives. The CRD corpus
//! (reference/crds/corpus/, 57 CRDs of public projects) compiles unchanged into one apiserver
//! (kapi-corpus), which stores and serves a minimal object of each kind as kube-apiserver does.

use apiserver::KINDS;
use kapi_runtime::apimachinery::schema::validate;
use kapi_runtime::apimachinery::{ErrorType, KindInfo};
use serde_json::{json, Value};

fn sample(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/crds/samples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn info(api_version: &str, kind: &str) -> &'static KindInfo {
    KINDS
        .iter()
        .copied()
        .find(|k| {
            let av = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
            av == api_version && k.kind == kind
        })
        .unwrap_or_else(|| panic!("{api_version} {kind} is not in the registry"))
}

fn errors(v: &Value) -> Vec<(ErrorType, String, String)> {
    let av = v["apiVersion"].as_str().unwrap_or_default();
    let kind = v["kind"].as_str().unwrap_or_default();
    validate(info(av, kind).schema, v, "").into_iter().map(|e| (e.error_type, e.field.clone(), e.to_string())).collect()
}

#[test]
fn valid_samples_validate_and_decode() {
    let sm = sample("monitoring.coreos.com_servicemonitors.yaml");
    assert_eq!(errors(&sm), vec![]);
    let typed: apiserver::monitoring_coreos_com::v1::ServiceMonitor = serde_json::from_value(sm.clone()).expect("decodes");
    assert_eq!(typed.spec.endpoints.first().and_then(|e| e.interval.as_deref()), Some("30s"));
    assert_eq!(serde_json::to_value(&typed).expect("encodes"), sm, "round trip is lossless");

    let cert = sample("cert-manager.io_certificates.yaml");
    assert_eq!(errors(&cert), vec![]);
    let typed: apiserver::cert_manager_io::v1::Certificate = serde_json::from_value(cert.clone()).expect("decodes");
    assert_eq!(typed.spec.as_ref().map(|s| s.secret_name.as_str()), Some("example-com-tls"));
    assert_eq!(serde_json::to_value(&typed).expect("encodes"), cert);

    let route = sample("gateway.networking.k8s.io_httproutes.yaml");
    assert_eq!(errors(&route), vec![]);
    let typed: apiserver::gateway::v1beta1::HTTPRoute = serde_json::from_value(route.clone()).expect("decodes");
    let port = typed.spec.rules.as_ref().and_then(|r| r[0].backend_refs.as_ref()).map(|b| b[0].port);
    assert_eq!(port, Some(Some(80)));
}

#[test]
fn invalid_samples_are_rejected_like_upstream() {
    let mut sm = sample("monitoring.coreos.com_servicemonitors.yaml");
    sm["spec"]["endpoints"][0]["interval"] = json!("30 seconds");
    sm["spec"]["endpoints"][0]["scheme"] = json!("ftp");
    let errs = errors(&sm);
    assert!(errs.iter().any(|(t, f, _)| *t == ErrorType::Invalid && f == "spec.endpoints[0].interval"), "{errs:#?}");
    assert!(
        errs.iter().any(|(t, _, m)| *t == ErrorType::NotSupported
            && m == r#"spec.endpoints[0].scheme: Unsupported value: "ftp": supported values: "http", "https""#),
        "{errs:#?}"
    );

    let mut cert = sample("cert-manager.io_certificates.yaml");
    cert["spec"].as_object_mut().expect("spec").remove("secretName");
    cert["spec"]["dnsNames"] = json!("example.com");
    let errs = errors(&cert);
    assert!(errs.iter().any(|(t, _, m)| *t == ErrorType::Required && m == "spec.secretName: Required value"), "{errs:#?}");
    assert!(errs.iter().any(|(t, f, _)| *t == ErrorType::TypeInvalid && f == "spec.dnsNames"), "{errs:#?}");

    let mut route = sample("gateway.networking.k8s.io_httproutes.yaml");
    route["spec"]["rules"][0]["backendRefs"][0]["port"] = json!(70000);
    let errs = errors(&route);
    assert!(
        errs.iter().any(|(_, _, m)| m
            == "spec.rules[0].backendRefs[0].port: Invalid value: 70000: spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535"),
        "{errs:#?}"
    );
}

/// The corpus apiserver (kapi-corpus), in this process: plain HTTP on a loopback port, the embedded
/// store in a temporary folder, every request allowed.
struct CorpusServer {
    url: String,
    running: Option<kapi_runtime::server::Running>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl CorpusServer {
    fn start() -> CorpusServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_stack_size(kapi_runtime::apimachinery::json::STACK_SIZE)
            .build()
            .expect("tokio runtime");
        let port = kapi_tests::free_port().to_string();
        let data = dir.path().to_string_lossy().to_string();
        let args = ["--data-dir", &data, "--secure-port", "0", "--insecure-port", &port, "--authorization-mode", "AlwaysAllow"];
        let flags = kapi_runtime::server::Flags::from_args(args).expect("flags");
        let running = rt.block_on(kapi_runtime::server::start(kapi_corpus::generated(), flags)).unwrap_or_else(|e| panic!("the corpus apiserver does not start: {e}"));
        let addr = running.insecure_addr.expect("insecure port");
        CorpusServer { url: format!("http://{addr}"), running: Some(running), rt, _dir: dir }
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json"));
        let reply = kapi_tests::server::request(&format!("{}{path}", self.url), method, &[("Content-Type", "application/json")], bytes.as_deref());
        let json = serde_json::from_slice(&reply.body).unwrap_or_else(|_| Value::String(reply.text()));
        (reply.status, json)
    }
}

impl Drop for CorpusServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.rt.block_on(running.stop());
        }
    }
}

/// reference/crds/corpus-objects.yaml: per CRD (`<plural>.<group>`), the object created and what
/// kube-apiserver v1.36.2 answered to GET (and LIST) at each served version.
fn corpus_objects() -> serde_json::Map<String, Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/crds/corpus-objects.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The corpus kind of `<plural>.<group>` at `version`.
fn corpus_kind(crd: &str, version: &str) -> &'static KindInfo {
    kapi_corpus::KINDS.iter().copied().find(|k| k.group_resource() == crd && k.version == version).unwrap_or_else(|| panic!("{crd} {version} is not in the corpus apiserver"))
}

/// The collection path of a corpus kind (namespace `default` when namespaced).
fn collection(k: &KindInfo) -> String {
    match k.namespaced() {
        true => format!("/apis/{}/{}/namespaces/default/{}", k.group, k.version, k.plural),
        false => format!("/apis/{}/{}/{}", k.group, k.version, k.plural),
    }
}

/// An answer without what differs between servers and runs (upstream's were recorded without them).
fn comparable(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["uid", "resourceVersion", "creationTimestamp", "managedFields"] {
            meta.remove(k);
        }
    }
    v
}

/// Every CRD of the corpus compiles: each of its versions is a kind of kapi-corpus, served as upstream
/// serves it, and the objects' fixture covers each CRD.
#[test]
fn corpus_compiles_every_crd_unchanged() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/crds/corpus");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 57, "{files:?}");
    let mut crds: Vec<String> = kapi_corpus::KINDS.iter().map(|k| k.group_resource()).collect();
    crds.sort();
    crds.dedup();
    // `<group>_<plural>.yaml` names the CRD it holds.
    let mut from_files: Vec<String> = files.iter().filter_map(|f| f.strip_suffix(".yaml")?.split_once('_').map(|(g, p)| format!("{p}.{g}"))).collect();
    from_files.sort();
    assert_eq!(crds, from_files);
    let fixture: Vec<String> = corpus_objects().keys().cloned().collect();
    assert_eq!(fixture, from_files, "one object per CRD in corpus-objects.yaml");
    // Served versions are exactly those upstream read the objects at.
    for (crd, entry) in corpus_objects() {
        let mut want: Vec<&str> = entry["read"].as_object().expect("read").keys().map(String::as_str).collect();
        let mut served: Vec<&str> = kapi_corpus::KINDS.iter().filter(|k| k.group_resource() == crd && k.served).map(|k| k.version).collect();
        want.sort();
        served.sort();
        assert_eq!(served, want, "{crd}");
    }
}

/// The minimal object of each corpus CRD, created at its storage version, reads back by GET and by
/// LIST at every served version exactly as kube-apiserver v1.36.2 stored and served it (defaults,
/// pruning, conversion; Webhook conversions fail as upstream's do without the webhook's Service).
/// Every difference is reported, not just the first.
#[test]
fn corpus_objects_round_trip_at_every_served_version() {
    let server = CorpusServer::start();
    let mut failures = Vec::new();
    for (crd, entry) in corpus_objects() {
        let storage = entry["storageVersion"].as_str().expect("storageVersion");
        let create = &entry["create"];
        let name = create["metadata"]["name"].as_str().expect("name");
        let (code, created) = server.request("POST", &collection(corpus_kind(&crd, storage)), Some(create));
        if code != 201 {
            failures.push(format!("{crd}: create at {storage}: {code} {created}"));
            continue;
        }
        let stored = &entry["read"][storage];
        if comparable(created.clone()) != *stored {
            failures.push(format!("{crd}: create at {storage} answered\n  {}\nupstream stored\n  {stored}", comparable(created)));
        }
        for (version, want) in entry["read"].as_object().expect("read") {
            let path = collection(corpus_kind(&crd, version));
            let (code, got) = server.request("GET", &format!("{path}/{name}"), None);
            let (list_code, list) = server.request("GET", &path, None);
            match want.get("error") {
                None => {
                    if code != 200 || comparable(got.clone()) != *want {
                        failures.push(format!("{crd}: GET at {version}: {code}\n  {}\nupstream\n  {want}", comparable(got)));
                    }
                    let items: Vec<Value> = list["items"].as_array().cloned().unwrap_or_default().into_iter().map(comparable).collect();
                    if list_code != 200 || items != [want.clone()] {
                        failures.push(format!("{crd}: LIST at {version}: {list_code} {}", Value::Array(items)));
                    }
                }
                Some(err) => {
                    for (what, code, got) in [("GET", code, &got), ("LIST", list_code, &list)] {
                        let message = got["message"].as_str().unwrap_or_default();
                        let want = err["message"].as_str().unwrap_or_default();
                        if u64::from(code) != err["code"] || message != want {
                            failures.push(format!("{crd}: {what} at {version}: {code} {message:?}\nupstream\n  {} {want:?}", err["code"]));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} difference(s) from kube-apiserver v1.36.2:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// Tekton's Task has a status subresource but no `status` in its schema (upstream accepts it; Tekton
/// opts in so that only spec changes count as generations). Upstream's status write keeps the stored
/// object but its status, which pruning then drops: the write changes nothing, and answers 200.
#[test]
fn corpus_status_subresource_without_status_property() {
    let server = CorpusServer::start();
    let task = corpus_kind("tasks.tekton.dev", "v1");
    assert!(task.status_subresource);
    let body = json!({"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t", "namespace": "default"}, "spec": {"steps": [{"name": "echo", "image": "alpine"}]}});
    let (code, created) = server.request("POST", &collection(task), Some(&body));
    assert_eq!(code, 201, "{created}");
    let mut changed = created.clone();
    changed["status"] = json!({"podName": "x"});
    changed["spec"]["description"] = json!("changed");
    let (code, answer) = server.request("PUT", &format!("{}/t/status", collection(task)), Some(&changed));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(comparable(answer.clone()), comparable(created.clone()));
    assert_eq!(answer["metadata"]["resourceVersion"], created["metadata"]["resourceVersion"], "nothing was written");
    let (_, now) = server.request("GET", &format!("{}/t", collection(task)), None);
    assert_eq!(now, created);
}
