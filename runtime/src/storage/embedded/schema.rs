//! The embedded store's SQLite schema and connection setup.
//!
//! ```sql
//! log(revision INTEGER PRIMARY KEY,   -- one row per write: the MVCC history and the event log
//!     key BLOB, value BLOB,            -- value is empty for a delete (tombstone)
//!     create_revision INTEGER,         -- 0 for a tombstone
//!     prev_revision INTEGER,           -- the revision this write replaced (0: the key was absent)
//!     deleted INTEGER)                 -- 1 for a tombstone
//! log_key ON log(key, revision)       -- get/list at an old revision, compaction
//! current(key BLOB PRIMARY KEY, revision INTEGER) WITHOUT ROWID   -- live keys → their log row
//! meta(name TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID        -- schema, compacted, compact_done
//! ```
//!
//! Keys are BLOBs so that ordering and prefix ranges are plain byte comparisons (etcd's). Every
//! revision has exactly one log row until compaction removes history at or below the compacted
//! revision; rows above it are never touched, so the log above the compacted revision is gapless.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::storage::Revision;

/// The schema version written into `meta`.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// Opens a connection to the database file with the store's pragmas. `writer` connections also
/// create the schema.
pub(super) fn open_connection(path: &Path, writer: bool, synchronous_full: bool) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    // Readers never wait long: WAL lets them read while the writer writes. The timeout only covers
    // checkpoints and schema setup.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if writer {
        // Must precede the first table: auto_vacuum can only be chosen for an empty database.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(failure(format!("journal_mode WAL refused (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", if synchronous_full { "FULL" } else { "NORMAL" })?;
        // After a checkpoint, truncate the WAL file back to this size so it does not stay large.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        create_schema(&conn)?;
    } else {
        conn.pragma_update(None, "query_only", true)?;
    }
    conn.pragma_update(None, "cache_size", -16 * 1024)?; // 16 MiB page cache per connection
    Ok(conn)
}

/// An error of our own making, in rusqlite's type.
fn failure(message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH), Some(message))
}

fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS log (
             revision INTEGER PRIMARY KEY,
             key BLOB NOT NULL,
             value BLOB NOT NULL,
             create_revision INTEGER NOT NULL,
             prev_revision INTEGER NOT NULL,
             deleted INTEGER NOT NULL
         );
         CREATE INDEX IF NOT EXISTS log_key ON log(key, revision);
         CREATE TABLE IF NOT EXISTS current (
             key BLOB PRIMARY KEY,
             revision INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS meta (
             name TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         ) WITHOUT ROWID;
         INSERT OR IGNORE INTO meta(name, value) VALUES ('schema', 1), ('compacted', 0), ('compact_done', 0);
         COMMIT;",
    )?;
    let version = meta(conn, "schema")?;
    if version != SCHEMA_VERSION {
        return Err(failure(format!(
            "database schema version {version} is not supported (expected {SCHEMA_VERSION})"
        )));
    }
    Ok(())
}

/// A `meta` value (0 when absent).
pub(super) fn meta(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Sets a `meta` value.
pub(super) fn set_meta(conn: &Connection, name: &str, value: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO meta(name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = ?2")?
        .execute(rusqlite::params![name, value])?;
    Ok(())
}

/// The current and compacted revisions as seen by `conn`'s transaction. A new store is at
/// revision 1 (etcd's), and compaction never lowers the current revision even when it removes the
/// newest row (a tombstone).
pub(super) fn revisions(conn: &Connection) -> rusqlite::Result<(Revision, Revision)> {
    let max_log: Revision = conn
        .prepare_cached("SELECT ifnull(max(revision), 0) FROM log")?
        .query_row([], |r| r.get(0))?;
    let compacted = meta(conn, "compacted")?;
    Ok((max_log.max(compacted).max(1), compacted))
}
