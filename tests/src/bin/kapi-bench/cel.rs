//! The `cel` section: creates/s of a kind with ten `x-kubernetes-validations` rules (`CelWidget`)
//! against the same kind without them (`Widget`), on one server, in the same run: the cost of
//! running CEL on create.
//!
//! Both kinds live in `schemas/bench.kapi.dev/` beside this file; they are compiled into this
//! binary (not into the apiserver), which serves them when started with `KAPI_BENCH_SERVE=cel`
//! and apiserver flags ([`serve_if_asked`]). The windows alternate, plain then CEL, twice, at 16
//! clients POSTing one precomputed body with `generateName` (every rule holds on it, so each create
//! runs all ten); the ratio is of the sums.

use anyhow::{Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::runtime::Runtime;

use crate::loadgen::{self, Req, Window};
use crate::server::Server;
use crate::{per_sec, CpuRow, Plan, Report, Row};

#[allow(unreachable_pub, missing_docs, clippy::all)]
mod kinds {
    kapi_macros::include_schemas!("src/bin/kapi-bench/schemas");
}

/// The environment variable that makes this binary an apiserver of the bench's kinds.
const SERVE: &str = "KAPI_BENCH_SERVE";

/// When started with `KAPI_BENCH_SERVE=cel`, serves the bench's kinds (the process arguments are
/// apiserver flags) and never returns.
pub(crate) fn serve_if_asked() {
    if std::env::var_os(SERVE).is_some_and(|v| v == "cel") {
        let openapi = kapi_runtime::endpoints::openapi::OpenApiDocs { v2: "{}", v3: &[] };
        kapi_runtime::server::main(kapi_runtime::server::Generated { kinds: kinds::KINDS, openapi });
    }
}

/// A widget every rule of `CelWidget` holds on, about 1 KiB like the other sections' ConfigMaps.
fn body(kind: &str, padding: usize) -> Bytes {
    let labels: serde_json::Map<String, serde_json::Value> =
        (0..8).map(|i| (format!("team-{i}.example.com"), json!(format!("value-{i}")))).collect();
    let body = json!({
        "apiVersion": "bench.kapi.dev/v1", "kind": kind,
        "metadata": {"generateName": "bench-", "annotations": {"pad": "x".repeat(padding)}},
        "spec": {
            "image": "registry.example.com/team/widget:v1.2.3", "mode": "Scaled",
            "minReplicas": 1, "maxReplicas": 5, "schedule": "*/5 * * * 1-5", "memory": "512Mi",
            "labels": labels,
            "ports": [
                {"name": "http", "port": 8080, "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"},
            ],
        },
    });
    Bytes::from(body.to_string())
}

pub(crate) fn run(rt: &Runtime, plan: &Plan, report: &mut Report) -> Result<()> {
    let me = std::env::current_exe().context("finding this binary")?;
    let clients = plan.clients[1];
    report.heading(&format!(
        "CEL on create (embedded store, {} clients, {} s windows after {} s warm-up, alternating)",
        clients,
        plan.creates.window.as_secs(),
        plan.creates.warmup.as_secs()
    ));
    let mut server = Server::start_with_env(rt, &me, &[], &[(SERVE, "cel")])
        .context("starting the bench's apiserver (KAPI_BENCH_SERVE=cel)")?;
    let result = windows(rt, &server, plan, clients, report);
    server.annotate(result)
}

fn windows(rt: &Runtime, server: &Server, plan: &Plan, clients: usize, report: &mut Report) -> Result<()> {
    let (addr, pid) = (server.addr, server.pid());
    let kinds = [("Widget", "widgets"), ("CelWidget", "celwidgets")];
    // Check once that both are created (a rule that fails would make every window fail).
    for (kind, plural) in kinds {
        let path = format!("/apis/bench.kapi.dev/v1/namespaces/default/{plural}");
        let b = body(kind, 400);
        loadgen::run(rt, async move {
            let mut conn = loadgen::Conn::open(addr).await?;
            conn.expect(Method::POST, &path, b, StatusCode::CREATED).await?;
            Ok(())
        })
        .with_context(|| format!("creating a {kind}"))?;
    }
    let mut seen: [Vec<Window>; 2] = [Vec::new(), Vec::new()];
    for round in 0..2 {
        for (i, (kind, plural)) in kinds.into_iter().enumerate() {
            let path = format!("/apis/bench.kapi.dev/v1/namespaces/default/{plural}");
            let b = body(kind, 400);
            let w = loadgen::http(rt, addr, clients, plan.creates, &[pid], move |_, _| Req {
                method: Method::POST,
                path: path.clone(),
                body: b.clone(),
                expect: StatusCode::CREATED,
            })
            .with_context(|| format!("creating {kind}s (round {})", round + 1))?;
            eprintln!(
                "bench cel: {kind} creates at {} clients, round {}: {} (p99 {:.1} ms)",
                clients,
                round + 1,
                per_sec(w.rate()),
                w.latency.p99_ms
            );
            seen[i].push(w);
        }
    }
    let total = |ws: &[Window]| {
        let ops: u64 = ws.iter().map(|w| w.ops).sum();
        let secs: f64 = ws.iter().map(|w| w.secs).sum();
        let cpu: f64 = ws.iter().filter_map(|w| w.usage.first()).map(|u| u.cpu).sum();
        (ops as f64 / secs, cpu * 1e6 / ops.max(1) as f64)
    };
    let (plain, plain_us) = total(&seen[0]);
    let (cel, cel_us) = total(&seen[1]);
    eprintln!("bench cel: {} with ten rules, {} without: {:.2}", per_sec(cel), per_sec(plain), cel / plain);
    report.row(Row {
        measure: format!("creates/s, {clients} clients, 10 CEL rules"),
        kapi: per_sec(cel),
        baseline: format!("same kind, no rules: {}", per_sec(plain)),
        ratio: format!("{:.2}", cel / plain),
        ..Row::default()
    });
    report.row(Row {
        measure: "apiserver CPU µs per create, 10 CEL rules".into(),
        kapi: format!("{cel_us:.0} µs"),
        baseline: format!("same kind, no rules: {plain_us:.0} µs"),
        ratio: format!("{:.2}", cel_us / plain_us),
        ..Row::default()
    });
    for (i, name) in ["plain", "cel"].iter().enumerate() {
        for (round, w) in seen[i].iter().enumerate() {
            report.cpu.push(CpuRow::of(format!("{name} creates, round {}", round + 1), w, false));
        }
    }
    let json_of = |ws: &[Window]| ws.iter().map(|w| w.to_json(&["apiserver"])).collect::<Vec<_>>();
    report.json.insert(
        "cel".into(),
        json!({
            "clients": clients,
            "plain": json_of(&seen[0]), "cel": json_of(&seen[1]),
            "plain_per_sec": plain, "cel_per_sec": cel, "ratio": cel / plain,
            "plain_cpu_us_per_create": plain_us, "cel_cpu_us_per_create": cel_us,
        }),
    );
    Ok(())
}
