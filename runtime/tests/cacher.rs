//! Watch cache tests: List-Watch semantics (shared by the cacher and the pass-through), fan-out to
//! 1,000 watchers, slow watchers, 410 Expired, consistent reads, bookmarks, selectors, encode-once.

/// Test names start with `cacher::` so that `cargo test cacher` selects them all.
mod cacher {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use futures::StreamExt;
    use serde_json::Value;

    use kapi_runtime::cacher::testing::{key, object, DelayedWatches, MemoryStorage};
    use kapi_runtime::cacher::{
        CacheEvent, Cacher, CacherError, CacherOptions, Continue, EventStream, Filter, JsonCodec, Keys, ListRequest,
        ListWatch, Passthrough, ResourceVersion, WatchRequest,
    };
    use kapi_runtime::storage::embedded::{Embedded, EmbeddedOptions};
    use kapi_runtime::storage::{Revision, Storage, StorageError};

    const PREFIX: &str = "/registry/configmaps/";
    const WAIT: Duration = Duration::from_secs(10);

    fn codec() -> Arc<JsonCodec> {
        Arc::new(JsonCodec::new(&["data.color"]))
    }

    fn k(name: &str) -> String {
        key(PREFIX, "default", name)
    }

    fn cm(name: &str, labels: &[(&str, &str)], color: &str) -> Bytes {
        object("default", name, labels, &[("color", color)])
    }

    async fn cacher(storage: Arc<dyn Storage>, opts: CacherOptions) -> Cacher {
        let cacher = Cacher::new(storage, PREFIX, opts, codec());
        cacher.wait_ready(WAIT).await.expect("cacher ready");
        cacher
    }

    /// The next item, failing the test after `WAIT`.
    async fn next(stream: &mut EventStream) -> Option<CacheEvent> {
        tokio::time::timeout(WAIT, stream.next()).await.expect("watch item in time")
    }

    /// The next item that is not a periodic bookmark.
    async fn next_change(stream: &mut EventStream) -> CacheEvent {
        loop {
            match next(stream).await {
                Some(CacheEvent::Bookmark(b)) if !b.initial_events_end => continue,
                Some(event) => return event,
                None => panic!("watch ended early"),
            }
        }
    }

    fn json(bytes: &Bytes) -> Value {
        serde_json::from_slice(bytes).expect("served bytes are JSON")
    }

    fn rv_of(bytes: &Bytes) -> Revision {
        json(bytes)["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse().ok()).expect("resourceVersion")
    }

    fn summary(event: &CacheEvent) -> (&'static str, String, Revision) {
        let name = event.object().map(|o| o.name().to_string()).unwrap_or_default();
        (event.type_name(), name, event.revision().unwrap_or(-1))
    }

    fn watch_from(rv: Revision) -> WatchRequest {
        WatchRequest { resource_version: Some(rv), ..WatchRequest::default() }
    }

    fn label_filter(label: &'static str, value: &'static str) -> Filter {
        Filter::new(move |o| o.labels.get(label) == Some(value))
    }

    /// List-Watch semantics that the cacher and the pass-through must share.
    async fn semantics(lw: &dyn ListWatch, storage: &dyn Storage) {
        // Three objects; a consistent list sees them in key order with the current revision.
        let r1 = storage.create(&k("a"), cm("a", &[("app", "web")], "red")).await.expect("create");
        let r2 = storage.create(&k("b"), cm("b", &[("app", "db")], "blue")).await.expect("create");
        let r3 = storage.create(&k("c"), cm("c", &[("app", "web")], "green")).await.expect("create");
        let list = lw.list(ListRequest::default()).await.expect("list");
        let names: Vec<_> = list.items.iter().map(|o| o.name().to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(list.revision, r3);
        assert_eq!(rv_of(&list.items[0].bytes), r1, "served bytes carry the object's resourceVersion");

        // Selectors, key scopes, exact reads.
        let web = ListRequest { filter: label_filter("app", "web"), ..ListRequest::default() };
        let names: Vec<_> = lw.list(web).await.expect("list").items.iter().map(|o| o.name().to_string()).collect();
        assert_eq!(names, ["a", "c"]);
        let blue = Filter::new(|o| o.fields.get("data.color") == Some("blue"));
        let names: Vec<_> = lw
            .list(ListRequest { filter: blue, ..ListRequest::default() })
            .await
            .expect("list")
            .items
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        assert_eq!(names, ["b"]);
        let one = lw.list(ListRequest { keys: Keys::Key(k("b")), ..ListRequest::default() }).await.expect("list");
        assert_eq!(one.items.len(), 1);
        let other_ns = ListRequest { keys: Keys::Prefix(format!("{PREFIX}kube-system/")), ..ListRequest::default() };
        assert!(lw.list(other_ns).await.expect("list").items.is_empty());
        let at_r2 =
            lw.list(ListRequest { resource_version: ResourceVersion::Exact(r2), ..ListRequest::default() }).await;
        assert_eq!(at_r2.expect("exact list").items.len(), 2);
        let got = lw.get(&k("a"), ResourceVersion::NotOlderThan(0)).await.expect("get");
        assert_eq!(got.object.map(|o| o.name().to_string()).as_deref(), Some("a"));
        assert!(lw.get(&k("zzz"), ResourceVersion::Unset).await.expect("get").object.is_none());
        let outside =
            lw.list(ListRequest { keys: Keys::Prefix("/registry/secrets/".into()), ..ListRequest::default() }).await;
        assert!(matches!(outside, Err(CacherError::BadRequest(_))));

        // Pagination: every page at the first page's revision.
        let page1 = lw.list(ListRequest { limit: Some(2), ..ListRequest::default() }).await.expect("page 1");
        assert_eq!(page1.items.len(), 2);
        assert_eq!(page1.remaining, Some(1));
        let cont = page1.continue_from.clone().expect("continue");
        assert_eq!(cont, Continue { after_key: k("b"), revision: r3 });
        let page2 = lw.list(ListRequest { limit: Some(2), continue_from: Some(cont), ..ListRequest::default() }).await;
        let page2 = page2.expect("page 2");
        assert_eq!(page2.items.iter().map(|o| o.name()).collect::<Vec<_>>(), ["c"]);
        assert!(page2.continue_from.is_none());

        // Watch from r1 replays what came after it, then live changes, with selector translation.
        let mut all = lw.watch(watch_from(r1)).await.expect("watch");
        let mut web =
            lw.watch(WatchRequest { filter: label_filter("app", "web"), ..watch_from(r3) }).await.expect("watch web");
        assert_eq!(summary(&next_change(&mut all).await), ("ADDED", "b".into(), r2));
        assert_eq!(summary(&next_change(&mut all).await), ("ADDED", "c".into(), r3));
        // b moves into the selector, a moves out, c changes within it, c is deleted.
        let r4 = storage.update(&k("b"), cm("b", &[("app", "web")], "blue"), r2).await.expect("update");
        let r5 = storage.update(&k("a"), cm("a", &[("app", "db")], "red"), r1).await.expect("update");
        let r6 = storage.update(&k("c"), cm("c", &[("app", "web")], "teal"), r3).await.expect("update");
        let (_, r7) = storage.delete(&k("c"), None).await.expect("delete");
        // A change outside the selector before and after: no event for `web`.
        let r8 = storage.update(&k("a"), cm("a", &[("app", "db")], "pink"), r5).await.expect("update");
        for (kind, name, rev) in [
            ("MODIFIED", "b", r4),
            ("MODIFIED", "a", r5),
            ("MODIFIED", "c", r6),
            ("DELETED", "c", r7),
            ("MODIFIED", "a", r8),
        ] {
            assert_eq!(summary(&next_change(&mut all).await), (kind, name.into(), rev));
        }
        let moved_in = next_change(&mut web).await;
        assert_eq!(summary(&moved_in), ("ADDED", "b".into(), r4));
        let moved_out = next_change(&mut web).await;
        assert_eq!(summary(&moved_out), ("DELETED", "a".into(), r5));
        let out_obj = moved_out.object().expect("object");
        assert_eq!(rv_of(&out_obj.bytes), r5, "a moved-out DELETED carries the event's resourceVersion");
        assert_eq!(json(&out_obj.bytes)["metadata"]["labels"]["app"], "web", "with the state that matched");
        assert_eq!(summary(&next_change(&mut web).await), ("MODIFIED", "c".into(), r6));
        let deleted = next_change(&mut web).await;
        assert_eq!(summary(&deleted), ("DELETED", "c".into(), r7));
        assert_eq!(rv_of(&deleted.object().expect("object").bytes), r7, "DELETED carries the delete's revision");
        assert_eq!(json(&deleted.object().expect("object").bytes)["data"]["color"], "teal");

        // sendInitialEvents: the current state, then the annotated bookmark, then live changes.
        let mut initial = lw
            .watch(WatchRequest { send_initial_events: Some(true), allow_bookmarks: true, ..WatchRequest::default() })
            .await
            .expect("watch-list");
        assert_eq!(summary(&next_change(&mut initial).await), ("ADDED", "a".into(), r8));
        assert_eq!(summary(&next_change(&mut initial).await), ("ADDED", "b".into(), r4));
        match next_change(&mut initial).await {
            CacheEvent::Bookmark(b) => {
                assert!(b.initial_events_end);
                assert_eq!(b.revision, r8);
            }
            other => panic!("expected the initial-events-end bookmark, got {other:?}"),
        }
        // Legacy rv=0 without sendInitialEvents: the current state, no bookmark.
        let mut legacy = lw.watch(watch_from(0)).await.expect("watch rv=0");
        assert_eq!(summary(&next_change(&mut legacy).await), ("ADDED", "a".into(), r8));
        assert_eq!(summary(&next_change(&mut legacy).await), ("ADDED", "b".into(), r4));
        // sendInitialEvents=false, rv=0: from now on.
        let mut from_now =
            lw.watch(WatchRequest { send_initial_events: Some(false), ..watch_from(0) }).await.expect("watch from now");
        let r9 = storage.create(&k("d"), cm("d", &[], "white")).await.expect("create");
        assert_eq!(summary(&next_change(&mut initial).await), ("ADDED", "d".into(), r9));
        assert_eq!(summary(&next_change(&mut legacy).await), ("ADDED", "d".into(), r9));
        assert_eq!(summary(&next_change(&mut from_now).await), ("ADDED", "d".into(), r9));
    }

    #[tokio::test]
    async fn cacher_list_watch_semantics() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        semantics(&cacher, storage.as_ref()).await;
        assert_eq!(cacher.stats().decode_errors, 0);
    }

    /// A stored object that cannot be decoded is never left out of a consistent list without a word:
    /// like upstream's list from etcd, the list fails with the decoder's error (a 500 with no reason)
    /// for as long as the object is there, within the keys the list covers; lists any state may
    /// serve (`resourceVersion=0`) leave it out, as upstream's watch cache does.
    #[tokio::test]
    async fn cacher_consistent_lists_fail_on_undecodable_objects() {
        let storage = MemoryStorage::new();
        storage.create(&k("a"), cm("a", &[], "red")).await.expect("create");
        let bad_rev = storage.create(&k("bad"), Bytes::from_static(b"not json")).await.expect("create");
        storage.create(&key(PREFIX, "other", "c"), object("other", "c", &[], &[("color", "blue")])).await.expect("create");
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        let names = |r: &Result<kapi_runtime::cacher::ListResponse, CacherError>| -> Vec<String> {
            r.as_ref().map(|l| l.items.iter().map(|o| o.name().to_string()).collect()).unwrap_or_default()
        };

        // Found by the first list: every consistent list over it fails.
        let all = cacher.list(ListRequest::default()).await;
        let Err(err) = &all else { panic!("listed {:?}", names(&all)) };
        assert!(matches!(err, CacherError::Decode { key, .. } if *key == k("bad")), "{err:?}");
        let status = err.to_status();
        assert_eq!((status.code, status.reason.as_str()), (500, ""));
        // The decoder's own words (serde_json's; Go's would read "invalid character 'o' in literal null").
        assert_eq!(status.message, "expected ident at line 1 column 2");
        let default_ns = ListRequest { keys: Keys::Prefix(format!("{PREFIX}default/")), ..ListRequest::default() };
        assert!(cacher.list(default_ns).await.is_err());
        let exact = cacher.list(ListRequest { resource_version: ResourceVersion::Exact(bad_rev + 1), ..ListRequest::default() }).await;
        assert!(exact.is_err() || names(&exact).contains(&"bad".to_string()), "{:?}", names(&exact));
        // Lists that do not cover it are served; so is any-state (rv=0) from the cache, without it.
        let other_ns = ListRequest { keys: Keys::Prefix(format!("{PREFIX}other/")), ..ListRequest::default() };
        assert_eq!(names(&cacher.list(other_ns).await), ["c"]);
        assert_eq!(names(&cacher.list(ListRequest { keys: Keys::Key(k("a")), ..ListRequest::default() }).await), ["a"]);
        let any = ListRequest { resource_version: ResourceVersion::NotOlderThan(0), ..ListRequest::default() };
        assert_eq!(names(&cacher.list(any).await), ["a", "c"]);
        // A page that ends before it is served; the page that reaches it fails.
        let page1 = cacher.list(ListRequest { limit: Some(1), ..ListRequest::default() }).await.expect("page 1");
        assert_eq!(page1.items.iter().map(|o| o.name().to_string()).collect::<Vec<_>>(), ["a"]);
        let cont = page1.continue_from.clone().expect("continue");
        assert!(cacher.list(ListRequest { limit: Some(1), continue_from: Some(cont), ..ListRequest::default() }).await.is_err());

        // Repaired: listed again.
        let fixed = storage.update(&k("bad"), cm("bad", &[], "green"), bad_rev).await.expect("update");
        cacher.list(ListRequest { resource_version: ResourceVersion::NotOlderThan(fixed), ..ListRequest::default() }).await.expect("caught up");
        assert_eq!(names(&cacher.list(ListRequest::default()).await), ["a", "bad", "c"]);

        // Broken by a later write (an event, not the first list): failing again, naming it.
        let a_rev = cacher.list(ListRequest { keys: Keys::Key(k("a")), ..ListRequest::default() }).await.expect("a").items[0].revision;
        let broken = storage.update(&k("a"), Bytes::from_static(b"{\"garbage"), a_rev).await.expect("update");
        cacher.list(ListRequest { resource_version: ResourceVersion::NotOlderThan(broken), ..ListRequest::default() }).await.expect("caught up");
        assert!(matches!(cacher.list(ListRequest::default()).await, Err(CacherError::Decode { key, .. }) if key == k("a")));
        // Deleted: gone from lists and from the undecodable set alike.
        storage.delete(&k("a"), None).await.expect("delete");
        let deleted = storage.current_revision().await.expect("revision");
        cacher.list(ListRequest { resource_version: ResourceVersion::NotOlderThan(deleted), ..ListRequest::default() }).await.expect("caught up");
        assert_eq!(names(&cacher.list(ListRequest::default()).await), ["bad", "c"]);
        // Counted: the first list, the broken update (met by the watch, then by the re-list it causes),
        // and the delete's previous state.
        assert_eq!(cacher.stats().decode_errors, 4);
    }

    /// A codec that fails, as a conversion webhook that is down does, on objects of one color while
    /// `down` is set.
    struct Flaky {
        inner: Arc<JsonCodec>,
        down: Arc<std::sync::atomic::AtomicBool>,
    }

    impl kapi_runtime::cacher::ObjectCodec for Flaky {
        fn decode(
            &self,
            kv: &kapi_runtime::storage::KeyValue,
        ) -> Result<kapi_runtime::cacher::Decoded, kapi_runtime::cacher::DecodeError> {
            let converted = serde_json::from_slice::<Value>(&kv.value).is_ok_and(|v| v["data"]["color"] == "converted");
            if converted && self.down.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(kapi_runtime::cacher::DecodeError("conversion webhook failed: connection refused".into()));
            }
            self.inner.decode(kv)
        }

        fn with_revision(
            &self,
            object: &kapi_runtime::cacher::CachedObject,
            revision: Revision,
        ) -> Result<Bytes, kapi_runtime::cacher::DecodeError> {
            self.inner.with_revision(object, revision)
        }
    }

    /// A watch never hides an object that cannot be decoded: as upstream's reflector does when its
    /// watch meets one, the cache re-lists and every watcher ends (no DELETED for an object that was
    /// not deleted); a watch resumed from before it gets 410, and the list that follows fails naming
    /// it. When the object decodes again (the conversion webhook is back) the cache re-lists by
    /// itself, without a write to the object.
    #[tokio::test]
    async fn cacher_watchers_end_when_an_object_cannot_be_decoded() {
        let storage = MemoryStorage::new();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flaky = Arc::new(Flaky { inner: codec(), down: down.clone() });
        let cacher = Cacher::new(storage.clone(), PREFIX, CacherOptions::default(), flaky);
        cacher.wait_ready(WAIT).await.expect("cacher ready");
        let a = storage.create(&k("a"), cm("a", &[], "red")).await.expect("create");
        storage.create(&k("b"), cm("b", &[], "blue")).await.expect("create");
        let mut watch = cacher.watch(watch_from(a)).await.expect("watch");
        assert_eq!(summary(&next_change(&mut watch).await).0, "ADDED");

        // The webhook goes down; `a` is written at a version that needs it.
        down.store(true, std::sync::atomic::Ordering::SeqCst);
        let broken = storage.update(&k("a"), cm("a", &[], "converted"), a).await.expect("update");
        let c = storage.create(&k("c"), cm("c", &[], "green")).await.expect("create");
        loop {
            match next(&mut watch).await {
                None => break,
                Some(CacheEvent::Bookmark(_)) => continue,
                Some(event) => panic!("the watch must end, not tell {event:?}"),
            }
        }
        // Resumed from the last revision it saw: expired; the list that follows fails naming `a`.
        let mut resumed = cacher.watch(watch_from(broken - 1)).await.expect("watch");
        match next_change(&mut resumed).await {
            CacheEvent::Error(e) => assert_eq!(e.to_status().code, 410, "{e:?}"),
            other => panic!("expected 410, got {other:?}"),
        }
        cacher.list(ListRequest { resource_version: ResourceVersion::NotOlderThan(c), ..ListRequest::default() }).await.expect("caught up");
        let listed = cacher.list(ListRequest::default()).await;
        let status = match listed {
            Err(e @ CacherError::Decode { .. }) if matches!(&e, CacherError::Decode { key, .. } if *key == k("a")) => e.to_status(),
            other => panic!("expected the decode error of {}, got {:?}", k("a"), other.map(|l| l.items.len())),
        };
        assert_eq!((status.code, status.message.as_str()), (500, "conversion webhook failed: connection refused"));

        // The webhook is back: listed again within the recheck delay, `a` at its new state.
        down.store(false, std::sync::atomic::Ordering::SeqCst);
        let deadline = Instant::now() + WAIT;
        let items = loop {
            match cacher.list(ListRequest::default()).await {
                Ok(list) => break list.items,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("not recovered: {e:?}"),
            }
        };
        let colors: Vec<_> = items.iter().map(|o| json(&o.bytes)["data"]["color"].as_str().map(String::from)).collect();
        assert_eq!(colors, [Some("converted".into()), Some("blue".into()), Some("green".into())]);
        let mut after = cacher.watch(watch_from(c)).await.expect("watch");
        let d = storage.create(&k("d"), cm("d", &[], "white")).await.expect("create");
        assert_eq!(summary(&next_change(&mut after).await), ("ADDED", "d".into(), d));
    }

    #[tokio::test]
    async fn passthrough_list_watch_semantics() {
        let storage = MemoryStorage::new();
        let passthrough = Passthrough::new(storage.clone(), PREFIX, CacherOptions::default(), codec());
        semantics(&passthrough, storage.as_ref()).await;
    }

    /// The same semantics, and a fan-out, on the embedded (SQLite) backend.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cacher_on_the_embedded_backend() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let options = EmbeddedOptions { synchronous_full: false, ..EmbeddedOptions::default() };
        let storage = Embedded::open(dir.path(), options).expect("open the embedded store");
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        semantics(&cacher, storage.as_ref()).await;

        // 100 watchers, 1,000 updates from 4 concurrent writers: every watcher sees every event in order.
        let start = cacher.revision();
        let mut watchers = Vec::new();
        for _ in 0..100 {
            watchers.push(cacher.watch(watch_from(start)).await.expect("watch"));
        }
        let mut writers = Vec::new();
        for w in 0..4 {
            let storage = storage.clone();
            writers.push(tokio::spawn(async move {
                let key = k(&format!("writer-{w}"));
                let mut rev = storage.create(&key, cm("w", &[], "x")).await.expect("create");
                for i in 0..249 {
                    rev = storage.update(&key, cm("w", &[], &i.to_string()), rev).await.expect("update");
                }
            }));
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        let last = storage.current_revision().await.expect("revision");
        let mut pointers = None;
        for mut stream in watchers {
            let mut previous = start;
            let mut count = 0;
            while previous < last {
                let event = next_change(&mut stream).await;
                let rev = event.revision().expect("revision");
                assert!(rev > previous, "in order: {rev} after {previous}");
                previous = rev;
                count += 1;
                if rev == last {
                    let ptr = event.object().expect("object").bytes.as_ptr();
                    assert_eq!(*pointers.get_or_insert(ptr), ptr, "every watcher shares the bytes");
                }
            }
            assert_eq!(count, 1000);
        }
        // A consistent list after all that is served from the cache and is complete.
        let list = cacher.list(ListRequest::default()).await.expect("list");
        assert_eq!(list.revision, last);
        assert_eq!(list.items.iter().filter(|o| o.name() == "w").count(), 4);
    }

    #[tokio::test]
    async fn watch_from_before_the_ring_is_expired_in_stream() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::with_capacity(10)).await;
        let mut revs = Vec::new();
        for i in 0..30 {
            revs.push(storage.create(&k(&format!("o{i}")), cm("o", &[], "x")).await.expect("create"));
        }
        cacher.wait_until(revs[29], WAIT).await.expect("cache caught up");
        // The ring holds the last 10 events (revs[20..]): a watch may start at revs[20] - 1 or later.
        let mut stream = cacher.watch(watch_from(revs[5])).await.expect("watch");
        match next(&mut stream).await {
            Some(CacheEvent::Error(e)) => {
                assert_eq!(e.to_string(), format!("too old resource version: {} ({})", revs[5], revs[20] - 1));
                let status = e.to_status();
                assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            }
            other => panic!("expected 410, got {other:?}"),
        }
        assert!(next(&mut stream).await.is_none(), "the stream ends after the error");
        // From the oldest resumable revision: the whole ring.
        let mut stream = cacher.watch(watch_from(revs[20] - 1)).await.expect("watch");
        for rev in &revs[20..] {
            assert_eq!(next_change(&mut stream).await.revision(), Some(*rev));
        }
    }

    #[tokio::test]
    async fn ring_keeps_a_byte_budget_and_a_time_window() {
        let storage = MemoryStorage::new();
        let opts = CacherOptions {
            max_ring_bytes: 10_000,
            event_fresh_duration: Duration::from_millis(300),
            min_ring_events: 2,
            bookmark_interval: Duration::from_millis(100),
            ..CacherOptions::default()
        };
        let cacher = cacher(storage.clone(), opts).await;
        let big = "x".repeat(2400);
        let value = |n: &str| object("default", "big", &[("n", n)], &[("color", "blue"), ("pad", &big)]);
        let first = storage.create(&k("big"), value("0")).await.expect("create");
        let mut revs = Vec::new();
        let mut last = first;
        for i in 1..=6 {
            last = storage.update(&k("big"), value(&i.to_string()), last).await.expect("update");
            revs.push(last);
        }
        cacher.wait_until(revs[5], WAIT).await.expect("cache caught up");
        // Each update supersedes ~2.9 KB that only the ring keeps: three of them fit in 10,000 bytes.
        let stats = cacher.stats();
        assert_eq!((stats.ring_events, stats.evicted_by_bytes, stats.evicted_by_count), (3, 4, 0), "{stats:?}");
        assert!(stats.ring_bytes <= 10_000, "{stats:?}");
        let expired = format!("too old resource version: {first} ({})", revs[3] - 1);
        let mut stream = cacher.watch(watch_from(first)).await.expect("watch");
        assert!(matches!(next(&mut stream).await, Some(CacheEvent::Error(e)) if e.to_string() == expired));
        // Idle past the window: the ring keeps its floor of 2 events, and shrinks.
        let idle = Instant::now();
        while cacher.stats().ring_events > 2 && idle.elapsed() < WAIT {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let stats = cacher.stats();
        assert_eq!((stats.ring_events, stats.evicted_by_age), (2, 1), "{stats:?}");
        let mut stream = cacher.watch(watch_from(revs[4] - 2)).await.expect("watch");
        assert!(matches!(next(&mut stream).await, Some(CacheEvent::Error(e)) if e.to_status().code == 410));
        let mut stream = cacher.watch(watch_from(revs[4] - 1)).await.expect("watch");
        assert_eq!(next_change(&mut stream).await.revision(), Some(revs[4]));
        assert_eq!(next_change(&mut stream).await.revision(), Some(revs[5]));
    }

    #[tokio::test]
    async fn passthrough_watch_from_compacted_revision_is_expired() {
        let storage = MemoryStorage::new();
        let passthrough = Passthrough::new(storage.clone(), PREFIX, CacherOptions::default(), codec());
        let r1 = storage.create(&k("a"), cm("a", &[], "x")).await.expect("create");
        let r2 = storage.update(&k("a"), cm("a", &[], "y"), r1).await.expect("update");
        storage.compact(r2).await.expect("compact");
        let mut stream = passthrough.watch(watch_from(r1)).await.expect("watch");
        match next(&mut stream).await {
            Some(CacheEvent::Error(e)) => {
                assert_eq!(e.to_status().code, 410);
                assert_eq!(e.to_string(), "The resourceVersion for the provided watch is too old.");
            }
            other => panic!("expected 410, got {other:?}"),
        }
        assert!(next(&mut stream).await.is_none());
    }

    #[tokio::test]
    async fn consistent_list_waits_for_the_cache_and_rv0_may_be_stale() {
        // Every watch item reaches the cache 100 ms late.
        let storage = MemoryStorage::new();
        let slow = DelayedWatches::new(storage.clone(), Duration::from_millis(100));
        let cacher = cacher(slow, CacherOptions::default()).await;
        let rev = storage.create(&k("a"), cm("a", &[], "x")).await.expect("create");
        // resourceVersion=0: whatever the cache has now (it has not seen the write yet).
        let stale = cacher
            .list(ListRequest { resource_version: ResourceVersion::NotOlderThan(0), ..ListRequest::default() })
            .await
            .expect("rv=0 list");
        assert!(stale.items.is_empty());
        assert!(stale.revision < rev);
        // Unset: consistent, it waits until the cache has reached storage's revision.
        let started = Instant::now();
        let fresh = cacher.list(ListRequest::default()).await.expect("consistent list");
        assert_eq!(fresh.items.len(), 1);
        assert_eq!(fresh.revision, rev);
        assert!(started.elapsed() >= Duration::from_millis(50), "it had to wait for the cache");
        // NotOlderThan(rev) is now served from the cache at once.
        let not_older = cacher
            .list(ListRequest { resource_version: ResourceVersion::NotOlderThan(rev), ..ListRequest::default() })
            .await
            .expect("list");
        assert_eq!(not_older.items.len(), 1);
        // The object came from the cache: the same allocation as the cache's own.
        let got = cacher.get(&k("a"), ResourceVersion::NotOlderThan(rev)).await.expect("get").object.expect("object");
        assert_eq!(got.bytes.as_ptr(), fresh.items[0].bytes.as_ptr());
    }

    #[tokio::test]
    async fn too_large_resource_version_and_consistent_read_fallback() {
        // No progress notifications: writes to another resource move storage's revision, and the cache
        // (which sees no event) cannot prove it is fresh.
        let storage = MemoryStorage::new();
        let opts = CacherOptions { freshness_timeout: Duration::from_millis(200), ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        storage.create(&k("a"), cm("a", &[], "x")).await.expect("create");
        let other = storage.create("/registry/secrets/default/s", Bytes::from_static(b"{}")).await.expect("create");
        let future = cacher
            .list(ListRequest { resource_version: ResourceVersion::NotOlderThan(other + 10), ..ListRequest::default() })
            .await;
        match future {
            Err(e @ CacherError::TooLargeResourceVersion { .. }) => {
                assert_eq!(e.to_status().code, 504);
                assert!(e
                    .to_status()
                    .message
                    .starts_with(&format!("Timeout: Too large resource version: {}", other + 10)));
            }
            other => panic!("expected Too large resource version, got {other:?}"),
        }
        // A consistent list falls back to storage after the timeout, and is still right.
        let started = Instant::now();
        let list = cacher.list(ListRequest::default()).await.expect("consistent list");
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(list.items.len(), 1);
        assert_eq!(list.revision, other);
        // With progress notifications the cache reaches storage's revision without any event of its own.
        storage.notify_progress();
        cacher.wait_until(other, WAIT).await.expect("progress moved the cache");
        let started = Instant::now();
        let list = cacher.list(ListRequest::default()).await.expect("consistent list");
        assert!(started.elapsed() < Duration::from_millis(200));
        assert_eq!(list.revision, other);
    }

    #[tokio::test]
    async fn bookmarks_are_periodic_when_allowed() {
        let storage = MemoryStorage::new();
        let opts = CacherOptions { bookmark_interval: Duration::from_millis(100), ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let rev = storage.create(&k("a"), cm("a", &[], "x")).await.expect("create");
        cacher.wait_until(rev, WAIT).await.expect("cache caught up");
        let mut with = cacher.watch(WatchRequest { allow_bookmarks: true, ..watch_from(rev) }).await.expect("watch");
        let mut without = cacher.watch(watch_from(rev)).await.expect("watch");
        let started = Instant::now();
        for _ in 0..3 {
            match next(&mut with).await {
                Some(CacheEvent::Bookmark(b)) => {
                    assert!(!b.initial_events_end);
                    assert_eq!(b.revision, rev);
                }
                other => panic!("expected a bookmark, got {other:?}"),
            }
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(200), "three bookmarks 100 ms apart took {elapsed:?}");
        // Bookmarks follow the cache's revision, here moved by a write elsewhere plus progress.
        let other = storage.create("/registry/secrets/default/s", Bytes::from_static(b"{}")).await.expect("create");
        storage.notify_progress();
        loop {
            match next(&mut with).await {
                Some(CacheEvent::Bookmark(b)) if b.revision == other => break,
                Some(CacheEvent::Bookmark(b)) => assert!(b.revision >= rev),
                other => panic!("expected a bookmark, got {other:?}"),
            }
        }
        assert!(
            tokio::time::timeout(Duration::from_millis(300), without.next()).await.is_err(),
            "no bookmarks unless allowed"
        );
    }

    #[tokio::test]
    async fn bookmark_before_the_deadline() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        // The bookmark interval is a minute, but the watch ends in 2.3 s: a bookmark comes 2 s before.
        let deadline = Instant::now() + Duration::from_millis(2300);
        let request = WatchRequest { allow_bookmarks: true, deadline: Some(deadline), ..watch_from(cacher.revision()) };
        let mut stream = cacher.watch(request).await.expect("watch");
        match next(&mut stream).await {
            Some(CacheEvent::Bookmark(b)) => assert_eq!(b.revision, cacher.revision()),
            other => panic!("expected a bookmark, got {other:?}"),
        }
        assert!(Instant::now() < deadline);
    }

    #[tokio::test]
    async fn encode_once_lists_and_watchers_share_the_bytes() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        let from = cacher.revision();
        let mut watchers = Vec::new();
        for _ in 0..16 {
            watchers.push(cacher.watch(watch_from(from)).await.expect("watch"));
        }
        let rev = storage.create(&k("shared"), cm("shared", &[], "x")).await.expect("create");
        let mut pointers = Vec::new();
        for w in &mut watchers {
            let event = next_change(w).await;
            let object = event.object().expect("object");
            assert_eq!(object.revision, rev);
            pointers.push(object.bytes.as_ptr());
        }
        let list = cacher.list(ListRequest::default()).await.expect("list");
        pointers.push(list.items[0].bytes.as_ptr());
        let rv0 = cacher
            .list(ListRequest { resource_version: ResourceVersion::NotOlderThan(0), ..ListRequest::default() })
            .await
            .expect("list");
        pointers.push(rv0.items[0].bytes.as_ptr());
        let exact = cacher
            .list(ListRequest { resource_version: ResourceVersion::Exact(rev), ..ListRequest::default() })
            .await
            .expect("list");
        pointers.push(exact.items[0].bytes.as_ptr());
        // Even reads that go to storage reuse the cached object of the same revision.
        let got = cacher.get(&k("shared"), ResourceVersion::Unset).await.expect("get").object.expect("object");
        pointers.push(got.bytes.as_ptr());
        let mut replay = cacher.watch(watch_from(from)).await.expect("watch");
        pointers.push(next_change(&mut replay).await.object().expect("object").bytes.as_ptr());
        let mut initial = cacher.watch(watch_from(0)).await.expect("watch");
        pointers.push(next_change(&mut initial).await.object().expect("object").bytes.as_ptr());
        assert!(pointers.iter().all(|p| *p == pointers[0]), "one allocation for every reader: {pointers:?}");
        assert!(Arc::ptr_eq(&list.items[0], &rv0.items[0]));
    }

    /// A watch that has read the ring to its end and now follows the live fan-out.
    async fn live_watch(cacher: &Cacher, storage: &MemoryStorage) -> EventStream {
        let mut stream = cacher.watch(watch_from(cacher.revision())).await.expect("watch");
        let rev = storage.create(&k("first"), cm("first", &[], "x")).await.expect("create");
        assert_eq!(next_change(&mut stream).await.revision(), Some(rev));
        stream
    }

    #[tokio::test]
    async fn a_lagging_watcher_catches_up_from_the_ring() {
        let storage = MemoryStorage::new();
        // A buffer of 8 events, a ring of 1,000: a watcher that reads late is served from the ring.
        let opts = CacherOptions { watcher_buffer: 8, capacity: 1000, ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let mut stream = live_watch(&cacher, &storage).await;
        let mut revs = Vec::new();
        for i in 0..500 {
            revs.push(storage.create(&k(&format!("o{i:04}")), cm("o", &[], "x")).await.expect("create"));
        }
        cacher.wait_until(revs[499], WAIT).await.expect("cache caught up");
        for rev in &revs {
            assert_eq!(next_change(&mut stream).await.revision(), Some(*rev));
        }
        let stats = cacher.stats();
        assert!(stats.caught_up >= 1, "{stats:?}");
        assert_eq!(stats.cut_off, 0);
    }

    #[tokio::test]
    async fn without_catch_up_a_lagging_watcher_is_closed() {
        let storage = MemoryStorage::new();
        let opts = CacherOptions { watcher_buffer: 8, catch_up_from_ring: false, ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let mut stream = live_watch(&cacher, &storage).await;
        let mut last = 0;
        for i in 0..100 {
            last = storage.create(&k(&format!("o{i:04}")), cm("o", &[], "x")).await.expect("create");
        }
        cacher.wait_until(last, WAIT).await.expect("cache caught up");
        // Upstream behaviour: the watcher is closed (no error); its client re-watches from its last RV.
        let mut received = 0;
        while let Some(event) = next(&mut stream).await {
            assert!(!matches!(event, CacheEvent::Error(_)));
            received += 1;
        }
        assert!(received < 100);
        assert_eq!(cacher.stats().cut_off, 1);
    }

    #[tokio::test]
    async fn rewatch_after_a_lost_storage_watch_loses_nothing() {
        let storage = MemoryStorage::new();
        let opts = CacherOptions { retry_backoff: Duration::from_millis(5), ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let mut stream = cacher.watch(watch_from(cacher.revision())).await.expect("watch");
        let mut revs = Vec::new();
        for i in 0..20 {
            if i == 10 {
                storage.break_watches(if i % 2 == 0 { None } else { Some(StorageError::Unavailable("lost".into())) });
            }
            revs.push(storage.create(&k(&format!("o{i:02}")), cm("o", &[], "x")).await.expect("create"));
        }
        for rev in &revs {
            assert_eq!(next_change(&mut stream).await.revision(), Some(*rev));
        }
        let stats = cacher.stats();
        assert_eq!(stats.lists, 1, "a re-watch, not a re-list");
        assert!(stats.storage_errors >= 1);
    }

    #[tokio::test]
    async fn relist_after_compaction_ends_current_watchers() {
        let storage = MemoryStorage::new();
        let opts = CacherOptions { retry_backoff: Duration::from_millis(5), ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let r1 = storage.create(&k("a"), cm("a", &[], "x")).await.expect("create");
        cacher.wait_until(r1, WAIT).await.expect("caught up");
        let mut stream = cacher.watch(watch_from(r1)).await.expect("watch");
        // The storage watch falls behind compaction: the cacher must re-list.
        let r2 = storage.update(&k("a"), cm("a", &[], "y"), r1).await.expect("update");
        storage.compact(r2).await.expect("compact");
        storage.break_watches(Some(StorageError::Expired { requested: r1, compacted: r2 }));
        let r3 = storage.create(&k("b"), cm("b", &[], "z")).await.expect("create");
        cacher.wait_until(r3, WAIT).await.expect("re-listed");
        // The old watcher may have seen r2 before the re-list; then it ends.
        loop {
            match next(&mut stream).await {
                Some(CacheEvent::Modified(o)) if o.revision == r2 => continue,
                None => break,
                other => panic!("expected the watch to end, got {other:?}"),
            }
        }
        let stats = cacher.stats();
        assert_eq!(stats.lists, 2);
        assert_eq!(stats.objects, 2);
        // Watches older than the new list are 410; newer ones work.
        let mut old = cacher.watch(watch_from(r1)).await.expect("watch");
        assert!(matches!(next(&mut old).await, Some(CacheEvent::Error(CacherError::Expired { .. }))));
        let mut new = cacher.watch(watch_from(r3)).await.expect("watch");
        let r4 = storage.create(&k("c"), cm("c", &[], "w")).await.expect("create");
        assert_eq!(next_change(&mut new).await.revision(), Some(r4));
    }

    #[tokio::test]
    async fn stopping_the_cacher_ends_every_watch() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        let from = cacher.revision();
        let mut live = live_watch(&cacher, &storage).await;
        let mut replaying = cacher.watch(watch_from(from)).await.expect("watch");
        let mut initial = cacher.watch(watch_from(0)).await.expect("watch");
        cacher.stop();
        // Each ends, at most after the items it already held.
        for stream in [&mut live, &mut replaying, &mut initial] {
            let mut held = 0;
            while let Some(event) = next(stream).await {
                assert!(event.object().is_some_and(|o| o.name() == "first"), "{event:?}");
                held += 1;
            }
            assert!(held <= 1);
        }
        assert!(matches!(cacher.watch(watch_from(0)).await, Err(CacherError::Stopped)));
    }

    #[tokio::test]
    async fn pagination_keeps_the_first_page_revision() {
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        for i in 0..25 {
            storage.create(&k(&format!("o{i:02}")), cm("o", &[], "x")).await.expect("create");
        }
        let page1 = cacher.list(ListRequest { limit: Some(10), ..ListRequest::default() }).await.expect("page");
        assert_eq!((page1.items.len(), page1.remaining), (10, Some(15)));
        let at = page1.revision;
        // Served from the cache while it is still at that revision.
        let cont = page1.continue_from.expect("continue");
        let page2 = cacher
            .list(ListRequest { limit: Some(10), continue_from: Some(cont), ..ListRequest::default() })
            .await
            .expect("page");
        assert_eq!(page2.revision, at);
        assert_eq!(page2.items[0].name(), "o");
        assert_eq!(page2.items[0].key.as_ref(), k("o10"));
        // A write in between: the last page comes from storage at the first page's revision.
        let late = storage.create(&k("o99"), cm("o", &[], "x")).await.expect("create");
        cacher.wait_until(late, WAIT).await.expect("caught up");
        let cont = page2.continue_from.expect("continue");
        let page3 = cacher
            .list(ListRequest { limit: Some(10), continue_from: Some(cont), ..ListRequest::default() })
            .await
            .expect("page");
        assert_eq!(page3.revision, at);
        assert_eq!(page3.items.len(), 5, "o99 was written after the list's revision");
        assert!(page3.continue_from.is_none());
        // A selector with a limit pages through matches only.
        let odd = Filter::new(|o| o.key.ends_with(['1', '3', '5', '7', '9']));
        let page =
            cacher.list(ListRequest { limit: Some(4), filter: odd, ..ListRequest::default() }).await.expect("page");
        let keys: Vec<_> = page.items.iter().map(|o| o.key.to_string()).collect();
        assert_eq!(keys, [k("o01"), k("o03"), k("o05"), k("o07")]);
        assert!(page.continue_from.is_some());
    }

    /// The two load tests take all cores: under `cargo test` (one process) they take turns; nextest
    /// runs `serial_*` tests alone anyway.
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Objects of about `size` serialized bytes.
    fn padded(name: &str, size: usize) -> Bytes {
        object("default", name, &[("app", "load")], &[("pad", &"x".repeat(size.saturating_sub(150)))])
    }

    /// 1,000 watchers, 10,000 events (2,500 objects created, updated twice, deleted): every watcher
    /// gets every event, in order, with the right type.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serial_fanout_1000_watchers_10000_events() {
        let _alone = SERIAL.lock().await;
        const WATCHERS: usize = 1000;
        const OBJECTS: usize = 2500;
        const EVENTS: usize = OBJECTS * 4;
        let storage = MemoryStorage::new();
        let cacher = cacher(storage.clone(), CacherOptions::default()).await;
        let start = cacher.revision();
        let mut tasks = Vec::new();
        for _ in 0..WATCHERS {
            let mut stream = cacher.watch(watch_from(start)).await.expect("watch");
            let consume = async move {
                for (seen, expected) in (start + 1..).take(EVENTS).enumerate() {
                    let Some(event) = stream.next().await else { return Err(format!("ended after {seen} events")) };
                    let want = ["ADDED", "MODIFIED", "MODIFIED", "DELETED"][seen / OBJECTS];
                    if event.revision() != Some(expected) || event.type_name() != want {
                        return Err(format!("event {seen}: got {:?}, want {want} at {expected}", summary(&event)));
                    }
                }
                Ok(Instant::now())
            };
            tasks.push(tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(60), consume).await.unwrap_or_else(|_| Err("timed out".into()))
            }));
        }
        let began = Instant::now();
        let mut revisions = vec![0; OBJECTS];
        for round in 0..4 {
            for (i, rev) in revisions.iter_mut().enumerate() {
                let key = k(&format!("load-{i:05}"));
                *rev = match round {
                    0 => storage.create(&key, padded("load", 1024)).await,
                    1 | 2 => storage.update(&key, padded("load", 1024), *rev).await,
                    _ => storage.delete(&key, Some(*rev)).await.map(|(_, r)| r),
                }
                .expect("write");
            }
        }
        let written = began.elapsed();
        let mut last_done = began;
        for task in tasks {
            let done = task.await.expect("watcher task").expect("every event in order");
            last_done = last_done.max(done);
        }
        let fanned_out = last_done - began;
        let stats = cacher.stats();
        eprintln!(
            "fan-out: {EVENTS} events x {WATCHERS} watchers: writes took {written:?}, last watcher done after {fanned_out:?} \
             ({:.1} M deliveries/s); caught up from ring {} times, cut off {}",
            (EVENTS * WATCHERS) as f64 / fanned_out.as_secs_f64() / 1e6,
            stats.caught_up,
            stats.cut_off
        );
        assert_eq!(stats.cut_off, 0);
        assert!(fanned_out < Duration::from_secs(30), "fan-out took {fanned_out:?}");
    }

    /// Writes `count` updates of `key` as fast as storage takes them; returns the new revision and the time.
    async fn burst(storage: &MemoryStorage, key: &str, mut rev: Revision, count: usize) -> (Revision, Duration) {
        let began = Instant::now();
        for _ in 0..count {
            rev = storage.update(key, padded("hot", 512), rev).await.expect("update");
        }
        (rev, began.elapsed())
    }

    /// One watcher that stops reading: it does not slow the writer or the 1,000 others, and it is cut
    /// off (410 when it reads again, since its position has left the ring).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serial_a_stalled_watcher_is_cut_off_and_others_finish() {
        let _alone = SERIAL.lock().await;
        const WATCHERS: usize = 1000;
        const EVENTS: usize = 10_000;
        let storage = MemoryStorage::new();
        // A ring of 8,000: the stalled watcher (15,000 events behind at the end) falls out of it; the
        // others keep up with a paced writer.
        let opts = CacherOptions { capacity: 8000, ..CacherOptions::default() };
        let cacher = cacher(storage.clone(), opts).await;
        let key = k("hot");
        let rev = storage.create(&key, padded("hot", 512)).await.expect("create");
        cacher.wait_until(rev, WAIT).await.expect("caught up");

        // The writer's pace with no watcher, then with one live watcher that stopped reading.
        let (rev, alone) = burst(&storage, &key, rev, 5000).await;
        cacher.wait_until(rev, WAIT).await.expect("caught up");
        let mut stalled = live_watch(&cacher, &storage).await;
        let (mut rev, with_stalled) = burst(&storage, &key, rev, 5000).await;
        cacher.wait_until(rev, WAIT).await.expect("caught up");
        assert!(
            with_stalled < alone * 2 + Duration::from_millis(200),
            "5,000 writes took {alone:?} alone and {with_stalled:?} with a stalled watcher"
        );

        // 1,000 watchers that read, and a paced writer: 10,000 updates, 100 every 20 ms.
        let start = cacher.revision();
        let mut tasks = Vec::new();
        for _ in 0..WATCHERS {
            let mut stream = cacher.watch(watch_from(start)).await.expect("watch");
            let consume = async move {
                for (seen, expected) in (start + 1..).take(EVENTS).enumerate() {
                    match stream.next().await {
                        Some(event) if event.revision() == Some(expected) => {}
                        other => return Err(format!("event {seen}: {other:?}")),
                    }
                }
                Ok(Instant::now())
            };
            tasks.push(tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(60), consume).await.unwrap_or_else(|_| Err("timed out".into()))
            }));
        }
        let began = Instant::now();
        let mut slowest_batch = Duration::ZERO;
        for _ in 0..EVENTS / 100 {
            let (r, took) = burst(&storage, &key, rev, 100).await;
            rev = r;
            slowest_batch = slowest_batch.max(took);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let written = began.elapsed();
        let mut last_done = began;
        for task in tasks {
            last_done = last_done.max(task.await.expect("watcher task").expect("every event in order"));
        }
        let all_done = last_done - began;

        // The stalled watcher reads again: 410, then the end.
        match next(&mut stalled).await {
            Some(CacheEvent::Error(e)) => assert_eq!(e.to_status().code, 410),
            other => panic!("expected the stalled watcher to be cut off, got {other:?}"),
        }
        assert!(next(&mut stalled).await.is_none());
        let stats = cacher.stats();
        eprintln!(
            "stalled watcher: 5,000 writes alone {alone:?}, with a stalled watcher {with_stalled:?}; paced {EVENTS} writes \
             took {written:?} (slowest batch of 100: {slowest_batch:?}), {WATCHERS} watchers done after {all_done:?}; \
             caught up {} times, cut off {}",
            stats.caught_up, stats.cut_off
        );
        assert_eq!(stats.cut_off, 1, "only the stalled watcher is cut off");
        assert!(
            all_done < written + Duration::from_secs(10),
            "the others finished {all_done:?} after the writer's start"
        );
    }
}
