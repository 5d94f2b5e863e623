//! Reads of the embedded store: a small pool of read-only connections (WAL readers never wait for
//! the writer) and the get / list / replay queries, each in one read transaction so that the
//! revision checks and the rows come from the same snapshot.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension};

use super::schema;
use crate::storage::keys::prefix_range_end;
use crate::storage::{Event, EventKind, KeyValue, ListOptions, ListResult, Revision, StorageError};

/// How many log rows one replay step reads.
pub(super) const REPLAY_PAGE: usize = 512;

/// Read connections, opened on demand and kept up to `max_idle`.
pub(super) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

pub(super) fn sql_err(e: rusqlite::Error) -> StorageError {
    StorageError::Unavailable(format!("embedded store: {e}"))
}

fn corrupt(what: &str) -> StorageError {
    StorageError::Unavailable(format!("embedded store: corrupt data: {what}"))
}

fn key_string(bytes: Vec<u8>) -> Result<String, StorageError> {
    String::from_utf8(bytes).map_err(|_| corrupt("key is not UTF-8"))
}

/// The byte range `[lo, hi)` of keys starting with `prefix`. Keys are UTF-8, which never contains
/// 0xff, so `[0xff]` bounds the whole keyspace.
pub(super) fn prefix_bounds(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    (prefix.as_bytes().to_vec(), prefix_range_end(prefix.as_bytes()).unwrap_or_else(|| vec![0xff]))
}

impl ReadPool {
    pub(super) fn new(path: PathBuf, max_idle: usize) -> Self {
        Self { path, idle: Mutex::new(Vec::new()), max_idle: max_idle.max(1) }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` in a read transaction on a pooled connection. Blocking: call from
    /// `spawn_blocking`.
    pub(super) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StorageError>) -> Result<T, StorageError> {
        let pooled = self.idle().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => schema::open_connection(&self.path, false, true).map_err(sql_err)?,
        };
        let result = {
            let tx = conn.transaction().map_err(sql_err)?;
            let out = f(&tx);
            // A read transaction: nothing to keep. Ending it releases the snapshot.
            tx.rollback().map_err(sql_err)?;
            out
        };
        let mut idle = self.idle();
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
        result
    }
}

/// Checks a read at `revision` against the snapshot: `Expired` below the compacted revision,
/// `FutureRevision` above the current one. Returns the current revision.
fn check_revision(conn: &Connection, revision: Option<Revision>) -> Result<Revision, StorageError> {
    let (current, compacted) = schema::revisions(conn).map_err(sql_err)?;
    if let Some(r) = revision {
        if r < compacted {
            return Err(StorageError::Expired { requested: r, compacted });
        }
        if r > current {
            return Err(StorageError::FutureRevision { requested: r, current });
        }
    }
    Ok(current)
}

/// `revision` as a read target: `None` and non-positive mean "now" (as etcd's 0).
fn at(revision: Option<Revision>) -> Option<Revision> {
    revision.filter(|r| *r > 0)
}

pub(super) fn get(conn: &Connection, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError> {
    let revision = at(revision);
    if revision.is_some() {
        check_revision(conn, revision)?;
    }
    let row = match revision {
        None => conn
            .prepare_cached(
                "SELECT l.value, l.create_revision, l.revision, l.deleted
                 FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?1",
            )
            .map_err(sql_err)?
            .query_row([key.as_bytes()], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Revision>(1)?, r.get::<_, Revision>(2)?, r.get::<_, bool>(3)?))
            })
            .optional(),
        Some(rev) => conn
            .prepare_cached(
                "SELECT value, create_revision, revision, deleted FROM log
                 WHERE key = ?1 AND revision <= ?2 ORDER BY revision DESC LIMIT 1",
            )
            .map_err(sql_err)?
            .query_row(rusqlite::params![key.as_bytes(), rev], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Revision>(1)?, r.get::<_, Revision>(2)?, r.get::<_, bool>(3)?))
            })
            .optional(),
    }
    .map_err(sql_err)?;
    Ok(match row {
        Some((value, create_revision, mod_revision, false)) => {
            Some(KeyValue { key: key.to_owned(), value: Bytes::from(value), create_revision, mod_revision })
        }
        _ => None,
    })
}

pub(super) fn list(conn: &Connection, prefix: &str, opts: &ListOptions) -> Result<ListResult, StorageError> {
    let revision = at(opts.revision);
    let current = check_revision(conn, revision)?;
    let (mut lo, hi) = prefix_bounds(prefix);
    if let Some(after) = &opts.start_after {
        // "Strictly after k" is "at or after k\0" in byte order.
        let mut from = after.as_bytes().to_vec();
        from.push(0);
        if from > lo {
            lo = from;
        }
    }
    let limit = opts.limit.unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut remaining = 0u64;
    match revision {
        None => {
            // One more than asked tells whether anything remains; only then count the rest.
            let sql_limit = i64::try_from(limit.saturating_add(1)).unwrap_or(-1);
            let mut stmt = conn
                .prepare_cached(
                    "SELECT c.key, l.value, l.create_revision, l.revision
                     FROM current c JOIN log l ON l.revision = c.revision
                     WHERE c.key >= ?1 AND c.key < ?2 ORDER BY c.key LIMIT ?3",
                )
                .map_err(sql_err)?;
            let mut rows = stmt.query(rusqlite::params![lo, hi, sql_limit]).map_err(sql_err)?;
            let mut more = false;
            while let Some(row) = rows.next().map_err(sql_err)? {
                if items.len() == limit {
                    more = true;
                    break;
                }
                items.push(KeyValue {
                    key: key_string(row.get(0).map_err(sql_err)?)?,
                    value: Bytes::from(row.get::<_, Vec<u8>>(1).map_err(sql_err)?),
                    create_revision: row.get(2).map_err(sql_err)?,
                    mod_revision: row.get(3).map_err(sql_err)?,
                });
            }
            drop(rows);
            if more {
                let from = items.last().map(|kv| {
                    let mut k = kv.key.as_bytes().to_vec();
                    k.push(0);
                    k
                });
                let from = from.unwrap_or_else(|| lo.clone());
                let count: i64 = conn
                    .prepare_cached("SELECT count(*) FROM current WHERE key >= ?1 AND key < ?2")
                    .map_err(sql_err)?
                    .query_row(rusqlite::params![from, hi], |r| r.get(0))
                    .map_err(sql_err)?;
                remaining = u64::try_from(count).unwrap_or(0);
            }
            Ok(ListResult { items, revision: current, remaining })
        }
        Some(rev) => {
            // SQLite's documented min/max rule: the bare columns come from the row holding
            // max(revision), i.e. each key's latest write at or below `rev`.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT key, value, create_revision, max(revision), deleted FROM log
                     WHERE key >= ?1 AND key < ?2 AND revision <= ?3 GROUP BY key ORDER BY key",
                )
                .map_err(sql_err)?;
            let mut rows = stmt.query(rusqlite::params![lo, hi, rev]).map_err(sql_err)?;
            while let Some(row) = rows.next().map_err(sql_err)? {
                if row.get::<_, bool>(4).map_err(sql_err)? {
                    continue;
                }
                if items.len() == limit {
                    remaining += 1;
                    continue;
                }
                items.push(KeyValue {
                    key: key_string(row.get(0).map_err(sql_err)?)?,
                    value: Bytes::from(row.get::<_, Vec<u8>>(1).map_err(sql_err)?),
                    create_revision: row.get(2).map_err(sql_err)?,
                    mod_revision: row.get(3).map_err(sql_err)?,
                });
            }
            Ok(ListResult { items, revision: rev, remaining })
        }
    }
}

/// Events under `prefix` with revision in `(after, until]`, at most `REPLAY_PAGE` log rows'
/// worth. Returns the events and the revision up to which the log was scanned. `Expired` when
/// `after` is below the compacted revision.
pub(super) fn replay_page(
    conn: &Connection,
    prefix: &str,
    after: Revision,
    until: Revision,
) -> Result<(Vec<Event>, Revision), StorageError> {
    let (_, compacted) = schema::revisions(conn).map_err(sql_err)?;
    if after < compacted {
        return Err(StorageError::Expired { requested: after, compacted });
    }
    let (lo, hi) = prefix_bounds(prefix);
    let mut stmt = conn
        .prepare_cached(
            "SELECT l.revision, l.key, l.value, l.create_revision, l.prev_revision, l.deleted,
                    p.value, p.create_revision, p.deleted
             FROM log l LEFT JOIN log p ON p.revision = l.prev_revision AND l.prev_revision > 0
             WHERE l.revision > ?1 AND l.revision <= ?2 AND l.key >= ?3 AND l.key < ?4
             ORDER BY l.revision LIMIT ?5",
        )
        .map_err(sql_err)?;
    let page = i64::try_from(REPLAY_PAGE).unwrap_or(i64::MAX);
    let mut rows = stmt.query(rusqlite::params![after, until, lo, hi, page]).map_err(sql_err)?;
    let mut events = Vec::new();
    let mut last = after;
    while let Some(row) = rows.next().map_err(sql_err)? {
        let revision: Revision = row.get(0).map_err(sql_err)?;
        let key = key_string(row.get(1).map_err(sql_err)?)?;
        let value = Bytes::from(row.get::<_, Vec<u8>>(2).map_err(sql_err)?);
        let create_revision: Revision = row.get(3).map_err(sql_err)?;
        let prev_revision: Revision = row.get(4).map_err(sql_err)?;
        let deleted: bool = row.get(5).map_err(sql_err)?;
        let prev_value: Option<Vec<u8>> = row.get(6).map_err(sql_err)?;
        let prev_create: Option<Revision> = row.get(7).map_err(sql_err)?;
        let prev_deleted: Option<bool> = row.get(8).map_err(sql_err)?;
        let prev = match (prev_value, prev_create, prev_deleted) {
            (Some(v), Some(c), Some(false)) => {
                Some(KeyValue { key: key.clone(), value: Bytes::from(v), create_revision: c, mod_revision: prev_revision })
            }
            _ if prev_revision > 0 => return Err(corrupt("an event's previous value is missing above the compacted revision")),
            _ => None,
        };
        let kind = if deleted {
            EventKind::Deleted
        } else if prev.is_some() {
            EventKind::Updated
        } else {
            EventKind::Created
        };
        events.push(Event { kind, kv: KeyValue { key, value, create_revision, mod_revision: revision }, prev });
        last = revision;
    }
    let scanned_to = if events.len() < REPLAY_PAGE { until } else { last };
    Ok((events, scanned_to))
}
