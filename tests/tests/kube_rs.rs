//! kube-rs (a client-go-style Rust client) against the generated apiserver: typed CRUD, and a
//! `watcher` + `reflector` that stays in sync through creates, updates, deletes and a forced re-list
//! after compaction (410 Gone).

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Client, Config};
use kapi_tests::Server;

/// A client from the server's generated kubeconfig (HTTPS, its CA, the admin's client certificate).
async fn client(s: &Server) -> Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(s.kubeconfig()).expect("read the kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .expect("a kube config from the kubeconfig");
    assert_eq!(config.cluster_url.to_string().trim_end_matches('/'), s.url());
    Client::try_from(config).expect("kube client")
}

fn cm(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta { name: Some(name.into()), ..Default::default() },
        data: Some(BTreeMap::from([("k".to_string(), value.to_string())])),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_crud() {
    let s = Server::start(&[]);
    let client = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = cms.create(&PostParams::default(), &cm("a", "1")).await.expect("create");
    assert!(created.metadata.uid.is_some());
    let got = cms.get("a").await.expect("get");
    assert_eq!(got.data.as_ref().and_then(|d| d.get("k")).map(String::as_str), Some("1"));
    let mut changed = got.clone();
    changed.data = Some(BTreeMap::from([("k".to_string(), "2".to_string())]));
    let replaced = cms.replace("a", &PostParams::default(), &changed).await.expect("replace");
    assert_ne!(replaced.metadata.resource_version, got.metadata.resource_version);
    // The stale version conflicts.
    let err = cms.replace("a", &PostParams::default(), &got).await.expect_err("stale replace");
    match err {
        kube::Error::Api(status) => assert_eq!(status.code, 409),
        other => panic!("expected a 409, got {other:?}"),
    }
    let patched = cms
        .patch("a", &PatchParams::default(), &Patch::Merge(serde_json::json!({"data": {"m": "x"}})))
        .await
        .expect("merge patch");
    assert_eq!(patched.data.as_ref().and_then(|d| d.get("m")).map(String::as_str), Some("x"));
    let listed = cms.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    cms.delete("a", &DeleteParams::default()).await.expect("delete");
    let err = cms.get("a").await.expect_err("gone");
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 404), "{err:?}");
    let namespaces: Api<Namespace> = Api::all(client);
    let ns = namespaces.list(&ListParams::default()).await.expect("namespaces");
    assert!(ns.items.iter().any(|n| n.metadata.name.as_deref() == Some("kube-system")));
}

/// Waits until the reflector's store holds exactly `want` (name → data value).
async fn converge(store: &reflector::Store<ConfigMap>, want: &BTreeMap<String, String>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let have: BTreeMap<String, String> = store
            .state()
            .iter()
            .map(|c| {
                let v = c.data.as_ref().and_then(|d| d.get("k")).cloned().unwrap_or_default();
                (c.metadata.name.clone().unwrap_or_default(), v)
            })
            .collect();
        if &have == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "reflector out of sync: have {have:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_and_reflector_stay_in_sync() {
    // A tiny watch cache ring: a watcher that resumes from a resourceVersion more than 5 events old
    // gets 410 Expired and must re-list.
    let s = Server::start(&["--watch-cache-sizes=configmaps#5"]);
    let client = client(&s).await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let (reader, writer) = reflector::store();
    // Watches end after 1 s (timeoutSeconds) and are resumed from the last resourceVersion seen.
    let config = watcher::Config::default().timeout(1);
    let stream = watcher(cms.clone(), config).default_backoff().reflect(writer);
    // `paused` stops the client from polling its stream (a stalled informer).
    let (pause, mut paused) = tokio::sync::watch::channel(false);
    let lists = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let task = {
        let lists = lists.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            loop {
                while *paused.borrow_and_update() {
                    if paused.changed().await.is_err() {
                        return;
                    }
                }
                tokio::select! {
                    item = stream.next() => match item {
                        Some(Ok(watcher::Event::Init)) => {
                            lists.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Some(_) => {}
                        None => return,
                    },
                    _ = paused.changed() => {}
                }
            }
        })
    };
    reader.wait_until_ready().await.expect("reflector ready");
    let mut want = BTreeMap::new();
    for i in 0..10 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), "0")).await.expect("create");
        want.insert(format!("c{i}"), "0".to_string());
    }
    converge(&reader, &want).await;
    for i in 0..10 {
        cms.patch(&format!("c{i}"), &PatchParams::default(), &Patch::Merge(serde_json::json!({"data": {"k": "1"}})))
            .await
            .expect("patch");
        want.insert(format!("c{i}"), "1".to_string());
    }
    for i in 0..5 {
        cms.delete(&format!("c{i}"), &DeleteParams::default()).await.expect("delete");
        want.remove(&format!("c{i}"));
    }
    converge(&reader, &want).await;
    let lists_before = lists.load(std::sync::atomic::Ordering::SeqCst);

    // Stall the client past its watch's timeout, and write more than the ring holds meanwhile.
    pause.send_replace(true);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for i in 20..40 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), "2")).await.expect("create");
        want.insert(format!("c{i}"), "2".to_string());
    }
    cms.delete("c5", &DeleteParams::default()).await.expect("delete");
    want.remove("c5");
    pause.send_replace(false);
    converge(&reader, &want).await;
    assert!(
        lists.load(std::sync::atomic::Ordering::SeqCst) > lists_before,
        "the watcher should have re-listed after 410 Expired"
    );
    task.abort();

    // The same 410 seen on a raw watch from that old resourceVersion.
    let mut raw = cms.watch(&kube::api::WatchParams::default().timeout(2), "1").await.expect("watch").boxed();
    let first = raw.next().await.expect("an event").expect("decoded");
    match first {
        kube::api::WatchEvent::Error(e) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("expected 410 Expired from an old resourceVersion, got {other:?}"),
    }
}
