//! The cache's state (upstream's `watchCache`): the current objects by key, the ring of recent
//! events, and the revision the cache has reached. Mutated only by the cacher's reflector task.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

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
}

impl WatchCacheEvent {
    pub(crate) fn new(kind: ChangeKind, object: Arc<CachedObject>, prev: Option<Arc<CachedObject>>) -> WatchCacheEvent {
        WatchCacheEvent { kind, revision: object.revision, object, prev, moved_out: OnceLock::new() }
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

/// The current state and the ring.
pub(crate) struct WatchCache {
    /// Current objects by key.
    pub(crate) store: BTreeMap<Arc<str>, Arc<CachedObject>>,
    /// The most recent events, oldest first.
    ring: VecDeque<Arc<WatchCacheEvent>>,
    capacity: usize,
    /// The revision of the last (re)list.
    list_revision: Revision,
    /// Whether an event was dropped from the ring since the last list.
    evicted: bool,
    /// Every change up to this revision is applied (0: not initialized).
    pub(crate) revision: Revision,
    /// Bumped on every re-list: watchers of an older generation must end.
    pub(crate) generation: u64,
}

impl WatchCache {
    pub(crate) fn new(capacity: usize) -> WatchCache {
        WatchCache {
            store: BTreeMap::new(),
            ring: VecDeque::new(),
            capacity: capacity.max(1),
            list_revision: 0,
            evicted: false,
            revision: 0,
            generation: 0,
        }
    }

    /// Replaces everything with a fresh list at `revision` and empties the ring.
    pub(crate) fn replace(&mut self, store: BTreeMap<Arc<str>, Arc<CachedObject>>, revision: Revision) {
        self.store = store;
        self.ring.clear();
        self.list_revision = revision;
        self.evicted = false;
        self.revision = revision;
        self.generation += 1;
    }

    /// Applies a change (Put: `object` is the new state; Delete: the deleted state) and records
    /// the event. Changes at or below the cache's revision (a replay after re-watching) are ignored.
    pub(crate) fn apply(&mut self, kind: ChangeKind, object: Arc<CachedObject>) -> Option<Arc<WatchCacheEvent>> {
        if object.revision <= self.revision {
            return None;
        }
        let prev = match kind {
            ChangeKind::Put => self.store.insert(object.key.clone(), object.clone()),
            ChangeKind::Delete => self.store.remove(&object.key),
        };
        self.revision = object.revision;
        if kind == ChangeKind::Delete && prev.is_none() {
            // Deleting what the cache never had (it could not be decoded): nothing to tell.
            return None;
        }
        let event = Arc::new(WatchCacheEvent::new(kind, object, prev));
        if self.ring.len() >= self.capacity {
            self.ring.pop_front();
            self.evicted = true;
        }
        self.ring.push_back(event.clone());
        Some(event)
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
            Some(first) if self.evicted => first.revision - 1,
            _ => self.list_revision,
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
        match keys {
            Keys::Key(key) => {
                let found = self.store.get(key.as_str()).filter(|_| after.is_none_or(|a| key.as_str() > a));
                Box::new(found.into_iter())
            }
            Keys::All | Keys::Prefix(_) => {
                let prefix = match keys {
                    Keys::Prefix(p) => p.as_str(),
                    _ => "",
                };
                let lower = match after {
                    Some(a) if a >= prefix => Bound::Excluded(a),
                    _ => Bound::Included(prefix),
                };
                Box::new(
                    self.store
                        .range::<str, _>((lower, Bound::Unbounded))
                        .take_while(move |(k, _)| k.starts_with(prefix))
                        .map(|(_, v)| v),
                )
            }
        }
    }

    pub(crate) fn ring_len(&self) -> usize {
        self.ring.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cacher::object::Decoded;

    fn obj(key: &str, rev: Revision) -> Arc<CachedObject> {
        Arc::new(CachedObject::new(key, rev, Decoded::default()))
    }

    #[test]
    fn ring_evicts_and_expires() {
        let mut wc = WatchCache::new(3);
        wc.replace(BTreeMap::new(), 10);
        assert_eq!(wc.oldest_resumable(), 10);
        assert!(wc.check_resumable(9).is_err());
        for (i, rev) in [12, 15, 17, 20].into_iter().enumerate() {
            assert!(wc.apply(ChangeKind::Put, obj(&format!("/r/k{i}"), rev)).is_some());
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
        assert!(wc.apply(ChangeKind::Put, obj("/r/k0", 20)).is_none());
    }

    #[test]
    fn range_by_prefix_and_continue() {
        let mut wc = WatchCache::new(10);
        let mut store = BTreeMap::new();
        for key in ["/r/a/1", "/r/a/2", "/r/ab/1", "/r/b/1"] {
            let o = obj(key, 2);
            store.insert(o.key.clone(), o);
        }
        wc.replace(store, 5);
        let keys = |k: &Keys, after: Option<&str>| wc.range(k, after).map(|o| o.key.to_string()).collect::<Vec<_>>();
        assert_eq!(keys(&Keys::All, None).len(), 4);
        assert_eq!(keys(&Keys::Prefix("/r/a/".into()), None), vec!["/r/a/1", "/r/a/2"]);
        assert_eq!(keys(&Keys::Prefix("/r/a/".into()), Some("/r/a/1")), vec!["/r/a/2"]);
        assert_eq!(keys(&Keys::All, Some("/r/ab/1")), vec!["/r/b/1"]);
        assert_eq!(keys(&Keys::Key("/r/a/2".into()), None), vec!["/r/a/2"]);
        assert!(keys(&Keys::Key("/r/a/2".into()), Some("/r/a/2")).is_empty());
    }
}
