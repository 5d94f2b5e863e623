//! The embedded store's single writer: a dedicated thread that owns the write connection.
//!
//! **Group commit**: requests queue on a channel; the writer takes everything pending (up to
//! `max_batch`), applies it in one transaction — each request gets its own revision and its own
//! result, a failed compare-and-swap costs nothing and fails nobody else — commits once (one
//! fsync), publishes the committed events to the watchers, and only then acknowledges the
//! callers. An SQL error fails the whole batch (rolled back) and every request in it.
//!
//! Every write transaction is `BEGIN IMMEDIATE`: a deferred one that reads first and then upgrades
//! to a write fails at once with `SQLITE_BUSY` (no busy handler) if a reader briefly holds the WAL
//! write lock, which readers do while re-reading a wal-index header torn by a concurrent commit.
//!
//! **Compaction** runs here too, between batches, in chunks of `COMPACT_CHUNK` log rows per
//! transaction, so a writer waits at most one chunk (kine's compaction holds the database for
//! seconds: k3s-io/k3s#10619). Raising the compacted revision is recorded first (readers then
//! refuse older revisions), the physical deletion follows, then `PRAGMA incremental_vacuum` hands
//! the freed pages back to the file system (the file otherwise only grows: k3s-io/kine#213).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::schema;
use super::watchers::Hub;
use crate::storage::{Event, EventKind, KeyValue, Revision, StorageError};

/// Log rows examined per compaction transaction.
const COMPACT_CHUNK: i64 = 1000;
/// Pages returned to the file system per incremental-vacuum step.
const VACUUM_PAGES: i64 = 2000;

/// A write, as queued for the writer.
pub(super) enum Op {
    Create { key: String, value: Bytes },
    Update { key: String, value: Bytes, expected: Revision },
    Delete { key: String, expected: Option<Revision> },
}

/// What a successful write reports.
pub(super) struct WriteDone {
    pub(super) revision: Revision,
    /// The value the write replaced (deletes).
    pub(super) prev: Option<KeyValue>,
}

/// A request to the writer.
pub(super) enum Request {
    Write { op: Op, reply: oneshot::Sender<Result<WriteDone, StorageError>> },
    Compact { revision: Revision, reply: oneshot::Sender<Result<(), StorageError>> },
}

enum Outcome {
    Write(Result<WriteDone, StorageError>),
    Compact(Result<(), StorageError>),
}

/// The writer's configuration.
pub(super) struct WriterConfig {
    pub(super) max_batch: usize,
    pub(super) compaction_interval: Duration,
    /// Set while writes fail (readiness reads it), cleared by the next batch that commits.
    pub(super) writes_failing: Arc<AtomicBool>,
}

/// Physical compaction in progress: rows up to `scanned` have been examined for `target`.
struct Job {
    target: Revision,
    scanned: Revision,
    vacuuming: bool,
}

pub(super) struct Writer {
    conn: Connection,
    rx: Receiver<Request>,
    hub: Arc<Hub>,
    compacted_shared: Arc<AtomicI64>,
    config: WriterConfig,
    /// The revision of the last committed write.
    revision: Revision,
    /// The compacted revision (committed).
    compacted: Revision,
    job: Option<Job>,
    /// Callers of `compact` waiting for the physical compaction to finish.
    waiters: Vec<oneshot::Sender<Result<(), StorageError>>>,
    /// Periodic compaction: the revision seen at the previous tick, and when the next tick is due.
    tick_revision: Revision,
    next_tick: Option<Instant>,
}

/// A failed write in the words of the data directory, not of SQLite.
fn unavailable(e: &rusqlite::Error) -> StorageError {
    StorageError::Unavailable(format!("embedded store write failed: {}", plain_words(e)))
}

pub(super) fn plain_words(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "database space exceeded: the data directory's disk (or the store's quota) is full".into(),
        Some(ErrorCode::SystemIoFailure) => "input/output error on the data directory".into(),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            "the data directory cannot be written".into()
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => "the database file is corrupt".into(),
        _ => e.to_string(),
    }
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        rx: Receiver<Request>,
        hub: Arc<Hub>,
        compacted_shared: Arc<AtomicI64>,
        config: WriterConfig,
    ) -> rusqlite::Result<Self> {
        let (revision, compacted) = schema::revisions(&conn)?;
        let done = schema::meta(&conn, "compact_done")?;
        // A compaction interrupted by a crash is finished after restart (the scan is idempotent).
        let job = (done < compacted).then_some(Job { target: compacted, scanned: 0, vacuuming: false });
        let next_tick = (!config.compaction_interval.is_zero()).then(|| Instant::now() + config.compaction_interval);
        compacted_shared.store(compacted, Ordering::Release);
        Ok(Self {
            conn,
            rx,
            hub,
            compacted_shared,
            config,
            revision,
            compacted,
            job,
            waiters: Vec::new(),
            // The first tick only records a revision (as kube-apiserver's compactor).
            tick_revision: 0,
            next_tick,
        })
    }

    /// The writer loop; returns when every sender is gone (the store was dropped).
    pub(super) fn run(mut self) {
        loop {
            let wait = if self.job.is_some() {
                Duration::ZERO
            } else {
                match self.next_tick {
                    Some(t) => t.saturating_duration_since(Instant::now()),
                    None => Duration::from_secs(3600),
                }
            };
            match self.rx.recv_timeout(wait) {
                Ok(first) => {
                    let mut batch = vec![first];
                    while batch.len() < self.config.max_batch {
                        match self.rx.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                    self.process(batch);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.job.is_some() {
                if let Err(e) = self.compaction_step() {
                    // Give up this round; the next compaction (or restart) starts the scan again.
                    self.job = None;
                    for w in self.waiters.drain(..) {
                        let _ = w.send(Err(unavailable(&e)));
                    }
                }
            }
            self.tick();
        }
        // Dropping the writer fails the waiters and ends the watches (also if it panicked).
    }

    /// Applies one batch in one transaction and answers every request in it.
    fn process(&mut self, batch: Vec<Request>) {
        match self.apply_batch(&batch) {
            Ok((outcomes, events, revision, target)) => {
                self.config.writes_failing.store(false, Ordering::Release);
                self.revision = revision;
                if let Some(target) = target {
                    self.start_compaction(target);
                }
                if !events.is_empty() {
                    self.hub.publish(events.into(), revision);
                }
                for (req, outcome) in batch.into_iter().zip(outcomes) {
                    match (req, outcome) {
                        (Request::Write { reply, .. }, Outcome::Write(r)) => {
                            let _ = reply.send(r);
                        }
                        (Request::Compact { reply, .. }, Outcome::Compact(Ok(()))) if self.job.is_some() => {
                            self.waiters.push(reply);
                        }
                        (Request::Compact { reply, .. }, Outcome::Compact(r)) => {
                            let _ = reply.send(r);
                        }
                        // apply_batch yields outcomes in request order, one per request.
                        (Request::Write { reply, .. }, Outcome::Compact(_)) => {
                            let _ = reply.send(Err(StorageError::Unavailable("internal: outcome mismatch".into())));
                        }
                        (Request::Compact { reply, .. }, Outcome::Write(_)) => {
                            let _ = reply.send(Err(StorageError::Unavailable("internal: outcome mismatch".into())));
                        }
                    }
                }
            }
            Err(e) => {
                self.config.writes_failing.store(true, Ordering::Release);
                // Rolled back: nothing of the batch exists. Re-read the state in case the failure
                // happened inside COMMIT.
                if let Ok((revision, _)) = schema::revisions(&self.conn) {
                    self.revision = revision;
                }
                for req in batch {
                    match req {
                        Request::Write { reply, .. } => {
                            let _ = reply.send(Err(unavailable(&e)));
                        }
                        Request::Compact { reply, .. } => {
                            let _ = reply.send(Err(unavailable(&e)));
                        }
                    }
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn apply_batch(
        &mut self,
        batch: &[Request],
    ) -> rusqlite::Result<(Vec<Outcome>, Vec<Event>, Revision, Option<Revision>)> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut revision = self.revision;
        let mut events = Vec::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut target: Option<Revision> = None;
        for req in batch {
            match req {
                Request::Write { op, .. } => match apply_op(&tx, op, revision + 1)? {
                    Ok((done, event)) => {
                        revision += 1;
                        events.push(event);
                        outcomes.push(Outcome::Write(Ok(done)));
                    }
                    Err(e) => outcomes.push(Outcome::Write(Err(e))),
                },
                Request::Compact { revision: wanted, .. } => {
                    let wanted = *wanted;
                    if wanted > revision {
                        outcomes.push(Outcome::Compact(Err(StorageError::FutureRevision {
                            requested: wanted,
                            current: revision,
                        })));
                    } else {
                        if wanted > target.unwrap_or(self.compacted) {
                            schema::set_meta(&tx, "compacted", wanted)?;
                            target = Some(wanted);
                        }
                        // At or below the compacted revision: nothing to do (idempotent).
                        outcomes.push(Outcome::Compact(Ok(())));
                    }
                }
            }
        }
        tx.commit()?;
        Ok((outcomes, events, revision, target))
    }

    fn start_compaction(&mut self, target: Revision) {
        self.compacted = target;
        self.compacted_shared.store(target, Ordering::Release);
        // Rows kept by an earlier compaction may be superseded now: scan from the start.
        self.job = Some(Job { target, scanned: 0, vacuuming: false });
    }

    /// One bounded step of physical compaction or vacuum.
    fn compaction_step(&mut self) -> rusqlite::Result<()> {
        let Some(job) = self.job.as_mut() else { return Ok(()) };
        if !job.vacuuming {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The chunk ends after COMPACT_CHUNK rows or at the target.
            let hi: Revision = tx
                .prepare_cached(
                    "SELECT revision FROM log WHERE revision > ?1 AND revision <= ?2
                     ORDER BY revision LIMIT 1 OFFSET ?3",
                )?
                .query_row(rusqlite::params![job.scanned, job.target, COMPACT_CHUNK - 1], |r| r.get(0))
                .optional()?
                .unwrap_or(job.target);
            // A row at or below the target goes if it is a tombstone or a newer row of its key at
            // or below the target exists; each key's latest live value there stays.
            tx.prepare_cached(
                "DELETE FROM log WHERE revision > ?1 AND revision <= ?2 AND (deleted = 1 OR EXISTS (
                     SELECT 1 FROM log n WHERE n.key = log.key AND n.revision > log.revision AND n.revision <= ?3))",
            )?
            .execute(rusqlite::params![job.scanned, hi, job.target])?;
            if hi >= job.target {
                schema::set_meta(&tx, "compact_done", job.target)?;
                job.vacuuming = true;
            }
            tx.commit()?;
            job.scanned = hi;
            return Ok(());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_PAGES})"))?;
        let free: i64 = tx.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        tx.commit()?;
        if free == 0 {
            self.job = None;
            for w in self.waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
        Ok(())
    }

    /// Periodic compaction (kube-apiserver's compactor): every interval, compact to the revision
    /// seen at the previous tick, so at least one interval of history stays.
    fn tick(&mut self) {
        let Some(due) = self.next_tick else { return };
        if Instant::now() < due {
            return;
        }
        self.next_tick = Some(Instant::now() + self.config.compaction_interval);
        let target = self.tick_revision;
        self.tick_revision = self.revision;
        if target <= self.compacted {
            return;
        }
        let recorded = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).and_then(|tx| {
            schema::set_meta(&tx, "compacted", target)?;
            tx.commit()
        });
        if recorded.is_ok() {
            self.start_compaction(target);
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        for w in self.waiters.drain(..) {
            let _ = w.send(Err(StorageError::Unavailable("embedded store closed".into())));
        }
        self.hub.close();
    }
}

/// The live version of `key`: (mod_revision, create_revision, value).
fn current(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<(Revision, Revision, Vec<u8>)>> {
    tx.prepare_cached(
        "SELECT l.revision, l.create_revision, l.value FROM current c JOIN log l ON l.revision = c.revision
         WHERE c.key = ?1",
    )?
    .query_row([key.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()
}

fn insert_log(
    tx: &Transaction<'_>,
    revision: Revision,
    key: &str,
    value: &[u8],
    create_revision: Revision,
    prev_revision: Revision,
    deleted: bool,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO log(revision, key, value, create_revision, prev_revision, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(rusqlite::params![revision, key.as_bytes(), value, create_revision, prev_revision, deleted])?;
    Ok(())
}

/// Applies one write at `revision`. The outer error is an SQL failure (fails the batch), the inner
/// one the write's own (fails only this request, and nothing was written).
fn apply_op(
    tx: &Transaction<'_>,
    op: &Op,
    revision: Revision,
) -> rusqlite::Result<Result<(WriteDone, Event), StorageError>> {
    match op {
        Op::Create { key, value } => {
            let exists = tx
                .prepare_cached("SELECT 1 FROM current WHERE key = ?1")?
                .query_row([key.as_bytes()], |_| Ok(()))
                .optional()?;
            if exists.is_some() {
                return Ok(Err(StorageError::AlreadyExists { key: key.clone() }));
            }
            insert_log(tx, revision, key, value, revision, 0, false)?;
            tx.prepare_cached("INSERT INTO current(key, revision) VALUES (?1, ?2)")?
                .execute(rusqlite::params![key.as_bytes(), revision])?;
            let kv = KeyValue { key: key.clone(), value: value.clone(), create_revision: revision, mod_revision: revision };
            Ok(Ok((WriteDone { revision, prev: None }, Event { kind: EventKind::Created, kv, prev: None })))
        }
        Op::Update { key, value, expected } => {
            let Some((mod_revision, create_revision, old)) = current(tx, key)? else {
                return Ok(Err(StorageError::NotFound { key: key.clone() }));
            };
            if mod_revision != *expected {
                return Ok(Err(StorageError::Conflict { key: key.clone(), expected: *expected, actual: mod_revision }));
            }
            insert_log(tx, revision, key, value, create_revision, mod_revision, false)?;
            tx.prepare_cached("UPDATE current SET revision = ?2 WHERE key = ?1")?
                .execute(rusqlite::params![key.as_bytes(), revision])?;
            let prev = KeyValue { key: key.clone(), value: Bytes::from(old), create_revision, mod_revision };
            let kv = KeyValue { key: key.clone(), value: value.clone(), create_revision, mod_revision: revision };
            Ok(Ok((WriteDone { revision, prev: None }, Event { kind: EventKind::Updated, kv, prev: Some(prev) })))
        }
        Op::Delete { key, expected } => {
            let Some((mod_revision, create_revision, old)) = current(tx, key)? else {
                return Ok(Err(StorageError::NotFound { key: key.clone() }));
            };
            if let Some(expected) = expected {
                if mod_revision != *expected {
                    return Ok(Err(StorageError::Conflict {
                        key: key.clone(),
                        expected: *expected,
                        actual: mod_revision,
                    }));
                }
            }
            insert_log(tx, revision, key, &[], 0, mod_revision, true)?;
            tx.prepare_cached("DELETE FROM current WHERE key = ?1")?.execute([key.as_bytes()])?;
            let prev = KeyValue { key: key.clone(), value: Bytes::from(old), create_revision, mod_revision };
            let kv = KeyValue { key: key.clone(), value: Bytes::new(), create_revision: 0, mod_revision: revision };
            Ok(Ok((
                WriteDone { revision, prev: Some(prev.clone()) },
                Event { kind: EventKind::Deleted, kv, prev: Some(prev) },
            )))
        }
    }
}
