//! One watch on a [`Cacher`](super::Cacher) (upstream's `cacheWatcher`): first the initial state or
//! the replay from the ring, then the live fan-out, each event translated through the watcher's
//! selector; bookmarks on the reflector's ticks. A watcher that falls more than its buffer behind
//! reads the ring again from its position (a chunk at a time, like upstream's `watchCacheInterval`),
//! or ends with 410 once its position has left the ring.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::cache::{Fanout, Shared};
use super::object::CachedObject;
use super::watch_cache::{ChangeKind, WatchCacheEvent};
use super::{Bookmark, CacheEvent, CacherError, EventStream, Filter, Keys};
use crate::storage::Revision;

/// Upstream sends the last bookmark this long before the watch's deadline.
const BOOKMARK_BEFORE_DEADLINE: Duration = Duration::from_secs(2);

/// Events copied from the ring per read lock.
const RING_CHUNK: usize = 256;

/// Where a watcher's next events come from.
pub(crate) enum Source {
    /// The ring, after the watcher's position (replay, or catching up after lagging).
    Ring {
        /// True when the watcher got here by lagging (a 410 then counts as a cut-off).
        lagged: bool,
    },
    /// The live fan-out.
    Live(broadcast::Receiver<Fanout>),
}

/// A stream holding a single `ERROR` item.
pub(crate) fn error_stream(error: CacherError) -> EventStream {
    Box::pin(futures::stream::once(async move { CacheEvent::Error(error) }))
}

/// Items a watcher sends before (or between) live events.
pub(crate) enum Pending {
    /// The current state, as ADDED (not yet filtered).
    Initial(Arc<CachedObject>),
    /// An event from the ring (not yet filtered).
    Replay(Arc<WatchCacheEvent>),
    /// A bookmark to send as is.
    Bookmark(Bookmark),
    /// A terminal error.
    Error(CacherError),
}

/// When the next periodic bookmark is due.
pub(crate) struct Bookmarks {
    interval: Duration,
    deadline: Option<Instant>,
    next: Option<Instant>,
}

impl Bookmarks {
    pub(crate) fn new(interval: Duration, deadline: Option<Instant>, now: Instant) -> Bookmarks {
        let mut b = Bookmarks { interval, deadline, next: None };
        b.next = b.schedule(now);
        b
    }

    /// Upstream's `nextBookmarkTime`: every interval, and 2 s before the deadline; none after that.
    fn schedule(&self, now: Instant) -> Option<Instant> {
        let heartbeat = now + self.interval;
        match self.deadline.and_then(|d| d.checked_sub(BOOKMARK_BEFORE_DEADLINE)) {
            Some(pre_timeout) if pre_timeout < heartbeat => (pre_timeout > now).then_some(pre_timeout),
            Some(_) => Some(heartbeat),
            None if self.deadline.is_some() => None,
            None => Some(heartbeat),
        }
    }

    /// True (and rescheduled) if a bookmark is due.
    fn due(&mut self, now: Instant) -> bool {
        match self.next {
            Some(next) if now >= next => {
                self.next = self.schedule(now);
                true
            }
            _ => false,
        }
    }
}

/// The state of one watch stream.
pub(crate) struct CacheWatcher {
    shared: Arc<Shared>,
    source: Source,
    pending: VecDeque<Pending>,
    /// Every change up to this revision has been processed (sent or filtered out).
    position: Revision,
    keys: Keys,
    filter: Filter,
    bookmarks: Option<Bookmarks>,
    generation: u64,
    finished: bool,
}

impl CacheWatcher {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        shared: Arc<Shared>,
        source: Source,
        pending: VecDeque<Pending>,
        position: Revision,
        keys: Keys,
        filter: Filter,
        bookmarks: Option<Bookmarks>,
        generation: u64,
    ) -> CacheWatcher {
        CacheWatcher { shared, source, pending, position, keys, filter, bookmarks, generation, finished: false }
    }

    pub(crate) fn into_stream(self) -> EventStream {
        // Boxed so that each step moves a pointer, not the watcher.
        Box::pin(futures::stream::unfold(Box::new(self), |mut watcher| async move {
            let event = watcher.next_event().await?;
            Some((event, watcher))
        }))
    }

    async fn next_event(&mut self) -> Option<CacheEvent> {
        loop {
            if let Some(pending) = self.pending.pop_front() {
                match pending {
                    Pending::Initial(object) => {
                        if self.filter.matches(&object) {
                            return Some(CacheEvent::Added(object));
                        }
                    }
                    Pending::Replay(event) => {
                        if let Some(out) = self.process(&event) {
                            return Some(out);
                        }
                    }
                    Pending::Bookmark(bookmark) => return Some(CacheEvent::Bookmark(bookmark)),
                    Pending::Error(error) => {
                        self.finished = true;
                        self.pending.clear();
                        return Some(CacheEvent::Error(error));
                    }
                }
                continue;
            }
            if self.finished {
                return None;
            }
            let rx = match &mut self.source {
                Source::Live(rx) => rx,
                Source::Ring { lagged } => {
                    let lagged = *lagged;
                    self.read_ring(lagged);
                    continue;
                }
            };
            // The fast path when events are queued; wait only when there are none.
            let received = match rx.try_recv() {
                Err(TryRecvError::Empty) => rx.recv().await,
                Ok(item) => Ok(item),
                Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => Err(RecvError::Closed),
            };
            match received {
                Ok(Fanout::Event(event)) => {
                    if let Some(out) = self.process(&event) {
                        return Some(out);
                    }
                }
                Ok(Fanout::Tick(revision)) => {
                    self.position = self.position.max(revision);
                    if self.bookmarks.as_mut().is_some_and(|b| b.due(Instant::now())) {
                        return Some(CacheEvent::Bookmark(Bookmark {
                            revision: self.position,
                            initial_events_end: false,
                        }));
                    }
                }
                Ok(Fanout::Reset | Fanout::Stop) | Err(RecvError::Closed) => {
                    self.finished = true;
                    return None;
                }
                Err(RecvError::Lagged(_)) => {
                    if self.shared.opts.catch_up_from_ring {
                        // Fell more than its buffer behind: read the ring from its position.
                        self.shared.note_caught_up();
                        self.source = Source::Ring { lagged: true };
                    } else {
                        // Upstream closes a watcher whose buffer is full; its client re-watches.
                        self.shared.note_cut_off();
                        self.finished = true;
                        return None;
                    }
                }
            }
        }
    }

    /// Moves past `event` and translates it for this watcher (None: not interested).
    fn process(&mut self, event: &WatchCacheEvent) -> Option<CacheEvent> {
        if event.revision <= self.position {
            return None;
        }
        self.position = event.revision;
        if !self.keys.matches(&event.object.key) {
            return None;
        }
        match event.kind {
            ChangeKind::Delete => {
                let last = event.prev.as_deref().unwrap_or(&event.object);
                self.filter.matches(last).then(|| CacheEvent::Deleted(event.object.clone()))
            }
            ChangeKind::Put => {
                if self.filter.is_everything() {
                    return Some(match event.prev {
                        Some(_) => CacheEvent::Modified(event.object.clone()),
                        None => CacheEvent::Added(event.object.clone()),
                    });
                }
                let now = self.filter.matches(&event.object);
                let before = event.prev.as_deref().is_some_and(|p| self.filter.matches(p));
                match (before, now) {
                    (false, true) => Some(CacheEvent::Added(event.object.clone())),
                    (true, true) => Some(CacheEvent::Modified(event.object.clone())),
                    (true, false) => event.moved_out(self.shared.codec.as_ref()).map(CacheEvent::Deleted),
                    (false, false) => None,
                }
            }
        }
    }

    /// Copies the next chunk of the ring after the watcher's position; at the ring's end, switches to
    /// the live fan-out. 410 (and the end) if the position has left the ring.
    fn read_ring(&mut self, lagged: bool) {
        let state = self.shared.read();
        if state.generation != self.generation || self.shared.is_stopped() {
            // The cache re-listed (every watcher of the old generation ends) or stopped.
            self.finished = true;
            return;
        }
        match state.events_after(self.position, RING_CHUNK) {
            Ok((events, complete)) => {
                if complete {
                    // Subscribing under the lock the reflector broadcasts under: the first live
                    // event is the one after the ring's last.
                    self.source = Source::Live(self.shared.fanout.subscribe());
                }
                self.pending.extend(events.into_iter().map(Pending::Replay));
            }
            Err(error) => {
                if lagged {
                    self.shared.note_cut_off();
                }
                self.pending.push_back(Pending::Error(error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookmark_schedule() {
        let now = Instant::now();
        let b = Bookmarks::new(Duration::from_secs(60), None, now);
        assert_eq!(b.next, Some(now + Duration::from_secs(60)));
        // A deadline in 30 s: the bookmark comes 2 s before it.
        let b = Bookmarks::new(Duration::from_secs(60), Some(now + Duration::from_secs(30)), now);
        assert_eq!(b.next, Some(now + Duration::from_secs(28)));
        // Past the pre-deadline point: no more bookmarks.
        let b = Bookmarks::new(Duration::from_secs(60), Some(now + Duration::from_secs(1)), now);
        assert_eq!(b.next, None);
        let mut b = Bookmarks::new(Duration::from_millis(10), None, now);
        assert!(!b.due(now));
        assert!(b.due(now + Duration::from_millis(10)));
        assert!(!b.due(now + Duration::from_millis(11)));
    }
}
