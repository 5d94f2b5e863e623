//! The `etcd` section: creates/s through kapi on a real etcd at 1, 16 and 64 clients, as a ratio
//! of raw etcd txn-creates at the same concurrency measured in the same run (goal ≥ 0.60), and
//! GETs by name at 64 clients.
//!
//! One etcd member (the pinned release `cargo xtask test` provisions into `.tools/`) with fsync on,
//! as in production, and one apiserver on it (`--etcd-servers`, protobuf storage). The windows are
//! interleaved to spread the machine's noise: raw 1, kapi 1, raw 16, kapi 16, raw 64, kapi 64.
//!
//! - raw: N tokio tasks in this process sharing one connection of the runtime's etcd client, each creating unique
//!   keys `/bench-raw/n<N>/<task>/<i>` with kube-apiserver's create transaction
//!   (`create_revision == 0` → put) and a 1,100-byte value (a protobuf ConfigMap of 1 KiB data).
//! - kapi: N HTTP connections POSTing one precomputed ConfigMap body with `generateName`.
//!
//! Every window records, for etcd, the apiserver and this load generator, the CPU they used and how
//! long their threads waited for a CPU: on 2 shared cores they all compete, and CPU µs per create is
//! the figure that survives the noise.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use kapi_runtime::storage::etcd3::client::{Client, ConnectOptions};
use kapi_runtime::storage::etcd3::rpc::etcdserverpb::compare::CompareResult;
use kapi_runtime::storage::etcd3::rpc::etcdserverpb::{Compare, RequestOp, TxnRequest};
use serde_json::json;
use tokio::runtime::Runtime;

use crate::loadgen::{self, Timing, Window};
use crate::server::{etcd_pid, start_etcd, Server};
use crate::{per_sec, CpuRow, Plan, Report, Row};

/// Size of a raw value: about a protobuf-encoded ConfigMap with 1 KiB of data.
const RAW_VALUE_BYTES: usize = 1100;

pub(crate) fn run(rt: &Runtime, binary: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    eprintln!("bench etcd: starting etcd and the apiserver on it");
    let etcd = start_etcd()?;
    let etcd_pid = etcd_pid(&etcd)?;
    let mut server = Server::start(
        rt,
        binary,
        &[format!("--etcd-servers={}", etcd.endpoints())],
    )
    .context("starting the apiserver on etcd")?;
    let (addr, pids) = (server.addr, [etcd_pid, server.pid()]);
    let urls = etcd.client_urls();
    let (client, version) = loadgen::run(rt, async move {
        let client = Client::connect(&ConnectOptions {
            endpoints: urls,
            ..Default::default()
        })
        .await
        .context("connecting to etcd")?;
        let version = client.status().await.context("etcd status")?.version;
        Ok((client, version))
    })?;
    report.heading(&format!(
        "etcd {version}, 1 member, fsync on (creates: {} s windows after {} s warm-up, raw and kapi interleaved)",
        plan.creates.window.as_secs(),
        plan.creates.warmup.as_secs()
    ));

    let mut creates = serde_json::Map::new();
    for clients in plan.clients {
        let raw = raw_creates(rt, &client, clients, plan.creates, &pids)
            .with_context(|| format!("raw etcd txn-creates at {clients} clients"))?;
        let kapi = loadgen::creates(rt, addr, clients, plan.creates, &pids)
            .with_context(|| format!("creates through kapi on etcd at {clients} clients"));
        let kapi = server.annotate(kapi)?;
        let ratio = kapi.rate() / raw.rate();
        eprintln!(
            "bench etcd: {}: raw {}, kapi {} ({ratio:.2})",
            crate::clients(clients),
            per_sec(raw.rate()),
            per_sec(kapi.rate())
        );
        let (anchor, goal, floor) = match clients {
            16 => (
                "2,000–2,160/s",
                "≥ 4,400/s and ≥ 0.60 of raw",
                Some(4_400.0),
            ),
            64 => (
                "2,200–2,400/s",
                "≥ 5,000/s and ≥ 0.60 of raw",
                Some(5_000.0),
            ),
            _ => ("", "", None),
        };
        report.row(Row {
            measure: format!("creates/s on etcd, {}", crate::clients(clients)),
            kapi: format!(
                "{} (p99 {:.1} ms)",
                per_sec(kapi.rate()),
                kapi.latency.p99_ms
            ),
            baseline: format!("raw etcd txn: {}", per_sec(raw.rate())),
            ratio: format!("{ratio:.2}"),
            anchor,
            goal,
            met: floor.map(|f| kapi.rate() >= f && ratio >= 0.6),
        });
        report.cpu.push(CpuRow::of(
            format!("etcd raw txn-creates, {}", crate::clients(clients)),
            &raw,
            true,
        ));
        report.cpu.push(CpuRow::of(
            format!("etcd kapi creates, {}", crate::clients(clients)),
            &kapi,
            true,
        ));
        creates.insert(
            clients.to_string(),
            json!({
                "raw": raw.to_json(&["etcd", "apiserver"]),
                "kapi": kapi.to_json(&["etcd", "apiserver"]),
                "ratio": ratio,
            }),
        );
    }

    eprintln!("bench etcd: filling {} ConfigMaps", plan.etcd_objects);
    let fill = loadgen::fill(rt, addr, "default", 0..plan.etcd_objects, plan.get_clients)
        .context("filling");
    let fill = server.annotate(fill)?;
    let get = loadgen::gets(
        rt,
        addr,
        plan.etcd_objects,
        plan.get_clients,
        plan.gets,
        &pids,
    )
    .context("GETs by name on etcd");
    let get = server.annotate(get)?;
    eprintln!(
        "bench etcd: GETs at {} clients: {}",
        plan.get_clients,
        per_sec(get.rate())
    );
    report.gets(
        format!("GETs/s by name on etcd, {} clients", plan.get_clients),
        format!("etcd kapi GETs, {} clients", plan.get_clients),
        &get,
        true,
    );

    report.json.insert(
        "etcd".into(),
        json!({
            "etcd_version": version, "fsync": true, "members": 1,
            "storage_media_type": "application/vnd.kubernetes.protobuf",
            "raw_value_bytes": RAW_VALUE_BYTES,
            "creates": creates,
            "objects": plan.etcd_objects,
            "fill_creates_per_sec": fill,
            "gets": get.to_json(&["etcd", "apiserver"]),
        }),
    );
    drop(server);
    Ok(())
}

/// `clients` tasks sharing `client`'s connection, each creating unique keys with kube-apiserver's
/// create transaction in a loop, for a measured window.
fn raw_creates(
    rt: &Runtime,
    client: &Client,
    clients: usize,
    timing: Timing,
    pids: &[u32],
) -> Result<Window> {
    let value = Bytes::from(vec![b'x'; RAW_VALUE_BYTES]);
    loadgen::drive(rt, clients, timing, pids, |task, load| {
        let (client, value) = (client.clone(), value.clone());
        rt.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while !load.stopped() {
                let name = format!("/bench-raw/n{clients}/{task}/{i}");
                i += 1;
                let key = Bytes::copy_from_slice(name.as_bytes());
                let txn = TxnRequest {
                    compare: vec![Compare::create_revision(key.clone(), CompareResult::Equal, 0)],
                    success: vec![RequestOp::put(key.clone(), value.clone())],
                    failure: vec![],
                };
                let started = Instant::now();
                match client.txn(txn).await {
                    Ok(r) if r.succeeded => load.completed(started, &mut latencies),
                    Ok(_) => {
                        load.fail();
                        bail!("txn-create of {name}: the key exists");
                    }
                    Err(e) => {
                        load.fail();
                        return Err(anyhow!(e).context(format!("txn-create of {name}")));
                    }
                }
            }
            Ok(latencies)
        })
    })
}
