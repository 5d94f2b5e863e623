//! `cargo xtask bench [api|etcd] [--quick]` (which runs this binary in release): starts a release apiserver and measures it with a load
//! generator in this process (blocking HTTP/1.1 keep-alive clients, one per thread). With no section
//! named, every section runs.
//!
//! - `api` (the API machinery issue's figures), on the embedded store: a full LIST of 10,000
//!   ConfigMaps of 1 KiB (from the watch cache: consistent and `resourceVersion=0`), and GETs by
//!   name at 64 concurrent clients → `target/bench/api.json`.
//! - `etcd` (the etcd3 issue's figure): creates/s through kapi on a real etcd at 16 and 64 clients
//!   as a ratio of raw etcd txn-creates at the same concurrency, measured in the same run (see
//!   [`etcd`]) → `target/bench/etcd.json`.
//!
//! The machines are shared, noisy and have 2 cores, so absolute times lie: what counts are ratios
//! against baselines measured in the same run, and the CPU every process used meanwhile (the load
//! generator competes with the server for the same cores).

mod etcd;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&kapi_tests::project_root(), &args)
}

fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut sections = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            "api" | "etcd" => sections.push(arg.as_str()),
            other => bail!("cargo xtask bench: unknown argument {other:?} (usage: bench [api|etcd] [--quick])"),
        }
    }
    if sections.is_empty() {
        sections = vec!["api", "etcd"];
    }
    let binary = build_apiserver(root)?;
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            println!();
        }
        match *section {
            "api" => api(root, &binary, quick)?,
            _ => etcd::run(root, &binary, quick)?,
        }
    }
    Ok(())
}

/// Builds the release apiserver; returns the binary's path (in `$CARGO_TARGET_DIR` if set).
fn build_apiserver(root: &Path) -> Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "apiserver", "--bin", "apiserver"])
        .current_dir(root)
        .status()
        .context("building the release apiserver")?;
    if !status.success() {
        bail!("building the release apiserver failed");
    }
    // A relative CARGO_TARGET_DIR is relative to where cargo ran: the root, above.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    Ok(target.join("release/apiserver"))
}

/// A running apiserver; killed on drop.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `binary` on a free port with its own temp `--data-dir`, no inflight limits and `args`,
    /// and waits (60 s) until `/readyz` answers 200. Fails with the tail of its output otherwise.
    fn start(binary: &Path, args: &[String]) -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("kapi-bench-").tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log_path = dir.path().join("apiserver.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(binary)
            // Plain HTTP on loopback: the bench measures the API, not TLS.
            .arg(format!("--insecure-port={port}"))
            .arg("--secure-port=0")
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg("--max-requests-inflight=0")
            .arg("--max-mutating-requests-inflight=0")
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting the apiserver {}", binary.display()))?;
        let mut server = Server { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
        let a = agent();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = a.get(format!("{}/readyz", server.url)).call() {
                if r.status() == 200 {
                    return Ok(server);
                }
            }
            let why = match server.child.try_wait()? {
                Some(status) => format!("exited ({status})"),
                None if Instant::now() > deadline => "did not become ready in 60 s".to_owned(),
                None => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            let output = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = output.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
            bail!("the apiserver ({} {}) {why}; its last output:\n{}", binary.display(), args.join(" "), tail.join("\n"));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A blocking HTTP/1.1 client with keep-alive; statuses are not errors.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .max_idle_connections_per_host(256)
        .build()
        .into()
}

/// The short hash of HEAD, for the reports.
fn commit(root: &Path) -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Writes `report` to `<root>/target/bench/<name>`.
fn write_report(root: &Path, name: &str, report: &serde_json::Value) -> Result<()> {
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(name), serde_json::to_vec_pretty(report)?)?;
    Ok(())
}

/// CPU seconds (user + system) a process (all its threads) has used, from /proc (Linux; 0
/// elsewhere). `pid` is a number or `self`.
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may contain spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the full line: 12 and 13 after the command.
    (ticks(11) + ticks(12)) / 100.0
}

/// Seconds the live threads of a process have spent runnable but waiting for a CPU, from
/// /proc/<pid>/task/*/schedstat (Linux with schedstats; 0 elsewhere). On a shared 2-core machine
/// this is where latency hides that CPU seconds don't show.
fn wait_seconds(pid: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
    let nanos: u64 = tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    nanos as f64 / 1e9
}

/// What a process used in a window: CPU seconds, and seconds its threads waited for a CPU.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    cpu: f64,
    wait: f64,
}

impl Usage {
    fn now(pid: &str) -> Usage {
        Usage { cpu: cpu_seconds(pid), wait: wait_seconds(pid) }
    }

    fn since(pid: &str, before: Usage) -> Usage {
        let now = Usage::now(pid);
        Usage { cpu: now.cpu - before.cpu, wait: now.wait - before.wait }
    }
}

/// What one measuring window saw.
#[derive(Debug, Clone)]
struct Window {
    /// Operations completed in the window.
    ops: u64,
    /// The window's wall time.
    secs: f64,
    /// What each watched process used in the window, in the order given.
    usage: Vec<Usage>,
    /// What this process (the load generator) used in the window.
    loadgen: Usage,
}

impl Window {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs
    }

    /// CPU seconds per wall second ("cores") of watched process `i`.
    fn cores(&self, i: usize) -> f64 {
        self.usage[i].cpu / self.secs
    }

    fn loadgen_cores(&self) -> f64 {
        self.loadgen.cpu / self.secs
    }
}

/// Waits `warmup`, then counts what `done` grows by in the next `secs` and what `pids` and this
/// process use meanwhile. The load runs elsewhere (threads, a tokio runtime).
fn measure(done: &AtomicU64, warmup: Duration, secs: Duration, pids: &[u32]) -> Window {
    std::thread::sleep(warmup);
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let before: Vec<Usage> = pids.iter().map(|p| Usage::now(p)).collect();
    let self_before = Usage::now("self");
    let (ops0, started) = (done.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(secs);
    let ops = done.load(Ordering::Relaxed) - ops0;
    let secs = started.elapsed().as_secs_f64();
    Window {
        ops,
        secs,
        usage: pids.iter().zip(before).map(|(p, b)| Usage::since(p, b)).collect(),
        loadgen: Usage::since("self", self_before),
    }
}

/// Runs `op(agent, client, iteration)` in a loop on `clients` threads, each with its own keep-alive
/// agent, and [`measure`]s a window of `secs` after `warmup`. A failing `op` stops its client; the
/// bench then fails with the first few errors.
fn drive<F>(clients: usize, warmup: Duration, secs: Duration, pids: &[u32], op: F) -> Result<Window>
where
    F: Fn(&ureq::Agent, usize, u64) -> Result<()> + Send + Sync + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let op = Arc::new(op);
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let (stop, done, op) = (stop.clone(), done.clone(), op.clone());
            std::thread::spawn(move || -> Result<()> {
                let a = agent();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    op(&a, client, i)?;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok(())
            })
        })
        .collect();
    let window = measure(&done, warmup, secs, pids);
    stop.store(true, Ordering::Relaxed);
    clients_ok(threads.into_iter().map(|t| t.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a client panicked")))))?;
    Ok(window)
}

/// Fails with the first few errors if any client's result is one.
fn clients_ok(results: impl Iterator<Item = Result<()>>) -> Result<()> {
    let (mut clients, mut errors) = (0, Vec::new());
    for result in results {
        clients += 1;
        if let Err(e) = result {
            errors.push(format!("{e:#}"));
        }
    }
    if !errors.is_empty() {
        bail!("{} of {clients} clients failed; the first:\n  {}", errors.len(), errors[..errors.len().min(5)].join("\n  "));
    }
    Ok(())
}

/// Reads a response's body to the end (so the connection is reused) into `buf`.
fn read_body(r: ureq::http::Response<ureq::Body>, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    r.into_body().as_reader().read_to_end(buf)?;
    Ok(())
}

/// Creates `n` ConfigMaps of ~1 KiB with 16 writers.
fn fill(url: &str, n: usize) -> Result<Duration> {
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (url, next) = (url.to_string(), next.clone());
            std::thread::spawn(move || -> Result<()> {
                let a = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        return Ok(());
                    }
                    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": format!("cm-{i:05}"), "labels": {"bench": "list"}},
                        "data": {"payload": "x".repeat(1024)}});
                    let r = a
                        .post(format!("{url}/api/v1/namespaces/default/configmaps"))
                        .header("content-type", "application/json")
                        .send(serde_json::to_vec(&body)?.as_slice())?;
                    if r.status() != 201 {
                        bail!("create {i}: HTTP {}", r.status());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a writer panicked"))??;
    }
    Ok(started.elapsed())
}

/// Median and best of `rounds` full LISTs.
fn list(url: &str, query: &str, rounds: usize, expect: usize) -> Result<(f64, f64)> {
    let a = agent();
    let mut times = Vec::with_capacity(rounds);
    let mut body = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        read_body(a.get(format!("{url}/api/v1/namespaces/default/configmaps{query}")).call()?, &mut body)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let items = serde_json::from_slice::<serde_json::Value>(&body)?["items"].as_array().map_or(0, Vec::len);
        if items != expect {
            bail!("LIST returned {items} items, expected {expect}");
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0]))
}

/// GETs by name from 64 clients for `secs` (after 1 s of warm-up), the server's CPU watched.
fn gets(url: &str, n: usize, secs: u64, server_pid: u32) -> Result<Window> {
    let url = url.to_string();
    drive(64, Duration::from_secs(1), Duration::from_secs(secs), &[server_pid], move |a, client, iteration| {
        let i = (client * 7919 + (iteration as usize + 1) * 104_729) % n;
        let r = a.get(format!("{url}/api/v1/namespaces/default/configmaps/cm-{i:05}")).call()?;
        if r.status() != 200 {
            bail!("GET cm-{i:05}: HTTP {}", r.status());
        }
        read_body(r, &mut Vec::with_capacity(4096))
    })
}

/// The `api` section, on the embedded store.
fn api(root: &Path, binary: &Path, quick: bool) -> Result<()> {
    let (n, rounds, secs) = if quick { (500, 3, 2) } else { (10_000, 15, 10) };
    let server = Server::start(binary, &[])?;
    let url = server.url.clone();
    let fill_time = fill(&url, n)?;
    let (consistent, consistent_best) = list(&url, "", rounds, n)?;
    let (rv0, rv0_best) = list(&url, "?resourceVersion=0", rounds, n)?;
    let get = gets(&url, n, secs, server.pid())?;
    let (get_rate, server_cores, loadgen_cores) = (get.rate(), get.cores(0), get.loadgen_cores());
    let commit = commit(root);
    println!("kapi bench api ({} ConfigMaps of 1 KiB, commit {commit}{})", n, if quick { ", --quick" } else { "" });
    println!("  {:<44} {:>12}  anchor: kube-apiserver v1.36 on this machine kind", "measure", "kapi");
    println!("  {:<44} {:>9.1} ms  94-97 ms (goal <= 47 ms)", "full LIST, consistent (median)", consistent);
    println!("  {:<44} {:>9.1} ms", "full LIST, consistent (best)", consistent_best);
    println!("  {:<44} {:>9.1} ms", "full LIST, resourceVersion=0 (median)", rv0);
    println!("  {:<44} {:>9.1} ms", "full LIST, resourceVersion=0 (best)", rv0_best);
    println!("  {:<44} {:>10.0}/s  4,500-4,800/s (goal >= 9,600/s)", "GET by name, 64 clients", get_rate);
    println!("  {:<44} {:>8.2} cores (load generator: {loadgen_cores:.2} cores)", "  CPU used by the apiserver meanwhile", server_cores);
    println!("  {:<44} {:>10.0}/s", "creates while filling, 16 clients", n as f64 / fill_time.as_secs_f64());
    let report = json!({
        "commit": commit, "quick": quick, "objects": n,
        "list_consistent_ms": {"median": consistent, "best": consistent_best},
        "list_rv0_ms": {"median": rv0, "best": rv0_best},
        "get_per_sec_64": get_rate,
        "get_server_cores": server_cores,
        "get_loadgen_cores": loadgen_cores,
        "fill_creates_per_sec_16": n as f64 / fill_time.as_secs_f64(),
    });
    write_report(root, "api.json", &report)
}
