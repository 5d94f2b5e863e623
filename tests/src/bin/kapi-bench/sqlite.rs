//! The embedded store's in-run baseline: raw SQLite batched writes (WAL, `synchronous=FULL`, 64
//! inserts of 1 KiB per transaction), the ceiling the store's group commit can reach on this disk.
//!
//! The keys are those 64 concurrent writers of the embedded store would create (64 interleaved key
//! ranges), so both pay the same index scatter. The database lives in a temp dir beside the
//! apiservers' data dirs (the same temp directory, so the same filesystem).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

const VALUE_BYTES: usize = 1024;
/// Inserts per transaction.
pub(crate) const BATCH: usize = 64;

/// Rows per second inserted for `window`.
pub(crate) fn batched_writes(window: Duration) -> Result<f64> {
    let dir = tempfile::Builder::new()
        .prefix("kapi-bench-sqlite-")
        .tempdir()?;
    let path = dir.path().join("raw.db");
    let conn =
        rusqlite::Connection::open(&path).with_context(|| format!("opening {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .context("journal_mode=WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")
        .context("synchronous=FULL")?;
    conn.execute_batch("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
        .context("creating the table")?;
    let value = vec![b'x'; VALUE_BYTES];
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < window {
        conn.execute_batch("BEGIN").context("BEGIN")?;
        {
            let mut insert = conn
                .prepare_cached("INSERT INTO kv (k, v) VALUES (?1, ?2)")
                .context("preparing the insert")?;
            for _ in 0..BATCH {
                let key = format!(
                    "/registry/bench/w{:02}/{:010}",
                    rows % BATCH as u64,
                    rows / BATCH as u64
                );
                insert
                    .execute(rusqlite::params![key.as_bytes(), &value])
                    .with_context(|| format!("inserting {key}"))?;
                rows += 1;
            }
        }
        conn.execute_batch("COMMIT").context("COMMIT")?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}
