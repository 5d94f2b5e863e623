//! The cache's state (upstream's `watchCache`): the current objects by key, the ring of recent
//! events, and the revision the cache has reached. Mutated only by the cacher's reflector task.
//!
//! The ring is bounded three ways (see [`RingLimits`]): by events, by the bytes only it keeps alive,
//! and by age beyond a floor of events; its allocation shrinks again once it holds few events.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::object::{CachedObject, ObjectCodec};
use super::{CacherError, Keys};
use crate::storage::Revision;

/// What happened to a key (the wire type is decided per watcher, by its selector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    /// Created or updated: `object` is the new state.
    Put,
    /// Deleted: `object` is the last state, stamped with the delete's revision.
    Delete,
}

/// One event of the ring, shared by every watcher.
#[derive(Debug)]
pub(crate) struct WatchCacheEvent {
    pub(crate) kind: ChangeKind,
    /// The event's revision.
    pub(crate) revision: Revision,
    /// The new state (Put) or the deleted state (Delete).
    pub(crate) object: Arc<CachedObject>,
    /// The state before (None for a creation): a selector that matched it but not `object` turns
    /// the event into DELETED for that watcher.
    pub(crate) prev: Option<Arc<CachedObject>>,
    /// `prev` restamped with `revision`, made on first need and shared by every watcher that needs it.
    moved_out: OnceLock<Arc<CachedObject>>,
    /// When the cache recorded it (upstream's `RecordTime`): the ring keeps a window of time.
    recorded: Instant,
    /// Bytes that only the ring keeps alive because of this event (see [`WatchCacheEvent::retained`]).
    retained: usize,
}

impl WatchCacheEvent {
    pub(crate) fn new(
        kind: ChangeKind,
        object: Arc<CachedObject>,
        prev: Option<Arc<CachedObject>>,
        recorded: Instant,
    ) -> WatchCacheEvent {
        let retained = Self::retained(kind, &object, prev.as_deref());
        WatchCacheEvent {
            kind,
            revision: object.revision,
            object,
            prev,
            moved_out: OnceLock::new(),
            recorded,
            retained,
        }
    }

    /// What the ring pays for an event: the version it superseded (`prev`: the current state no
    /// longer holds it) and, for a deletion, the deleted state restamped with the delete's revision.
    /// A Put's new state is the current state's, shared, so it costs the ring nothing until the next
    /// change of its key, which is charged for it. Summed over the ring this is what evicting every
    /// event would free (watchers still sending an event keep it a little longer); protobuf forms
    /// and `moved_out` copies, made on demand, are not counted.
    fn retained(kind: ChangeKind, object: &CachedObject, prev: Option<&CachedObject>) -> usize {
        let own = match kind {
            ChangeKind::Put => 0,
            ChangeKind::Delete => object.heap_bytes(),
        };
        std::mem::size_of::<WatchCacheEvent>() + own + prev.map_or(0, CachedObject::heap_bytes)
    }

    /// The object to send as DELETED to a watcher whose selector `prev` matched and `object` no
    /// longer does: `prev` carrying this event's revision. None if there is no `prev`.
    pub(crate) fn moved_out(&self, codec: &dyn ObjectCodec) -> Option<Arc<CachedObject>> {
        let prev = self.prev.as_ref()?;
        let view = self.moved_out.get_or_init(|| match codec.with_revision(prev, self.revision) {
            Ok(bytes) => Arc::new(CachedObject::with_bytes(
                prev.key.clone(),
                self.revision,
                bytes,
                prev.labels.clone(),
                prev.fields.clone(),
            )),
            // The bytes decoded once, so this does not happen; if it does, the old state still says
            // what left the selector.
            Err(_) => prev.clone(),
        });
        Some(view.clone())
    }
}

/// How much history the ring keeps. An event leaves it when the ring holds more than `max_events`,
/// when the ring keeps more than `max_bytes` alive, or when it is older than `fresh` and more than
/// `min_events` newer events are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RingLimits {
    /// Events kept at most (`--watch-cache-sizes`).
    pub(crate) max_events: usize,
    /// Bytes the ring alone may keep alive (see [`WatchCacheEvent::retained`]).
    pub(crate) max_bytes: usize,
    /// Events older than this may leave (upstream's `eventFreshDuration`)...
    pub(crate) fresh: Duration,
    /// ...while more than this many newer events are kept (upstream's lower bound capacity).
    pub(crate) min_events: usize,
}

/// Why events left the ring, for the cacher's log and counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Evictions {
    /// Events evicted because the ring was at `max_events`.
    pub(crate) by_count: usize,
    /// Events evicted because the ring kept more than `max_bytes` alive.
    pub(crate) by_bytes: usize,
    /// Events evicted because they were older than `fresh`.
    pub(crate) by_age: usize,
}

/// Slots below which the ring's allocation is never shrunk (a few KiB).
const MIN_SLOTS: usize = 256;

/// The current state and the ring.
pub(crate) struct WatchCache {
    /// Current objects by key.
    pub(crate) store: BTreeMap<Arc<str>, Arc<CachedObject>>,
    /// Keys whose current stored value cannot be decoded, with the decoder's error: they are not
    /// in `store`, and a consistent list over them fails rather than leave them out.
    pub(crate) undecodable: BTreeMap<Arc<str>, String>,
    /// The most recent events, oldest first.
    ring: VecDeque<Arc<WatchCacheEvent>>,
    limits: RingLimits,
    /// The sum of the ring's events' `retained` bytes.
    ring_bytes: usize,
    /// The revision of the last (re)list.
    list_revision: Revision,
    /// Whether an event was dropped from the ring since the last list.
    evicted: bool,
    /// The revision of the last event dropped from the ring (what an emptied ring resumes from).
    last_evicted: Revision,
    /// Every change up to this revision is applied (0: not initialized).
    pub(crate) revision: Revision,
    /// Bumped on every re-list: watchers of an older generation must end.
    pub(crate) generation: u64,
}

/// The entries of `map` under `keys` (one key, a prefix, or all), in key order, starting after
/// `after` (exclusive).
fn in_keys<'a, V>(
    map: &'a BTreeMap<Arc<str>, V>,
    keys: &'a Keys,
    after: Option<&'a str>,
) -> impl Iterator<Item = (&'a Arc<str>, &'a V)> + 'a {
    let (prefix, exact) = match keys {
        Keys::Key(key) => (key.as_str(), true),
        Keys::Prefix(p) => (p.as_str(), false),
        Keys::All => ("", false),
    };
    let lower = match after {
        Some(a) if a >= prefix => Bound::Excluded(a),
        _ => Bound::Included(prefix),
    };
    map.range::<str, _>((lower, Bound::Unbounded))
        .take_while(move |(k, _)| if exact { &***k == prefix } else { k.starts_with(prefix) })
}

impl WatchCache {
    pub(crate) fn new(limits: RingLimits) -> WatchCache {
        WatchCache {
            store: BTreeMap::new(),
            undecodable: BTreeMap::new(),
            ring: VecDeque::new(),
            limits: RingLimits { max_events: limits.max_events.max(1), ..limits },
            ring_bytes: 0,
            list_revision: 0,
            evicted: false,
            last_evicted: 0,
            revision: 0,
            generation: 0,
        }
    }

    /// Replaces everything with a fresh list at `revision` (and the keys it could not decode) and
    /// empties the ring.
    pub(crate) fn replace(
        &mut self,
        store: BTreeMap<Arc<str>, Arc<CachedObject>>,
        undecodable: BTreeMap<Arc<str>, String>,
        revision: Revision,
    ) {
        self.store = store;
        self.undecodable = undecodable;
        self.ring = VecDeque::new();
        self.ring_bytes = 0;
        self.list_revision = revision;
        self.evicted = false;
        self.last_evicted = 0;
        self.revision = revision;
        self.generation += 1;
    }

    /// Applies a change (Put: `object` is the new state; Delete: the deleted state) and records
    /// the event at `now`, evicting what the limits then exclude (counted in `evictions`). Changes at
    /// or below the cache's revision (a replay after re-watching) are ignored.
    pub(crate) fn apply(
        &mut self,
        kind: ChangeKind,
        object: Arc<CachedObject>,
        now: Instant,
        evictions: &mut Evictions,
    ) -> Option<Arc<WatchCacheEvent>> {
        if object.revision <= self.revision {
            return None;
        }
        self.undecodable.remove(&object.key);
        let prev = match kind {
            ChangeKind::Put => self.store.insert(object.key.clone(), object.clone()),
            ChangeKind::Delete => self.store.remove(&object.key),
        };
        self.revision = object.revision;
        if kind == ChangeKind::Delete && prev.is_none() {
            // Deleting what the cache never had (it could not be decoded): nothing to tell.
            return None;
        }
        let event = Arc::new(WatchCacheEvent::new(kind, object, prev, now));
        while self.ring.len() >= self.limits.max_events {
            self.pop_front();
            evictions.by_count += 1;
        }
        self.ring_bytes += event.retained;
        self.ring.push_back(event.clone());
        // The new event itself may be over the budget alone: then the ring keeps nothing.
        while self.ring_bytes > self.limits.max_bytes && !self.ring.is_empty() {
            self.pop_front();
            evictions.by_bytes += 1;
        }
        evictions.by_age += self.expire(now);
        Some(event)
    }

    /// Drops the ring's events older than the fresh window beyond its floor of events; returns
    /// how many.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let mut expired = 0;
        while self.ring.len() > self.limits.min_events
            && self.ring.front().is_some_and(|e| now.saturating_duration_since(e.recorded) > self.limits.fresh)
        {
            self.pop_front();
            expired += 1;
        }
        expired
    }

    /// True if [`WatchCache::expire`] or [`WatchCache::shrink`] would do something at `now`
    /// (checked under the read lock, so that an idle cache is not write-locked every tick).
    pub(crate) fn needs_upkeep(&self, now: Instant) -> bool {
        let stale = self.ring.len() > self.limits.min_events
            && self.ring.front().is_some_and(|e| now.saturating_duration_since(e.recorded) > self.limits.fresh);
        stale || self.oversized()
    }

    /// The ring's allocation is more than four times what it holds (and more than a few KiB).
    fn oversized(&self) -> bool {
        self.ring.capacity() > MIN_SLOTS && self.ring.capacity() / 4 > self.ring.len()
    }

    /// Gives back the ring's unused slots (a `VecDeque` keeps the allocation it once grew to) when
    /// it holds less than a quarter of them; returns the slots before and after.
    pub(crate) fn shrink(&mut self) -> Option<(usize, usize)> {
        if !self.oversized() {
            return None;
        }
        let before = self.ring.capacity();
        self.ring.shrink_to((self.ring.len() * 2).max(MIN_SLOTS));
        Some((before, self.ring.capacity()))
    }

    fn pop_front(&mut self) {
        if let Some(event) = self.ring.pop_front() {
            self.ring_bytes -= event.retained;
            self.last_evicted = event.revision;
            self.evicted = true;
        }
    }

    /// Progress: no change up to `revision` is missing.
    pub(crate) fn advance(&mut self, revision: Revision) -> bool {
        if revision > self.revision && self.revision > 0 {
            self.revision = revision;
            return true;
        }
        false
    }

    /// Upstream's "oldest - 1": a watch may start from this revision or later.
    pub(crate) fn oldest_resumable(&self) -> Revision {
        match self.ring.front() {
            _ if !self.evicted => self.list_revision,
            Some(first) => first.revision - 1,
            // Everything left the ring (one event over the byte budget): nothing after the last
            // evicted event is missing.
            None => self.last_evicted,
        }
    }

    /// 410 if some event after `revision` has left the ring.
    pub(crate) fn check_resumable(&self, revision: Revision) -> Result<(), CacherError> {
        let oldest = self.oldest_resumable();
        if revision < oldest {
            return Err(CacherError::too_old(revision, oldest));
        }
        Ok(())
    }

    /// Up to `max` events after `revision` and whether they reach the end of the ring, or 410 if
    /// some of them left the ring.
    pub(crate) fn events_after(
        &self,
        revision: Revision,
        max: usize,
    ) -> Result<(Vec<Arc<WatchCacheEvent>>, bool), CacherError> {
        self.check_resumable(revision)?;
        let first = self.ring.partition_point(|e| e.revision <= revision);
        let end = first.saturating_add(max).min(self.ring.len());
        Ok((self.ring.range(first..end).cloned().collect(), end == self.ring.len()))
    }

    /// Current objects of `keys`, in key order, starting after `after` (exclusive).
    pub(crate) fn range<'a>(
        &'a self,
        keys: &'a Keys,
        after: Option<&'a str>,
    ) -> Box<dyn Iterator<Item = &'a Arc<CachedObject>> + 'a> {
        Box::new(in_keys(&self.store, keys, after).map(|(_, v)| v))
    }

    /// The first key of `keys` after `after` whose stored value cannot be decoded, with the error.
    pub(crate) fn first_undecodable<'a>(&'a self, keys: &'a Keys, after: Option<&'a str>) -> Option<(&'a str, &'a str)> {
        in_keys(&self.undecodable, keys, after).next().map(|(k, e)| (&**k, e.as_str()))
    }

    pub(crate) fn ring_len(&self) -> usize {
        self.ring.len()
    }

    /// Bytes only the ring keeps alive.
    pub(crate) fn ring_bytes(&self) -> usize {
        self.ring_bytes
    }

    /// The ring's allocated slots.
    pub(crate) fn ring_slots(&self) -> usize {
        self.ring.capacity()
    }

    pub(crate) fn limits(&self) -> RingLimits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cacher::object::Decoded;

    fn obj(key: &str, rev: Revision) -> Arc<CachedObject> {
        sized(key, rev, 0)
    }

    fn sized(key: &str, rev: Revision, len: usize) -> Arc<CachedObject> {
        let decoded = Decoded { bytes: vec![b'x'; len].into(), ..Decoded::default() };
        Arc::new(CachedObject::new(key, rev, decoded))
    }

    fn limits(max_events: usize) -> RingLimits {
        RingLimits { max_events, max_bytes: usize::MAX, fresh: Duration::from_secs(75), min_events: 100 }
    }

    fn put(wc: &mut WatchCache, object: Arc<CachedObject>, now: Instant) -> Evictions {
        let mut evictions = Evictions::default();
        assert!(wc.apply(ChangeKind::Put, object, now, &mut evictions).is_some());
        evictions
    }

    fn revs(wc: &WatchCache, after: Revision) -> Vec<Revision> {
        let (events, _) = wc.events_after(after, usize::MAX).expect("resumable");
        events.iter().map(|e| e.revision).collect()
    }

    #[test]
    fn ring_evicts_and_expires() {
        let mut wc = WatchCache::new(limits(3));
        wc.replace(BTreeMap::new(), BTreeMap::new(), 10);
        assert_eq!(wc.oldest_resumable(), 10);
        assert!(wc.check_resumable(9).is_err());
        let now = Instant::now();
        for (i, rev) in [12, 15, 17, 20].into_iter().enumerate() {
            put(&mut wc, obj(&format!("/r/k{i}"), rev), now);
        }
        // 12 was evicted; the oldest kept is 15, so watches may start at 14 or later.
        assert_eq!(wc.oldest_resumable(), 14);
        assert_eq!(wc.events_after(13, 10).expect_err("expired").to_string(), "too old resource version: 13 (14)");
        let revs = |after, max| {
            let (events, complete) = wc.events_after(after, max).expect("resumable");
            (events.iter().map(|e| e.revision).collect::<Vec<_>>(), complete)
        };
        assert_eq!(revs(14, 10), (vec![15, 17, 20], true));
        assert_eq!(revs(14, 2), (vec![15, 17], false));
        assert_eq!(revs(17, 10), (vec![20], true));
        assert_eq!(revs(25, 10), (vec![], true));
        // Replays at or below the cache's revision are ignored.
        assert!(wc.apply(ChangeKind::Put, obj("/r/k0", 20), now, &mut Evictions::default()).is_none());
    }

    #[test]
    fn ring_keeps_what_only_it_holds_within_its_byte_budget() {
        const MB: usize = 1 << 20;
        let mut wc = WatchCache::new(RingLimits { max_bytes: 3 * MB + MB / 2, ..limits(10_000) });
        wc.replace(BTreeMap::new(), BTreeMap::new(), 1);
        let now = Instant::now();
        // Creations cost the ring nothing beyond the event: the objects are the current state's.
        for rev in 2..12 {
            assert_eq!(put(&mut wc, sized(&format!("/r/new{rev}"), rev, MB), now), Evictions::default());
        }
        assert!(wc.ring_bytes() < 4096, "{}", wc.ring_bytes());
        // Each update supersedes 1 MB that only the ring keeps: the fourth one is over the budget.
        for rev in 12..15 {
            assert_eq!(put(&mut wc, sized("/r/big", rev, MB), now), Evictions::default());
        }
        assert_eq!(put(&mut wc, sized("/r/big", 15, MB), now).by_bytes, 0);
        assert_eq!(wc.ring_len(), 14);
        let evictions = put(&mut wc, sized("/r/big", 16, MB), now);
        assert!(evictions.by_bytes > 0, "{evictions:?}");
        assert!(wc.ring_bytes() <= 3 * MB + MB / 2);
        assert_eq!(wc.ring_bytes() / MB, 3, "the last three superseded versions");
        assert_eq!(revs(&wc, wc.oldest_resumable()), vec![14, 15, 16]);
        assert_eq!(
            wc.events_after(12, 10).expect_err("expired").to_string(),
            "too old resource version: 12 (13)",
            "the same 410 as a count eviction"
        );
        // A change over the budget alone leaves nothing in the ring; a watch from its revision or
        // later is still served.
        let mut delete = Evictions::default();
        assert!(wc.apply(ChangeKind::Delete, sized("/r/big", 17, 4 * MB), now, &mut delete).is_some());
        assert_eq!((wc.ring_len(), wc.ring_bytes()), (0, 0));
        assert_eq!(wc.oldest_resumable(), 17);
        assert!(wc.check_resumable(16).is_err());
        assert_eq!(revs(&wc, 17), Vec::<Revision>::new());
    }

    #[test]
    fn ring_drops_old_events_beyond_its_floor_and_shrinks() {
        let mut wc = WatchCache::new(RingLimits { min_events: 2, ..limits(10_000) });
        wc.replace(BTreeMap::new(), BTreeMap::new(), 1);
        let start = Instant::now();
        for rev in 2..1002 {
            put(&mut wc, sized("/r/k", rev, 100), start);
        }
        assert_eq!(wc.ring_len(), 1000);
        let slots = wc.ring_slots();
        assert!(slots >= 1000);
        assert!(!wc.needs_upkeep(start + Duration::from_secs(75)), "fresh for 75 s");
        // An event after the window pushes out every old one but the floor.
        let later = start + Duration::from_secs(76);
        assert!(wc.needs_upkeep(later));
        assert_eq!(put(&mut wc, sized("/r/k", 1002, 100), later).by_age, 999);
        assert_eq!(revs(&wc, wc.oldest_resumable()), vec![1001, 1002]);
        // Idle: the allocation that held 1,000 events is given back.
        assert!(wc.needs_upkeep(later));
        assert_eq!(wc.expire(later), 0);
        assert_eq!(wc.shrink(), Some((slots, MIN_SLOTS)));
        assert!(!wc.needs_upkeep(later + Duration::from_secs(3600)), "the floor stays, however old");
        assert_eq!(wc.ring_len(), 2);
        // Upkeep alone, with no new event, expires old events too (1001 left with the first put).
        for rev in 1003..1010 {
            put(&mut wc, sized("/r/k", rev, 100), later);
        }
        let idle = later + Duration::from_secs(80);
        assert!(wc.needs_upkeep(idle));
        assert_eq!(wc.expire(idle), 6);
        assert_eq!(wc.oldest_resumable(), 1007);
    }

    #[test]
    fn range_by_prefix_and_continue() {
        let mut wc = WatchCache::new(limits(10));
        let mut store = BTreeMap::new();
        for key in ["/r/a/1", "/r/a/2", "/r/ab/1", "/r/b/1"] {
            let o = obj(key, 2);
            store.insert(o.key.clone(), o);
        }
        wc.replace(store, BTreeMap::new(), 5);
        let keys = |k: &Keys, after: Option<&str>| wc.range(k, after).map(|o| o.key.to_string()).collect::<Vec<_>>();
        assert_eq!(keys(&Keys::All, None).len(), 4);
        assert_eq!(keys(&Keys::Prefix("/r/a/".into()), None), vec!["/r/a/1", "/r/a/2"]);
        assert_eq!(keys(&Keys::Prefix("/r/a/".into()), Some("/r/a/1")), vec!["/r/a/2"]);
        assert_eq!(keys(&Keys::All, Some("/r/ab/1")), vec!["/r/b/1"]);
        assert_eq!(keys(&Keys::Key("/r/a/2".into()), None), vec!["/r/a/2"]);
        assert!(keys(&Keys::Key("/r/a/2".into()), Some("/r/a/2")).is_empty());
    }
}
