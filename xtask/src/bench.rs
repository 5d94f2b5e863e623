//! `cargo xtask bench [--quick]`: starts a release apiserver on the embedded store and measures it
//! with a load generator in this process (blocking HTTP/1.1 keep-alive clients, one per thread).
//!
//! Measured now (the API machinery issue's figures): a full LIST of 10,000 ConfigMaps of 1 KiB
//! (from the watch cache: consistent and `resourceVersion=0`), and GETs by name at 64 concurrent
//! clients. The benchmarks issue extends this with creates, watch fan-out, RSS and in-run
//! baselines. Results print as a table and go to `target/bench/api.json`.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .max_idle_connections_per_host(256)
        .build()
        .into()
}

fn start(root: &Path) -> Result<Server> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "apiserver", "--bin", "apiserver"])
        .current_dir(root)
        .status()
        .context("building the release apiserver")?;
    if !status.success() {
        bail!("building the release apiserver failed");
    }
    let dir = tempfile::Builder::new().prefix("kapi-bench-").tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let target = std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| root.join("target"));
    let child = Command::new(target.join("release/apiserver"))
        .arg(format!("--insecure-port={port}"))
        .arg(format!("--data-dir={}", dir.path().join("data").display()))
        .arg("--max-requests-inflight=0")
        .arg("--max-mutating-requests-inflight=0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the apiserver")?;
    let server = Server { child, url: format!("http://127.0.0.1:{port}"), _dir: dir };
    let a = agent();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = a.get(format!("{}/readyz", server.url)).call() {
            if r.status() == 200 {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("the apiserver did not become ready");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
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
    for _ in 0..rounds {
        let started = Instant::now();
        let r = a.get(format!("{url}/api/v1/namespaces/default/configmaps{query}")).call()?;
        let mut body = Vec::new();
        r.into_body().as_reader().read_to_end(&mut body)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let items = serde_json::from_slice::<serde_json::Value>(&body)?["items"].as_array().map_or(0, Vec::len);
        if items != expect {
            bail!("LIST returned {items} items, expected {expect}");
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0]))
}

/// CPU seconds (user + system) a process has used, from /proc (Linux; 0 elsewhere).
fn cpu_seconds(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may contain spaces) start at `) `.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the full line: 12 and 13 after the command.
    (ticks(11) + ticks(12)) / 100.0
}

/// GETs by name from `clients` threads for `secs`: requests per second, and the CPU seconds per
/// wall second the server and this load generator used meanwhile.
fn gets(url: &str, clients: usize, n: usize, secs: u64, server_pid: u32) -> Result<(f64, f64, f64)> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (url, stop, done) = (url.to_string(), stop.clone(), done.clone());
            std::thread::spawn(move || -> Result<()> {
                let a = agent();
                let mut i = t * 7919;
                let mut buf = Vec::with_capacity(4096);
                while !stop.load(Ordering::Relaxed) {
                    i = (i + 104_729) % n;
                    let r = a.get(format!("{url}/api/v1/namespaces/default/configmaps/cm-{i:05}")).call()?;
                    if r.status() != 200 {
                        bail!("GET: HTTP {}", r.status());
                    }
                    buf.clear();
                    r.into_body().as_reader().read_to_end(&mut buf)?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let server_pid = server_pid.to_string();
    let (server_cpu0, self_cpu0) = (cpu_seconds(&server_pid), cpu_seconds("self"));
    let (start_count, started) = (done.load(Ordering::Relaxed), Instant::now());
    std::thread::sleep(Duration::from_secs(secs));
    let count = done.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    let server_cores = (cpu_seconds(&server_pid) - server_cpu0) / elapsed;
    let loadgen_cores = (cpu_seconds("self") - self_cpu0) / elapsed;
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("a client panicked"))??;
    }
    Ok((count as f64 / elapsed, server_cores, loadgen_cores))
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let (n, rounds, secs) = if quick { (500, 3, 2) } else { (10_000, 15, 10) };
    let server = start(root)?;
    let url = server.url.clone();
    let fill_time = fill(&url, n)?;
    let (consistent, consistent_best) = list(&url, "", rounds, n)?;
    let (rv0, rv0_best) = list(&url, "?resourceVersion=0", rounds, n)?;
    let (get_rate, server_cores, loadgen_cores) = gets(&url, 64, n, secs, server.child.id())?;
    let commit = Command::new("git").args(["rev-parse", "--short", "HEAD"]).current_dir(root).output().ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    println!("kapi bench ({} ConfigMaps of 1 KiB, commit {commit}{})", n, if quick { ", --quick" } else { "" });
    println!("  {:<44} {:>12}  anchor: kube-apiserver v1.36 on this machine kind", "measure", "kapi");
    println!("  {:<44} {:>9.1} ms  94-97 ms (goal <= 47 ms)", "full LIST, consistent (median)", consistent);
    println!("  {:<44} {:>9.1} ms", "full LIST, consistent (best)", consistent_best);
    println!("  {:<44} {:>9.1} ms", "full LIST, resourceVersion=0 (median)", rv0);
    println!("  {:<44} {:>9.1} ms", "full LIST, resourceVersion=0 (best)", rv0_best);
    println!("  {:<44} {:>10.0}/s  4,500-4,800/s (goal >= 9,600/s)", "GET by name, 64 clients", get_rate);
    println!("  {:<44} {:>8.2} cores (load generator: {loadgen_cores:.2} cores)", "  CPU used by the apiserver meanwhile", server_cores);
    println!("  {:<44} {:>10.0}/s", "creates while filling, 16 clients", n as f64 / fill_time.as_secs_f64());
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let report = json!({
        "commit": commit, "quick": quick, "objects": n,
        "list_consistent_ms": {"median": consistent, "best": consistent_best},
        "list_rv0_ms": {"median": rv0, "best": rv0_best},
        "get_per_sec_64": get_rate,
        "get_server_cores": server_cores,
        "get_loadgen_cores": loadgen_cores,
        "fill_creates_per_sec_16": n as f64 / fill_time.as_secs_f64(),
    });
    std::fs::write(out.join("api.json"), serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}
