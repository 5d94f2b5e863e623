//! The load generator: async HTTP/1.1 keep-alive clients (hyper over tokio, one connection per
//! simulated client) on a runtime with one worker thread, and the measuring window every rate comes
//! from — operations completed, per-request latency, and the CPU each process used meanwhile.
//!
//! One worker thread keeps the generator to about one of the machine's 2 cores; its CPU is
//! measured and reported beside the server's. Work is always spawned onto that worker ([`run`]):
//! the main thread only waits, sleeps through windows and reads /proc.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// How long one request may take before the bench gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How much of a response body an error quotes.
const EXCERPT_BYTES: usize = 300;

/// The load generator's runtime: one worker thread.
pub(crate) fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kapi-bench-loadgen")
        .enable_all()
        .build()
        .context("starting the load generator's tokio runtime")
}

/// Runs `fut` on the runtime's worker (not on the calling thread, which `block_on` would use) and
/// waits for it.
pub(crate) fn run<T: Send + 'static>(
    rt: &Runtime,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    rt.block_on(rt.spawn(fut))
        .map_err(|e| anyhow!("a load generator task failed: {e}"))?
}

/// The first bytes of a response body, as text, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let cut = &body[..body.len().min(EXCERPT_BYTES)];
    let more = if body.len() > EXCERPT_BYTES {
        "..."
    } else {
        ""
    };
    format!("{}{more}", String::from_utf8_lossy(cut).trim_end())
}

/// One HTTP/1.1 keep-alive connection to the apiserver.
pub(crate) struct Conn {
    send: http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects to `addr` (TCP_NODELAY; the connection is driven by a task of its own).
    pub(crate) async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (send, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP/1.1 handshake with {addr}"))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or every handle to it is dropped.
            let _ = conn.await;
        });
        Ok(Conn {
            send,
            host: addr.to_string(),
        })
    }

    /// Sends a request and returns the response with its body unread (a watch streams it).
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Response<Incoming>> {
        self.send
            .ready()
            .await
            .with_context(|| format!("{method} {path}: the connection closed"))?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(hyper::header::HOST, &self.host);
        if !body.is_empty() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .header(hyper::header::ACCEPT, "application/json")
            .body(Full::new(body))
            .with_context(|| format!("building {method} {path}"))?;
        self.send
            .send_request(request)
            .await
            .with_context(|| format!("{method} {path}"))
    }

    /// Sends a request and reads the whole response.
    pub(crate) async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes)> {
        let exchange = async {
            let response = self.send(method.clone(), path, body).await?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .with_context(|| format!("{method} {path}: reading the response (HTTP {status})"))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| {
                anyhow!(
                    "{method} {path}: no response in {} s",
                    REQUEST_TIMEOUT.as_secs()
                )
            })?
    }

    /// [`Conn::call`], failing unless the status is `want`; returns the body.
    pub(crate) async fn expect(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
        want: StatusCode,
    ) -> Result<Bytes> {
        let (status, response) = self.call(method.clone(), path, body).await?;
        if status != want {
            bail!(
                "{method} {path}: HTTP {status} (expected {want}): {}",
                excerpt(&response)
            );
        }
        Ok(response)
    }
}

/// The body of a ConfigMap of about 1 KiB: named `name`, or with `metadata.generateName: name`.
pub(crate) fn configmap(name: &str, generate: bool, labels: &[(&str, &str)]) -> Bytes {
    let key = if generate { "generateName" } else { "name" };
    let labels: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let body = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {key: name, "labels": labels},
        "data": {"payload": "x".repeat(1024)},
    });
    Bytes::from(body.to_string())
}

/// `path` with `value` appended, percent-encoding anything outside the unreserved characters.
pub(crate) fn with_query(path: &str, key: &str, value: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + value.len() + 2);
    out.push_str(path);
    out.push(if path.contains('?') { '&' } else { '?' });
    out.push_str(key);
    out.push('=');
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a process used in a window: CPU seconds, and seconds its threads waited for a CPU.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage {
    pub(crate) cpu: f64,
    pub(crate) wait: f64,
}

impl Usage {
    fn now(pid: &str) -> Usage {
        Usage {
            cpu: cpu_seconds(pid),
            wait: wait_seconds(pid),
        }
    }

    fn since(pid: &str, before: Usage) -> Usage {
        let now = Usage::now(pid);
        Usage {
            cpu: now.cpu - before.cpu,
            wait: now.wait - before.wait,
        }
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        json!({"cpu_seconds": self.cpu, "cpu_wait_seconds": self.wait})
    }
}

/// CPU seconds (user + system) a process (all its threads) has used, from /proc (Linux; 0
/// elsewhere). `pid` is a number or `self`.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may contain spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the full line: 12 and 13 after the command.
    (ticks(11) + ticks(12)) / 100.0
}

/// Seconds the live threads of a process have spent runnable but waiting for a CPU, from
/// /proc/<pid>/task/*/schedstat (Linux with schedstats; 0 elsewhere). On a shared 2-core machine
/// this is where latency hides that CPU seconds don't show.
fn wait_seconds(pid: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0.0;
    };
    let nanos: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// Median and 99th percentile of request latencies.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Latency {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) samples: usize,
}

impl Latency {
    /// From latencies in microseconds (sorted here).
    pub(crate) fn of(mut micros: Vec<u32>) -> Latency {
        if micros.is_empty() {
            return Latency::default();
        }
        micros.sort_unstable();
        let at =
            |q: f64| f64::from(micros[((micros.len() - 1) as f64 * q).round() as usize]) / 1000.0;
        Latency {
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            max_ms: at(1.0),
            samples: micros.len(),
        }
    }

    pub(crate) fn to_json(self) -> serde_json::Value {
        json!({"p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "max_ms": self.max_ms, "samples": self.samples})
    }
}

/// What one measuring window saw.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    /// Operations completed in the window.
    pub(crate) ops: u64,
    /// The window's wall time.
    pub(crate) secs: f64,
    /// What each watched process used in the window, in the order given.
    pub(crate) usage: Vec<Usage>,
    /// What this process (the load generator) used in the window.
    pub(crate) loadgen: Usage,
    /// Latency of the requests that completed in the window.
    pub(crate) latency: Latency,
}

impl Window {
    pub(crate) fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    /// `names[i]` labels `usage[i]`.
    pub(crate) fn to_json(&self, names: &[&str]) -> serde_json::Value {
        let mut cpu: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(&self.usage)
            .map(|(n, u)| ((*n).to_owned(), u.to_json()))
            .collect();
        cpu.insert("loadgen".into(), self.loadgen.to_json());
        json!({
            "per_sec": self.rate(), "ops": self.ops, "secs": self.secs,
            "latency": self.latency.to_json(), "cpu": cpu,
        })
    }
}

/// Warm-up and window length of a load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    pub(crate) warmup: Duration,
    pub(crate) window: Duration,
}

/// Shared state of a running load: when to stop, whether latencies count yet, what completed.
#[derive(Debug, Default)]
pub(crate) struct Load {
    stop: AtomicBool,
    recording: AtomicBool,
    failed: AtomicBool,
    done: AtomicU64,
}

impl Load {
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts an operation that started at `started`; keeps its latency if the window is open.
    pub(crate) fn completed(&self, started: Instant, latencies: &mut Vec<u32>) {
        if self.recording.load(Ordering::Relaxed) {
            latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        }
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks the load failed: the window ends early.
    pub(crate) fn fail(&self) {
        self.failed.store(true, Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs `clients` tasks made by `spawn(client, load)` on the runtime: waits `timing.warmup`, then
/// counts what completes in `timing.window` and what `pids` and this process use meanwhile. A task
/// returns its latencies (µs); if one fails, the window ends early and this fails with the first
/// few errors.
pub(crate) fn drive<F>(
    rt: &Runtime,
    clients: usize,
    timing: Timing,
    pids: &[u32],
    mut spawn: F,
) -> Result<Window>
where
    F: FnMut(usize, Arc<Load>) -> JoinHandle<Result<Vec<u32>>>,
{
    let load = Arc::new(Load::default());
    let tasks: Vec<_> = (0..clients)
        .map(|client| spawn(client, load.clone()))
        .collect();
    let mut window = measure(&load, timing, pids);
    load.stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for (client, task) in tasks.into_iter().enumerate() {
        match rt.block_on(task) {
            Ok(Ok(mut l)) => latencies.append(&mut l),
            Ok(Err(e)) => errors.push(format!("client {client}: {e:#}")),
            Err(e) => errors.push(format!("client {client}: the task failed: {e}")),
        }
    }
    if !errors.is_empty() {
        bail!(
            "{} of {clients} clients failed; the first:\n  {}",
            errors.len(),
            errors[..errors.len().min(5)].join("\n  ")
        );
    }
    window.latency = Latency::of(latencies);
    Ok(window)
}

/// Waits `timing.warmup`, then counts what `load` completes in `timing.window` and what `pids` and
/// this process use meanwhile; ends early if the load fails.
fn measure(load: &Load, timing: Timing, pids: &[u32]) -> Window {
    let sleep = |d: Duration| {
        let until = Instant::now() + d;
        while !load.failed.load(Ordering::Relaxed) && Instant::now() < until {
            std::thread::sleep(
                Duration::from_millis(20).min(until.saturating_duration_since(Instant::now())),
            );
        }
    };
    sleep(timing.warmup);
    let meter = Meter::start(pids);
    load.recording.store(true, Ordering::Relaxed);
    let ops0 = load.done.load(Ordering::Relaxed);
    sleep(timing.window);
    let ops = load.done.load(Ordering::Relaxed) - ops0;
    load.recording.store(false, Ordering::Relaxed);
    meter.stop(ops)
}

/// What processes use from now until [`Meter::stop`]: a [`Window`] measured around work that is
/// not a [`Load`].
pub(crate) struct Meter {
    pids: Vec<String>,
    before: Vec<Usage>,
    loadgen: Usage,
    started: Instant,
}

impl Meter {
    pub(crate) fn start(pids: &[u32]) -> Meter {
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        let before = pids.iter().map(|p| Usage::now(p)).collect();
        Meter {
            pids,
            before,
            loadgen: Usage::now("self"),
            started: Instant::now(),
        }
    }

    /// The window since [`Meter::start`], `ops` operations done in it (latency left empty).
    pub(crate) fn stop(self, ops: u64) -> Window {
        let secs = self.started.elapsed().as_secs_f64();
        Window {
            ops,
            secs,
            usage: self
                .pids
                .iter()
                .zip(self.before)
                .map(|(p, b)| Usage::since(p, b))
                .collect(),
            loadgen: Usage::since("self", self.loadgen),
            latency: Latency::default(),
        }
    }
}

/// One request of an HTTP load.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Bytes,
    pub(crate) expect: StatusCode,
}

/// [`drive`]s `clients` HTTP connections to `addr`, each sending `make(client, i)` for its `i`-th
/// request in a loop; any status but the request's `expect` fails the load with the response.
pub(crate) fn http<F>(
    rt: &Runtime,
    addr: SocketAddr,
    clients: usize,
    timing: Timing,
    pids: &[u32],
    make: F,
) -> Result<Window>
where
    F: Fn(usize, u64) -> Req + Send + Sync + 'static,
{
    let conns = run(rt, async move {
        let mut conns = Vec::with_capacity(clients);
        for client in 0..clients {
            conns.push(
                Conn::open(addr)
                    .await
                    .with_context(|| format!("client {client}"))?,
            );
        }
        Ok(conns)
    })?;
    let mut conns = conns.into_iter();
    let make = Arc::new(make);
    drive(rt, clients, timing, pids, |client, load| {
        let conn = conns.next();
        let make = make.clone();
        rt.spawn(async move {
            let mut conn = conn.ok_or_else(|| anyhow!("no connection for this client"))?;
            let mut latencies = Vec::new();
            let mut i = 0;
            while !load.stopped() {
                let req = make(client, i);
                i += 1;
                let started = Instant::now();
                if let Err(e) = conn.expect(req.method, &req.path, req.body, req.expect).await {
                    load.fail();
                    return Err(e);
                }
                load.completed(started, &mut latencies);
            }
            Ok(latencies)
        })
    })
}

/// Creates ConfigMaps `cm-<i:05>` for every `i` in `range` in namespace `ns` (~1 KiB, labelled),
/// from `clients` connections. Returns creates per second.
pub(crate) fn fill(
    rt: &Runtime,
    addr: SocketAddr,
    ns: &str,
    range: std::ops::Range<usize>,
    clients: usize,
) -> Result<f64> {
    let count = range.len();
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(range.start));
    let path: Arc<str> = format!("/api/v1/namespaces/{ns}/configmaps").into();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let (next, path, end) = (next.clone(), path.clone(), range.end);
            rt.spawn(async move {
                let mut conn = Conn::open(addr).await?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        return anyhow::Ok(());
                    }
                    let shard = (i % 10).to_string();
                    let body = configmap(
                        &format!("cm-{i:05}"),
                        false,
                        &[("bench", "list"), ("shard", &shard)],
                    );
                    conn.expect(Method::POST, &path, body, StatusCode::CREATED)
                        .await
                        .with_context(|| format!("filling cm-{i:05} (client {client})"))?;
                }
            })
        })
        .collect();
    for task in tasks {
        rt.block_on(task)
            .map_err(|e| anyhow!("a filling task failed: {e}"))??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// A well-mixed number from two (splitmix64), to pick names without a random number generator.
pub(crate) fn mix(a: u64, b: u64) -> u64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// GETs of random `cm-<i:05>` (`i < objects`) in `default` from `clients` connections.
pub(crate) fn gets(
    rt: &Runtime,
    addr: SocketAddr,
    objects: usize,
    clients: usize,
    timing: Timing,
    pids: &[u32],
) -> Result<Window> {
    http(rt, addr, clients, timing, pids, move |client, i| {
        let n = mix(client as u64 + 1, i) % objects as u64;
        Req {
            method: Method::GET,
            path: format!("/api/v1/namespaces/default/configmaps/cm-{n:05}"),
            body: Bytes::new(),
            expect: StatusCode::OK,
        }
    })
}

/// Creates with `metadata.generateName: bench-` in `default`, one precomputed body for all.
pub(crate) fn creates(
    rt: &Runtime,
    addr: SocketAddr,
    clients: usize,
    timing: Timing,
    pids: &[u32],
) -> Result<Window> {
    let body = configmap("bench-", true, &[("bench", "create")]);
    http(rt, addr, clients, timing, pids, move |_, _| Req {
        method: Method::POST,
        path: "/api/v1/namespaces/default/configmaps".to_owned(),
        body: body.clone(),
        expect: StatusCode::CREATED,
    })
}
