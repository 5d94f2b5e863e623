//! Tests of the embedded backend beyond the conformance suite: dense revisions, group-commit
//! isolation, compaction with vacuum, periodic and resumed compaction, watcher bookkeeping.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::*;
use crate::storage::conformance::{EmbeddedFixture, Fixture};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[tokio::test]
async fn fresh_store_starts_at_one_and_revisions_are_dense() {
    let f = EmbeddedFixture::new().await;
    let s = f.embedded();
    assert_eq!(s.current_revision().await.expect("rev"), 1, "a new store is at revision 1, as etcd");
    assert_eq!(s.create("/k/a", b("1")).await.expect("create"), 2, "the first write gets revision 2");
    assert!(s.create("/k/a", b("1")).await.is_err());
    assert!(s.update("/k/a", b("2"), 99).await.is_err());
    assert!(s.delete("/k/missing", None).await.is_err());
    assert_eq!(s.update("/k/a", b("2"), 2).await.expect("update"), 3, "failed writes consume no revision");
    assert_eq!(s.delete("/k/a", Some(3)).await.expect("delete").1, 4);
    assert_eq!(s.current_revision().await.expect("rev"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_isolates_failures_and_keeps_revisions_dense() {
    let f = EmbeddedFixture::new().await;
    let s = f.embedded();
    let r = s.create("/k/shared", b("0")).await.expect("create");
    let mut handles = Vec::new();
    for i in 0..64 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            match i % 4 {
                0 => s.update("/k/shared", b("stale"), r - 1).await.map(|_| ()), // always a conflict
                1 => s.create("/k/shared", b("dup")).await.map(|_| ()),         // always exists
                _ => s.create(&format!("/k/own/{i}"), b("x")).await.map(|_| ()),
            }
        }));
    }
    let mut ok = 0;
    for (i, h) in handles.into_iter().enumerate() {
        let res = h.await.expect("task");
        match i % 4 {
            0 => assert!(matches!(res, Err(StorageError::Conflict { .. })), "{res:?}"),
            1 => assert!(matches!(res, Err(StorageError::AlreadyExists { .. })), "{res:?}"),
            _ => {
                res.expect("independent create");
                ok += 1;
            }
        }
    }
    assert_eq!(s.current_revision().await.expect("rev"), r + ok);
    let mut w = s.watch("/k/own/", r).await.expect("watch");
    for want in (r + 1)..=(r + ok) {
        match w.next().await {
            Some(Ok(WatchItem::Event(e))) => assert_eq!(e.kv.mod_revision, want),
            other => panic!("expected an event at {want}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn compaction_frees_history_and_vacuums_the_file() {
    let f = EmbeddedFixture::new().await;
    let s = f.embedded();
    let value = Bytes::from(vec![b'v'; 8 * 1024]);
    let mut revs = Vec::new();
    for k in 0..10 {
        revs.push(s.create(&format!("/registry/pods/ns/p{k}"), value.clone()).await.expect("create"));
    }
    // Many versions of a few keys, written concurrently so they commit in groups.
    for round in 0..60 {
        let futs = (0..10).map(|k| {
            let s = s.clone();
            let prev = revs[k];
            let value = Bytes::from(vec![b'a' + (round % 26) as u8; 8 * 1024]);
            async move { s.update(&format!("/registry/pods/ns/p{k}"), value, prev).await.expect("update") }
        });
        revs = futures::future::join_all(futs).await;
    }
    s.create("/registry/pods/ns/gone", b("x")).await.expect("create");
    s.delete("/registry/pods/ns/gone", None).await.expect("delete");
    let before = s.stats().await.expect("stats");
    assert_eq!(before.log_rows, 10 + 600 + 2);
    let current = s.current_revision().await.expect("rev");
    s.compact(current).await.expect("compact");
    let after = s.stats().await.expect("stats");
    assert_eq!(after.log_rows, 10, "only the latest value of each live key stays");
    assert_eq!(after.live_keys, 10);
    assert_eq!(after.freelist_count, 0, "incremental vacuum returned the free pages");
    assert!(
        after.page_count * 4 < before.page_count,
        "the database shrank: {} → {} pages",
        before.page_count,
        after.page_count
    );
    for (k, rev) in revs.iter().enumerate() {
        let kv = s.get(&format!("/registry/pods/ns/p{k}"), None).await.expect("get").expect("present");
        assert_eq!(kv.mod_revision, *rev);
    }
    assert_eq!(s.current_revision().await.expect("rev"), current);
}

#[tokio::test]
async fn periodic_compaction_keeps_one_interval_of_history() {
    let options = EmbeddedOptions { compaction_interval: Duration::from_millis(200), ..EmbeddedFixture::test_options() };
    let f = EmbeddedFixture::with_options(options).await;
    let s = f.embedded();
    let mut rev = s.create("/k/a", b("0")).await.expect("create");
    let first = rev;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.compacted_revision().await.expect("compacted") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no periodic compaction within 10 s");
        rev = s.update("/k/a", b("x"), rev).await.expect("update");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let compacted = s.compacted_revision().await.expect("compacted");
    assert!(compacted >= first && compacted < rev, "compacted {compacted} must be an earlier tick's revision");
    assert!(matches!(s.get("/k/a", Some(compacted - 1)).await, Err(StorageError::Expired { .. })));
}

#[tokio::test]
async fn interrupted_compaction_finishes_after_restart() {
    let mut f = EmbeddedFixture::new().await;
    let s = f.embedded();
    let mut rev = s.create("/k/a", b("0")).await.expect("create");
    for i in 0..50 {
        rev = s.update("/k/a", b(&i.to_string()), rev).await.expect("update");
    }
    drop(s);
    // As if the process died right after recording the compacted revision.
    {
        let conn = rusqlite::Connection::open(f.dir().join(DB_FILE)).expect("open");
        conn.execute("UPDATE meta SET value = ?1 WHERE name = 'compacted'", [rev]).expect("set compacted");
    }
    f.restart().await;
    let s = f.embedded();
    assert_eq!(s.compacted_revision().await.expect("compacted"), rev);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.stats().await.expect("stats").log_rows != 1 {
        assert!(tokio::time::Instant::now() < deadline, "compaction did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(s.get("/k/a", None).await.expect("get").expect("present").value, b("49"));
}

#[tokio::test]
async fn dropped_watchers_are_forgotten() {
    let f = EmbeddedFixture::new().await;
    let s = f.embedded();
    let w1 = s.watch("/k/", 1).await.expect("watch");
    let _w2 = s.watch("/k/", 1).await.expect("watch");
    assert_eq!(s.watcher_count(), 2);
    drop(w1);
    s.create("/k/a", b("x")).await.expect("create");
    assert_eq!(s.watcher_count(), 1, "a dropped watcher's slot goes at the next publish");
}

#[tokio::test]
async fn closing_the_store_ends_watches() {
    let mut f = EmbeddedFixture::new().await;
    let mut w = f.store().watch("/k/", 1).await.expect("watch");
    f.restart().await;
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match w.next().await {
                Some(Ok(WatchItem::Progress(_))) => continue,
                other => return other,
            }
        }
    })
    .await
    .expect("the stream ends");
    assert!(end.is_none(), "{end:?}");
}

#[tokio::test]
async fn a_data_dir_is_opened_once() {
    let f = EmbeddedFixture::new().await;
    let err = Embedded::open(f.dir(), EmbeddedOptions::default()).expect_err("second open");
    assert!(matches!(&err, StorageError::Unavailable(m) if m.contains("in use")), "{err:?}");
}

#[tokio::test]
async fn open_refuses_a_file_as_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = Embedded::open(&file, EmbeddedOptions::default()).expect_err("open on a file");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_proceed_while_a_large_compaction_runs() {
    let f = EmbeddedFixture::new().await;
    let s = f.embedded();
    // 20,000 versions of 50 keys: compaction has ~20 chunks of work.
    let mut revs: Vec<Revision> = Vec::new();
    for k in 0..50 {
        revs.push(s.create(&format!("/registry/pods/ns/p{k}"), b("0")).await.expect("create"));
    }
    for round in 0..400 {
        let futs = revs.iter().enumerate().map(|(k, prev)| {
            let s = s.clone();
            let prev = *prev;
            async move { s.update(&format!("/registry/pods/ns/p{k}"), b(&round.to_string()), prev).await.expect("update") }
        });
        revs = futures::future::join_all(futs).await;
    }
    let target = s.current_revision().await.expect("rev");
    let compaction = {
        let s = s.clone();
        tokio::spawn(async move { s.compact(target).await })
    };
    // Sequential writes while it runs: they must not wait for the whole compaction.
    let mut during = 0;
    let mut slowest = Duration::ZERO;
    let mut i = 0;
    while !compaction.is_finished() {
        let t = std::time::Instant::now();
        s.create(&format!("/registry/events/ns/e{i}"), b("x")).await.expect("create during compaction");
        slowest = slowest.max(t.elapsed());
        i += 1;
        if !compaction.is_finished() {
            during += 1;
        }
    }
    compaction.await.expect("task").expect("compact");
    eprintln!("{during} writes during compaction, slowest {slowest:?}");
    assert!(during >= 3, "only {during} writes completed during compaction: writers were blocked");
    assert!(slowest < Duration::from_secs(5), "a write waited {slowest:?} during compaction");
    assert_eq!(s.stats().await.expect("stats").log_rows, 50 + i64::from(i));
}

/// A full disk (here: the store's quota) fails writes in plain words, never SQLite's internals;
/// the store says it is not writable (readiness fails) until a write succeeds again.
#[tokio::test]
async fn a_full_disk_fails_writes_in_plain_words_and_unreadies_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let options = EmbeddedOptions { quota_bytes: Some(512 * 1024), ..EmbeddedOptions::default() };
    let store = Embedded::open(dir.path(), options).expect("open");
    assert!(store.writable().is_ok());
    let value = Bytes::from(vec![b'x'; 16 * 1024]);
    let mut written = Vec::new();
    let error = loop {
        let key = format!("/registry/configmaps/default/c{}", written.len());
        match store.create(&key, value.clone()).await {
            Ok(_) => written.push(key),
            Err(e) => break e,
        }
        assert!(written.len() < 1_000, "the quota never filled");
    };
    let text = error.to_string();
    assert_eq!(
        text,
        "storage unavailable: embedded store write failed: database space exceeded: the data directory's disk (or the store's quota) is full"
    );
    for internal in ["Sqlite", "DiskFull", "code", "extended"] {
        assert!(!text.contains(internal), "{text}");
    }
    assert!(store.writable().is_err(), "a store that cannot write is not ready");
    // Nothing half-written: every acknowledged key reads back, and room made by deletes and a
    // compaction lets writes (and readiness) come back.
    for key in &written {
        assert!(store.get(key, None).await.expect("get").is_some(), "{key}");
    }
    let mut last = 0;
    for key in written.iter().take(written.len() / 2) {
        last = store.delete(key, None).await.expect("delete").1;
    }
    store.compact(last).await.expect("compact");
    store.create("/registry/configmaps/default/after", b("small")).await.expect("a write after room was made");
    assert!(store.writable().is_ok());
}
