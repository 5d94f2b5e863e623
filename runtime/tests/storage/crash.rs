//! Crash safety of the embedded store: `kapi-storage-torture` writes under load (8 concurrent
//! writers, `synchronous=FULL`) and is killed with SIGKILL at a random moment, 20 times on the same
//! data directory. After each kill the store is reopened and checked:
//! - every acknowledged write is there: each key is exactly as its last acknowledged write left it
//!   (value and revision), except a key whose writer had a write in flight, which may also show
//!   that write; above the compacted revision, the history has each acknowledged write at its
//!   revision;
//! - revisions are monotonic across restarts: the store reopens at or above every acknowledged
//!   revision and the next run's writes go above it;
//! - the event log has no gap: a watch from the compacted revision replays every revision up to
//!   the current one, each exactly once.
//!
//! Even cycles run the torture with periodic compaction every 150 ms, so kills also land inside
//! compaction and vacuum.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kapi_runtime::storage::embedded::{Embedded, EmbeddedOptions};
use kapi_runtime::storage::{Revision, Storage, WatchItem};

const CYCLES: u64 = 20;
const WRITERS: usize = 8;

/// One acknowledged or in-flight write, from the torture's stdout.
#[derive(Debug, Clone)]
struct Write {
    op: char,
    key: String,
    /// The value written (`-` for deletes).
    value: String,
    /// The acknowledged revision (`None`: in flight when killed).
    revision: Option<Revision>,
}

/// What one run printed: its start line and its writes in order, per writer.
#[derive(Debug, Default)]
struct Run {
    started_at: Option<(Revision, Revision)>,
    writes: BTreeMap<usize, Vec<Write>>,
}

fn parse(lines: &[String]) -> Run {
    let mut run = Run::default();
    for line in lines {
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            ["S", cur, comp] => {
                run.started_at = Some((cur.parse().expect("revision"), comp.parse().expect("revision")));
            }
            ["B", w, op, key, value] => {
                let writer: usize = w.parse().expect("writer");
                run.writes.entry(writer).or_default().push(Write {
                    op: op.chars().next().expect("op"),
                    key: (*key).to_owned(),
                    value: (*value).to_owned(),
                    revision: None,
                });
            }
            ["A", w, _op, key, rev] => {
                let writer: usize = w.parse().expect("writer");
                let last = run.writes.get_mut(&writer).and_then(|ws| ws.last_mut()).expect("A follows B");
                assert_eq!(last.key, *key, "A line matches the writer's last B line");
                last.revision = Some(rev.parse().expect("revision"));
            }
            _ => panic!("unexpected torture output line {line:?}"),
        }
    }
    run
}

/// Runs the torture once and kills it after `after` of writing; returns its complete lines.
fn run_and_kill(dir: &std::path::Path, cycle: u64, after: Duration) -> Vec<String> {
    let compaction_ms = if cycle.is_multiple_of(2) { "150" } else { "0" };
    let mut child = Command::new(env!("CARGO_BIN_EXE_kapi-storage-torture"))
        .arg(dir)
        .arg(cycle.to_string())
        .arg(WRITERS.to_string())
        .arg(compaction_ms)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kapi-storage-torture");
    let stdout = child.stdout.take().expect("stdout");
    let (started_tx, started_rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        // Lines end with '\n'; a line cut short by the kill has none and is dropped.
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        let mut buf = String::new();
        while reader.read_line(&mut buf).map(|n| n > 0).unwrap_or(false) {
            if let Some(line) = buf.strip_suffix('\n') {
                if line.starts_with("S ") {
                    let _ = started_tx.send(());
                }
                lines.push(line.to_owned());
            }
            buf.clear();
        }
        lines
    });
    if started_rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        panic!("torture did not start: {}", String::from_utf8_lossy(&out.stderr));
    }
    std::thread::sleep(after);
    if let Ok(Some(status)) = child.try_wait() {
        let out = child.wait_with_output().expect("wait");
        panic!("torture exited by itself ({status}): {}", String::from_utf8_lossy(&out.stderr));
    }
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().expect("reap");
    reader.join().expect("reader thread")
}

/// Reopens the store and checks everything the kill must not have broken. Returns the current
/// revision.
async fn verify(dir: &std::path::Path, run: &Run, previous: Revision) -> (Revision, usize) {
    let options = EmbeddedOptions { compaction_interval: Duration::ZERO, ..EmbeddedOptions::default() };
    let store = Embedded::open(dir, options).expect("reopen after kill");
    let current = store.current_revision().await.expect("current");
    let compacted = store.compacted_revision().await.expect("compacted");
    let (started_at, _) = run.started_at.expect("the run started");
    assert!(started_at >= previous, "the store reopened at {started_at}, below the last verified {previous}");

    // Per key: the last acknowledged write, and whether a later write was in flight.
    let mut last_ack: HashMap<&str, &Write> = HashMap::new();
    let mut in_flight: HashMap<&str, &Write> = HashMap::new();
    let mut acked = 0usize;
    let mut max_ack = started_at;
    for writes in run.writes.values() {
        for (i, w) in writes.iter().enumerate() {
            match w.revision {
                Some(rev) => {
                    assert!(rev > started_at, "a write of this run got revision {rev}, not above {started_at}");
                    max_ack = max_ack.max(rev);
                    acked += 1;
                    last_ack.insert(&w.key, w);
                }
                None => {
                    assert_eq!(i, writes.len() - 1, "only a writer's last write can be unacknowledged");
                    in_flight.insert(&w.key, w);
                }
            }
        }
    }
    assert!(current >= max_ack, "current revision {current} is below the acknowledged {max_ack}");

    for (key, w) in &last_ack {
        let got = store.get(key, None).await.expect("get");
        let matches_ack = match (w.op, &got) {
            ('D', None) => true,
            ('C' | 'U', Some(kv)) => Some(kv.mod_revision) == w.revision && kv.value.as_ref() == w.value.as_bytes(),
            _ => false,
        };
        let matches_in_flight = in_flight.get(key).is_some_and(|f| match (f.op, &got) {
            ('D', None) => true,
            ('C' | 'U', Some(kv)) => kv.value.as_ref() == f.value.as_bytes() && Some(kv.mod_revision) > w.revision,
            _ => false,
        });
        assert!(matches_ack || matches_in_flight, "key {key}: acknowledged {w:?}, found {got:?}");
        if let Some(rev) = w.revision.filter(|r| *r >= compacted) {
            let at = store.get(key, Some(rev)).await.expect("get at the acknowledged revision");
            match w.op {
                'D' => assert!(at.is_none(), "{key} at {rev} should be deleted: {at:?}"),
                _ => assert_eq!(at.map(|kv| kv.mod_revision), Some(rev), "{key} at {rev}"),
            }
        }
    }

    // No gap: every revision above the compacted one is in the log, once, in order.
    if current > compacted {
        let mut w = store.watch("", compacted).await.expect("watch everything");
        // A store starts at revision 1: the first write is revision 2.
        let mut want = compacted.max(1) + 1;
        while want <= current {
            let item = tokio::time::timeout(Duration::from_secs(30), w.next()).await.expect("replay stalled");
            match item {
                Some(Ok(WatchItem::Event(e))) => {
                    assert_eq!(e.kv.mod_revision, want, "event log gap or duplicate");
                    want += 1;
                }
                Some(Ok(WatchItem::Progress(_))) => {}
                other => panic!("replay ended early at {want} of {current}: {other:?}"),
            }
        }
    }
    drop(store);
    (current, acked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t0 = Instant::now();
    let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ u64::from(std::process::id());
    let mut previous = 0;
    let mut total_acked = 0;
    for cycle in 0..CYCLES {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(seed % 850);
        let dir_path = dir.path().to_owned();
        let lines = tokio::task::spawn_blocking(move || run_and_kill(&dir_path, cycle, after)).await.expect("run");
        let run = parse(&lines);
        let (current, acked) = verify(dir.path(), &run, previous).await;
        assert!(current >= previous, "revision went backwards across a restart: {previous} → {current}");
        previous = current;
        total_acked += acked;
    }
    assert!(total_acked > CYCLES as usize * 10, "the torture barely wrote: {total_acked} acknowledged writes");
    eprintln!("crash test: {CYCLES} kills, {total_acked} acknowledged writes verified, {:?}", t0.elapsed());
}
