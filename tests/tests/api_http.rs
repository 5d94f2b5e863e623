//! The generated apiserver over raw HTTP: paths, codes, reasons, headers and bodies compared with
//! what kube-apiserver v1.36 answers (tests/reference/responses/). API semantics that need no
//! process (wire types, type confusion) run in-process over the request handler.

use std::time::{Duration, Instant};

use kapi_tests::server::Reply;
use kapi_tests::Server;
use serde_json::{json, Value};

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}})
}

/// The body of a reference response file (everything after the blank line).
fn reference_body(name: &str) -> Value {
    let path = kapi_tests::project_root().join("tests/reference/responses").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = text.replace("\r\n", "\n");
    let body = text.split_once("\n\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn status_of(r: &Reply) -> (u16, String, String) {
    let v = r.json();
    assert_eq!(v["kind"], "Status", "not a Status: {v}");
    (r.status, v["reason"].as_str().unwrap_or("").to_string(), v["message"].as_str().unwrap_or("").to_string())
}

#[test]
fn crud_errors_match_upstream() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let created = s.post_json(base, &cm("tbl-cm"));
    assert_eq!(created.status, 201, "{}", created.text());
    let obj = created.json();
    assert_eq!(obj["kind"], "ConfigMap");
    assert_eq!(obj["metadata"]["namespace"], "default");
    assert!(obj["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(obj["metadata"]["creationTimestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let rv: i64 = obj["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse().ok()).expect("numeric resourceVersion");
    assert!(rv > 1);

    // AlreadyExists: the same body and status as kube-apiserver.
    let dup = s.post_json(base, &cm("tbl-cm"));
    assert_eq!(dup.json(), reference_body("create-alreadyexists.http"));
    assert_eq!(dup.status, 409);
    assert_eq!(dup.header("content-type"), Some("application/json"));

    let nope = s.get(&format!("{base}/nope"));
    assert_eq!(nope.json(), reference_body("get-notfound.http"));

    // Update with a stale resourceVersion: 409 Conflict.
    let mut stale = obj.clone();
    stale["metadata"]["resourceVersion"] = json!((rv - 1).to_string());
    stale["data"]["a"] = json!("c");
    let body = serde_json::to_vec(&stale).unwrap_or_default();
    let conflict = s.request("PUT", &format!("{base}/tbl-cm"), &[("content-type", "application/json")], Some(&body));
    assert_eq!(conflict.json(), reference_body("update-conflict.http"));

    let malformed = s.request("POST", base, &[("content-type", "application/json")], Some(b"{not json"));
    let (code, reason, message) = status_of(&malformed);
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
    assert!(message.starts_with("the object provided is unrecognized (must be of type ConfigMap)"), "{message}");

    let bad_name = s.post_json(base, &cm("UPPER_case"));
    assert_eq!(bad_name.json(), reference_body("create-invalid-name.http"));

    // Unknown fields: Warn (default) drops them with a Warning header; Strict refuses.
    let mut unk = cm("unk");
    unk["bogusField"] = json!(1);
    let warn = s.post_json(base, &unk);
    assert_eq!(warn.status, 201);
    assert_eq!(warn.header("warning"), Some(r#"299 - "unknown field \"bogusField\"""#));
    assert!(warn.json().get("bogusField").is_none());
    let mut unk2 = unk.clone();
    unk2["metadata"]["name"] = json!("unk2");
    let strict = s.post_json(&format!("{base}?fieldValidation=Strict"), &unk2);
    assert_eq!(strict.json(), reference_body("create-unknown-field-strict.http"));
    assert_eq!(s.get(&format!("{base}/unk2")).status, 404, "a refused create must not write");

    let patch = s.request("PATCH", &format!("{base}/tbl-cm"), &[("content-type", "text/plain")], Some(b"x"));
    let (code, reason, _) = status_of(&patch);
    assert_eq!((code, reason.as_str()), (415, "UnsupportedMediaType"));

    let fs = s.get(&format!("{base}?fieldSelector=data.a%3Db"));
    assert_eq!(fs.json(), reference_body("list-bad-field-selector.http"));

    // Wrong apiVersion in the body → 400; body over 3 MiB → 413; unknown paths → 404.
    let mut wrong = cm("w");
    wrong["apiVersion"] = json!("apps/v1");
    assert_eq!(status_of(&s.post_json(base, &wrong)).0, 400);
    let big = vec![b' '; 3 * 1024 * 1024 + 10];
    let too_big = s.request("POST", base, &[("content-type", "application/json")], Some(&big));
    assert_eq!(status_of(&too_big).1, "RequestEntityTooLarge");
    assert_eq!(s.get("/apis/nope.example.com/v1/things").status, 404);
    assert_eq!(s.get("/apis/nope.example.com/v1/things").text(), "404 page not found\n");
    let unknown_resource = s.get("/api/v1/namespaces/default/nothings");
    assert_eq!(status_of(&unknown_resource).0, 404);
    let no_scale = s.get("/api/v1/namespaces/default/pods/x/scale");
    assert_eq!(no_scale.json(), reference_body("pod-no-scale.http"));
    let method = s.request("PUT", "/api/v1/namespaces/default/configmaps", &[], Some(b"{}"));
    assert_eq!(status_of(&method).1, "MethodNotAllowed");
}

#[test]
fn lists_paginate_and_filter() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    for i in 0..5 {
        let mut c = cm(&format!("c{i}"));
        c["metadata"]["labels"] = json!({"n": i.to_string(), "tier": if i % 2 == 0 { "even" } else { "odd" }});
        assert_eq!(s.post_json(base, &c).status, 201);
    }
    let page1 = s.get(&format!("{base}?limit=2")).json();
    assert_eq!(page1["kind"], "ConfigMapList");
    assert_eq!(page1["items"].as_array().map(Vec::len), Some(2));
    assert!(page1["items"][0].get("kind").is_none(), "built-in list items carry no kind, as upstream");
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().expect("continue token").to_string();
    let page2 = s.get(&format!("{base}?limit=2&continue={token}")).json();
    assert_eq!(page2["items"][0]["metadata"]["name"], "c2");
    assert_eq!(page2["metadata"]["resourceVersion"], page1["metadata"]["resourceVersion"]);
    let odd = s.get(&format!("{base}?labelSelector=tier%3Dodd")).json();
    let names: Vec<&str> = odd["items"].as_array().into_iter().flatten().filter_map(|i| i["metadata"]["name"].as_str()).collect();
    assert_eq!(names, ["c1", "c3"]);
    let notin = s.get(&format!("{base}?labelSelector=n+notin+(0,1,2),tier")).json();
    assert_eq!(notin["items"].as_array().map(Vec::len), Some(2));
    let by_name = s.get(&format!("{base}?fieldSelector=metadata.name%3Dc4")).json();
    assert_eq!(by_name["items"][0]["metadata"]["name"], "c4");
    let bad = s.get(&format!("{base}?continue=garbage"));
    assert_eq!(bad.status, 400);
    let all_ns = s.get("/api/v1/configmaps").json();
    assert!(all_ns["items"].as_array().map_or(0, Vec::len) >= 5);
    let table = s.request(
        "GET",
        base,
        &[("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")],
        None,
    );
    let t = table.json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["columnDefinitions"][0]["name"], "Name");
    assert_eq!(t["rows"].as_array().map(Vec::len), Some(5));
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[test]
fn watch_streams_events_and_expires() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let created = s.post_json(base, &cm("w1")).json();
    let rv = created["metadata"]["resourceVersion"].as_str().unwrap_or("").to_string();
    // rv=0 watch with a timeout: the current state as ADDED, then the stream ends.
    let started = Instant::now();
    let r = s.get(&format!("{base}?watch=1&resourceVersion=0&timeoutSeconds=1"));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(r.status, 200);
    let lines: Vec<Value> = r.text().lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "w1");
    assert_eq!(lines[0]["object"]["kind"], "ConfigMap");
    // From rv: later changes only.
    let mut upd = created.clone();
    upd["data"]["a"] = json!("z");
    let body = serde_json::to_vec(&upd).unwrap_or_default();
    assert_eq!(s.request("PUT", &format!("{base}/w1"), &[("content-type", "application/json")], Some(&body)).status, 200);
    assert_eq!(s.request("DELETE", &format!("{base}/w1"), &[], None).status, 200);
    let r = s.get(&format!("{base}?watch=true&resourceVersion={rv}&timeoutSeconds=1"));
    let types: Vec<String> = r.text().lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).map(|v| v["type"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(types, ["MODIFIED", "DELETED"]);
    // sendInitialEvents: ADDED for the state, then the initial-events-end bookmark.
    assert_eq!(s.post_json(base, &cm("w2")).status, 201);
    let r = s.get(&format!(
        "{base}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
    ));
    let events: Vec<Value> = r.text().lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let end = events.iter().find(|e| e["type"] == "BOOKMARK").expect("a bookmark");
    assert_eq!(end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
    assert_eq!(end["object"]["kind"], "ConfigMap");
}

#[test]
fn namespaces_lifecycle() {
    let s = Server::start(&[]);
    let list = s.get("/api/v1/namespaces").json();
    let mut names: Vec<&str> = list["items"].as_array().into_iter().flatten().filter_map(|i| i["metadata"]["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["default", "kube-node-lease", "kube-public", "kube-system"]);
    let missing = s.post_json("/api/v1/namespaces/nope/configmaps", &cm("x"));
    assert_eq!(status_of(&missing).0, 404);
    let ns = s.post_json("/api/v1/namespaces", &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}}));
    assert_eq!(ns.status, 201);
    assert_eq!(ns.json()["status"]["phase"], "Active");
    assert_eq!(ns.json()["spec"]["finalizers"], json!(["kubernetes"]));
    for i in 0..3 {
        assert_eq!(s.post_json("/api/v1/namespaces/ns1/configmaps", &cm(&format!("c{i}"))).status, 201);
    }
    let del = s.request("DELETE", "/api/v1/namespaces/ns1", &[], None);
    assert!(del.status == 200 || del.status == 202, "{}", del.text());
    assert_eq!(del.json()["status"]["phase"], "Terminating");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = s.get("/api/v1/namespaces/ns1");
        if got.status == 404 {
            break;
        }
        if got.status == 200 {
            // While terminating, nothing new may be created in it.
            let refused = s.post_json("/api/v1/namespaces/ns1/configmaps", &cm("late"));
            assert!(refused.status == 403 || refused.status == 404, "{}", refused.text());
        }
        assert!(Instant::now() < deadline, "namespace ns1 was not finalized: {}", got.text());
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = s.get("/api/v1/namespaces/ns1/configmaps").json();
    assert_eq!(left["items"], json!([]));
}

#[test]
fn discovery_openapi_and_health() {
    let s = Server::start(&[]);
    assert_eq!(s.get("/readyz").text(), "ok");
    assert_eq!(s.get("/livez").status, 200);
    assert!(s.get("/readyz?verbose").text().contains("[+]etcd ok"));
    let v = s.get("/version").json();
    assert_eq!(v["major"], "1");
    let api = s.get("/api").json();
    assert_eq!(api["versions"], json!(["v1"]));
    let core = s.get("/api/v1").json();
    assert!(core["resources"].as_array().into_iter().flatten().any(|r| r["name"] == "pods/status"));
    let agg = s.request("GET", "/apis", &[("accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")], None);
    assert_eq!(agg.header("content-type"), Some("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"));
    assert_eq!(agg.json()["kind"], "APIGroupDiscoveryList");
    let index = s.get("/openapi/v3").json();
    let url = index["paths"]["api/v1"]["serverRelativeURL"].as_str().expect("api/v1 in the index").to_string();
    let doc = s.get(&url);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("cache-control"), Some("public, immutable"));
    assert!(doc.json()["components"]["schemas"].get("io.k8s.api.core.v1.Pod").is_some());
    let v2 = s.request("GET", "/openapi/v2", &[("accept-encoding", "gzip")], None);
    assert_eq!(v2.status, 200);
    assert!(v2.json()["definitions"].get("io.k8s.api.core.v1.Pod").is_some());
}

#[test]
fn concurrent_patches_are_retried_not_refused() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    assert_eq!(s.post_json(base, &cm("hot")).status, 201);
    let client = s.client();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let patch = serde_json::to_vec(&json!({"metadata": {"labels": {format!("t{t}"): i.to_string()}}})).unwrap_or_default();
                    let r = client.request(
                        "PATCH",
                        "/api/v1/namespaces/default/configmaps/hot",
                        &[("content-type", "application/merge-patch+json")],
                        Some(&patch),
                    );
                    assert_eq!(r.status, 200, "a patch without resourceVersion must not conflict: {}", r.text());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("patcher");
    }
    let labels = s.get(&format!("{base}/hot")).json()["metadata"]["labels"].clone();
    for t in 0..8 {
        assert_eq!(labels[format!("t{t}")], "9", "{labels}");
    }
    // A patch that names a stale resourceVersion is a precondition: 409.
    let stale = serde_json::to_vec(&json!({"metadata": {"resourceVersion": "2", "labels": {"x": "y"}}})).unwrap_or_default();
    let r = s.request("PATCH", &format!("{base}/hot"), &[("content-type", "application/merge-patch+json")], Some(&stale));
    assert_eq!(status_of(&r).0, 409);
}

#[test]
fn names_in_paths_are_percent_decoded_and_system_namespaces_stay() {
    let s = Server::start(&[]);
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:test"}, "rules": []});
    assert_eq!(s.post_json("/apis/rbac.authorization.k8s.io/v1/clusterroles", &role).status, 201);
    let got = s.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Atest");
    assert_eq!(got.status, 200, "{}", got.text());
    let r = s.request("DELETE", "/api/v1/namespaces/kube-system", &[], None);
    let (code, reason, message) = status_of(&r);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(message, r#"namespaces "kube-system" is forbidden: this namespace may not be deleted"#);
    // Labelling a namespace while it terminates must not delete it before its contents are gone.
    assert_eq!(s.post_json("/api/v1/namespaces", &json!({"metadata": {"name": "t1"}})).status, 201);
    let fin = json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}, "data": {}});
    assert_eq!(s.post_json("/api/v1/namespaces/t1/configmaps", &fin).status, 201);
    assert_eq!(s.request("DELETE", "/api/v1/namespaces/t1", &[], None).status, 200);
    let label = serde_json::to_vec(&json!({"metadata": {"labels": {"a": "b"}}})).unwrap_or_default();
    let r = s.request("PATCH", "/api/v1/namespaces/t1", &[("content-type", "application/merge-patch+json")], Some(&label));
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(500));
    let ns = s.get("/api/v1/namespaces/t1");
    assert_eq!(ns.status, 200, "the namespace waits for its finalizing content");
    assert_eq!(ns.json()["status"]["phase"], "Terminating");
    // Release the finalizer: the content goes, then the namespace.
    let release = serde_json::to_vec(&json!({"metadata": {"finalizers": null}})).unwrap_or_default();
    let r = s.request("PATCH", "/api/v1/namespaces/t1/configmaps/held", &[("content-type", "application/merge-patch+json")], Some(&release));
    assert_eq!(r.status, 200, "{}", r.text());
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.get("/api/v1/namespaces/t1").status != 404 {
        assert!(Instant::now() < deadline, "t1 was not finalized");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A protobuf watch (client-go's informers for built-in kinds): length-prefixed `WatchEvent`
/// frames whose objects are `k8s\0` envelopes of the ConfigMap. Two watchers of the same events
/// get the same bytes (the encoding is made once per revision and shared).
#[test]
fn protobuf_watch_frames_carry_the_objects() {
    use kapi_runtime::apimachinery::proto;
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let rv = s.post_json(base, &cm("p0")).json()["metadata"]["resourceVersion"].as_str().unwrap_or("").to_string();
    assert_eq!(s.post_json(base, &cm("p1")).status, 201);
    let mut upd = cm("p1");
    upd["data"]["a"] = json!("changed");
    let body = serde_json::to_vec(&upd).unwrap_or_default();
    assert_eq!(s.request("PUT", &format!("{base}/p1"), &[("content-type", "application/json")], Some(&body)).status, 200);
    let schema = apiserver::KINDS.iter().find(|k| k.kind == "ConfigMap" && k.group.is_empty()).expect("ConfigMap").schema;
    let watch = || {
        s.request(
            "GET",
            &format!("{base}?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
            &[("accept", "application/vnd.kubernetes.protobuf;stream=watch")],
            None,
        )
    };
    let (first, second) = (watch(), watch());
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("application/vnd.kubernetes.protobuf;stream=watch"));
    assert_eq!(first.body, second.body, "two watchers of the same events get the same frames");
    let mut rest = first.body.as_slice();
    let mut events = Vec::new();
    while let Some((message, tail)) = proto::split_frame(rest) {
        let (kind, object) = proto::decode_watch_event(message).expect("a WatchEvent");
        let object = proto::decode_object(schema, &object).expect("a ConfigMap envelope");
        events.push((kind, object["metadata"]["name"].clone(), object["data"]["a"].clone(), object["kind"].clone()));
        rest = tail;
    }
    assert!(rest.is_empty(), "a partial frame is left: {} bytes", rest.len());
    assert_eq!(
        events,
        [
            ("ADDED".to_string(), json!("p1"), json!("b"), json!("ConfigMap")),
            ("MODIFIED".to_string(), json!("p1"), json!("changed"), json!("ConfigMap")),
        ]
    );
}

/// A YAML body nested 150,000 deep (`x: [[[[...`) was parsed in quadratic time on the async
/// workers: 30 s of CPU for a 150 KB body that any identity may send (SelfSubjectAccessReview),
/// with /healthz stalled meanwhile. It is refused as upstream refuses it, in time linear in its
/// size, and the server answers others meanwhile.
#[test]
fn yaml_nesting_bombs_are_refused_in_linear_time() {
    let s = Server::start(&[]);
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let post = |depth: usize| {
        let body = format!("x: {}", "[".repeat(depth));
        let started = Instant::now();
        let r = s.request("POST", path, &[("content-type", "application/yaml")], Some(body.as_bytes()));
        (started.elapsed(), r)
    };
    post(1_000); // a warm connection and server
    let mut took = Vec::new();
    for depth in [50_000, 100_000, 150_000] {
        let (elapsed, r) = post(depth);
        let (code, reason, message) = status_of(&r);
        assert_eq!((code, reason.as_str()), (400, "BadRequest"), "{message}");
        // As upstream words it (v1.36.2): the error, then the body's first 30 bytes in hex.
        assert_eq!(
            message,
            "the object provided is unrecognized (must be of type SelfSubjectAccessReview): yaml: exceeded max depth of 10000 (783a205b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b ...)"
        );
        took.push(elapsed);
    }
    // Linear (with a fixed allowance for the round trip), and far from a second.
    assert!(took[2] < Duration::from_secs(1), "{took:?}");
    assert!(took[2] <= took[0] * 3 + Duration::from_millis(100), "not linear in the size: {took:?}");

    // Bombs sent without pause on four connections do not hold up /healthz.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    post(150_000);
                }
            });
        }
        std::thread::sleep(Duration::from_millis(200));
        healthz_stays_fast(&s, "YAML bombs");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });

    // Block nesting past go-yaml's limit gets upstream's message with the line; nesting upstream
    // reads is read (an unknown field, dropped as upstream drops it, with its warning).
    let body = format!("x:\n{}a\n", "- ".repeat(10_001));
    let r = s.request("POST", path, &[("content-type", "application/yaml")], Some(body.as_bytes()));
    assert!(status_of(&r).2.contains("): yaml: line 2: exceeded max depth of 10000 (783a0a2d202d20"), "{}", r.text());
    let body = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep-yaml}}\nx:\n{}a\n", "- ".repeat(9_999));
    let r = s.request("POST", "/api/v1/namespaces/default/configmaps", &[("content-type", "application/yaml")], Some(body.as_bytes()));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("warning"), Some("299 - \"unknown field \\\"x\\\"\""));
}

/// `/healthz`, asked 10 times while `load` runs, answers each time within a second.
fn healthz_stays_fast(s: &Server, load: &str) {
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(s.get("/healthz").text(), "ok");
        assert!(started.elapsed() < Duration::from_secs(1), "/healthz took {:?} beside {load}", started.elapsed());
    }
}

/// Writes to a large object (20,000 ConfigMap keys: half a megabyte with its managedFields, whose
/// decoding, validation, field tracking and encoding take seconds of CPU per write in a debug
/// build) sent without pause on four connections do not hold up other clients: `/healthz` answers
/// fast meanwhile, and every write lands with its manager recorded.
#[test]
fn writes_to_huge_objects_do_not_hold_up_other_clients() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let data: serde_json::Map<String, Value> = (0..20_000).map(|i| (format!("k{i:06}"), json!("v"))).collect();
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": data}).to_string();
    let r = s.request("POST", base, &[("content-type", "application/json")], Some(body.as_bytes()));
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.body.len() > 500_000, "{} bytes", r.body.len());

    let stop = std::sync::atomic::AtomicBool::new(false);
    let written = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for writer in 0..4 {
            let (s, stop, written) = (&s, &stop, &written);
            scope.spawn(move || {
                let mut n = 0;
                while n == 0 || !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let patch = json!({"data": {format!("w{writer}"): n.to_string()}}).to_string();
                    let path = format!("{base}/huge?fieldManager=writer-{writer}");
                    let r = s.request("PATCH", &path, &[("content-type", "application/merge-patch+json")], Some(patch.as_bytes()));
                    assert_eq!(r.status, 200, "{}", r.text());
                    written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        healthz_stays_fast(&s, "writes of a huge object");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(written.load(std::sync::atomic::Ordering::Relaxed) >= 4);
    let object = s.get(&format!("{base}/huge")).json();
    let managers: Vec<&str> = object["metadata"]["managedFields"].as_array().expect("managedFields").iter().filter_map(|e| e["manager"].as_str()).collect();
    for writer in 0..4 {
        assert!(object["data"][format!("w{writer}")].is_string(), "writer {writer}'s key is missing");
        assert!(managers.contains(&format!("writer-{writer}").as_str()), "{managers:?}");
    }
    assert_eq!(object["data"].as_object().map(serde_json::Map::len), Some(20_004));
}

/// JSON nested as deep as upstream reads it (10,000 levels: serde_json alone stops at 128) is
/// read, and an object holding such a value (a client's managedFields, which upstream stores as
/// given) is served by every read and write path; one level more gets upstream's decode error.
#[test]
fn json_nested_ten_thousand_deep_is_read_and_served() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let json = [("content-type", "application/json")];
    // Levels: the object, then `x`'s arrays.
    let unknown = |name: &str, levels: usize| {
        format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"x":{}{}}}"#, "[".repeat(levels - 1), "]".repeat(levels - 1))
    };
    let r = s.request("POST", base, &json, Some(unknown("deep-unknown", 10_000).as_bytes()));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("warning"), Some("299 - \"unknown field \\\"x\\\"\""));
    let r = s.request("POST", base, &json, Some(unknown("too-deep", 10_001).as_bytes()));
    assert_eq!(
        status_of(&r),
        (400, "BadRequest".into(), "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: invalid character '[' exceeded max depth ({\"apiVersion\":\"v1\",\"kind\":\"Con ...)".into())
    );

    // Managed fields sent with a create are kept (v1.36.2's answers): an entry owning a field
    // the create does not set stays beside the creator's, one owning only what the creator sets
    // is taken over and goes.
    let sent = |name: &str, fields: &str| {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}","managedFields":[{{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{fields}}}]}},"data":{{"a":"b","c":"d"}}}}"#
        );
        let r = s.request("POST", base, &[("content-type", "application/json"), ("user-agent", "creator/1.0")], Some(body.as_bytes()));
        assert_eq!(r.status, 201, "{}", r.text());
        let entries = r.json()["metadata"]["managedFields"].clone();
        entries.as_array().map(|a| a.iter().map(|e| (e["manager"].clone(), e["fieldsV1"].clone())).collect::<Vec<_>>()).unwrap_or_default()
    };
    let creator = json!({"f:data": {".": {}, "f:a": {}, "f:c": {}}});
    assert_eq!(sent("mf-kept", r#"{"f:q":{"f:y":{}}}"#), [(json!("m"), json!({"f:q": {"f:y": {}}})), (json!("creator"), creator.clone())]);
    assert_eq!(sent("mf-taken", r#"{"f:data":{"f:a":{}}}"#), [(json!("creator"), creator)]);

    // managedFields[0].fieldsV1 is free-form: 9,990 levels of it are stored and served.
    let levels = 9_990;
    let fields = format!("{}{{}}{}", "{\"f:x\":".repeat(levels), "}".repeat(levels));
    let deep = |text: &str| text.matches("{\"f:x\":").count();
    let body = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"deep-fields","managedFields":[{{"manager":"m","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{fields}}}]}},"data":{{"a":"b"}}}}"#
    );
    let rv = {
        let r = s.request("GET", base, &[], None);
        r.text().split("\"resourceVersion\":\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or_default().to_string()
    };
    let r = s.request("POST", base, &json, Some(body.as_bytes()));
    assert_eq!((r.status, deep(&r.text())), (201, levels), "{}", &r.text()[..r.text().len().min(300)]);
    let path = format!("{base}/deep-fields");
    assert_eq!(deep(&s.get(&path).text()), levels, "GET");
    assert_eq!(deep(&s.get(base).text()), levels, "LIST");
    let proto = [("accept", "application/vnd.kubernetes.protobuf")];
    for p in [path.as_str(), base] {
        let r = s.request("GET", p, &proto, None);
        assert_eq!((r.status, deep(&String::from_utf8_lossy(&r.body))), (200, levels), "protobuf {p}");
    }
    let r = s.request("GET", &format!("{base}?watch=true&resourceVersion={rv}&timeoutSeconds=1"), &[], None);
    assert_eq!(deep(&r.text()), levels, "watch: {}", &r.text()[..r.text().len().min(300)]);
    let yaml = s.request("GET", &path, &[("accept", "application/yaml")], None);
    assert_eq!(yaml.status, 200);

    // Writes walk the managed fields: an update by another manager, a server-side apply.
    let r = s.request(
        "PATCH",
        &format!("{path}?fieldManager=other"),
        &[("content-type", "application/merge-patch+json")],
        Some(br#"{"data":{"a":"c"}}"#),
    );
    assert_eq!((r.status, deep(&r.text())), (200, levels), "{}", &r.text()[..r.text().len().min(300)]);
    let r = s.request(
        "PATCH",
        &format!("{path}?fieldManager=applier"),
        &[("content-type", "application/apply-patch+yaml")],
        Some(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep-fields}\ndata: {b: c}\n"),
    );
    assert_eq!((r.status, deep(&r.text())), (200, levels), "{}", &r.text()[..r.text().len().min(300)]);
    let r = s.request("DELETE", &path, &[], None);
    assert_eq!(r.status, 200, "{}", &r.text()[..r.text().len().min(300)]);
}

/// A patch setting `metadata.uid` was answered 200 and silently ignored; upstream refuses it (422,
/// its cause reported twice), and a PUT carrying another uid fails its precondition (409).
#[test]
fn the_uid_cannot_be_patched_or_replaced() {
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let created = s.post_json(base, &cm("uid-cm")).json();
    let uid = created["metadata"]["uid"].as_str().expect("uid").to_string();
    let other = "00000000-0000-0000-0000-000000000001";
    let immutable = json!({"reason": "FieldValueInvalid", "message": format!("Invalid value: \"{other}\": field is immutable"), "field": "metadata.uid"});
    for (content_type, patch) in [
        ("application/json-patch+json", json!([{"op": "replace", "path": "/metadata/uid", "value": other}])),
        ("application/merge-patch+json", json!({"metadata": {"uid": other}})),
        ("application/strategic-merge-patch+json", json!({"metadata": {"uid": other}})),
    ] {
        let body = serde_json::to_vec(&patch).unwrap_or_default();
        let r = s.request("PATCH", &format!("{base}/uid-cm"), &[("content-type", content_type)], Some(&body));
        let (code, reason, message) = status_of(&r);
        assert_eq!((code, reason.as_str()), (422, "Invalid"), "{content_type}: {message}");
        assert_eq!(message, format!("ConfigMap \"uid-cm\" is invalid: metadata.uid: Invalid value: \"{other}\": field is immutable"));
        assert_eq!(r.json()["details"]["causes"], json!([immutable, immutable]), "{content_type}");
    }
    // Removing it changes nothing.
    let body = br#"[{"op": "remove", "path": "/metadata/uid"}]"#;
    let r = s.request("PATCH", &format!("{base}/uid-cm"), &[("content-type", "application/json-patch+json")], Some(body));
    assert_eq!((r.status, r.json()["metadata"]["uid"].as_str()), (200, Some(uid.as_str())));
    let mut replaced = s.get(&format!("{base}/uid-cm")).json();
    replaced["metadata"]["uid"] = json!(other);
    let r = s.put_json(&format!("{base}/uid-cm"), &replaced);
    let (code, reason, message) = status_of(&r);
    assert_eq!((code, reason.as_str()), (409, "Conflict"), "{message}");
    assert_eq!(
        message,
        format!("Operation cannot be fulfilled on configmaps \"uid-cm\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/uid-cm, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {other}, UID in object meta: {uid}")
    );
    assert_eq!(s.get(&format!("{base}/uid-cm")).json()["metadata"]["uid"], json!(uid));
}

/// Watch cache memory (kapi issue 15): the ring of recent events kept 10,000 events whatever their
/// size, so updates of a big object pinned every superseded version, idle or not (before the
/// change: RSS +140 MiB after these updates, and still so when idle). The ring now keeps at most
/// 64 MiB of them (`DEFAULT_MAX_RING_BYTES`), and what leaves it goes back to the system.
#[test]
fn big_object_updates_leave_memory_bounded() {
    const OBJECTS: usize = 4;
    const UPDATES: usize = 128;
    const VALUE: usize = 1_000_000;
    // The 64 MiB ring budget plus 40 MiB for everything else that grows under the load (allocator
    // caches, the storage's page cache, connections).
    const BOUND_MIB: f64 = 104.0;
    // Plain HTTP on the insecure port: 128 MB through TLS made the debug build twice as slow.
    let port = kapi_tests::free_port();
    let s = Server::start(&[&format!("--insecure-port={port}")]);
    let base = format!("http://127.0.0.1:{port}/api/v1/namespaces/default/configmaps");
    let base = base.as_str();
    // One big string value: cheap to build, parse and store.
    let value = "x".repeat(VALUE);
    let body = |object: usize, n: usize| {
        let meta = format!(r#""metadata":{{"name":"big-{object}","annotations":{{"n":"{n}"}}}}"#);
        format!(r#"{{"apiVersion":"v1","kind":"ConfigMap",{meta},"data":{{"v":"{value}"}}}}"#).into_bytes()
    };
    let json = [("content-type", "application/json")];
    for object in 0..OBJECTS {
        let r = kapi_tests::server::request(base, "POST", &json, Some(&body(object, 0)));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let before = s.rss_mib();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for object in 0..OBJECTS {
            let body = &body;
            scope.spawn(move || {
                for n in 1..=UPDATES / OBJECTS {
                    let r = kapi_tests::server::request(
                        &format!("{base}/big-{object}"),
                        "PUT",
                        &json,
                        Some(&body(object, n)),
                    );
                    assert_eq!(r.status, 200, "{}", r.text());
                }
            });
        }
    });
    let (loaded, updating) = (s.rss_mib(), started.elapsed());
    // Idle: what left the ring is freed; the allocator returns it within its decay time (10 s).
    let mut idle = loaded;
    let deadline = Instant::now() + Duration::from_secs(30);
    while idle - before > BOUND_MIB && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        idle = s.rss_mib();
    }
    eprintln!("RSS {before:.0} MiB; {loaded:.0} MiB after {UPDATES} updates of {VALUE} bytes in {updating:.1?}; {idle:.0} MiB idle");
    assert!(
        idle - before <= BOUND_MIB,
        "RSS grew by {:.0} MiB ({before:.0} to {idle:.0} MiB), more than {BOUND_MIB} MiB",
        idle - before
    );
    assert!(s.log().contains("watch cache /registry/configmaps/: over its 64.0 MiB byte budget"), "{}", s.log());
}

#[test]
fn watch_with_negative_timeout_ends_at_once() {
    // kube-apiserver v1.36 gives such a watch a deadline already past: 200 and the stream ends at
    // once, with no event (or, by the luck of Go's select, one: ERROR "context deadline exceeded"
    // with resourceVersion unset, the first ADDED with "0"). kapi streamed for 30-60 minutes.
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    assert_eq!(s.post_json(base, &cm("neg")).status, 201);
    for query in ["watch=1&timeoutSeconds=-5", "watch=1&resourceVersion=0&timeoutSeconds=-1"] {
        let started = Instant::now();
        let r = s.client().request_within("GET", &format!("{base}?{query}"), &[], None, Duration::from_secs(20));
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"), "{query}");
        assert_eq!(r.text(), "", "{query}");
        assert!(started.elapsed() < Duration::from_secs(10), "{query}: took {:?}", started.elapsed());
    }
}

#[test]
fn watch_from_a_future_resource_version_waits_for_it() {
    // kube-apiserver v1.36 answers a watch from a resourceVersion it has not reached with 200 and
    // waits: no event and no 504 (a list or get says 504 "Too large resource version" after 3 s, a
    // plain watch does not), then the events after that resourceVersion as they come.
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let list_rv = |s: &Server| -> i64 {
        s.get(base).json()["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse().ok()).expect("rv")
    };
    let started = Instant::now();
    let r = s.get(&format!("{base}?watch=1&resourceVersion={}&timeoutSeconds=4", list_rv(&s) + 1000));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.text(), "", "nothing until the deadline, past the 3 s a list waits");
    assert!(started.elapsed() >= Duration::from_secs(4));
    let from = list_rv(&s) + 2;
    let watcher = kapi_tests::watch::Watcher::start(&s.client(), base, &from.to_string());
    let mut later = Vec::new();
    for i in 0..4 {
        let created = s.post_json(base, &cm(&format!("future-{i}"))).json();
        let rv: i64 = created["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse().ok()).expect("rv");
        if rv > from {
            later.push(format!("future-{i}"));
        }
    }
    assert!(!later.is_empty());
    let all = |seen: &kapi_tests::watch::Seen| seen.events.len() >= later.len();
    assert!(watcher.wait_until(Duration::from_secs(20), all), "{:?}", watcher.snapshot());
    let seen = watcher.snapshot();
    assert_eq!(seen.names("ADDED"), later, "only the changes after resourceVersion {from}: {seen:?}");
    assert!(seen.errors.is_empty(), "{seen:?}");
}

#[test]
fn delete_collection_lists_the_objects_as_listed() {
    // kube-apiserver v1.36: 200 and a ConfigMapList of the deleted objects as they were listed
    // (their own resourceVersions, no kind and apiVersion on built-in items), at the list's
    // resourceVersion; an empty list when nothing matched.
    let s = Server::start(&[]);
    let base = "/api/v1/namespaces/default/configmaps";
    let mut created = Vec::new();
    for name in ["dc-a", "dc-b", "dc-keep"] {
        let mut body = cm(name);
        if name != "dc-keep" {
            body["metadata"]["labels"] = json!({"dc": "x"});
        }
        let r = s.post_json(base, &body);
        assert_eq!(r.status, 201, "{}", r.text());
        created.push(r.json());
    }
    let r = s.request("DELETE", &format!("{base}?labelSelector=dc%3Dx"), &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let list = r.json();
    assert_eq!((list["kind"].as_str(), list["apiVersion"].as_str()), (Some("ConfigMapList"), Some("v1")), "{list}");
    let rv = list["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse::<i64>().ok()).expect("rv");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{list}");
    for (item, created) in items.iter().zip(&created) {
        let mut expected = created.clone();
        if let Some(m) = expected.as_object_mut() {
            m.shift_remove("kind");
            m.shift_remove("apiVersion");
        }
        assert_eq!(item, &expected);
    }
    let last: i64 = created[2]["metadata"]["resourceVersion"].as_str().and_then(|r| r.parse().ok()).expect("rv");
    assert!(rv >= last, "listed at {rv}, after the creations");
    let names: Vec<Value> =
        s.get(base).json()["items"].as_array().into_iter().flatten().map(|i| i["metadata"]["name"].clone()).collect();
    assert_eq!(names, [json!("dc-keep")]);
    let none = s.request("DELETE", &format!("{base}?labelSelector=dc%3Dnone"), &[], None);
    assert_eq!(none.status, 200);
    assert_eq!(none.json()["items"], json!([]));
}

/// The whole API in-process: the generated kinds over an embedded store in a temporary directory,
/// requests handed to [`ApiServer::handle`] (no listener, no TLS, no authentication).
mod in_process {
    use std::sync::Arc;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use kapi_runtime::cacher::WatchCacheConfig;
    use kapi_runtime::endpoints::openapi::OpenApi;
    use kapi_runtime::endpoints::{ApiServer, VersionInfo};
    use kapi_runtime::registry::Registry;
    use kapi_runtime::storage::codec::MediaType;
    use kapi_runtime::storage::embedded::{Embedded, EmbeddedOptions};
    use kapi_runtime::storage::keys::KeyLayout;
    use kapi_runtime::storage::Storage;
    use serde_json::Value;

    pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

    pub(crate) struct Api {
        server: Arc<ApiServer>,
        /// The store under the registry, for writing what kapi's own API would refuse.
        pub storage: Arc<Embedded>,
        _dir: tempfile::TempDir,
    }

    /// An answer: status and body.
    pub(crate) struct Answer {
        pub status: u16,
        pub body: Bytes,
    }

    impl Answer {
        pub(crate) fn json(&self) -> Value {
            serde_json::from_slice(&self.body)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
        }
    }

    impl Api {
        /// The API over a fresh store whose objects are written as `media`.
        pub(crate) async fn start(media: MediaType) -> Api {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
            let storage = Embedded::open(dir.path(), EmbeddedOptions::default())
                .unwrap_or_else(|e| panic!("embedded store: {e}"));
            let registry = Registry::start(
                apiserver::KINDS,
                Arc::clone(&storage) as Arc<dyn Storage>,
                &KeyLayout::new("/registry"),
                &WatchCacheConfig::default(),
                media,
            )
            .await
            .unwrap_or_else(|e| panic!("registry: {e}"));
            let server = Arc::new(ApiServer::new(
                registry,
                OpenApi::new(apiserver::OPENAPI),
                VersionInfo::default(),
            ));
            Api { server, storage, _dir: dir }
        }

        pub(crate) async fn request(
            &self,
            method: &str,
            path: &str,
            headers: &[(&str, &str)],
            body: Option<Vec<u8>>,
        ) -> Answer {
            let mut builder = http::Request::builder().method(method).uri(path);
            for (k, v) in headers {
                builder = builder.header(*k, *v);
            }
            let req = builder
                .body(Full::new(Bytes::from(body.unwrap_or_default())))
                .unwrap_or_else(|e| panic!("request: {e}"));
            let resp = self.server.handle(req).await;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            Answer { status, body }
        }

        pub(crate) async fn send(
            &self,
            method: &str,
            path: &str,
            content_type: &str,
            body: &Value,
        ) -> Answer {
            let bytes = serde_json::to_vec(body).unwrap_or_default();
            self.request(method, path, &[("content-type", content_type)], Some(bytes))
                .await
        }

        pub(crate) async fn post(&self, path: &str, body: &Value) -> Answer {
            self.send("POST", path, "application/json", body).await
        }

        pub(crate) async fn get(&self, path: &str, accept: &str) -> Answer {
            self.request("GET", path, &[("accept", accept)], None).await
        }
    }
}

/// The collection path of a kind's objects in `default` (or cluster-wide).
fn collection(info: &kapi_runtime::apimachinery::KindInfo) -> String {
    let root = if info.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    if info.namespaced() {
        format!("{root}/namespaces/default/{}", info.plural)
    } else {
        format!("{root}/{}", info.plural)
    }
}

/// Each value of kapi issue 15's type-confusion findings gets kube-apiserver's decode error (400,
/// the message read from v1.36.2), on create and update, and nothing is stored. Before the wire
/// check they were 201 (JSON storage) or 500 "encoding the object for storage" (protobuf).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_values_get_upstreams_decode_errors() {
    use in_process::Api;
    let api = Api::start(Default::default()).await;
    let lb = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hc"}, "spec": {
        "type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 2147483648u64,
        "ports": [{"port": 80}], "selector": {"a": "b"}}});
    let cases = [
        ("/api/v1/namespaces/default/services", lb,
         "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal number 2147483648 into Go struct field ServiceSpec.spec.healthCheckNodePort of type int32"),
        ("/api/v1/namespaces/default/endpoints",
         json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ep"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 2147483648u64}]}]}),
         "Endpoints in version \"v1\" cannot be handled as a Endpoints: json: cannot unmarshal number 2147483648 into Go struct field EndpointPort.subsets.ports.port of type int32"),
        ("/api/v1/namespaces/default/resourcequotas",
         json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "rq"}, "spec": {"hard": {"cpu": "garbage"}}}),
         "ResourceQuota in version \"v1\" cannot be handled as a ResourceQuota: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        ("/api/v1/namespaces/default/limitranges",
         json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": true}}]}}),
         "LimitRange in version \"v1\" cannot be handled as a LimitRange: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        ("/api/v1/namespaces/default/events",
         json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev"}, "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"}, "eventTime": []}),
         "Event in version \"v1\" cannot be handled as a Event: json: cannot unmarshal array into Go struct field Event.eventTime of type string"),
        ("/apis/events.k8s.io/v1/namespaces/default/events",
         json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "ev2"}, "eventTime": "2024-01-01T00:00:00Z",
                "reportingController": "a/b", "reportingInstance": "x", "action": "a", "reason": "r", "type": "Normal",
                "regarding": {"kind": "Pod", "name": "x", "namespace": "default"}}),
         "Event in version \"v1\" cannot be handled as a Event: parsing time \"2024-01-01T00:00:00Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\""),
        // A metav1.Time whose proto type the format implies (was stored, then broke protobuf reads).
        ("/api/v1/namespaces/default/events",
         json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev3"}, "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"}, "firstTimestamp": "garbage"}),
         "Event in version \"v1\" cannot be handled as a Event: parsing time \"garbage\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"garbage\" as \"2006\""),
        ("/api/v1/namespaces/default/events",
         json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev4"}, "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"}, "firstTimestamp": 5}),
         "Event in version \"v1\" cannot be handled as a Event: json: cannot unmarshal number into Go struct field Event.firstTimestamp of type string"),
    ];
    for (path, body, message) in &cases {
        let name = body["metadata"]["name"].as_str().unwrap_or_default();
        let created = api.post(path, body).await;
        assert_eq!(
            (
                created.status,
                created.json()["reason"].clone(),
                created.json()["message"].clone()
            ),
            (400, json!("BadRequest"), json!(message)),
            "POST {path}"
        );
        assert_eq!(
            api.get(&format!("{path}/{name}"), "application/json")
                .await
                .status,
            404,
            "a refused create stores nothing"
        );
    }
    // Update: the same body by PUT over a valid object is the same 400.
    let ep = "/api/v1/namespaces/default/endpoints";
    let good = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ep"}, "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 443}]}]});
    assert_eq!(api.post(ep, &good).await.status, 201);
    let put = api
        .send("PUT", &format!("{ep}/ep"), "application/json", &cases[1].1)
        .await;
    assert_eq!(
        (put.status, put.json()["message"].clone()),
        (400, json!(cases[1].2))
    );
    // Patches: JSON and merge patches decode the patched object (422 on the field `patch`, as
    // upstream); strategic merge and apply convert it, and an int32 wraps around as in Go.
    let merge = api.send("PATCH", &format!("{ep}/ep"), "application/merge-patch+json", &json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 2147483648u64}]}]})).await;
    let status = merge.json();
    assert_eq!(
        (
            merge.status,
            status["reason"].clone(),
            status["details"]["causes"][0]["field"].clone()
        ),
        (422, json!("Invalid"), json!("patch")),
        "{status}"
    );
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(" \"\" is invalid: patch: Invalid value: \"{"),
        "{message}"
    );
    assert!(message.ends_with("\": json: cannot unmarshal number 2147483648 into Go struct field EndpointPort.subsets.ports.port of type int32"), "{message}");
    let json_patch = api
        .send(
            "PATCH",
            &format!("{ep}/ep"),
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/subsets/0/ports/0/port", "value": 2147483648u64}]),
        )
        .await;
    assert_eq!(json_patch.status, 422, "{}", json_patch.json());
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1,
        "selector": {"matchLabels": {"app": "t"}}, "template": {"metadata": {"labels": {"app": "t"}}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}});
    assert_eq!(api.post(deployments, &deployment).await.status, 201);
    let strategic = api
        .send(
            "PATCH",
            &format!("{deployments}/d"),
            "application/strategic-merge-patch+json",
            &json!({"spec": {"replicas": 2147483648u64}}),
        )
        .await;
    assert_eq!(
        (strategic.status, strategic.json()["message"].clone()),
        (422, json!("Deployment.apps \"d\" is invalid: spec.replicas: Invalid value: -2147483648: must be greater than or equal to 0"))
    );
    let mut applied = deployment.clone();
    applied["spec"]["replicas"] = json!(2147483648u64);
    let apply = api
        .send(
            "PATCH",
            &format!("{deployments}/d?fieldManager=t&force=true"),
            "application/apply-patch+yaml",
            &applied,
        )
        .await;
    assert_eq!(apply.status, 422, "{}", apply.json());
    let got = api
        .get(&format!("{deployments}/d"), in_process::PROTOBUF)
        .await;
    assert_eq!(got.status, 200, "the deployment still encodes");
}

/// One kind's sample objects: the built-ins' from reference/samples.yaml, the custom resources'
/// from reference/crds/samples.
fn samples() -> Vec<Value> {
    let root = kapi_tests::project_root().join("tests/reference");
    let mut texts = vec![std::fs::read_to_string(root.join("samples.yaml"))
        .unwrap_or_else(|e| panic!("samples.yaml: {e}"))];
    let crds = root.join("crds/samples");
    let mut files: Vec<_> = std::fs::read_dir(&crds)
        .unwrap_or_else(|e| panic!("{}: {e}", crds.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        texts.push(std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    let mut out = Vec::new();
    for text in texts {
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value =
                serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("sample: {e}"));
            if v.is_object() {
                out.push(v);
            }
        }
    }
    out
}

/// A step into a value: a property, the first item of an array, a value of a map.
#[derive(Clone, Debug)]
enum Step {
    Field(&'static str),
    Item,
    Value,
}

/// Every node under `schema` (depth-limited; schemas may be cyclic) with its path.
fn nodes(
    schema: &'static kapi_runtime::apimachinery::schema::Schema,
    path: &mut Vec<Step>,
    out: &mut Vec<(
        Vec<Step>,
        &'static kapi_runtime::apimachinery::schema::Schema,
    )>,
) {
    use kapi_runtime::apimachinery::schema::Type;
    if path.len() > 7 {
        return;
    }
    if !path.is_empty() {
        out.push((path.clone(), schema));
    }
    match schema.ty {
        Type::Object(o) => {
            for (name, s) in o.properties {
                if path.is_empty() && matches!(*name, "apiVersion" | "kind") {
                    continue;
                }
                path.push(Step::Field(name));
                nodes(s, path, out);
                path.pop();
            }
        }
        Type::Array(item) => {
            path.push(Step::Item);
            nodes(item, path, out);
            path.pop();
        }
        Type::Map(value) => {
            path.push(Step::Value);
            nodes(value, path, out);
            path.pop();
        }
        _ => {}
    }
}

/// Sets `value` at `path` in `object`, making the containers on the way.
fn set_at(object: &mut Value, path: &[Step], value: Value) {
    let Some((step, rest)) = path.split_first() else {
        *object = value;
        return;
    };
    let child = match step {
        Step::Field(name) => {
            if !object.is_object() {
                *object = json!({});
            }
            object
                .as_object_mut()
                .map(|m| m.entry(name.to_string()).or_insert(Value::Null))
        }
        Step::Item => {
            if object.as_array().is_none_or(Vec::is_empty) {
                *object = json!([null]);
            }
            object.as_array_mut().and_then(|a| a.first_mut())
        }
        Step::Value => {
            if object.as_object().is_none_or(serde_json::Map::is_empty) {
                *object = json!({"k": null});
            }
            object.as_object_mut().and_then(|m| m.values_mut().next())
        }
    };
    if let Some(child) = child {
        if child.is_null() && !rest.is_empty() {
            *child = match rest[0] {
                Step::Field(_) | Step::Value => json!({}),
                Step::Item => json!([]),
            };
        }
        set_at(child, rest, value);
    }
}

/// Values of the wrong type or out of range for a node's wire type.
fn poisons(schema: &kapi_runtime::apimachinery::schema::Schema) -> Vec<Value> {
    use kapi_runtime::apimachinery::schema::{ProtoType, Type};
    match schema.proto.ty {
        ProtoType::Quantity => return vec![json!("garbage"), json!(true), json!([]), json!({})],
        ProtoType::Time => return vec![json!([]), json!(5), json!("garbage")],
        ProtoType::MicroTime => return vec![json!([]), json!("2024-01-01T00:00:00Z")],
        ProtoType::IntOrString => return vec![json!(2147483648u64), json!(true), json!(1.5)],
        ProtoType::Duration => return vec![json!(5), json!("garbage")],
        ProtoType::RawExtension => return vec![json!(5)],
        _ => {}
    }
    if schema.int_or_string {
        return vec![json!(2147483648u64), json!(true), json!(1.5)];
    }
    match schema.ty {
        Type::Integer if schema.format == Some("int32") => {
            vec![
                json!(2147483648u64),
                json!(-2147483649i64),
                json!(1.5),
                json!("1"),
                json!(true),
            ]
        }
        Type::Integer => vec![json!(9223372036854775808u64), json!(1.5), json!("1")],
        Type::Number => vec![json!("1"), json!(true)],
        Type::Boolean => vec![json!("true"), json!(1)],
        Type::String if schema.format == Some("byte") => vec![json!("!!!"), json!(5), json!([300])],
        Type::String => vec![json!(1), json!(true), json!({})],
        Type::Array(_) => vec![json!("x"), json!({})],
        Type::Map(_) | Type::Object(_) => vec![json!("x"), json!([])],
        Type::Any => vec![],
    }
}

/// Type confusion over every stored kind: a wrong-typed or out-of-range value at each node of a
/// valid sample (one value per node, rotating; at most ~1,500 writes), sent as a create. Never a
/// 5xx; a created object reads back as JSON and as protobuf, alone and in a protobuf list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_confusion_never_breaks_storage_or_reads() {
    use in_process::{Api, PROTOBUF};
    const BUDGET: usize = 1500;
    let api = Api::start(Default::default()).await;
    let samples = samples();
    let kinds: Vec<_> = apiserver::KINDS
        .iter()
        .copied()
        .filter(|k| k.served && !k.create_only())
        .collect();
    let mut plan = Vec::new();
    for (ki, info) in kinds.iter().enumerate() {
        let av = info.api_version();
        let Some(sample) = samples
            .iter()
            .find(|s| s["apiVersion"] == av.as_str() && s["kind"] == info.kind)
        else {
            continue;
        };
        let mut all = Vec::new();
        nodes(info.schema, &mut Vec::new(), &mut all);
        for (ni, (path, schema)) in all.into_iter().enumerate() {
            let values = poisons(schema);
            if let Some(v) = values.get((ki + ni) % values.len().max(1)) {
                plan.push((*info, sample, path, v.clone()));
            }
        }
    }
    let stride = plan.len().div_ceil(BUDGET).max(1);
    let mut failures = Vec::new();
    let mut created = 0;
    let mut sent = 0;
    let mut covered = std::collections::BTreeSet::new();
    for (i, (info, sample, path, value)) in plan.iter().enumerate().filter(|(i, _)| i % stride == 0)
    {
        let mut object = (*sample).clone();
        object["metadata"]["name"] = json!(format!("wt-{i}"));
        set_at(&mut object, path, value.clone());
        let base = collection(info);
        let answer = api.post(&base, &object).await;
        sent += 1;
        covered.insert((info.group, info.plural));
        let what = || format!("POST {base} with {path:?} = {value}");
        if answer.status >= 500 {
            failures.push(format!(
                "{}: {} {}",
                what(),
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
            continue;
        }
        if answer.status >= 300 {
            continue;
        }
        created += 1;
        let url = format!("{base}/wt-{i}");
        let protobuf = info.schema.object().is_some_and(|o| o.protobuf);
        for accept in if protobuf {
            vec!["application/json", PROTOBUF]
        } else {
            vec!["application/json"]
        } {
            let got = api.get(&url, accept).await;
            if got.status != 200 {
                failures.push(format!(
                    "{}: stored, then GET as {accept}: {} {}",
                    what(),
                    got.status,
                    String::from_utf8_lossy(&got.body)
                ));
            }
        }
    }
    for info in &kinds {
        if info.schema.object().is_some_and(|o| o.protobuf) {
            let list = api.get(&collection(info), PROTOBUF).await;
            if list.status != 200 {
                failures.push(format!(
                    "protobuf LIST {}: {} {}",
                    collection(info),
                    list.status,
                    String::from_utf8_lossy(&list.body)
                ));
            }
        }
    }
    eprintln!(
        "type confusion: {sent} creates over {} kinds, {created} created, {} failures",
        covered.len(),
        failures.len()
    );
    let missing: Vec<_> = kinds
        .iter()
        .filter(|k| !covered.contains(&(k.group, k.plural)))
        .map(|k| k.api_version() + " " + k.kind)
        .collect();
    assert!(
        missing.is_empty(),
        "no sample in tests/reference/samples.yaml or crds/samples for {missing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// An object in storage that does not encode as protobuf (written by an older kapi before the
/// wire check, or by another writer) is named by a protobuf LIST's 500 and ends a protobuf watch
/// (upstream's watch server ends a stream whose event does not encode) instead of reaching
/// informers as an event with an empty object; JSON reads and the delete that repairs it work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unencodable_stored_object_is_named_and_never_sent_empty() {
    use in_process::{Api, PROTOBUF};
    use kapi_runtime::apimachinery::proto;
    use kapi_runtime::storage::codec::MediaType;
    use kapi_runtime::storage::Storage;
    let api = Api::start(MediaType::Json).await;
    let base = "/api/v1/namespaces/default/configmaps";
    let good = api.post(base, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"a": "b"}})).await;
    assert_eq!(good.status, 201, "{}", String::from_utf8_lossy(&good.body));
    let from = good.json()["metadata"]["resourceVersion"].as_str().unwrap_or_default().to_string();
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad", "namespace": "default",
        "uid": "6a1f3c9e-0000-4000-8000-000000000001", "creationTimestamp": "2026-12-07T00:00:00Z"}, "data": {"a": 1}});
    api.storage
        .create("/registry/configmaps/default/bad", serde_json::to_vec(&bad).unwrap_or_default().into())
        .await
        .unwrap_or_else(|e| panic!("raw write: {e}"));
    // The watch cache has it once a JSON list shows it.
    let mut listed = 0;
    for _ in 0..200 {
        let list = api.get(base, "application/json").await;
        listed = list.json()["items"].as_array().map_or(0, Vec::len);
        if listed == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(listed, 2, "the JSON list serves both objects");

    let list = api.get(base, PROTOBUF).await;
    assert_eq!(list.status, 500, "{}", String::from_utf8_lossy(&list.body));
    let status = list.json();
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Internal error occurred: unable to encode 1 objects as application/vnd.kubernetes.protobuf: {\n/registry/configmaps/default/bad: "),
        "{message}"
    );
    assert_eq!(status["reason"], "InternalError");

    let schema = apiserver::KINDS.iter().find(|k| k.kind == "ConfigMap" && k.group.is_empty()).expect("ConfigMap").schema;
    let watch = api
        .get(&format!("{base}?watch=true&resourceVersion={from}&timeoutSeconds=30"), "application/vnd.kubernetes.protobuf;stream=watch")
        .await;
    assert_eq!(watch.status, 200);
    let mut rest = watch.body.as_ref();
    let mut names = Vec::new();
    while let Some((message, tail)) = proto::split_frame(rest) {
        let (kind, object) = proto::decode_watch_event(message).expect("a WatchEvent");
        assert!(!object.is_empty(), "a {kind} event with an empty object");
        names.push(proto::decode_object(schema, &object).expect("a ConfigMap")["metadata"]["name"].clone());
        rest = tail;
    }
    assert!(rest.is_empty());
    // Created after `good`, so the only event from `good`'s revision is the bad one's ADDED:
    // the stream ended there, with no frame (it did not wait out its 30 s either: the body is complete).
    assert_eq!(names, Vec::<Value>::new());

    let json_watch = api.get(&format!("{base}?watch=true&resourceVersion=0&timeoutSeconds=1"), "application/json").await;
    let text = String::from_utf8_lossy(&json_watch.body).into_owned();
    assert_eq!(text.lines().count(), 2, "JSON watchers get both objects: {text}");
    assert!(!text.contains("\"object\":null"), "{text}");

    let deleted = api.request("DELETE", &format!("{base}/bad"), &[], None).await;
    assert_eq!(deleted.status, 200, "{}", String::from_utf8_lossy(&deleted.body));
    let list = api.get(base, PROTOBUF).await;
    assert_eq!(list.status, 200, "{}", String::from_utf8_lossy(&list.body));
}
