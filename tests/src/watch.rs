//! A watching client for the apiserver's HTTP watch (`GET ...?watch=1`, JSON lines), run on a thread
//! the way a reflector runs it: from a resourceVersion, with bookmarks, and re-watching from the last
//! resourceVersion it saw when the server ends the stream. Everything it sees is recorded for the
//! test to inspect ([`Watcher::wait_until`], [`Watcher::snapshot`]).

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::server::Client;

/// How long the watcher keeps trying to (re)open a watch that the server refuses or cannot be
/// reached before it gives up (and records why in [`Seen::gave_up`]).
const REOPEN_FOR: Duration = Duration::from_secs(120);

/// What a [`Watcher`] has seen so far.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// `ADDED`, `MODIFIED` and `DELETED` events (the whole `{"type", "object"}` lines), in order.
    pub events: Vec<Value>,
    /// `ERROR` events (the watcher stops at the first: it would have to relist).
    pub errors: Vec<Value>,
    /// Every time a watch ended without the watcher asking and it re-watched from `resource_version`:
    /// why (`stream ended`, `read error: ...`, `HTTP 500: ...`).
    pub reopened: Vec<String>,
    /// The resourceVersion of the last event or bookmark (where a re-watch starts).
    pub resource_version: String,
    /// Bookmarks received.
    pub bookmarks: usize,
    /// Set when the watcher stopped on its own: an `ERROR` event, or the watch could not be
    /// re-opened for [`REOPEN_FOR`].
    pub gave_up: Option<String>,
}

impl Seen {
    /// The `metadata.name` of every event of type `kind` (`ADDED`, ...), in order.
    pub fn names(&self, kind: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["type"] == kind)
            .filter_map(|e| e["object"]["metadata"]["name"].as_str().map(str::to_owned))
            .collect()
    }
}

struct Shared {
    seen: Mutex<Seen>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

/// A watch on a [`Client`]'s server running on its own thread; stops re-watching when dropped (the
/// thread ends when its current stream does, e.g. when the server is killed).
pub struct Watcher {
    shared: Arc<Shared>,
}

impl Watcher {
    /// Starts watching `path` (a collection, e.g. `/api/v1/namespaces/default/configmaps`) on the
    /// server of `client` (as its identity, e.g. `server.client()`) from `resource_version`, with
    /// bookmarks.
    pub fn start(client: &Client, path: &str, resource_version: &str) -> Watcher {
        let shared = Arc::new(Shared {
            seen: Mutex::new(Seen { resource_version: resource_version.to_owned(), ..Seen::default() }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let url = format!("{}{path}", client.base_url());
        let thread_shared = Arc::clone(&shared);
        let client = client.clone();
        std::thread::Builder::new()
            .name(format!("watch {path}"))
            .spawn(move || run(&client, &url, &thread_shared))
            .unwrap_or_else(|e| panic!("spawning a watch thread: {e}"));
        Watcher { shared }
    }

    /// A copy of everything seen so far.
    pub fn snapshot(&self) -> Seen {
        self.shared.lock().clone()
    }

    /// Waits until `done` holds for what was seen (true), or `within` passes (false).
    pub fn wait_until(&self, within: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = Instant::now() + within;
        let mut seen = self.shared.lock();
        loop {
            if done(&seen) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            seen = self
                .shared
                .changed
                .wait_timeout(seen, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// The watch loop: open from the last resourceVersion, record lines, re-open when the stream ends.
fn run(client: &Client, url: &str, shared: &Shared) {
    let agent = client.agent(None, Some(Duration::from_secs(5)));
    let auth = client.auth_headers();
    let mut failing_since: Option<Instant> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        if let Some(since) = failing_since {
            if since.elapsed() > REOPEN_FOR {
                shared.update(|s| s.gave_up = Some(format!("no watch could be opened for {REOPEN_FOR:?}")));
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let rv = shared.lock().resource_version.clone();
        let watch_url = format!("{url}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}");
        let mut request = agent.get(&watch_url);
        for (k, v) in &auth {
            request = request.header(k, v);
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => {
                failing_since.get_or_insert_with(Instant::now);
                shared.update(|s| s.reopened.push(format!("connect: {e}")));
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.into_body().read_to_string().unwrap_or_default();
            if status == 410 {
                shared.update(|s| s.gave_up = Some(format!("HTTP 410 from resourceVersion {rv}: {body}")));
                return;
            }
            failing_since.get_or_insert_with(Instant::now);
            shared.update(|s| s.reopened.push(format!("HTTP {status}: {body}")));
            continue;
        }
        let mut reader = BufReader::new(response.into_body().into_reader());
        let mut line = String::new();
        let ended = loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break "stream ended".to_owned(),
                Ok(_) => {}
                Err(e) => break format!("read error: {e}"),
            }
            if line.trim().is_empty() {
                continue;
            }
            failing_since = None;
            let event: Value = match serde_json::from_str(line.trim()) {
                Ok(v) => v,
                Err(e) => {
                    let text = line.trim().to_owned();
                    shared.update(|s| s.gave_up = Some(format!("a watch line is not JSON ({e}): {text}")));
                    return;
                }
            };
            let kind = event["type"].as_str().unwrap_or("").to_owned();
            let object_rv = event["object"]["metadata"]["resourceVersion"].as_str().map(str::to_owned);
            match kind.as_str() {
                "ERROR" => {
                    shared.update(|s| {
                        s.gave_up = Some(format!("ERROR event: {}", event["object"]));
                        s.errors.push(event);
                    });
                    return;
                }
                "BOOKMARK" => shared.update(|s| {
                    s.bookmarks += 1;
                    if let Some(rv) = object_rv {
                        s.resource_version = rv;
                    }
                }),
                _ => shared.update(|s| {
                    if let Some(rv) = object_rv {
                        s.resource_version = rv;
                    }
                    s.events.push(event);
                }),
            }
        };
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        shared.update(|s| s.reopened.push(ended));
    }
}
