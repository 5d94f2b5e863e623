//! The storage conformance suite: every behaviour of the [`Storage`] contract, as one `pub async fn`
//! per behaviour, stamped out as tests for a backend by
//! [`storage_conformance_tests!`](crate::storage_conformance_tests) (after kubernetes/apiserver
//! `pkg/storage/testing/store_tests.go`, which etcd and the cacher both pass). Every backend must
//! pass all of it. A backend's test file is one line (here the embedded store's):
//!
//! ```text
//! kapi_runtime::storage_conformance_tests!(kapi_runtime::storage::conformance::EmbeddedFixture::new());
//! ```
//!
//! Assumption: nobody else writes to the store while a test runs (each test gets a fresh fixture),
//! so revisions of the test's own writes are the only ones that appear.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::embedded::{Embedded, EmbeddedOptions};
use super::etcd3::{Etcd3, Etcd3Options};
use super::{
    Event, EventKind, KeyValue, ListOptions, Revision, Storage, StorageError, WatchItem, WatchStream, MAX_VALUE_BYTES,
};

/// A backend under test, on data that can be reopened (a restart).
#[async_trait::async_trait]
pub trait Fixture: Send + Sync + 'static {
    /// The store under test.
    fn store(&self) -> Arc<dyn Storage>;
    /// Closes the store and opens it again on the same data, as a process restart would. Callers
    /// drop their store handles first.
    async fn restart(&mut self);
    /// How many events a stalled watcher may fall behind before the backend cuts it off; the
    /// slow-watcher test writes well beyond it.
    fn watch_buffer(&self) -> usize;
    /// How long a full buffer is tolerated before the cut-off (a backend that receives events in
    /// bursts lets a consumer that keeps up catch up); zero: at once.
    fn watch_stall_timeout(&self) -> Duration {
        Duration::ZERO
    }
}

/// The embedded backend on a temporary directory with its default durability (`synchronous=FULL`),
/// tuned for tests otherwise: a small watch buffer, frequent progress items, no periodic
/// compaction (the suite compacts explicitly).
pub struct EmbeddedFixture {
    dir: tempfile::TempDir,
    options: EmbeddedOptions,
    store: Option<Arc<Embedded>>,
}

impl EmbeddedFixture {
    /// Options the fixture uses.
    pub fn test_options() -> EmbeddedOptions {
        EmbeddedOptions {
            compaction_interval: Duration::ZERO,
            progress_interval: Duration::from_millis(100),
            watch_buffer: 64,
            ..EmbeddedOptions::default()
        }
    }

    /// A fresh store in a new temporary directory.
    pub async fn new() -> Self {
        Self::with_options(Self::test_options()).await
    }

    /// A fresh store with the given options.
    pub async fn with_options(options: EmbeddedOptions) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = Embedded::open(dir.path(), options.clone()).expect("open the embedded store");
        Self { dir, options, store: Some(store) }
    }

    /// The embedded store itself.
    pub fn embedded(&self) -> Arc<Embedded> {
        self.store.clone().expect("store is open")
    }

    /// The data directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

#[async_trait::async_trait]
impl Fixture for EmbeddedFixture {
    fn store(&self) -> Arc<dyn Storage> {
        self.embedded()
    }

    async fn restart(&mut self) {
        let mut store = self.store.take().expect("store is open");
        // Dropping the last handle joins the writer thread; wait for stray handles to go.
        for _ in 0..200 {
            match Arc::try_unwrap(store) {
                Ok(inner) => {
                    tokio::task::spawn_blocking(move || drop(inner)).await.expect("close the store");
                    let reopened = Embedded::open(self.dir.path(), self.options.clone()).expect("reopen");
                    self.store = Some(reopened);
                    return;
                }
                Err(shared) => {
                    store = shared;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        panic!("restart: the store is still in use elsewhere after 10 s");
    }

    fn watch_buffer(&self) -> usize {
        self.options.watch_buffer
    }
}

/// The etcd3 backend on a real etcd (the provisioned 3.5.1, see [`etcd_process`]) started for the
/// test, with the backend tuned for tests: a small watch buffer, no periodic compaction. etcd runs
/// with 100 ms progress notifications (3.5.1 cannot answer progress requests in order) and a request
/// limit that fits a value of [`MAX_VALUE_BYTES`] with its key.
///
/// [`etcd_process`]: super::etcd_process
pub struct EtcdFixture {
    cluster: super::etcd_process::EtcdCluster,
    options: Etcd3Options,
    store: Option<Arc<Etcd3>>,
}

impl EtcdFixture {
    /// Options of the backend under test, for `cluster`.
    pub fn test_options(cluster: &super::etcd_process::EtcdCluster) -> Etcd3Options {
        let tls = cluster.tls();
        Etcd3Options {
            endpoints: cluster.client_urls(),
            ca_file: tls.map(|t| t.ca()),
            cert_file: tls.map(|t| t.client_cert()),
            key_file: tls.map(|t| t.client_key()),
            compaction_interval: Duration::ZERO,
            progress_interval: Duration::from_millis(100),
            watch_buffer: 64,
            watch_stall_timeout: Duration::from_millis(100),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            watch_retry_for: Duration::from_secs(20),
        }
    }

    /// etcd options of the fixture.
    pub fn etcd_options() -> super::etcd_process::EtcdOptions {
        super::etcd_process::EtcdOptions {
            extra_args: vec![format!("--max-request-bytes={}", MAX_VALUE_BYTES + 64 * 1024)],
            ..super::etcd_process::EtcdOptions::default()
        }
    }

    /// A fresh single-member etcd and the backend on it.
    pub async fn new() -> Self {
        Self::with_etcd(Self::etcd_options()).await
    }

    /// The backend on a fresh etcd started with `etcd`.
    pub async fn with_etcd(etcd: super::etcd_process::EtcdOptions) -> Self {
        let cluster = tokio::task::spawn_blocking(move || super::etcd_process::EtcdCluster::start(etcd))
            .await
            .expect("start etcd");
        let options = Self::test_options(&cluster);
        let store = Etcd3::connect(options.clone()).await.expect("connect to etcd");
        Self { cluster, options, store: Some(store) }
    }

    /// The etcd processes.
    pub fn cluster(&mut self) -> &mut super::etcd_process::EtcdCluster {
        &mut self.cluster
    }
}

#[async_trait::async_trait]
impl Fixture for EtcdFixture {
    fn store(&self) -> Arc<dyn Storage> {
        self.store.clone().expect("store is open")
    }

    /// Restarts etcd itself (kill -9 and start on the same data) and connects anew.
    async fn restart(&mut self) {
        drop(self.store.take());
        let cluster = &mut self.cluster;
        // The suite runs on the multi-threaded runtime, where a worker may block.
        tokio::task::block_in_place(|| {
            for m in 0..cluster.member_count() {
                cluster.kill(m);
            }
            for m in 0..cluster.member_count() {
                cluster.restart(m);
            }
        });
        self.store = Some(Etcd3::connect(self.options.clone()).await.expect("reconnect to etcd"));
    }

    fn watch_buffer(&self) -> usize {
        self.options.watch_buffer
    }

    fn watch_stall_timeout(&self) -> Duration {
        self.options.watch_stall_timeout
    }
}

/// Stamps out one `#[tokio::test]` per conformance behaviour for a backend. The argument is an
/// expression evaluating to a future of a [`Fixture`] (a fresh store per test).
#[macro_export]
macro_rules! storage_conformance_tests {
    ($fixture:expr) => {
        $crate::storage_conformance_tests!(@each $fixture;
            create_and_get,
            create_existing_fails,
            get_missing_is_none,
            update_compare_and_swap,
            delete_semantics,
            recreate_after_delete,
            revisions_increase_globally,
            binary_values_roundtrip,
            oversize_values_refused,
            list_prefix_isolation,
            list_pagination,
            list_and_get_at_old_revision,
            future_revision,
            compaction_expires_old_revisions,
            compaction_keeps_latest_values,
            watch_replays_from_revision,
            watch_from_current_sees_only_new,
            watch_prefix_isolation,
            watch_delete_carries_prev,
            watch_subscribe_race_no_gap_no_duplicate,
            watch_progress_when_quiet,
            concurrent_writers_no_lost_update,
            concurrent_creates_one_winner,
            restart_resumes_revisions_and_watch,
            slow_watcher_cut_off_without_blocking_writes,
        );
    };
    (@each $fixture:expr; $($test:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                $crate::storage::conformance::$test($fixture.await).await;
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const WAIT: Duration = Duration::from_secs(20);

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {WAIT:?}: {what}"),
    }
}

/// The next item of a watch stream (panics on end, error or timeout).
async fn next_item(stream: &mut WatchStream) -> WatchItem {
    match within("waiting for a watch item", stream.next()).await {
        Some(Ok(item)) => item,
        Some(Err(e)) => panic!("watch failed: {e}"),
        None => panic!("watch stream ended"),
    }
}

/// The next event, skipping progress items.
async fn next_event(stream: &mut WatchStream) -> Event {
    loop {
        if let WatchItem::Event(e) = next_item(stream).await {
            return e;
        }
    }
}

async fn current(s: &Arc<dyn Storage>) -> Revision {
    s.current_revision().await.expect("current_revision")
}

fn kv(key: &str, value: &str, create_revision: Revision, mod_revision: Revision) -> KeyValue {
    KeyValue { key: key.to_owned(), value: b(value), create_revision, mod_revision }
}

fn assert_event(e: &Event, kind: EventKind, key: &str, value: &str, mod_revision: Revision, prev: Option<KeyValue>) {
    assert_eq!(e.kind, kind, "event kind of {e:?}");
    assert_eq!(e.kv.key, key, "event key of {e:?}");
    assert_eq!(e.kv.mod_revision, mod_revision, "event revision of {e:?}");
    if kind != EventKind::Deleted {
        assert_eq!(e.kv.value, b(value), "event value of {e:?}");
    } else {
        assert!(e.kv.value.is_empty(), "a delete event carries no value: {e:?}");
    }
    assert_eq!(e.prev, prev, "event prev of {e:?}");
}

fn keys(items: &[KeyValue]) -> Vec<&str> {
    items.iter().map(|kv| kv.key.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Basic semantics

/// A created key reads back with create and mod revision equal to the write's revision.
pub async fn create_and_get(f: impl Fixture) {
    let s = f.store();
    let before = current(&s).await;
    assert!(before >= 1, "a store's revision starts at 1 or above");
    let rev = s.create("/registry/pods/ns/a", b("v1")).await.expect("create");
    assert!(rev > before, "create revision {rev} must exceed {before}");
    assert_eq!(current(&s).await, rev);
    let got = s.get("/registry/pods/ns/a", None).await.expect("get").expect("present");
    assert_eq!(got, kv("/registry/pods/ns/a", "v1", rev, rev));
}

/// Creating an existing key fails with `AlreadyExists` and consumes no revision.
pub async fn create_existing_fails(f: impl Fixture) {
    let s = f.store();
    let rev = s.create("/registry/pods/ns/a", b("v1")).await.expect("create");
    let err = s.create("/registry/pods/ns/a", b("v2")).await.expect_err("second create");
    assert_eq!(err, StorageError::AlreadyExists { key: "/registry/pods/ns/a".into() });
    assert_eq!(current(&s).await, rev, "a failed write must not bump the revision");
    let got = s.get("/registry/pods/ns/a", None).await.expect("get").expect("present");
    assert_eq!(got.value, b("v1"));
}

/// Reading an absent key yields `None`, now and at a past revision.
pub async fn get_missing_is_none(f: impl Fixture) {
    let s = f.store();
    assert_eq!(s.get("/registry/pods/ns/nope", None).await.expect("get"), None);
    let rev = s.create("/registry/pods/ns/other", b("x")).await.expect("create");
    assert_eq!(s.get("/registry/pods/ns/nope", Some(rev)).await.expect("get at rev"), None);
}

/// `update` is a compare-and-swap on `mod_revision`.
pub async fn update_compare_and_swap(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/configmaps/ns/c";
    let r1 = s.create(key, b("v1")).await.expect("create");
    let r2 = s.update(key, b("v2"), r1).await.expect("update with the right revision");
    assert!(r2 > r1);
    assert_eq!(s.get(key, None).await.expect("get"), Some(kv(key, "v2", r1, r2)));
    let err = s.update(key, b("v3"), r1).await.expect_err("stale update");
    assert_eq!(err, StorageError::Conflict { key: key.into(), expected: r1, actual: r2 });
    assert_eq!(current(&s).await, r2, "a failed CAS must not bump the revision");
    let err = s.update("/registry/configmaps/ns/missing", b("v"), r2).await.expect_err("update of a missing key");
    assert_eq!(err, StorageError::NotFound { key: "/registry/configmaps/ns/missing".into() });
    let r3 = s.update(key, b("v3"), r2).await.expect("update again");
    assert_eq!(s.get(key, None).await.expect("get"), Some(kv(key, "v3", r1, r3)));
}

/// `delete` returns the deleted value and its revision, honours the precondition, and
/// `NotFound` for absent keys.
pub async fn delete_semantics(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/secrets/ns/s";
    let r1 = s.create(key, b("v1")).await.expect("create");
    let r2 = s.update(key, b("v2"), r1).await.expect("update");
    let err = s.delete(key, Some(r1)).await.expect_err("stale delete");
    assert_eq!(err, StorageError::Conflict { key: key.into(), expected: r1, actual: r2 });
    let (prev, rd) = s.delete(key, Some(r2)).await.expect("delete");
    assert_eq!(prev, kv(key, "v2", r1, r2));
    assert!(rd > r2);
    assert_eq!(current(&s).await, rd);
    assert_eq!(s.get(key, None).await.expect("get"), None);
    let err = s.delete(key, None).await.expect_err("delete of a deleted key");
    assert_eq!(err, StorageError::NotFound { key: key.into() });
    let other = "/registry/secrets/ns/t";
    let r = s.create(other, b("x")).await.expect("create other");
    let (prev, _) = s.delete(other, None).await.expect("unconditional delete");
    assert_eq!(prev, kv(other, "x", r, r));
}

/// A key created again after a delete starts a new life: a new create revision.
pub async fn recreate_after_delete(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/pods/ns/p";
    let r1 = s.create(key, b("v1")).await.expect("create");
    let (_, rd) = s.delete(key, None).await.expect("delete");
    let r2 = s.create(key, b("v2")).await.expect("create again");
    assert!(r2 > rd && rd > r1);
    assert_eq!(s.get(key, None).await.expect("get"), Some(kv(key, "v2", r2, r2)));
    assert_eq!(s.get(key, Some(r1)).await.expect("get at r1"), Some(kv(key, "v1", r1, r1)));
    assert_eq!(s.get(key, Some(rd)).await.expect("get at delete"), None);
}

/// One global revision: every successful write, to any key, gets a higher revision than the
/// one before it, and the current revision is the last write's.
pub async fn revisions_increase_globally(f: impl Fixture) {
    let s = f.store();
    let mut last = current(&s).await;
    let mut revs = BTreeMap::new();
    for i in 0..20 {
        let key = format!("/registry/{}/ns/k{}", if i % 2 == 0 { "pods" } else { "services/specs" }, i % 5);
        let rev = match revs.get(&key) {
            None => s.create(&key, b("v")).await.expect("create"),
            Some(&prev) if i % 7 == 0 => {
                s.delete(&key, Some(prev)).await.expect("delete");
                revs.remove(&key);
                let r = current(&s).await;
                assert!(r > last, "delete revision {r} must exceed {last}");
                last = r;
                continue;
            }
            Some(&prev) => s.update(&key, b("w"), prev).await.expect("update"),
        };
        assert!(rev > last, "revision {rev} must exceed {last}");
        assert_eq!(current(&s).await, rev);
        revs.insert(key, rev);
        last = rev;
    }
}

/// Values are bytes: empty, binary and large values, and non-ASCII keys, round-trip unchanged.
pub async fn binary_values_roundtrip(f: impl Fixture) {
    let s = f.store();
    let big: Vec<u8> = (0..256 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let cases: Vec<(&str, Bytes)> = vec![
        ("/registry/configmaps/ns/empty", Bytes::new()),
        ("/registry/configmaps/ns/binary", Bytes::from_static(b"\0\xff\x00k8s\x00\x01")),
        ("/registry/configmaps/ns/big", Bytes::from(big)),
        ("/registry/configmaps/ns/ünïcödé-名前", b("{\"a\":1}")),
    ];
    for (key, value) in &cases {
        let rev = s.create(key, value.clone()).await.expect("create");
        let got = s.get(key, None).await.expect("get").expect("present");
        assert_eq!(got.value, *value, "value of {key}");
        assert_eq!(got.mod_revision, rev);
    }
    let list = s.list("/registry/configmaps/ns/", ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), cases.len());
}

/// Values over `MAX_VALUE_BYTES` are refused with `TooLarge`; exactly the limit is accepted.
pub async fn oversize_values_refused(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/configmaps/ns/huge";
    let too_big = Bytes::from(vec![b'x'; MAX_VALUE_BYTES + 1]);
    let err = s.create(key, too_big.clone()).await.expect_err("oversize create");
    assert_eq!(err, StorageError::TooLarge { key: key.into(), size: MAX_VALUE_BYTES + 1, limit: MAX_VALUE_BYTES });
    assert_eq!(s.get(key, None).await.expect("get"), None);
    let at_limit = Bytes::from(vec![b'y'; MAX_VALUE_BYTES]);
    let r = s.create(key, at_limit.clone()).await.expect("create at the limit");
    let err = s.update(key, too_big, r).await.expect_err("oversize update");
    assert!(matches!(err, StorageError::TooLarge { .. }), "{err:?}");
    assert_eq!(s.get(key, None).await.expect("get").expect("present").value, at_limit);
}

// ---------------------------------------------------------------------------------------------
// Lists

/// A list returns exactly the keys under the prefix, in key order: `/registry/pods/` does not
/// match `/registry/podtemplates/`.
pub async fn list_prefix_isolation(f: impl Fixture) {
    let s = f.store();
    for key in [
        "/registry/pods/b/y",
        "/registry/podtemplates/a/z",
        "/registry/pods/a/x",
        "/registry/pods",
        "/registry/podsx/a/w",
        "/registry/pods/a/x2",
    ] {
        s.create(key, b(key)).await.expect("create");
    }
    let rev = current(&s).await;
    let all = s.list("/registry/pods/", ListOptions::default()).await.expect("list");
    assert_eq!(keys(&all.items), ["/registry/pods/a/x", "/registry/pods/a/x2", "/registry/pods/b/y"]);
    assert_eq!(all.revision, rev);
    assert_eq!(all.remaining, 0);
    for item in &all.items {
        assert_eq!(item.value, b(&item.key));
    }
    let ns = s.list("/registry/pods/a/", ListOptions::default()).await.expect("list ns");
    assert_eq!(keys(&ns.items), ["/registry/pods/a/x", "/registry/pods/a/x2"]);
    let none = s.list("/registry/nothing/", ListOptions::default()).await.expect("list empty");
    assert!(none.items.is_empty());
    assert_eq!(none.revision, rev);
}

/// `limit` + `start_after` pages through a prefix; `remaining` counts what is left; pages read at
/// the first page's revision do not see later writes.
pub async fn list_pagination(f: impl Fixture) {
    let s = f.store();
    let prefix = "/registry/configmaps/ns/";
    for i in 0..10 {
        s.create(&format!("{prefix}k{i:02}"), b(&i.to_string())).await.expect("create");
    }
    s.create("/registry/configmaps/nt/other", b("x")).await.expect("create outside");
    let first = s
        .list(prefix, ListOptions { limit: Some(3), ..ListOptions::default() })
        .await
        .expect("first page");
    assert_eq!(keys(&first.items), [&format!("{prefix}k00"), &format!("{prefix}k01"), &format!("{prefix}k02")]);
    assert_eq!(first.remaining, 7);
    let rev = first.revision;
    // A write after the first page must not show up in later pages read at its revision.
    s.create(&format!("{prefix}k05a"), b("late")).await.expect("late create");
    s.delete(&format!("{prefix}k07"), None).await.expect("late delete");
    let mut seen = keys(&first.items).into_iter().map(str::to_owned).collect::<Vec<_>>();
    let mut last = first.items.last().map(|kv| kv.key.clone());
    let mut remainders = vec![first.remaining];
    while let Some(after) = last.take() {
        let page = s
            .list(prefix, ListOptions { revision: Some(rev), limit: Some(3), start_after: Some(after) })
            .await
            .expect("next page");
        assert_eq!(page.revision, rev, "pages are served at the requested revision");
        assert!(page.items.len() <= 3);
        remainders.push(page.remaining);
        seen.extend(page.items.iter().map(|kv| kv.key.clone()));
        if page.remaining > 0 {
            last = page.items.last().map(|kv| kv.key.clone());
        }
    }
    let want: Vec<String> = (0..10).map(|i| format!("{prefix}k{i:02}")).collect();
    assert_eq!(seen, want);
    assert_eq!(remainders, [7, 4, 1, 0]);
    // At the current revision, the late writes are visible.
    let now = s.list(prefix, ListOptions { limit: Some(100), ..ListOptions::default() }).await.expect("list now");
    assert_eq!(now.items.len(), 10);
    assert!(now.items.iter().any(|kv| kv.key.ends_with("k05a")));
    assert!(!now.items.iter().any(|kv| kv.key.ends_with("k07")));
    assert_eq!(now.remaining, 0);
    let now_paged = s
        .list(
            prefix,
            ListOptions { limit: Some(4), start_after: Some(format!("{prefix}k05")), ..ListOptions::default() },
        )
        .await
        .expect("list now from k05");
    assert_eq!(
        keys(&now_paged.items),
        [&format!("{prefix}k05a"), &format!("{prefix}k06"), &format!("{prefix}k08"), &format!("{prefix}k09")]
    );
    assert_eq!(now_paged.remaining, 0);
}

/// Gets and lists at a past revision see the state as of that revision.
pub async fn list_and_get_at_old_revision(f: impl Fixture) {
    let s = f.store();
    let p = "/registry/pods/ns/";
    let (a, bk, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    let r1 = s.create(&a, b("a1")).await.expect("create a");
    let r2 = s.create(&bk, b("b1")).await.expect("create b");
    let r3 = s.update(&a, b("a2"), r1).await.expect("update a");
    let (_, r4) = s.delete(&bk, None).await.expect("delete b");
    let r5 = s.create(&c, b("c1")).await.expect("create c");

    assert_eq!(s.get(&a, Some(r1)).await.expect("get"), Some(kv(&a, "a1", r1, r1)));
    assert_eq!(s.get(&a, Some(r2)).await.expect("get"), Some(kv(&a, "a1", r1, r1)));
    assert_eq!(s.get(&a, Some(r3)).await.expect("get"), Some(kv(&a, "a2", r1, r3)));
    assert_eq!(s.get(&bk, Some(r3)).await.expect("get"), Some(kv(&bk, "b1", r2, r2)));
    assert_eq!(s.get(&bk, Some(r4)).await.expect("get"), None);
    assert_eq!(s.get(&c, Some(r4)).await.expect("get"), None);

    let at = |rev| s.list(p, ListOptions { revision: Some(rev), ..ListOptions::default() });
    let l2 = at(r2).await.expect("list at r2");
    assert_eq!(l2.items, vec![kv(&a, "a1", r1, r1), kv(&bk, "b1", r2, r2)]);
    assert_eq!(l2.revision, r2);
    let l4 = at(r4).await.expect("list at r4");
    assert_eq!(l4.items, vec![kv(&a, "a2", r1, r3)]);
    let l5 = at(r5).await.expect("list at r5");
    assert_eq!(l5.items, vec![kv(&a, "a2", r1, r3), kv(&c, "c1", r5, r5)]);
    let l3 = s
        .list(p, ListOptions { revision: Some(r3), limit: Some(1), start_after: None })
        .await
        .expect("limited list at r3");
    assert_eq!(l3.items, vec![kv(&a, "a2", r1, r3)]);
    assert_eq!(l3.remaining, 1);
}

/// Reads at a revision above the current one fail with `FutureRevision`, and so does compaction.
pub async fn future_revision(f: impl Fixture) {
    let s = f.store();
    s.create("/registry/pods/ns/a", b("v")).await.expect("create");
    let now = current(&s).await;
    let err = s.get("/registry/pods/ns/a", Some(now + 10)).await.expect_err("future get");
    assert_eq!(err, StorageError::FutureRevision { requested: now + 10, current: now });
    let err = s
        .list("/registry/pods/", ListOptions { revision: Some(now + 1), ..ListOptions::default() })
        .await
        .expect_err("future list");
    assert_eq!(err, StorageError::FutureRevision { requested: now + 1, current: now });
    let err = s.compact(now + 5).await.expect_err("future compaction");
    assert!(matches!(err, StorageError::FutureRevision { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Compaction

/// After `compact(r)`, reads below `r` fail with `Expired` (gets, lists and watches), reads at
/// `r` and above still work, and compacting at or below `r` again is a no-op.
pub async fn compaction_expires_old_revisions(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/pods/ns/a";
    let mut rev = s.create(key, b("v0")).await.expect("create");
    for i in 1..5 {
        rev = s.update(key, b(&format!("v{i}")), rev).await.expect("update");
    }
    let target = rev - 1;
    assert_eq!(s.compacted_revision().await.expect("compacted"), 0);
    s.compact(target).await.expect("compact");
    assert_eq!(s.compacted_revision().await.expect("compacted"), target);
    let expired = StorageError::Expired { requested: target - 1, compacted: target };
    assert_eq!(s.get(key, Some(target - 1)).await.expect_err("get below"), expired);
    let err = s
        .list("/registry/pods/", ListOptions { revision: Some(target - 1), ..ListOptions::default() })
        .await
        .expect_err("list below");
    assert_eq!(err, expired);
    let got = s.get(key, Some(target)).await.expect("get at the compacted revision").expect("present");
    assert_eq!(got.value, b("v3"));

    let mut w = s.watch("/registry/pods/", target - 1).await.expect("watch below");
    match within("expired watch", w.next()).await {
        Some(Err(StorageError::Expired { requested, compacted })) => {
            assert_eq!((requested, compacted), (target - 1, target));
        }
        other => panic!("a watch below the compacted revision must yield Expired, got {other:?}"),
    }
    assert!(within("expired watch end", w.next()).await.is_none(), "Expired is the only item");

    let mut w = s.watch("/registry/pods/", target).await.expect("watch at the compacted revision");
    let e = next_event(&mut w).await;
    assert_eq!(e.kv.mod_revision, rev);
    assert_eq!(e.prev.as_ref().map(|p| p.value.clone()), Some(b("v3")));

    s.compact(target - 2).await.expect("compacting below is a no-op");
    s.compact(target).await.expect("compacting again is a no-op");
    assert_eq!(s.compacted_revision().await.expect("compacted"), target);
}

/// Compaction keeps the latest value of every live key (with its revisions) and forgets
/// deleted keys; lists at and after the compacted revision are unchanged by it.
pub async fn compaction_keeps_latest_values(f: impl Fixture) {
    let s = f.store();
    let p = "/registry/leases/ns/";
    let mut revs = BTreeMap::new();
    for name in ["a", "b", "c", "d"] {
        let key = format!("{p}{name}");
        let r = s.create(&key, b(&format!("{name}0"))).await.expect("create");
        revs.insert(key, (r, r));
    }
    for round in 1..4 {
        for name in ["a", "c"] {
            let key = format!("{p}{name}");
            let (created, modified) = revs[&key];
            let r = s.update(&key, b(&format!("{name}{round}")), modified).await.expect("update");
            revs.insert(key, (created, r));
        }
    }
    s.delete(&format!("{p}b"), None).await.expect("delete b");
    revs.remove(&format!("{p}b"));
    let before = s.list(p, ListOptions::default()).await.expect("list before");
    let target = current(&s).await;
    s.compact(target).await.expect("compact at the current revision");
    let after = s.list(p, ListOptions::default()).await.expect("list after");
    assert_eq!(after.items, before.items);
    let at = s.list(p, ListOptions { revision: Some(target), ..ListOptions::default() }).await.expect("list at");
    assert_eq!(at.items, before.items);
    for (key, (created, modified)) in &revs {
        let got = s.get(key, None).await.expect("get").expect("present");
        assert_eq!((got.create_revision, got.mod_revision), (*created, *modified), "{key}");
    }
    assert_eq!(s.get(&format!("{p}b"), None).await.expect("get b"), None);
    assert_eq!(current(&s).await, target, "compaction does not change the current revision");
    // History after the compacted revision keeps working, prev values included.
    let (_, a_mod) = revs[&format!("{p}a")];
    let r = s.update(&format!("{p}a"), b("a-next"), a_mod).await.expect("update after compaction");
    let mut w = s.watch(p, target).await.expect("watch from the compacted revision");
    let e = next_event(&mut w).await;
    assert_event(&e, EventKind::Updated, &format!("{p}a"), "a-next", r, Some(kv(&format!("{p}a"), "a3", revs[&format!("{p}a")].0, a_mod)));
}

// ---------------------------------------------------------------------------------------------
// Watch

/// A watch from revision `r` replays exactly the changes after `r`, in order, with kinds and
/// previous values, then continues with live changes.
pub async fn watch_replays_from_revision(f: impl Fixture) {
    let s = f.store();
    let p = "/registry/pods/ns/";
    let (a, bk, c) = (format!("{p}a"), format!("{p}b"), format!("{p}c"));
    let r1 = s.create(&a, b("a1")).await.expect("create a");
    let r2 = s.update(&a, b("a2"), r1).await.expect("update a");
    let r3 = s.create(&bk, b("b1")).await.expect("create b");
    let (_, r4) = s.delete(&a, Some(r2)).await.expect("delete a");
    let r5 = s.update(&bk, b("b2"), r3).await.expect("update b");

    let mut w = s.watch("/registry/pods/", r1).await.expect("watch");
    assert_event(&next_event(&mut w).await, EventKind::Updated, &a, "a2", r2, Some(kv(&a, "a1", r1, r1)));
    assert_event(&next_event(&mut w).await, EventKind::Created, &bk, "b1", r3, None);
    assert_event(&next_event(&mut w).await, EventKind::Deleted, &a, "", r4, Some(kv(&a, "a2", r1, r2)));
    assert_event(&next_event(&mut w).await, EventKind::Updated, &bk, "b2", r5, Some(kv(&bk, "b1", r3, r3)));
    let r6 = s.create(&c, b("c1")).await.expect("create c");
    let e = next_event(&mut w).await;
    assert_event(&e, EventKind::Created, &c, "c1", r6, None);
    assert_eq!(e.kv.create_revision, r6);

    // From zero: everything, starting with the first write.
    let mut w0 = s.watch("/registry/pods/", 0).await.expect("watch from 0");
    assert_event(&next_event(&mut w0).await, EventKind::Created, &a, "a1", r1, None);
}

/// A watch from the current revision sees only later changes.
pub async fn watch_from_current_sees_only_new(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/configmaps/ns/a";
    let r1 = s.create(key, b("v1")).await.expect("create");
    let mut w = s.watch("/registry/configmaps/", r1).await.expect("watch");
    let r2 = s.update(key, b("v2"), r1).await.expect("update");
    assert_event(&next_event(&mut w).await, EventKind::Updated, key, "v2", r2, Some(kv(key, "v1", r1, r1)));
}

/// A watch on `/registry/pods/` never sees `/registry/podtemplates/` (or any other prefix).
pub async fn watch_prefix_isolation(f: impl Fixture) {
    let s = f.store();
    let start = current(&s).await;
    s.create("/registry/podtemplates/ns/t0", b("t")).await.expect("create template");
    let mut live = s.watch("/registry/pods/", current(&s).await).await.expect("live watch");
    let mut want = Vec::new();
    for i in 0..5 {
        s.create(&format!("/registry/podtemplates/ns/t{}", i + 1), b("t")).await.expect("create template");
        s.create(&format!("/registry/podsecurity/ns/x{i}"), b("x")).await.expect("create lookalike");
        want.push(s.create(&format!("/registry/pods/ns/p{i}"), b("p")).await.expect("create pod"));
    }
    let mut replay = s.watch("/registry/pods/", start).await.expect("replay watch");
    for w in [&mut live, &mut replay] {
        for rev in &want {
            let e = next_event(w).await;
            assert!(e.kv.key.starts_with("/registry/pods/"), "foreign key {}", e.kv.key);
            assert_eq!(e.kv.mod_revision, *rev);
        }
    }
}

/// A live delete event carries the deleted value as `prev`.
pub async fn watch_delete_carries_prev(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/services/specs/ns/svc";
    let r1 = s.create(key, b("spec")).await.expect("create");
    let mut w = s.watch("/registry/services/specs/", r1).await.expect("watch");
    let (_, rd) = s.delete(key, None).await.expect("delete");
    let e = next_event(&mut w).await;
    assert_event(&e, EventKind::Deleted, key, "", rd, Some(kv(key, "spec", r1, r1)));
}

/// Watches started while writes are in flight, from any revision, see every later write exactly
/// once and in order: no gap and no duplicate at the switch from replay to live events.
pub async fn watch_subscribe_race_no_gap_no_duplicate(f: impl Fixture) {
    let s = f.store();
    let p = "/registry/events/ns/";
    let writes = 300usize;
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut log = Vec::with_capacity(writes);
            let mut revs: BTreeMap<String, Revision> = BTreeMap::new();
            for i in 0..writes {
                let key = format!("{p}e{}", i % 17);
                let rev = match revs.get(&key) {
                    Some(&r) => s.update(&key, b(&i.to_string()), r).await.expect("update"),
                    None => s.create(&key, b(&i.to_string())).await.expect("create"),
                };
                revs.insert(key, rev);
                log.push(rev);
                if i % 25 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            log
        })
    };
    // Each watch is consumed as it goes (so none falls behind) until the last write's value.
    let last_value = b(&(writes - 1).to_string());
    let mut watches = Vec::new();
    for _ in 0..12 {
        let after = current(&s).await;
        let mut w = s.watch(p, after).await.expect("watch");
        let last_value = last_value.clone();
        watches.push((
            after,
            tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let e = next_event(&mut w).await;
                    got.push(e.kv.mod_revision);
                    if e.kv.value == last_value {
                        return got;
                    }
                }
            }),
        ));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let log = within("writer", writer).await.expect("writer task");
    for (after, consumer) in watches {
        let want: Vec<Revision> = log.iter().copied().filter(|r| *r > after).collect();
        let got = within("watch consumer", consumer).await.expect("consumer task");
        assert_eq!(got, want, "watch from {after}");
    }
}

/// A quiet watcher receives `Progress` items, at or beyond the store's revision.
pub async fn watch_progress_when_quiet(f: impl Fixture) {
    let s = f.store();
    s.create("/registry/pods/ns/a", b("v")).await.expect("create");
    let mut w = s.watch("/registry/pods/", current(&s).await).await.expect("watch");
    // The store moves on, but not under the watched prefix.
    let elsewhere = s.create("/registry/nodes/n1", b("n")).await.expect("create elsewhere");
    loop {
        match next_item(&mut w).await {
            WatchItem::Progress(rev) if rev >= elsewhere => break,
            WatchItem::Progress(_) => continue,
            WatchItem::Event(e) => panic!("unexpected event {e:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency, restart, slow consumers

/// 16 tasks × 100 compare-and-swap increments of one counter (retrying on `Conflict`) end at
/// exactly 1600: no lost update.
pub async fn concurrent_writers_no_lost_update(f: impl Fixture) {
    let s = f.store();
    let key = "/registry/counters/c";
    s.create(key, b("0")).await.expect("create counter");
    let (tasks, per_task) = (16u64, 100u64);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut conflicts = 0u64;
            for _ in 0..per_task {
                loop {
                    let cur = s.get(key, None).await.expect("get").expect("counter exists");
                    let n: u64 = std::str::from_utf8(&cur.value).ok().and_then(|v| v.parse().ok()).expect("a number");
                    match s.update(key, b(&(n + 1).to_string()), cur.mod_revision).await {
                        Ok(_) => break,
                        Err(StorageError::Conflict { .. }) => conflicts += 1,
                        Err(e) => panic!("update failed: {e}"),
                    }
                }
            }
            conflicts
        }));
    }
    // A hang guard, not a speed limit: on a networked backend under a loaded machine 16 contending
    // writers take a while.
    for h in handles {
        match tokio::time::timeout(Duration::from_secs(180), h).await {
            Ok(r) => {
                r.expect("task");
            }
            Err(_) => panic!("a writer did not finish within 180 s (hang guard)"),
        }
    }
    let got = s.get(key, None).await.expect("get").expect("present");
    assert_eq!(got.value, b(&(tasks * per_task).to_string()));
}

/// Many concurrent creates of one key: exactly one wins, the others get `AlreadyExists`, and
/// unrelated writes committed alongside are unaffected.
pub async fn concurrent_creates_one_winner(f: impl Fixture) {
    let s = f.store();
    let mut handles = Vec::new();
    for i in 0..32 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let shared = s.create("/registry/namespaces/contested", b(&i.to_string())).await;
            let own = s.create(&format!("/registry/namespaces/own-{i:02}"), b("x")).await;
            (shared, own)
        }));
    }
    let mut wins = 0;
    for h in handles {
        let (shared, own) = within("create task", h).await.expect("task");
        match shared {
            Ok(_) => wins += 1,
            Err(StorageError::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
        own.expect("unrelated create succeeds");
    }
    assert_eq!(wins, 1);
    let list = s.list("/registry/namespaces/own-", ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), 32);
}

/// After a restart the data, the revision and the compacted revision are as before, new writes
/// continue above the old revision, and a watch from a pre-restart revision replays across it.
pub async fn restart_resumes_revisions_and_watch(mut f: impl Fixture) {
    let p = "/registry/pods/ns/";
    let (a, bk) = (format!("{p}a"), format!("{p}b"));
    let (r0, r1, r2, r3);
    {
        let s = f.store();
        r0 = s.create(&format!("{p}z"), b("z")).await.expect("create z");
        r1 = s.create(&a, b("a1")).await.expect("create a");
        r2 = s.update(&a, b("a2"), r1).await.expect("update a");
        s.compact(r1).await.expect("compact");
    }
    f.restart().await;
    {
        let s = f.store();
        assert_eq!(current(&s).await, r2, "the revision survives a restart");
        assert_eq!(s.compacted_revision().await.expect("compacted"), r1);
        assert_eq!(s.get(&a, None).await.expect("get"), Some(kv(&a, "a2", r1, r2)));
        assert!(matches!(s.get(&a, Some(r0)).await, Err(StorageError::Expired { .. })));
        r3 = s.create(&bk, b("b1")).await.expect("create b");
        assert!(r3 > r2, "revisions continue above the pre-restart ones");
        let mut w = s.watch("/registry/pods/", r1).await.expect("watch from before the restart");
        assert_event(&next_event(&mut w).await, EventKind::Updated, &a, "a2", r2, Some(kv(&a, "a1", r1, r1)));
        assert_event(&next_event(&mut w).await, EventKind::Created, &bk, "b1", r3, None);
    }
    f.restart().await;
    let s = f.store();
    let mut w = s.watch("/registry/pods/", r2).await.expect("watch after the second restart");
    assert_event(&next_event(&mut w).await, EventKind::Created, &bk, "b1", r3, None);
    let r4 = s.update(&bk, b("b2"), r3).await.expect("update b");
    assert_event(&next_event(&mut w).await, EventKind::Updated, &bk, "b2", r4, Some(kv(&bk, "b1", r3, r3)));
}

/// A watcher that never reads is cut off once it falls behind the backend's buffer: writes do
/// not wait for it, a healthy watcher gets everything, and what the stalled one did get is a
/// gap-free prefix of the changes.
pub async fn slow_watcher_cut_off_without_blocking_writes(f: impl Fixture) {
    let s = f.store();
    let p = "/registry/pods/ns/";
    let start = current(&s).await;
    let total = f.watch_buffer() * 3 + 100;
    let mut stalled = s.watch(p, start).await.expect("stalled watch");
    let mut healthy = s.watch(p, start).await.expect("healthy watch");
    let reader = tokio::spawn(async move {
        let mut revs = Vec::with_capacity(total);
        while revs.len() < total {
            revs.push(next_event(&mut healthy).await.kv.mod_revision);
        }
        revs
    });
    // Concurrent writers, so the backend batches; all must finish despite the stalled watcher.
    let writers: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut i = t;
                while i < total {
                    s.create(&format!("{p}w{i:06}"), b("x")).await.expect("create");
                    i += 8;
                }
            })
        })
        .collect();
    for w in writers {
        within("writers must not wait for a stalled watcher", w).await.expect("writer");
    }
    let healthy_revs = within("healthy watcher", reader).await.expect("reader");
    let end = current(&s).await;
    assert_eq!(healthy_revs, ((start + 1)..=end).collect::<Vec<_>>(), "the healthy watcher sees every change");
    // Past the backend's tolerance for a full buffer, the stalled watcher must have been cut off.
    tokio::time::sleep(f.watch_stall_timeout() * 3).await;
    let got = within("draining the stalled watcher (it must end)", async move {
        let mut got = Vec::new();
        loop {
            match stalled.next().await {
                Some(Ok(WatchItem::Event(e))) => got.push(e.kv.mod_revision),
                Some(Ok(WatchItem::Progress(_))) => {}
                Some(Err(_)) | None => break,
            }
            assert!(got.len() < total, "the stalled watcher was never cut off");
        }
        got
    })
    .await;
    assert_eq!(got, ((start + 1)..=(start + got.len() as Revision)).collect::<Vec<_>>(), "a gap-free prefix");
}
