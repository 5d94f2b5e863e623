//! `cargo xtask bench etcd [--quick]`: creates/s through kapi on a real etcd at 16 and 64 clients, as
//! a ratio of raw etcd txn-creates at the same concurrency, measured in the same run (goal ≥ 0.60).
//!
//! One etcd member (the pinned 3.5.1 `cargo xtask test` provisions into `.tools/`) with fsync on, as
//! in production, and one release apiserver on it (`--etcd-servers`, protobuf storage). Then, for
//! each round (one with `--quick`, else two; the best of each measure is reported), interleaved to
//! spread the machine's noise: raw 16, kapi 16, raw 64, kapi 64.
//!
//! - raw: N tokio tasks in this process sharing one etcd-client connection, each creating unique
//!   keys `/bench-raw/r<round>n<N>/<task>/<i>` with kube-apiserver's create transaction
//!   (`create_revision == 0` → put) and a 1,100-byte value (a protobuf ConfigMap of 1 KiB data).
//! - kapi: N blocking keep-alive HTTP clients POSTing ConfigMaps with 1 KiB of data; anything but
//!   201 fails the bench.
//!
//! Each window runs 5 s (`--quick`: 2 s) after 1 s of warm-up and records, for etcd, the apiserver
//! and this load generator, the CPU they used and how long their threads waited for a CPU: on 2
//! shared cores they all compete, and CPU µs per create is the figure that survives the noise.
//! Results print as tables and go to `target/bench/etcd.json`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp};
use kapi_runtime::storage::etcd_process::{EtcdCluster, EtcdOptions};
use serde_json::json;

use super::{clients_ok, commit, drive, measure, read_body, write_report, Server, Usage, Window};

/// The concurrencies measured, in order.
const CLIENTS: [usize; 2] = [16, 64];
/// Size of a raw value: about a protobuf-encoded ConfigMap with 1 KiB of data.
const RAW_VALUE_BYTES: usize = 1100;
const WARMUP: Duration = Duration::from_secs(1);

/// One concurrency's windows in one round.
struct Round {
    raw: Window,
    kapi: Window,
}

pub(super) fn run(root: &Path, binary: &Path, quick: bool) -> Result<()> {
    let (rounds, secs) = if quick { (1, 2) } else { (2, 5) };
    let window = Duration::from_secs(secs);
    let etcd = start_etcd()?;
    let etcd_pid = etcd_pid(&etcd)?;
    let server = Server::start(binary, &[format!("--etcd-servers={}", etcd.endpoints())])
        .context("starting the apiserver on etcd")?;
    // Both windows watch the same processes: etcd, then the apiserver (idle in raw windows).
    let pids = [etcd_pid, server.pid()];
    let rt = tokio::runtime::Runtime::new()?;
    let mut client = rt
        .block_on(Client::connect(etcd.client_urls(), None))
        .with_context(|| format!("connecting to etcd at {}", etcd.endpoints()))?;
    let version = rt.block_on(client.status())?.version().to_owned();

    let mut results: Vec<Vec<Round>> = CLIENTS.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for (&clients, samples) in CLIENTS.iter().zip(&mut results) {
            let raw = raw_creates(&rt, &client, clients, round, window, &pids)
                .with_context(|| format!("raw etcd txn-creates at {clients} clients"))?;
            let kapi = kapi_creates(&server.url, clients, round, window, &pids)
                .with_context(|| format!("creates through kapi at {clients} clients"))?;
            eprintln!(
                "bench etcd: round {round}, {clients} clients: raw {:.0}/s, kapi {:.0}/s",
                raw.rate(),
                kapi.rate()
            );
            samples.push(Round { raw, kapi });
        }
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let commit = commit(root);
    println!(
        "kapi bench etcd (etcd {version}, 1 member, fsync on; protobuf storage; {secs} s windows after \
         {} s warm-up, best of {rounds}; {cores} cores; commit {commit}{})",
        WARMUP.as_secs(),
        if quick { ", --quick" } else { "" }
    );
    println!("  {:>7} {:>10} {:>15} {:>9}", "clients", "raw txn/s", "kapi creates/s", "kapi/raw");
    let mut report = serde_json::Map::new();
    let mut best = Vec::new();
    for (&clients, samples) in CLIENTS.iter().zip(&results) {
        let fastest = |w: fn(&Round) -> &Window| {
            samples.iter().map(w).max_by(|a, b| a.rate().total_cmp(&b.rate())).expect("at least one round")
        };
        let (raw, kapi) = (fastest(|r| &r.raw), fastest(|r| &r.kapi));
        let ratio = kapi.rate() / raw.rate();
        println!("  {clients:>7} {:>10.0} {:>15.0} {ratio:>9.2}", raw.rate(), kapi.rate());
        report.insert(clients.to_string(), json!({
            "raw_per_sec": raw.rate(),
            "kapi_per_sec": kapi.rate(),
            "ratio": ratio,
            "kapi_window": window_json(kapi),
            "raw_window": window_json(raw),
            "rounds": samples.iter().map(|r| json!({"raw_per_sec": r.raw.rate(), "kapi_per_sec": r.kapi.rate()})).collect::<Vec<_>>(),
        }));
        best.push((clients, raw, kapi));
    }
    println!("  CPU in those windows: cores used/cores' worth of threads waiting for a CPU; CPU µs per create");
    println!(
        "  {:>7} {:>6} {:>11} {:>11} {:>11}   µs/create: etcd+apiserver+loadgen",
        "clients", "window", "etcd", "apiserver", "loadgen"
    );
    for (clients, raw, kapi) in best {
        for (name, w) in [("raw", raw), ("kapi", kapi)] {
            let cores = |u: Usage| format!("{:.2}/{:.2}", u.cpu / w.secs, u.wait / w.secs);
            let micros = |u: Usage| u.cpu * 1e6 / w.ops as f64;
            let (etcd, apiserver, loadgen) = (micros(w.usage[0]), micros(w.usage[1]), micros(w.loadgen));
            println!(
                "  {clients:>7} {name:>6} {:>11} {:>11} {:>11}   {etcd:.0}+{apiserver:.0}+{loadgen:.0} = {:.0}",
                cores(w.usage[0]),
                cores(w.usage[1]),
                cores(w.loadgen),
                etcd + apiserver + loadgen
            );
        }
    }
    println!("  goal: kapi/raw >= 0.60. Anchor (this machine, kind): raw etcd 3.6 8,400-8,800 txn-creates/s at 16");
    println!("  clients, ~13,200/s at 64; kube-apiserver 2,000-2,400 creates/s.");
    let report = json!({
        "commit": commit, "quick": quick, "etcd_version": version, "fsync": true,
        "storage_media_type": "application/vnd.kubernetes.protobuf",
        "window_secs": secs, "warmup_secs": WARMUP.as_secs(), "rounds": rounds, "cores": cores,
        "raw_value_bytes": RAW_VALUE_BYTES,
        "clients": report,
    });
    write_report(root, "etcd.json", &report)
}

/// A window's rate and what etcd, the apiserver and the load generator used in it: CPU seconds and
/// seconds their threads waited for a CPU.
fn window_json(w: &Window) -> serde_json::Value {
    let usage = |u: Usage| json!({"cpu_seconds": u.cpu, "cpu_wait_seconds": u.wait});
    json!({
        "per_sec": w.rate(), "secs": w.secs,
        "etcd": usage(w.usage[0]), "apiserver": usage(w.usage[1]), "loadgen": usage(w.loadgen),
    })
}

/// One etcd member with fsync on. `EtcdCluster::start` panics when it can't: turned into an error.
fn start_etcd() -> Result<EtcdCluster> {
    let options = EtcdOptions {
        members: 1,
        tls: false,
        unsafe_no_fsync: false,
        progress_notify_interval: None,
        ..EtcdOptions::default()
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::panic::catch_unwind(|| EtcdCluster::start(options));
    std::panic::set_hook(hook);
    started.map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        let hint = "`cargo xtask test` provisions etcd 3.5.1 into .tools/bin";
        if why.contains("cargo xtask test") {
            anyhow!("etcd did not start: {why}")
        } else {
            anyhow!("etcd did not start: {why}\n({hint})")
        }
    })
}

/// The pid of the cluster's only member: the process whose command line names its data dir
/// (`EtcdCluster` does not expose its children).
fn etcd_pid(etcd: &EtcdCluster) -> Result<u32> {
    let arg = format!("--data-dir={}", etcd.dir().join("m0.etcd").display());
    for entry in std::fs::read_dir("/proc").context("reading /proc")? {
        let entry = entry?;
        let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if cmdline.split(|&b| b == 0).any(|a| a == arg.as_bytes()) {
            return Ok(pid);
        }
    }
    bail!("no process in /proc has {arg} on its command line")
}

/// `clients` tokio tasks sharing `client`'s connection, each creating unique keys with a create
/// transaction in a loop, for a [`measure`]d window.
fn raw_creates(rt: &tokio::runtime::Runtime, client: &Client, clients: usize, round: usize, window: Duration, pids: &[u32]) -> Result<Window> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|task| {
            let (stop, done, mut kv) = (stop.clone(), done.clone(), client.kv_client());
            rt.spawn(async move {
                let value = vec![b'x'; RAW_VALUE_BYTES];
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("/bench-raw/r{round}n{clients}/{task}/{i}");
                    let txn = Txn::new()
                        .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(key.as_str(), value.clone(), None)]);
                    if !kv.txn(txn).await.with_context(|| format!("txn-create of {key}"))?.succeeded() {
                        bail!("txn-create of {key}: the key exists");
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok(())
            })
        })
        .collect();
    let window = measure(&done, WARMUP, window, pids);
    stop.store(true, Ordering::Relaxed);
    clients_ok(tasks.into_iter().map(|t| rt.block_on(t).unwrap_or_else(|e| Err(anyhow!("a task failed: {e}")))))?;
    Ok(window)
}

/// `clients` HTTP clients POSTing ConfigMaps with 1 KiB of data, for a [`measure`]d window.
fn kapi_creates(url: &str, clients: usize, round: usize, window: Duration, pids: &[u32]) -> Result<Window> {
    let url = format!("{url}/api/v1/namespaces/default/configmaps");
    let data = "x".repeat(1024);
    drive(clients, WARMUP, window, pids, move |a, client, i| {
        let name = format!("b-r{round}n{clients}-{client}-{i}");
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{"d":"{data}"}}}}"#
        );
        let r = a.post(&url).header("content-type", "application/json").send(body.as_bytes())?;
        let status = r.status();
        let mut response = Vec::new();
        read_body(r, &mut response)?;
        if status != 201 {
            let response = String::from_utf8_lossy(&response[..response.len().min(300)]).into_owned();
            bail!("POST {name}: HTTP {status}: {response}");
        }
        Ok(())
    })
}
