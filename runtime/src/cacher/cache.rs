//! `Cacher`: the watch cache of one resource. A reflector task lists the resource prefix and watches
//! it from there; reads are served from the resulting state, watches from its event ring and from the
//! live fan-out (one broadcast ring that every watcher reads at its own pace).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use tokio::sync::{broadcast, watch};

use super::object::{CachedObject, DecodeError, ObjectCodec};
use super::options::CacherOptions;
use super::watch_cache::{ChangeKind, Evictions, RingLimits, WatchCache, WatchCacheEvent};
use super::watcher::{error_stream, Bookmarks, CacheWatcher, Pending, Source};
use super::{
    check_keys, check_revision, Bookmark, CacherError, Continue, EventStream, GetResponse, Keys, ListRequest,
    ListResponse, ListWatch, ResourceVersion, WatchRequest,
};
use crate::storage::{Event, EventKind, KeyValue, ListOptions, Revision, Storage, StorageError, WatchItem};

/// A storage event decoded for the cache: its revision, the change to apply (None: nothing but
/// the revision), and the key if it was deleted (whatever it held, decodable or not, is gone).
type Prepared = (Revision, Option<(ChangeKind, Arc<CachedObject>)>, Option<Arc<str>>);

/// Keys of a list that could not be decoded, with the errors.
type Undecodable = BTreeMap<Arc<str>, String>;

/// One key that could not be decoded, with the error.
type BadKey = (String, String);

/// Upper bound of the reflector's retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a watch waits for the cache's first list before failing with 503.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Events the reflector applies under one lock when the storage watch has them ready.
const MAX_BATCH: usize = 256;

/// What the reflector broadcasts to watchers, in order.
#[derive(Debug, Clone)]
pub(crate) enum Fanout {
    /// A change.
    Event(Arc<WatchCacheEvent>),
    /// Every change up to this revision has been broadcast (bookmark opportunity).
    Tick(Revision),
    /// The cache re-listed: watchers end (their clients re-watch).
    Reset,
    /// The cacher stopped.
    Stop,
}

#[derive(Default)]
struct Counters {
    decode_errors: AtomicU64,
    storage_errors: AtomicU64,
    caught_up: AtomicU64,
    cut_off: AtomicU64,
    evicted_by_count: AtomicU64,
    evicted_by_bytes: AtomicU64,
    evicted_by_age: AtomicU64,
}

/// State shared by the cacher handle, its reflector task and its watchers.
pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) prefix: String,
    pub(crate) opts: CacherOptions,
    pub(crate) codec: Arc<dyn ObjectCodec>,
    state: RwLock<WatchCache>,
    /// The revision the cache has reached (0 until the first list), for readers that wait.
    fresh: watch::Sender<Revision>,
    pub(crate) fanout: broadcast::Sender<Fanout>,
    counters: Counters,
    last_error: Mutex<Option<String>>,
    /// Set (under the state's write lock, with a `Stop` broadcast) when the cacher stops.
    stopped: AtomicBool,
    /// Whether the ring is evicting by bytes since it was last logged (logged once per episode).
    over_budget: AtomicBool,
}

impl Shared {
    /// True once the cacher has stopped: watchers reading the ring end instead of subscribing.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, WatchCache> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, WatchCache> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn note_caught_up(&self) {
        self.counters.caught_up.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_cut_off(&self) {
        self.counters.cut_off.fetch_add(1, Ordering::Relaxed);
    }

    fn note_error(&self, error: impl ToString) {
        self.counters.storage_errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(error.to_string());
    }

    fn note_decode_error(&self, key: &str, error: impl std::fmt::Display) {
        self.counters.decode_errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(format!("decoding {key:?}: {error}"));
    }

    /// The revision of the state (under the read lock: a watcher that received an event finds the
    /// cache at least at that event's revision).
    fn revision(&self) -> Revision {
        self.read().revision
    }

    /// Waits until the cache has reached `revision` (at least its first list).
    async fn wait_fresh(&self, revision: Revision, timeout: Duration) -> Result<Revision, CacherError> {
        let mut rx = self.fresh.subscribe();
        let target = revision.max(1);
        let reached = tokio::time::timeout(timeout, async { rx.wait_for(|&r| r >= target).await.map(|r| *r) }).await;
        match reached {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(_)) => Err(CacherError::Stopped),
            Err(_) => Err(CacherError::TooLargeResourceVersion { requested: revision, current: *rx.borrow() }),
        }
    }

    /// The cached object for `kv` if the cache holds that very revision (encode once), else a new decode.
    fn object_for(&self, kv: &KeyValue) -> Result<Arc<CachedObject>, CacherError> {
        if let Some(cached) = self.read().store.get(kv.key.as_str()).filter(|o| o.revision == kv.mod_revision) {
            return Ok(cached.clone());
        }
        let decoded = self.codec.decode(kv).map_err(|source| CacherError::Decode { key: kv.key.clone(), source })?;
        Ok(Arc::new(CachedObject::new(kv.key.as_str(), kv.mod_revision, decoded)))
    }

    /// Lists the whole prefix from storage, page by page at one revision.
    async fn list_all(&self) -> Result<(BTreeMap<Arc<str>, Arc<CachedObject>>, Undecodable, Revision), StorageError> {
        let mut store = BTreeMap::new();
        let mut undecodable = Undecodable::new();
        let mut opts = ListOptions { revision: None, limit: Some(self.opts.list_page_size.max(1)), start_after: None };
        loop {
            let page = self.storage.list(&self.prefix, opts.clone()).await?;
            let last = page.items.last().map(|kv| kv.key.clone());
            for kv in &page.items {
                match self.object_for(kv) {
                    Ok(object) => {
                        store.insert(object.key.clone(), object);
                    }
                    Err(e) => {
                        undecodable.insert(Arc::from(kv.key.as_str()), decode_message(&e));
                        self.note_decode_error(&kv.key, e);
                    }
                }
            }
            match last {
                Some(last) if page.remaining > 0 => {
                    opts.revision = Some(page.revision);
                    opts.start_after = Some(last);
                }
                _ => return Ok((store, undecodable, page.revision)),
            }
        }
    }

    /// Installs a fresh list; current watchers end (upstream terminates them on re-list).
    fn replace(&self, store: BTreeMap<Arc<str>, Arc<CachedObject>>, undecodable: Undecodable, revision: Revision) {
        let mut state = self.write();
        let first = state.generation == 0;
        state.replace(store, undecodable, revision);
        if !first {
            let _ = self.fanout.send(Fanout::Reset);
        }
        // Still under the lock: whoever saw the new state also sees the new revision.
        self.fresh.send_replace(revision);
    }

    /// The cached copy of `key` restamped with `revision` (a deletion's last state), if cached.
    fn cached_at(&self, key: &str, revision: Revision) -> Option<CachedObject> {
        let current = self.read().store.get(key).cloned()?;
        let bytes = self.codec.with_revision(&current, revision).unwrap_or_else(|e| {
            self.note_decode_error(key, e);
            current.bytes.clone()
        });
        Some(CachedObject::with_bytes(current.key.clone(), revision, bytes, current.labels.clone(), current.fields.clone()))
    }

    /// Decodes one storage event (outside the lock). None: nothing to apply but its revision.
    /// `Err`: a new state of the key that cannot be decoded (with the error); the caller re-lists, as
    /// upstream's reflector does when its watch meets an object it cannot decode, so that watchers end
    /// rather than be told of a change that did not happen (or miss one that did).
    fn prepare(&self, event: Event) -> Result<Prepared, (Arc<str>, DecodeError)> {
        let revision = event.kv.mod_revision;
        let key: Arc<str> = Arc::from(event.kv.key.as_str());
        let change = match event.kind {
            EventKind::Created | EventKind::Updated => match self.codec.decode(&event.kv) {
                Ok(decoded) => Some((ChangeKind::Put, Arc::new(CachedObject::new(key.clone(), revision, decoded)))),
                Err(e) => return Err((key, e)),
            },
            EventKind::Deleted => {
                // The deleted state, carrying the delete's revision: from etcd's prev_kv when the
                // backend gives it and it decodes, else from the cache's own copy (the state watchers
                // last saw); nothing to tell if the cache never had it (it could not be decoded).
                let from_prev = event.prev.and_then(|prev| {
                    let prev = KeyValue { mod_revision: revision, ..prev };
                    self.codec.decode(&prev).map_err(|e| self.note_decode_error(&event.kv.key, e)).ok()
                });
                let deleted = match from_prev {
                    Some(decoded) => Some(CachedObject::new(key.clone(), revision, decoded)),
                    None => self.cached_at(&key, revision),
                };
                return Ok((revision, deleted.map(|o| (ChangeKind::Delete, Arc::new(o))), Some(key)));
            }
        };
        Ok((revision, change, None))
    }

    /// Applies a batch of storage items under one lock and broadcasts the resulting events.
    fn apply(&self, batch: Vec<Prepared>) {
        let now = Instant::now();
        let mut evictions = Evictions::default();
        let mut state = self.write();
        for (revision, change, deleted) in batch {
            let fresh = revision > state.revision && state.revision > 0;
            match change {
                Some((kind, object)) => {
                    if let Some(event) = state.apply(kind, object, now, &mut evictions) {
                        let _ = self.fanout.send(Fanout::Event(event));
                    }
                }
                None => {
                    state.advance(revision);
                }
            }
            if let Some(key) = deleted.filter(|_| fresh) {
                state.undecodable.remove(&key);
            }
        }
        // Still under the lock: a watcher that received an event sees the cache at its revision.
        let revision = state.revision;
        self.fresh.send_if_modified(|r| std::mem::replace(r, revision) != revision);
        let (events, bytes, limits) = (state.ring_len(), state.ring_bytes(), state.limits());
        drop(state);
        self.count_evictions(evictions);
        if evictions.by_bytes > 0 && !self.over_budget.swap(true, Ordering::Relaxed) {
            eprintln!(
                "watch cache {}: over its {} byte budget, the ring now keeps {events} events ({}); \
                 watches from before them get 410 Expired",
                self.prefix,
                mib(limits.max_bytes),
                mib(bytes),
            );
        }
    }

    fn count_evictions(&self, evictions: Evictions) {
        let c = &self.counters;
        for (counter, n) in [
            (&c.evicted_by_count, evictions.by_count),
            (&c.evicted_by_bytes, evictions.by_bytes),
            (&c.evicted_by_age, evictions.by_age),
        ] {
            if n > 0 {
                counter.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }

    /// Upkeep on the reflector's ticks, when no event comes: drops events older than the fresh
    /// window and gives back the ring's unused slots, logging the resize.
    fn upkeep(&self) {
        let now = Instant::now();
        if !self.read().needs_upkeep(now) {
            return;
        }
        let mut state = self.write();
        let expired = state.expire(now);
        let shrunk = state.shrink();
        let (events, bytes, limits) = (state.ring_len(), state.ring_bytes(), state.limits());
        drop(state);
        self.count_evictions(Evictions { by_age: expired, ..Evictions::default() });
        if bytes <= limits.max_bytes / 2 {
            self.over_budget.store(false, Ordering::Relaxed);
        }
        if let Some((before, after)) = shrunk {
            eprintln!(
                "watch cache {}: ring resized from {before} to {after} slots, keeping {events} events ({}) \
                 of the last {}s",
                self.prefix,
                mib(bytes),
                limits.fresh.as_secs(),
            );
        }
    }

    /// Storage progress: nothing is missing up to `revision`.
    fn advance(&self, revision: Revision) {
        let mut state = self.write();
        if state.advance(revision) {
            self.fresh.send_replace(revision);
        }
    }

    /// Lets watchers that allow bookmarks send one, carrying the revision every broadcast event is at.
    fn tick(&self) {
        if self.fanout.receiver_count() == 0 {
            return;
        }
        // Under the read lock no event is being broadcast, so every event up to `revision` is ahead
        // of this tick in the fan-out.
        let state = self.read();
        let _ = self.fanout.send(Fanout::Tick(state.revision));
    }
}

/// `bytes` in MiB for the log, one decimal.
fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// Counters and sizes of one cacher.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacherStats {
    /// The revision the cache has reached.
    pub revision: Revision,
    /// Current objects.
    pub objects: usize,
    /// Events in the ring.
    pub ring_events: usize,
    /// Bytes only the ring keeps alive (superseded and deleted versions).
    pub ring_bytes: usize,
    /// The ring's allocated slots.
    pub ring_slots: usize,
    /// Events that left the ring because it held `capacity` events.
    pub evicted_by_count: u64,
    /// Events that left the ring because it kept more than `max_ring_bytes` alive.
    pub evicted_by_bytes: u64,
    /// Events that left the ring because they were older than `event_fresh_duration`.
    pub evicted_by_age: u64,
    /// Watchers following the live fan-out (not those replaying from the ring).
    pub watchers: usize,
    /// Lists installed (1 after the initial list; more after re-lists).
    pub lists: u64,
    /// Stored values that could not be decoded (skipped).
    pub decode_errors: u64,
    /// Storage failures the reflector retried.
    pub storage_errors: u64,
    /// Times a lagging watcher was served from the ring.
    pub caught_up: u64,
    /// Watchers cut off for being too slow.
    pub cut_off: u64,
    /// Bytes of the current objects (serialized bytes plus attributes and keys).
    pub object_bytes: usize,
    /// The last error seen.
    pub last_error: Option<String>,
}

/// The watch cache of one resource (see the module docs). Must be created inside a tokio runtime;
/// dropping it stops the reflector and ends its watches.
pub struct Cacher {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl Cacher {
    /// Starts caching the keys under `prefix` (`/registry/pods/`) of `storage`.
    pub fn new(
        storage: Arc<dyn Storage>,
        prefix: impl Into<String>,
        opts: CacherOptions,
        codec: Arc<dyn ObjectCodec>,
    ) -> Cacher {
        let (fanout, _) = broadcast::channel(opts.watcher_buffer.max(1));
        let shared = Arc::new(Shared {
            storage,
            prefix: prefix.into(),
            state: RwLock::new(WatchCache::new(RingLimits {
                max_events: opts.capacity,
                max_bytes: opts.max_ring_bytes,
                fresh: opts.event_fresh_duration,
                min_events: opts.min_ring_events,
            })),
            opts,
            codec,
            fresh: watch::Sender::new(0),
            fanout,
            counters: Counters::default(),
            last_error: Mutex::new(None),
            stopped: AtomicBool::new(false),
            over_budget: AtomicBool::new(false),
        });
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(reflect(shared.clone(), stopped));
        Cacher { shared, stop }
    }

    /// The resource prefix.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The revision the cache has reached (0 before its first list).
    pub fn revision(&self) -> Revision {
        self.shared.revision()
    }

    /// Waits for the first list; returns its revision.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Revision, CacherError> {
        self.shared.wait_fresh(1, timeout).await
    }

    /// Waits until the cache has reached `revision`.
    pub async fn wait_until(&self, revision: Revision, timeout: Duration) -> Result<Revision, CacherError> {
        self.shared.wait_fresh(revision, timeout).await
    }

    /// Counters and sizes.
    pub fn stats(&self) -> CacherStats {
        let state = self.shared.read();
        let c = &self.shared.counters;
        CacherStats {
            revision: state.revision,
            objects: state.store.len(),
            ring_events: state.ring_len(),
            ring_bytes: state.ring_bytes(),
            ring_slots: state.ring_slots(),
            evicted_by_count: c.evicted_by_count.load(Ordering::Relaxed),
            evicted_by_bytes: c.evicted_by_bytes.load(Ordering::Relaxed),
            evicted_by_age: c.evicted_by_age.load(Ordering::Relaxed),
            watchers: self.shared.fanout.receiver_count(),
            lists: state.generation,
            decode_errors: c.decode_errors.load(Ordering::Relaxed),
            storage_errors: c.storage_errors.load(Ordering::Relaxed),
            caught_up: c.caught_up.load(Ordering::Relaxed),
            cut_off: c.cut_off.load(Ordering::Relaxed),
            object_bytes: state.store.values().map(|o| o.heap_bytes()).sum(),
            last_error: self.shared.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }

    /// Stops the reflector and ends every watch.
    pub fn stop(&self) {
        if !self.stop.send_replace(true) {
            // Under the write lock: a watcher subscribing from the ring (under the read lock) either
            // sees the flag or is subscribed before the `Stop` goes out.
            let _state = self.shared.write();
            self.shared.stopped.store(true, Ordering::Release);
            let _ = self.shared.fanout.send(Fanout::Stop);
        }
    }

    /// Serves a list from the cache's current state.
    fn list_cached(&self, request: &ListRequest, after: Option<&str>) -> (ListResponse, Option<BadKey>) {
        let limit = request.limit.filter(|&l| l > 0);
        let (candidates, revision, remaining, undecodable) = {
            let state = self.shared.read();
            let undecodable = state.first_undecodable(&request.keys, after).map(|(k, e)| (k.to_string(), e.to_string()));
            let mut range = state.range(&request.keys, after);
            match limit {
                // No selector: take the page and count the rest under the lock (pointer walks only).
                Some(limit) if request.filter.is_everything() => {
                    let page: Vec<_> = range.by_ref().take(limit).cloned().collect();
                    let rest = range.count() as u64;
                    (page, state.revision, Some(rest), undecodable)
                }
                // A selector runs outside the lock, on a copy of the range's pointers.
                _ => (range.cloned().collect::<Vec<_>>(), state.revision, None, undecodable),
            }
        };
        let mut items = Vec::new();
        let mut more = false;
        for object in candidates {
            if !request.filter.matches(&object) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                more = true;
                break;
            }
            items.push(object);
        }
        let more = more || remaining.is_some_and(|r| r > 0);
        let continue_from = match items.last() {
            Some(last) if more => Some(Continue { after_key: last.key.to_string(), revision }),
            _ => None,
        };
        let remaining = if more { remaining } else { None };
        (ListResponse { items, revision, continue_from, remaining }, undecodable)
    }

    /// A list read as storage would read it fails on a stored object that cannot be decoded within
    /// the keys it covers (up to its page's last key), as upstream's list from etcd does, rather than
    /// leave the object out. Lists any state may serve (`resourceVersion=0`) leave it out, as
    /// upstream's watch cache does.
    fn decodable((response, undecodable): (ListResponse, Option<BadKey>)) -> Result<ListResponse, CacherError> {
        match undecodable {
            Some((key, _)) if response.continue_from.as_ref().is_some_and(|c| key > c.after_key) => Ok(response),
            Some((key, error)) => Err(CacherError::Decode { key, source: DecodeError(error) }),
            None => Ok(response),
        }
    }

    /// Serves a list from storage at `revision` (None: current), reusing cached objects of the same
    /// revision.
    async fn list_from_storage(
        &self,
        request: &ListRequest,
        revision: Option<Revision>,
        after: Option<&str>,
    ) -> Result<ListResponse, CacherError> {
        list_from_storage(
            self.shared.storage.as_ref(),
            &self.shared.prefix,
            request,
            revision,
            after,
            self.shared.opts.list_page_size,
            |kv| self.shared.object_for(kv),
        )
        .await
    }
}

impl Drop for Cacher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The decoder's own words for a failed decode.
fn decode_message(e: &CacherError) -> String {
    match e {
        CacherError::Decode { source, .. } => source.0.clone(),
        other => other.to_string(),
    }
}

/// A list straight from storage (shared with [`Passthrough`](super::Passthrough)): pages through
/// the range until `limit` matching items are found, all at one revision.
pub(crate) async fn list_from_storage(
    storage: &dyn Storage,
    resource_prefix: &str,
    request: &ListRequest,
    revision: Option<Revision>,
    after: Option<&str>,
    page_size: usize,
    decode: impl Fn(&KeyValue) -> Result<Arc<CachedObject>, CacherError>,
) -> Result<ListResponse, CacherError> {
    let limit = request.limit.filter(|&l| l > 0);
    if let Keys::Key(key) = &request.keys {
        let kv = storage.get(key, revision).await?;
        let revision = match (&kv, revision) {
            (_, Some(r)) => r,
            (_, None) => storage.current_revision().await?,
        };
        let mut items = Vec::new();
        if let Some(kv) = kv.filter(|_| after.is_none_or(|a| key.as_str() > a)) {
            let object = decode(&kv)?;
            if request.filter.matches(&object) {
                items.push(object);
            }
        }
        return Ok(ListResponse { items, revision, continue_from: None, remaining: None });
    }
    let prefix = request.keys.storage_prefix(resource_prefix);
    let everything = request.filter.is_everything();
    let chunk = match limit {
        Some(l) if everything => l,
        _ => page_size.max(1),
    };
    let mut opts = ListOptions { revision, limit: Some(chunk), start_after: after.map(str::to_string) };
    let mut items = Vec::new();
    loop {
        let page = storage.list(prefix, opts.clone()).await?;
        let at = page.revision;
        let last = page.items.last().map(|kv| kv.key.clone());
        // `more`: a further match exists beyond the limit within this page.
        let mut more = false;
        for kv in &page.items {
            let object = decode(kv)?;
            if !request.filter.matches(&object) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                more = true;
                break;
            }
            items.push(object);
        }
        let full = limit.is_some_and(|l| items.len() >= l);
        if more || full || page.remaining == 0 || last.is_none() {
            // Like etcd, a full page with keys left says "continue" even if none of them match.
            let more = more || (full && page.remaining > 0);
            let continue_from = match items.last() {
                Some(item) if more => Some(Continue { after_key: item.key.to_string(), revision: at }),
                _ => None,
            };
            let remaining = (more && everything).then_some(page.remaining);
            return Ok(ListResponse { items, revision: at, continue_from, remaining });
        }
        opts.revision = Some(at);
        opts.start_after = last;
    }
}

#[async_trait::async_trait]
impl ListWatch for Cacher {
    async fn get(&self, key: &str, resource_version: ResourceVersion) -> Result<GetResponse, CacherError> {
        check_keys(&Keys::Key(key.to_string()), &self.shared.prefix)?;
        let from_storage = |revision: Option<Revision>| async move {
            let kv = self.shared.storage.get(key, revision).await?;
            let object = kv.as_ref().map(|kv| self.shared.object_for(kv)).transpose()?;
            let revision = match revision {
                Some(r) => r,
                None => self.shared.storage.current_revision().await?,
            };
            Ok(GetResponse { object, revision })
        };
        match resource_version {
            ResourceVersion::Unset => from_storage(None).await,
            ResourceVersion::Exact(rv) => from_storage(Some(check_revision(rv)?)).await,
            ResourceVersion::NotOlderThan(rv) => {
                let rv = check_revision(rv)?;
                if rv == 0 && self.shared.revision() == 0 {
                    // Not initialized and any state will do: ask storage (upstream does the same).
                    return from_storage(None).await;
                }
                self.shared.wait_fresh(rv, self.shared.opts.freshness_timeout).await?;
                let state = self.shared.read();
                Ok(GetResponse { object: state.store.get(key).cloned(), revision: state.revision })
            }
        }
    }

    async fn list(&self, request: ListRequest) -> Result<ListResponse, CacherError> {
        check_keys(&request.keys, &self.shared.prefix)?;
        if let Some(cont) = &request.continue_from {
            let revision = check_revision(cont.revision)?;
            // The page can come from the cache only while it is still at the list's revision.
            if self.shared.revision() == revision {
                let listed = self.list_cached(&request, Some(&cont.after_key));
                if listed.0.revision == revision {
                    return Self::decodable(listed);
                }
            }
            return self.list_from_storage(&request, Some(revision), Some(&cont.after_key)).await;
        }
        match request.resource_version {
            ResourceVersion::Unset => {
                if !self.shared.storage.progress_requests() {
                    // The watch cannot be proven current promptly (old etcd): read from storage,
                    // as upstream does without ConsistentListFromCache.
                    return self.list_from_storage(&request, None, None).await;
                }
                // Consistent read from cache (KEP-2340): wait for storage's current revision.
                let current = self.shared.storage.current_revision().await?;
                match self.shared.wait_fresh(current, self.shared.opts.freshness_timeout).await {
                    Ok(_) => Self::decodable(self.list_cached(&request, None)),
                    // Upstream falls back to storage when the cache does not catch up in time.
                    Err(CacherError::TooLargeResourceVersion { .. }) => {
                        self.list_from_storage(&request, None, None).await
                    }
                    Err(e) => Err(e),
                }
            }
            ResourceVersion::NotOlderThan(rv) => {
                let rv = check_revision(rv)?;
                if rv == 0 && self.shared.revision() == 0 {
                    return self.list_from_storage(&request, None, None).await;
                }
                self.shared.wait_fresh(rv, self.shared.opts.freshness_timeout).await?;
                Ok(self.list_cached(&request, None).0)
            }
            ResourceVersion::Exact(rv) => {
                let rv = check_revision(rv)?;
                if self.shared.revision() == rv {
                    let listed = self.list_cached(&request, None);
                    if listed.0.revision == rv {
                        return Self::decodable(listed);
                    }
                }
                self.list_from_storage(&request, Some(rv), None).await
            }
        }
    }

    async fn watch(&self, request: WatchRequest) -> Result<EventStream, CacherError> {
        check_keys(&request.keys, &self.shared.prefix)?;
        if let Some(rv) = request.resource_version {
            check_revision(rv)?;
        }
        if self.shared.is_stopped() {
            return Err(CacherError::Stopped);
        }
        let shared = &self.shared;
        // Upstream: sendInitialEvents, or legacy rv unset/"0", start with the current state.
        let initial = match request.send_initial_events {
            Some(send) => send,
            None => matches!(request.resource_version, None | Some(0)),
        };
        let end_bookmark = request.send_initial_events == Some(true);
        // After validation, upstream reports failures in-stream (newErrWatcher).
        let wait = match (end_bookmark, request.resource_version) {
            // sendInitialEvents with rv unset: consistent, from storage's current revision.
            (true, None) => match shared.storage.current_revision().await {
                Ok(current) => shared.wait_fresh(current, shared.opts.freshness_timeout).await,
                Err(e) => Err(e.into()),
            },
            (true, Some(rv)) if rv > 0 => shared.wait_fresh(rv, shared.opts.freshness_timeout).await,
            _ => shared.wait_fresh(1, READY_TIMEOUT).await.map_err(|e| match e {
                CacherError::TooLargeResourceVersion { .. } => {
                    CacherError::Storage(StorageError::Unavailable("the watch cache is not initialized".into()))
                }
                other => other,
            }),
        };
        if let Err(e) = wait {
            return Ok(error_stream(e));
        }
        // sendInitialEvents=false with rv unset starts at storage's most recent revision.
        let storage_start = match (initial, request.resource_version) {
            (false, None) => match shared.storage.current_revision().await {
                Ok(current) => Some(current),
                Err(e) => return Ok(error_stream(e.into())),
            },
            _ => None,
        };

        let state = shared.read();
        if shared.is_stopped() {
            return Err(CacherError::Stopped);
        }
        let mut pending = VecDeque::new();
        let (position, source) = if initial {
            pending.extend(state.range(&request.keys, None).cloned().map(Pending::Initial));
            if end_bookmark {
                pending.push_back(Pending::Bookmark(Bookmark { revision: state.revision, initial_events_end: true }));
            }
            (state.revision, Source::Live(shared.fanout.subscribe()))
        } else {
            let start = match request.resource_version {
                Some(0) => state.revision,
                Some(rv) => rv,
                None => storage_start.unwrap_or(state.revision),
            };
            // The replay is read from the ring lazily, a chunk at a time; 410 now if it is gone.
            if let Err(e) = state.check_resumable(start) {
                return Ok(error_stream(e));
            }
            (start, Source::Ring { lagged: false })
        };
        let generation = state.generation;
        drop(state);

        let bookmarks = request
            .allow_bookmarks
            .then(|| Bookmarks::new(shared.opts.bookmark_interval, request.deadline, Instant::now()));
        let watcher = CacheWatcher::new(
            self.shared.clone(),
            source,
            pending,
            position,
            request.keys,
            request.filter,
            bookmarks,
            generation,
        );
        Ok(watcher.into_stream())
    }
}

/// How often the reflector offers bookmarks: a quarter of the bookmark interval, at most a second.
fn tick_interval(bookmark_interval: Duration) -> Duration {
    (bookmark_interval / 4).clamp(Duration::from_millis(1), Duration::from_secs(1))
}

/// First delay before the keys a list could not decode are tried again; it doubles up to
/// [`RECHECK_MAX`] while they still fail.
const RECHECK_FIRST: Duration = Duration::from_secs(1);
const RECHECK_MAX: Duration = Duration::from_secs(30);
/// Undecodable keys tried per check (each is one storage read and one decode).
const RECHECK_KEYS: usize = 16;

/// Tries the keys the cache could not decode again, off the reflector's loop: what failed may decode
/// now (a conversion webhook that was down is back). When one does, the reflector re-lists. Upstream's
/// reflector re-lists after every failure; this reads only the failed keys until one recovers.
struct Recheck {
    delay: Duration,
    due: Option<tokio::time::Instant>,
    task: Option<tokio::task::JoinHandle<bool>>,
}

impl Recheck {
    fn new() -> Recheck {
        Recheck { delay: RECHECK_FIRST, due: None, task: None }
    }

    /// After a list: due in [`RECHECK_FIRST`] if the cache holds undecodable keys.
    fn arm(&mut self, shared: &Shared) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.delay = RECHECK_FIRST;
        let pending = !shared.read().undecodable.is_empty();
        self.due = pending.then(|| tokio::time::Instant::now() + self.delay);
    }

    /// Resolves when an undecodable key decodes (never, while none does). Cancel-safe: the state
    /// lives in `self`.
    async fn recovered(&mut self, shared: &Arc<Shared>) -> bool {
        loop {
            if let Some(task) = &mut self.task {
                let recovered = task.await.unwrap_or(false);
                self.task = None;
                if recovered {
                    return true;
                }
                self.delay = (self.delay * 2).min(RECHECK_MAX);
                self.due = Some(tokio::time::Instant::now() + self.delay);
                continue;
            }
            let Some(due) = self.due else { return std::future::pending().await };
            tokio::time::sleep_until(due).await;
            self.due = None;
            let keys: Vec<String> = shared.read().undecodable.keys().take(RECHECK_KEYS).map(|k| k.to_string()).collect();
            if keys.is_empty() {
                continue;
            }
            let shared = shared.clone();
            self.task = Some(tokio::spawn(async move {
                for key in keys {
                    if let Ok(Some(kv)) = shared.storage.get(&key, None).await {
                        if shared.codec.decode(&kv).is_ok() {
                            return true;
                        }
                    }
                }
                false
            }));
        }
    }
}

/// The reflector: list, then watch from the list's revision; re-watch after failures, re-list after
/// the watch's revision was compacted, when the watch brings a state that cannot be decoded, and when
/// a key that could not be decoded decodes again. Runs until the cacher is stopped.
async fn reflect(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let initial_backoff = shared.opts.retry_backoff.max(Duration::from_millis(1));
    let mut backoff = initial_backoff;
    let mut ticker = tokio::time::interval(tick_interval(shared.opts.bookmark_interval));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Sleeps `backoff` (doubling it); false if stopped meanwhile.
    async fn pause(backoff: &mut Duration, stop: &mut watch::Receiver<bool>) -> bool {
        let delay = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        let stopped = tokio::select! {
            _ = tokio::time::sleep(delay) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        !stopped && !*stop.borrow()
    }

    let mut recheck = Recheck::new();
    // Re-lists forced by objects that cannot be decoded back off (a conversion webhook that is down
    // while writes go on would otherwise re-list on every write); reset by a list without any.
    let mut relist_backoff = initial_backoff;
    'list: loop {
        if *stop.borrow() {
            return;
        }
        let listed = tokio::select! {
            r = shared.list_all() => r,
            _ = stop.wait_for(|s| *s) => return,
        };
        match listed {
            Ok((store, undecodable, revision)) => {
                if undecodable.is_empty() {
                    relist_backoff = initial_backoff;
                }
                shared.replace(store, undecodable, revision);
                recheck.arm(&shared);
                backoff = initial_backoff;
            }
            Err(e) => {
                shared.note_error(e);
                if !pause(&mut backoff, &mut stop).await {
                    return;
                }
                continue 'list;
            }
        }
        'watch: loop {
            let from = shared.read().revision;
            let opened = tokio::select! {
                r = shared.storage.watch(&shared.prefix, from) => r,
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut stream = match opened {
                Ok(stream) => stream,
                Err(StorageError::Expired { .. }) => continue 'list,
                Err(e) => {
                    shared.note_error(e);
                    if !pause(&mut backoff, &mut stop).await {
                        return;
                    }
                    continue 'watch;
                }
            };
            loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    _ = ticker.tick() => {
                        shared.tick();
                        shared.upkeep();
                        continue;
                    }
                    // A key the cache could not decode decodes now: re-list to serve it again.
                    true = recheck.recovered(&shared) => continue 'list,
                    _ = stop.wait_for(|s| *s) => return,
                };
                let mut batch = Vec::new();
                let mut next = item;
                let mut broken = None;
                // Apply the events that are ready in one go, under one lock.
                let other = loop {
                    match next {
                        Some(Ok(WatchItem::Event(event))) => {
                            match shared.prepare(event) {
                                Ok(prepared) => batch.push(prepared),
                                Err(undecodable) => {
                                    broken = Some(undecodable);
                                    break None;
                                }
                            }
                            if batch.len() >= MAX_BATCH {
                                break None;
                            }
                            match stream.next().now_or_never() {
                                Some(n) => next = n,
                                None => break None,
                            }
                        }
                        other => break Some(other),
                    }
                };
                if !batch.is_empty() {
                    shared.apply(batch);
                    backoff = initial_backoff;
                }
                if let Some((key, error)) = broken {
                    // What the key holds now cannot be decoded: re-list (every watcher ends; the
                    // list records the key as undecodable, and consistent lists over it fail).
                    shared.note_decode_error(&key, error);
                    if !pause(&mut relist_backoff, &mut stop).await {
                        return;
                    }
                    continue 'list;
                }
                match other {
                    None | Some(Some(Ok(WatchItem::Event(_)))) => {}
                    Some(Some(Ok(WatchItem::Progress(revision)))) => shared.advance(revision),
                    Some(Some(Err(StorageError::Expired { .. }))) => continue 'list,
                    Some(Some(Err(e))) => {
                        shared.note_error(e);
                        if !pause(&mut backoff, &mut stop).await {
                            return;
                        }
                        continue 'watch;
                    }
                    Some(None) => {
                        shared.note_error("storage watch ended");
                        if !pause(&mut backoff, &mut stop).await {
                            return;
                        }
                        continue 'watch;
                    }
                }
            }
        }
    }
}
