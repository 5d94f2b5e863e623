//! Fan-out of committed events to the embedded store's watchers (etcd's `watchable_store`, minus
//! the unsynced group: replay from the log happens in each watcher's own stream).
//!
//! The writer publishes every committed batch here, after the commit and before it acknowledges
//! the writes. Each watcher has an unbounded channel plus a counter of the events it has not taken
//! yet; a watcher whose backlog would exceed the store's `watch_buffer` is dropped on the spot (its
//! stream ends; the consumer re-watches from the last revision it saw), so a slow consumer never
//! blocks the writer or other watchers.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use crate::storage::{Event, Revision};

/// Events committed together, in revision order.
pub(super) type Batch = Arc<[Event]>;

/// One registered watcher, as seen by the hub.
struct Slot {
    prefix: String,
    tx: mpsc::UnboundedSender<Batch>,
    /// Events sent but not yet taken by the stream.
    backlog: Arc<AtomicUsize>,
}

struct Inner {
    slots: Vec<Slot>,
    closed: bool,
}

/// The registry of live watchers.
pub(super) struct Hub {
    inner: Mutex<Inner>,
    /// Every batch with revisions up to this one has been handed to the watchers' channels.
    published: AtomicI64,
    /// Most events a watcher may have outstanding.
    limit: usize,
}

/// A watcher's end of the hub.
pub(super) struct Subscription {
    /// Batches published after `from`.
    pub(super) rx: mpsc::UnboundedReceiver<Batch>,
    /// The watcher's backlog counter; decrement by the number of matching events taken.
    pub(super) backlog: Arc<AtomicUsize>,
    /// The published revision at subscription: batches above it arrive on `rx`, batches at or
    /// below it must be read from the log.
    pub(super) from: Revision,
}

impl Hub {
    pub(super) fn new(published: Revision, limit: usize) -> Self {
        Self { inner: Mutex::new(Inner { slots: Vec::new(), closed: false }), published: AtomicI64::new(published), limit }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated in a way that matters
        // (slots are pushed or removed whole), so keep going with the data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last revision handed to every watcher.
    pub(super) fn published(&self) -> Revision {
        self.published.load(Ordering::Acquire)
    }

    /// Registers a watcher of `prefix`. `None` once the store has shut down.
    pub(super) fn subscribe(&self, prefix: &str) -> Option<Subscription> {
        let mut inner = self.lock();
        if inner.closed {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(AtomicUsize::new(0));
        inner.slots.push(Slot { prefix: prefix.to_owned(), tx, backlog: backlog.clone() });
        // Read under the lock: `publish` sends and advances `published` under the same lock, so
        // every batch above `from` reaches this watcher and none at or below it does.
        let from = self.published();
        Some(Subscription { rx, backlog, from })
    }

    /// Hands a committed batch to every interested watcher and advances the published revision.
    pub(super) fn publish(&self, batch: Batch, revision: Revision) {
        let mut inner = self.lock();
        let limit = self.limit;
        inner.slots.retain(|slot| {
            if slot.tx.is_closed() {
                return false;
            }
            let matching = batch.iter().filter(|e| e.kv.key.starts_with(&slot.prefix)).count();
            if matching == 0 {
                return true;
            }
            let backlog = slot.backlog.fetch_add(matching, Ordering::AcqRel) + matching;
            if backlog > limit {
                // Too slow: drop the sender, which ends the stream once it has drained.
                return false;
            }
            slot.tx.send(batch.clone()).is_ok()
        });
        self.published.store(revision, Ordering::Release);
    }

    /// Ends every watcher's stream (the store is shutting down).
    pub(super) fn close(&self) {
        let mut inner = self.lock();
        inner.closed = true;
        inner.slots.clear();
    }

    /// How many watchers are registered (for tests and metrics).
    pub(super) fn len(&self) -> usize {
        self.lock().slots.len()
    }
}
