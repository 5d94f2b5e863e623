//! Test support for the watch cache: `MemoryStorage`, a small in-memory [`Storage`] with etcd's
//! semantics (one global revision, compare-and-swap, watch with replay from history, progress
//! notifications, compaction), plus fault injection, and helpers to make JSON objects.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::storage::{
    Event, EventKind, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchItem, WatchStream,
    MAX_VALUE_BYTES,
};

type WatchItemResult = Result<WatchItem, StorageError>;

struct Watcher {
    prefix: String,
    tx: mpsc::UnboundedSender<WatchItemResult>,
}

#[derive(Default)]
struct Mem {
    /// The revision of the last write (1 for a new store, as etcd).
    revision: Revision,
    /// History at and below this revision is forgotten.
    compacted: Revision,
    /// Every version of every key: (revision, value or None for a deletion), oldest first.
    versions: BTreeMap<String, Vec<(Revision, Option<KeyValue>)>>,
    /// Every event after `compacted`, in revision order.
    events: VecDeque<Event>,
    watchers: Vec<Watcher>,
}

impl Mem {
    fn current(&self, key: &str) -> Option<&KeyValue> {
        self.versions.get(key).and_then(|v| v.last()).and_then(|(_, kv)| kv.as_ref())
    }

    fn at(&self, key: &str, revision: Revision) -> Option<&KeyValue> {
        let versions = self.versions.get(key)?;
        let i = versions.partition_point(|(r, _)| *r <= revision);
        versions.get(i.checked_sub(1)?).and_then(|(_, kv)| kv.as_ref())
    }

    fn check_read_revision(&self, revision: Revision) -> Result<(), StorageError> {
        if revision < self.compacted {
            return Err(StorageError::Expired { requested: revision, compacted: self.compacted });
        }
        if revision > self.revision {
            return Err(StorageError::FutureRevision { requested: revision, current: self.revision });
        }
        Ok(())
    }

    fn record(&mut self, event: Event) {
        let key = event.kv.key.clone();
        let value = (event.kind != EventKind::Deleted).then(|| event.kv.clone());
        self.versions.entry(key).or_default().push((event.kv.mod_revision, value));
        self.watchers.retain(|w| {
            if !event.kv.key.starts_with(w.prefix.as_str()) {
                return !w.tx.is_closed();
            }
            w.tx.send(Ok(WatchItem::Event(event.clone()))).is_ok()
        });
        self.events.push_back(event);
    }
}

/// An in-memory [`Storage`] for tests.
pub struct MemoryStorage {
    mem: Mutex<Mem>,
}

impl MemoryStorage {
    /// A new, empty store at revision 1.
    pub fn new() -> Arc<MemoryStorage> {
        Arc::new(MemoryStorage { mem: Mutex::new(Mem { revision: 1, ..Mem::default() }) })
    }

    /// A store whose watches get a `Progress` item every `interval` (like etcd's progress notify).
    /// Must be called inside a tokio runtime.
    pub fn with_progress_interval(interval: Duration) -> Arc<MemoryStorage> {
        let storage = MemoryStorage::new();
        let weak: Weak<MemoryStorage> = Arc::downgrade(&storage);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            loop {
                ticker.tick().await;
                match weak.upgrade() {
                    Some(storage) => storage.notify_progress(),
                    None => return,
                }
            }
        });
        storage
    }

    fn lock(&self) -> MutexGuard<'_, Mem> {
        self.mem.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends every watcher a `Progress` item at the current revision.
    pub fn notify_progress(&self) {
        let mut mem = self.lock();
        let revision = mem.revision;
        mem.watchers.retain(|w| w.tx.send(Ok(WatchItem::Progress(revision))).is_ok());
    }

    /// Ends every open watch stream with `error` (None: the stream just ends), as a lost connection.
    pub fn break_watches(&self, error: Option<StorageError>) {
        let mut mem = self.lock();
        for w in mem.watchers.drain(..) {
            if let Some(e) = &error {
                let _ = w.tx.send(Err(e.clone()));
            }
        }
    }

    /// Open watch streams.
    pub fn watcher_count(&self) -> usize {
        let mut mem = self.lock();
        mem.watchers.retain(|w| !w.tx.is_closed());
        mem.watchers.len()
    }

    fn check_size(key: &str, value: &Bytes) -> Result<(), StorageError> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(StorageError::TooLarge { key: key.to_string(), size: value.len(), limit: MAX_VALUE_BYTES });
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError> {
        let mem = self.lock();
        match revision {
            None => Ok(mem.current(key).cloned()),
            Some(r) => {
                mem.check_read_revision(r)?;
                Ok(mem.at(key, r).cloned())
            }
        }
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let mem = self.lock();
        let revision = opts.revision.unwrap_or(mem.revision);
        mem.check_read_revision(revision)?;
        let mut matching = mem
            .versions
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| opts.start_after.as_ref().is_none_or(|a| k.as_str() > a.as_str()))
            .filter_map(|(k, _)| mem.at(k, revision).cloned());
        let limit = opts.limit.unwrap_or(usize::MAX);
        let items: Vec<KeyValue> = matching.by_ref().take(limit).collect();
        let remaining = matching.count() as u64;
        Ok(ListResult { items, revision, remaining })
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError> {
        MemoryStorage::check_size(key, &value)?;
        let mut mem = self.lock();
        if mem.current(key).is_some() {
            return Err(StorageError::AlreadyExists { key: key.to_string() });
        }
        mem.revision += 1;
        let revision = mem.revision;
        let kv = KeyValue { key: key.to_string(), value, create_revision: revision, mod_revision: revision };
        mem.record(Event { kind: EventKind::Created, kv, prev: None });
        Ok(revision)
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision, StorageError> {
        MemoryStorage::check_size(key, &value)?;
        let mut mem = self.lock();
        let prev = mem.current(key).cloned().ok_or_else(|| StorageError::NotFound { key: key.to_string() })?;
        if prev.mod_revision != expected {
            return Err(StorageError::Conflict { key: key.to_string(), expected, actual: prev.mod_revision });
        }
        mem.revision += 1;
        let revision = mem.revision;
        let kv =
            KeyValue { key: key.to_string(), value, create_revision: prev.create_revision, mod_revision: revision };
        mem.record(Event { kind: EventKind::Updated, kv, prev: Some(prev) });
        Ok(revision)
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision), StorageError> {
        let mut mem = self.lock();
        let prev = mem.current(key).cloned().ok_or_else(|| StorageError::NotFound { key: key.to_string() })?;
        if let Some(expected) = expected.filter(|&e| e != prev.mod_revision) {
            return Err(StorageError::Conflict { key: key.to_string(), expected, actual: prev.mod_revision });
        }
        mem.revision += 1;
        let revision = mem.revision;
        let kv = KeyValue { key: key.to_string(), value: Bytes::new(), create_revision: 0, mod_revision: revision };
        mem.record(Event { kind: EventKind::Deleted, kv, prev: Some(prev.clone()) });
        Ok((prev, revision))
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut mem = self.lock();
        if after < mem.compacted {
            let _ = tx.send(Err(StorageError::Expired { requested: after, compacted: mem.compacted }));
        } else {
            for event in mem.events.iter().filter(|e| e.kv.mod_revision > after && e.kv.key.starts_with(prefix)) {
                let _ = tx.send(Ok(WatchItem::Event(event.clone())));
            }
            mem.watchers.push(Watcher { prefix: prefix.to_string(), tx });
        }
        drop(mem);
        Ok(Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            let item = rx.recv().await?;
            Some((item, rx))
        })))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        Ok(self.lock().revision)
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let mut mem = self.lock();
        if revision > mem.revision {
            return Err(StorageError::FutureRevision { requested: revision, current: mem.revision });
        }
        if revision <= mem.compacted {
            return Ok(());
        }
        mem.compacted = revision;
        while mem.events.front().is_some_and(|e| e.kv.mod_revision <= revision) {
            mem.events.pop_front();
        }
        for versions in mem.versions.values_mut() {
            // Keep the newest version at or below the compaction point (if it is a value) and all later.
            let keep_from = versions.partition_point(|(r, _)| *r <= revision).saturating_sub(1);
            versions.drain(..keep_from);
            if versions.first().is_some_and(|(r, kv)| *r <= revision && kv.is_none()) {
                versions.remove(0);
            }
        }
        mem.versions.retain(|_, v| !v.is_empty());
        Ok(())
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        Ok(self.lock().compacted)
    }
}

/// Wraps a storage so that every watch item arrives `delay` late: a cache that lags behind storage.
pub struct DelayedWatches {
    inner: Arc<dyn Storage>,
    delay: Duration,
}

impl DelayedWatches {
    /// `inner` with watch items delayed by `delay`.
    pub fn new(inner: Arc<dyn Storage>, delay: Duration) -> Arc<DelayedWatches> {
        Arc::new(DelayedWatches { inner, delay })
    }
}

#[async_trait::async_trait]
impl Storage for DelayedWatches {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError> {
        self.inner.get(key, revision).await
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        self.inner.list(prefix, opts).await
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError> {
        self.inner.create(key, value).await
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision, StorageError> {
        self.inner.update(key, value, expected).await
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision), StorageError> {
        self.inner.delete(key, expected).await
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        let delay = self.delay;
        let stream = self.inner.watch(prefix, after).await?;
        Ok(Box::pin(futures::StreamExt::then(stream, move |item| async move {
            tokio::time::sleep(delay).await;
            item
        })))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        self.inner.compact(revision).await
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        self.inner.compacted_revision().await
    }
}

/// A JSON object `{"apiVersion":"v1","kind":"ConfigMap","metadata":{..},"data":{..}}` with the given
/// labels and data.
pub fn object(namespace: &str, name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> Bytes {
    let labels: serde_json::Map<String, serde_json::Value> =
        labels.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
    let data: serde_json::Map<String, serde_json::Value> =
        data.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string()))).collect();
    let mut metadata = serde_json::json!({ "name": name, "namespace": namespace });
    if !labels.is_empty() {
        metadata["labels"] = serde_json::Value::Object(labels);
    }
    let value = serde_json::json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data });
    Bytes::from(value.to_string())
}

/// The key of a namespaced object under `prefix` (`/registry/configmaps/`).
pub fn key(prefix: &str, namespace: &str, name: &str) -> String {
    format!("{prefix}{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn etcd_semantics() {
        let s = MemoryStorage::new();
        assert_eq!(s.current_revision().await.expect("rev"), 1);
        let r1 = s.create("/a/1", Bytes::from_static(b"x")).await.expect("create");
        assert_eq!(r1, 2);
        assert!(matches!(s.create("/a/1", Bytes::new()).await, Err(StorageError::AlreadyExists { .. })));
        let r2 = s.update("/a/1", Bytes::from_static(b"y"), r1).await.expect("update");
        assert!(matches!(s.update("/a/1", Bytes::new(), r1).await, Err(StorageError::Conflict { .. })));
        let r3 = s.create("/a/2", Bytes::from_static(b"z")).await.expect("create");
        let (_, r4) = s.delete("/a/2", Some(r3)).await.expect("delete");
        assert_eq!(s.get("/a/1", Some(r1)).await.expect("get").map(|kv| kv.value), Some(Bytes::from_static(b"x")));
        assert_eq!(s.get("/a/2", Some(r3)).await.expect("get").map(|kv| kv.mod_revision), Some(r3));
        assert_eq!(s.get("/a/2", None).await.expect("get"), None);
        let listed = s.list("/a/", ListOptions { revision: Some(r3), ..ListOptions::default() }).await.expect("list");
        assert_eq!(listed.items.len(), 2);
        let page =
            s.list("/a/", ListOptions { revision: Some(r3), limit: Some(1), start_after: None }).await.expect("page");
        assert_eq!((page.items.len(), page.remaining), (1, 1));

        let mut w = s.watch("/a/", r1).await.expect("watch");
        let revs: Vec<_> = w
            .by_ref()
            .take(3)
            .map(|i| match i {
                Ok(WatchItem::Event(e)) => e.kv.mod_revision,
                _ => -1,
            })
            .collect()
            .await;
        assert_eq!(revs, vec![r2, r3, r4]);

        s.compact(r3).await.expect("compact");
        assert!(matches!(s.get("/a/1", Some(r1)).await, Err(StorageError::Expired { .. })));
        assert_eq!(s.get("/a/1", Some(r3)).await.expect("get").map(|kv| kv.mod_revision), Some(r2));
        let mut expired = s.watch("/a/", r1).await.expect("watch");
        assert!(matches!(expired.next().await, Some(Err(StorageError::Expired { .. }))));
        let too_big = Bytes::from(vec![b'x'; MAX_VALUE_BYTES + 1]);
        assert!(matches!(s.create("/a/big", too_big).await, Err(StorageError::TooLarge { .. })));
    }
}
