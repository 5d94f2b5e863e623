//! `kapi-storage-torture`: writes to an embedded store under load until it is killed, for the
//! crash test (`runtime/tests/storage/crash.rs`), which kills it with SIGKILL and checks the store.
//!
//! Usage: `kapi-storage-torture <data-dir> <cycle> [writers] [compaction-ms]`.
//!
//! Protocol on stdout, one line per fact, flushed at once:
//! - `S <current-revision> <compacted-revision>` once the store is open;
//! - `B <writer> <op> <key> <value>` before a write is issued (`op` is C, U or D);
//! - `A <writer> <op> <key> <revision>` once the store has acknowledged it.
//!
//! Each writer owns its keys (`/registry/torture/c<cycle>/w<writer>/k<n>`), so the only write of a
//! writer whose outcome is unknown after a kill is its last `B` line without an `A`.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kapi_runtime::storage::embedded::{Embedded, EmbeddedOptions};
use kapi_runtime::storage::{Revision, Storage};

fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    // If stdout is gone, the test has finished with us: stop writing.
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("kapi-storage-torture: {message}");
    std::process::exit(2);
}

/// xorshift64*: enough randomness for choosing operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

async fn writer(store: Arc<Embedded>, cycle: u64, id: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (cycle << 20) ^ (id as u64 + 1));
    let mut live: Vec<(String, Revision)> = Vec::new();
    let mut next_key = 0u64;
    for seq in 0u64.. {
        let roll = rng.below(10);
        let value = format!("c{cycle}w{id}s{seq}");
        if live.len() < 4 || roll < 4 {
            let key = format!("/registry/torture/c{cycle}/w{id}/k{next_key}");
            next_key += 1;
            emit(&format!("B {id} C {key} {value}"));
            match store.create(&key, Bytes::from(value)).await {
                Ok(rev) => {
                    emit(&format!("A {id} C {key} {rev}"));
                    live.push((key, rev));
                }
                Err(e) => fail(&format!("create {key}: {e}")),
            }
        } else if roll < 8 {
            let i = rng.below(live.len());
            let (key, expected) = live[i].clone();
            emit(&format!("B {id} U {key} {value}"));
            match store.update(&key, Bytes::from(value), expected).await {
                Ok(rev) => {
                    emit(&format!("A {id} U {key} {rev}"));
                    live[i].1 = rev;
                }
                Err(e) => fail(&format!("update {key}: {e}")),
            }
        } else {
            let i = rng.below(live.len());
            let (key, expected) = live.swap_remove(i);
            emit(&format!("B {id} D {key} -"));
            match store.delete(&key, Some(expected)).await {
                Ok((_, rev)) => emit(&format!("A {id} D {key} {rev}")),
                Err(e) => fail(&format!("delete {key}: {e}")),
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(cycle)) = (args.get(1), args.get(2).and_then(|c| c.parse::<u64>().ok())) else {
        fail("usage: kapi-storage-torture <data-dir> <cycle> [writers] [compaction-ms]");
    };
    let writers = args.get(3).and_then(|w| w.parse::<usize>().ok()).unwrap_or(8);
    let compaction_ms = args.get(4).and_then(|c| c.parse::<u64>().ok()).unwrap_or(0);
    let options =
        EmbeddedOptions { compaction_interval: Duration::from_millis(compaction_ms), ..EmbeddedOptions::default() };
    let store = match Embedded::open(dir, options) {
        Ok(s) => s,
        Err(e) => fail(&format!("open {dir}: {e}")),
    };
    let current = store.current_revision().await.unwrap_or_else(|e| fail(&e.to_string()));
    let compacted = store.compacted_revision().await.unwrap_or_else(|e| fail(&e.to_string()));
    emit(&format!("S {current} {compacted}"));
    let tasks: Vec<_> = (0..writers).map(|id| tokio::spawn(writer(store.clone(), cycle, id))).collect();
    for t in tasks {
        if t.await.is_err() {
            fail("a writer task panicked");
        }
    }
}
