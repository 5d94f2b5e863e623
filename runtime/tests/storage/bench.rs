//! Create throughput of the embedded store against raw SQLite, measured in the same run on the
//! same disk (issue 3's benchmark). Not a timed assertion: it prints numbers. Run it with
//! `cargo test --release -p kapi-runtime --test storage bench -- --ignored --nocapture`.
//!
//! - raw SQLite, WAL, `synchronous=FULL`: one insert per transaction, and 64 inserts per
//!   transaction (the ceiling group commit can reach);
//! - the embedded store: creates from 1 writer (sequential) and from 64 concurrent writers (group
//!   commit), with `synchronous=FULL` (the default) and, for comparison, `NORMAL`.
//!
//! Values are 1 KiB, about a small Kubernetes object. Raw SQLite inserts the same keys as the
//! embedded store's writers create (64 interleaved key ranges for the batched figures), so both
//! pay the same index scatter.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kapi_runtime::storage::embedded::{Embedded, EmbeddedOptions};
use kapi_runtime::storage::Storage;

const VALUE_BYTES: usize = 1024;
const WINDOW: Duration = Duration::from_secs(2);

fn raw_sqlite(batch: usize) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = rusqlite::Connection::open(dir.path().join("raw.db")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.pragma_update(None, "synchronous", "FULL").expect("full");
    conn.execute_batch("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL)").expect("schema");
    let value = vec![b'x'; VALUE_BYTES];
    let start = Instant::now();
    let mut rows = 0u64;
    while start.elapsed() < WINDOW {
        conn.execute_batch("BEGIN").expect("begin");
        {
            let mut stmt = conn.prepare_cached("INSERT INTO kv (k, v) VALUES (?1, ?2)").expect("prepare");
            for _ in 0..batch {
                // The same keys as `batch` concurrent writers of the embedded store would create.
                let key = format!("/registry/bench/w{:02}/{:010}", rows % batch as u64, rows / batch as u64);
                stmt.execute(rusqlite::params![key.as_bytes(), &value]).expect("insert");
                rows += 1;
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
    }
    rows as f64 / start.elapsed().as_secs_f64()
}

async fn embedded(writers: usize, synchronous_full: bool) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { synchronous_full, compaction_interval: Duration::ZERO, ..EmbeddedOptions::default() };
    let store = Embedded::open(dir.path(), options).expect("open");
    let value = Bytes::from(vec![b'x'; VALUE_BYTES]);
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            let value = value.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < WINDOW {
                    store.create(&format!("/registry/bench/w{w:02}/{n:010}"), value.clone()).await.expect("create");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0u64;
    for t in tasks {
        total += t.await.expect("writer");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: prints numbers, run with --ignored --nocapture (in --release)"]
async fn bench_create_throughput() {
    let raw_single = tokio::task::spawn_blocking(|| raw_sqlite(1)).await.expect("raw");
    let raw_batch = tokio::task::spawn_blocking(|| raw_sqlite(64)).await.expect("raw");
    let seq_full = embedded(1, true).await;
    let group_full = embedded(64, true).await;
    let seq_normal = embedded(1, false).await;
    let group_normal = embedded(64, false).await;
    println!("storage bench ({VALUE_BYTES} B values, {WINDOW:?} per figure):");
    println!("  raw SQLite WAL FULL, 1 insert/tx:     {raw_single:>10.0} rows/s");
    println!("  raw SQLite WAL FULL, 64 inserts/tx:   {raw_batch:>10.0} rows/s");
    println!(
        "  embedded FULL, 1 writer:              {seq_full:>10.0} creates/s ({:.0}% of raw 1/tx)",
        100.0 * seq_full / raw_single
    );
    println!(
        "  embedded FULL, 64 writers:            {group_full:>10.0} creates/s ({:.0}% of raw 64/tx)",
        100.0 * group_full / raw_batch
    );
    println!("  embedded NORMAL, 1 writer:            {seq_normal:>10.0} creates/s");
    println!("  embedded NORMAL, 64 writers:          {group_normal:>10.0} creates/s");
}
