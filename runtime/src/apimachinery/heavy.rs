//! CPU-heavy steps on large objects, kept from holding up the async workers.
//!
//! Decoding, validating, tracking managed fields of and encoding an object costs time linear in its
//! size: tens of milliseconds for a megabyte in release builds, more for objects whose
//! `managedFields` are as large as their data. Run on an async worker, that time is taken from
//! every request queued behind it (two workers on a two-core machine: two such writes stall every
//! client, `/healthz` included). Steps over [`LARGE`] bytes therefore run with the worker handed
//! over first (a multi-threaded runtime's `block_in_place`: its other tasks move to a fresh worker
//! while this thread finishes the step); small objects, the common case, pay nothing.

use serde_json::Value;

/// Objects or bodies above this many bytes are processed off the async workers.
pub const LARGE: usize = 64 * 1024;

/// Runs `step` over `len` bytes of input; above [`LARGE`] on a multi-threaded runtime's worker,
/// the worker's other tasks are handed to another thread first. Elsewhere (a current-thread
/// runtime, no runtime, a blocking thread) it simply runs.
pub fn off_the_workers<T>(len: usize, step: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if len > LARGE && Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread) {
        tokio::task::block_in_place(step)
    } else {
        step()
    }
}

/// [`off_the_workers`] for a step over `value`, sized by [`encoded_len_over`].
pub fn off_the_workers_for<T>(value: &Value, step: impl FnOnce() -> T) -> T {
    off_the_workers(encoded_len_over(value, LARGE), step)
}

/// About how many bytes `value` takes as JSON, counted until the count passes `limit` (so the cost
/// of asking is bounded however large the value is).
pub fn encoded_len_over(value: &Value, limit: usize) -> usize {
    let mut len = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        len += match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => 5,
            Value::String(s) => s.len() + 3,
            Value::Array(items) => {
                stack.extend(items);
                2 + items.len()
            }
            Value::Object(map) => {
                stack.extend(map.values());
                2 + map.keys().map(|k| k.len() + 4).sum::<usize>()
            }
        };
        if len > limit {
            break;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_counted_up_to_the_limit_only() {
        let small = serde_json::json!({"a": "b", "c": [1, 2, {"d": null}]});
        let exact = serde_json::to_vec(&small).expect("json").len();
        let counted = encoded_len_over(&small, LARGE);
        assert!(counted >= exact && counted <= exact * 2, "{counted} for {exact} bytes");
        let big = Value::Array(vec![Value::String("x".repeat(1000)); 10_000]);
        let counted = encoded_len_over(&big, LARGE);
        assert!(counted > LARGE && counted < LARGE + 2 * 1000 + 20_000, "{counted}");
    }

    #[test]
    fn large_steps_run_off_the_workers_and_small_ones_in_place() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        rt.block_on(async {
            tokio::spawn(async {
                let worker = std::thread::current().id();
                // A small step runs as it is; a large one too (on this thread), but while it runs
                // another thread serves the runtime's tasks.
                assert_eq!(off_the_workers(10, || std::thread::current().id()), worker);
                let served = off_the_workers(LARGE + 1, || {
                    let (tx, rx) = std::sync::mpsc::channel();
                    tokio::spawn(async move { tx.send(std::thread::current().id()).ok() });
                    rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the runtime kept serving")
                });
                assert_ne!(served, worker);
                // Nested: the inner step runs where the outer one does.
                assert_eq!(off_the_workers(LARGE + 1, || off_the_workers(LARGE + 1, || std::thread::current().id())), worker);
            })
            .await
            .expect("task");
        });
        // No runtime, or a current-thread one: the step just runs.
        assert_eq!(off_the_workers(LARGE + 1, || 7), 7);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        assert_eq!(rt.block_on(async { off_the_workers(LARGE + 1, || 8) }), 8);
    }
}
