//! The `embedded` section: kapi on its embedded store, a fresh server per part so counts don't
//! pollute each other.
//!
//! 1. Baseline: raw SQLite batched writes ([`sqlite`]) for one create window.
//! 2. Server A: creates (`generateName`, one precomputed body) at 1, 16 and 64 clients; the rate
//!    at 64 as a ratio of the baseline (goal ≥ 0.5).
//! 3. Server B: RSS idle; fill `cm-00000`.. (10,000); RSS; full LIST (consistent), paginated LIST
//!    and LIST at `resourceVersion=0`, each checking the item count; GETs by name at 64 clients;
//!    watch fan-out with 100 and 1,000 watchers; fill to 50,000; RSS.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::runtime::Runtime;

use crate::loadgen::{self, excerpt, with_query, Conn};
use crate::server::Server;
use crate::{per_sec, sqlite, thousands, watch, CpuRow, Plan, Report, Row};

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const WATCH_NAMESPACE: &str = "bench-watch";

pub(crate) fn run(rt: &Runtime, binary: &Path, plan: &Plan, report: &mut Report) -> Result<()> {
    let mut json = serde_json::Map::new();
    report.heading(&format!(
        "embedded store (creates: {} s windows after {} s warm-up)",
        plan.creates.window.as_secs(),
        plan.creates.warmup.as_secs()
    ));

    eprintln!(
        "bench embedded: raw SQLite batched writes ({} per transaction), {} s",
        sqlite::BATCH,
        plan.creates.window.as_secs()
    );
    let raw = sqlite::batched_writes(plan.creates.window).context("raw SQLite batched writes")?;
    eprintln!("bench embedded: raw SQLite: {}", per_sec(raw));
    json.insert("raw_sqlite_batched_rows_per_sec".into(), json!(raw));

    // Server A: creates.
    let mut server = Server::start(rt, binary, &[]).context("starting the apiserver (creates)")?;
    let (addr, pid) = (server.addr, server.pid());
    let mut creates = serde_json::Map::new();
    for clients in plan.clients {
        let w = loadgen::creates(rt, addr, clients, plan.creates, &[pid])
            .with_context(|| format!("creates at {clients} clients"));
        let w = server.annotate(w)?;
        eprintln!(
            "bench embedded: creates at {}: {} (p50 {:.1} ms, p99 {:.1} ms)",
            crate::clients(clients),
            per_sec(w.rate()),
            w.latency.p50_ms,
            w.latency.p99_ms
        );
        let last = clients == plan.clients[plan.clients.len() - 1];
        let ratio = w.rate() / raw;
        report.row(Row {
            measure: format!("creates/s, {}", crate::clients(clients)),
            kapi: format!("{} (p99 {:.1} ms)", per_sec(w.rate()), w.latency.p99_ms),
            baseline: if last {
                format!("raw SQLite {}/tx: {}", sqlite::BATCH, per_sec(raw))
            } else {
                String::new()
            },
            ratio: if last {
                format!("{ratio:.2}")
            } else {
                String::new()
            },
            anchor: "",
            goal: if last {
                "≥ 0.50 of raw SQLite batched"
            } else {
                ""
            },
            met: last.then_some(ratio >= 0.5),
        });
        report.cpu.push(CpuRow::of(
            format!("embedded creates, {}", crate::clients(clients)),
            &w,
            false,
        ));
        let mut entry = w.to_json(&["apiserver"]);
        if last {
            entry["ratio_to_raw_sqlite"] = json!(ratio);
        }
        creates.insert(clients.to_string(), entry);
    }
    json.insert("creates".into(), creates.into());
    drop(server);

    // Server B: memory, reads, watch.
    let mut server = Server::start(rt, binary, &[]).context("starting the apiserver (reads)")?;
    let reads = reads(rt, &server, plan, report, &mut json);
    server.annotate(reads)?;
    drop(server);
    report.json.insert("embedded".into(), json.into());
    Ok(())
}

/// Server B's measures.
fn reads(
    rt: &Runtime,
    server: &Server,
    plan: &Plan,
    report: &mut Report,
    json: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let (addr, pid, n) = (server.addr, server.pid(), plan.objects);
    std::thread::sleep(plan.settle);
    let rss_idle = server.rss_mib()?;
    eprintln!("bench embedded: RSS idle {rss_idle:.0} MiB; filling {n} ConfigMaps");
    let fill_rate =
        loadgen::fill(rt, addr, "default", 0..n, plan.get_clients).context("filling")?;
    std::thread::sleep(plan.settle);
    let rss_objects = server.rss_mib()?;
    eprintln!(
        "bench embedded: filled at {}; RSS {rss_objects:.0} MiB",
        per_sec(fill_rate)
    );

    let full = lists(rt, addr, CONFIGMAPS, plan.list_rounds, n).context("full LIST")?;
    eprintln!(
        "bench embedded: full LIST median {:.1} ms, best {:.1} ms",
        full.median, full.best
    );
    let rv0 = lists(
        rt,
        addr,
        &format!("{CONFIGMAPS}?resourceVersion=0"),
        plan.list_rounds,
        n,
    )
    .context("LIST resourceVersion=0")?;
    eprintln!(
        "bench embedded: LIST resourceVersion=0 median {:.1} ms",
        rv0.median
    );
    let paged =
        paged_lists(rt, addr, plan.page_limit, plan.page_rounds, n).context("paginated LIST")?;
    eprintln!(
        "bench embedded: paginated LIST (limit {}) median {:.1} ms for {} pages",
        plan.page_limit, paged.median, paged.pages
    );

    let get =
        loadgen::gets(rt, addr, n, plan.get_clients, plan.gets, &[pid]).context("GETs by name")?;
    eprintln!(
        "bench embedded: GETs at {} clients: {}",
        plan.get_clients,
        per_sec(get.rate())
    );

    watch::create_namespace(rt, addr, WATCH_NAMESPACE)?;
    let mut fan_outs = Vec::new();
    for watchers in plan.watchers {
        watch::check_fd_limit(watchers)?;
        let tag = format!("w{watchers}");
        let f = watch::fan_out(
            rt,
            addr,
            pid,
            WATCH_NAMESPACE,
            &tag,
            watchers,
            plan.watch_creates,
        )
        .with_context(|| format!("watch fan-out to {watchers} watchers"))?;
        eprintln!(
            "bench embedded: {watchers} watchers × {} creates: delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {} lost",
            f.creates, f.delay.p50_ms, f.delay.p99_ms, f.delay.max_ms, f.lost
        );
        fan_outs.push(f);
    }

    eprintln!("bench embedded: filling to {} ConfigMaps", plan.full);
    loadgen::fill(rt, addr, "default", n..plan.full, plan.get_clients)
        .context("filling to the full count")?;
    std::thread::sleep(plan.settle);
    let rss_full = server.rss_mib()?;
    eprintln!(
        "bench embedded: RSS {rss_full:.0} MiB at {} ConfigMaps",
        plan.full
    );

    let full_run = !plan.quick;
    let objects = thousands(n as u64);
    report.gets(
        format!("GETs/s by name, {} clients", plan.get_clients),
        format!("embedded GETs, {} clients", plan.get_clients),
        &get,
        false,
    );
    report.row(Row {
        measure: format!("full LIST of {objects} × 1 KiB, median (best)"),
        kapi: format!("{:.1} ms ({:.1})", full.median, full.best),
        anchor: "94–97 ms",
        goal: "≤ 47 ms",
        met: full_run.then_some(full.median <= 47.0),
        ..Row::default()
    });
    report.row(Row {
        measure: format!("  LIST resourceVersion=0 of {objects}, median (best)"),
        kapi: format!("{:.1} ms ({:.1})", rv0.median, rv0.best),
        ..Row::default()
    });
    report.row(Row {
        measure: format!(
            "  paginated LIST (limit {}), whole walk, median",
            plan.page_limit
        ),
        kapi: format!("{:.1} ms ({} pages)", paged.median, paged.pages),
        ..Row::default()
    });
    for f in &fan_outs {
        report.cpu.push(CpuRow::of(
            format!("watch events, {} watchers", f.watchers),
            &f.window,
            false,
        ));
        let (anchor, goal, limit) = if f.watchers == plan.watchers[0] {
            ("p99 11.2–11.4 ms (100)", "p99 ≤ 10 ms, 0 lost", 10.0)
        } else {
            ("", "p99 ≤ 20 ms, 0 lost", 20.0)
        };
        report.row(Row {
            measure: format!(
                "watch delay p50/p99/max, {} watchers × {} creates",
                f.watchers, f.creates
            ),
            kapi: format!(
                "{:.1}/{:.1}/{:.1} ms, {} lost",
                f.delay.p50_ms, f.delay.p99_ms, f.delay.max_ms, f.lost
            ),
            anchor,
            goal,
            met: if f.lost > 0 {
                Some(false)
            } else {
                full_run.then_some(f.delay.p99_ms <= limit)
            },
            ..Row::default()
        });
    }
    for (what, rss, anchor, goal, limit) in [
        (
            "RSS idle".to_owned(),
            rss_idle,
            "274–294 MiB",
            "≤ 100 MiB",
            100.0,
        ),
        (
            format!("RSS at {objects} objects"),
            rss_objects,
            "386–404 MiB (10k)",
            "≤ 200 MiB",
            200.0,
        ),
        (
            format!("RSS at {} objects", thousands(plan.full as u64)),
            rss_full,
            "815–830 MiB (50k)",
            "≤ 400 MiB",
            400.0,
        ),
    ] {
        report.row(Row {
            measure: what,
            kapi: format!("{rss:.0} MiB"),
            anchor,
            goal,
            met: full_run.then_some(rss <= limit),
            ..Row::default()
        });
    }
    report.row(Row {
        measure: format!(
            "  creates/s while filling, {} clients, named",
            plan.get_clients
        ),
        kapi: per_sec(fill_rate),
        ..Row::default()
    });

    json.insert(
        "rss_mib".into(),
        json!({"idle": rss_idle, "objects": rss_objects, "full": rss_full}),
    );
    json.insert("objects".into(), json!(n));
    json.insert("full".into(), json!(plan.full));
    json.insert("fill_creates_per_sec".into(), json!(fill_rate));
    json.insert("list_full".into(), full.to_json());
    json.insert("list_rv0".into(), rv0.to_json());
    json.insert("list_paginated".into(), paged.to_json());
    json.insert("gets".into(), get.to_json(&["apiserver"]));
    json.insert(
        "watch".into(),
        fan_outs
            .iter()
            .map(watch::FanOut::to_json)
            .collect::<Vec<_>>()
            .into(),
    );
    Ok(())
}

/// Times of repeated LISTs (or paginated walks), in ms.
#[derive(Debug, Clone)]
struct Lists {
    median: f64,
    best: f64,
    /// Items in every list (checked equal to the expected count).
    items: usize,
    /// Pages per walk.
    pages: usize,
    limit: Option<usize>,
    rounds: Vec<f64>,
}

impl Lists {
    fn new(mut rounds: Vec<f64>, items: usize, pages: usize, limit: Option<usize>) -> Lists {
        rounds.sort_by(f64::total_cmp);
        let median = rounds.get(rounds.len() / 2).copied().unwrap_or(f64::NAN);
        let best = rounds.first().copied().unwrap_or(f64::NAN);
        Lists {
            median,
            best,
            items,
            pages,
            limit,
            rounds,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!({"median_ms": self.median, "best_ms": self.best, "items": self.items, "pages": self.pages,
               "limit": self.limit, "rounds_ms": self.rounds})
    }
}

/// One page: its item count and `metadata.continue`.
fn page(body: &[u8]) -> Result<(usize, String)> {
    let list: serde_json::Value = serde_json::from_slice(body)
        .with_context(|| format!("the list is not JSON: {}", excerpt(body)))?;
    let Some(items) = list["items"].as_array() else {
        bail!("the list has no items array: {}", excerpt(body))
    };
    let cont = list["metadata"]["continue"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok((items.len(), cont))
}

/// `rounds` LISTs of `path` on one connection, each checked to hold `expect` items.
fn lists(
    rt: &Runtime,
    addr: std::net::SocketAddr,
    path: &str,
    rounds: usize,
    expect: usize,
) -> Result<Lists> {
    let path = path.to_owned();
    loadgen::run(rt, async move {
        let mut conn = Conn::open(addr).await?;
        let mut times = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let started = Instant::now();
            let body = conn
                .expect(Method::GET, &path, Bytes::new(), StatusCode::OK)
                .await?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            let (items, cont) = page(&body).with_context(|| format!("GET {path}"))?;
            if items != expect || !cont.is_empty() {
                bail!("GET {path} (round {round}): {items} items (continue {cont:?}), expected all {expect}");
            }
        }
        Ok(Lists::new(times, expect, 1, None))
    })
}

/// `rounds` walks of the ConfigMaps of `default` with `limit`, following `metadata.continue` to
/// the end, each checked to see `expect` items in all. Only the continue token is read while the
/// clock runs (a substring scan); the pages are parsed and counted after it stops.
fn paged_lists(
    rt: &Runtime,
    addr: std::net::SocketAddr,
    limit: usize,
    rounds: usize,
    expect: usize,
) -> Result<Lists> {
    loadgen::run(rt, async move {
        let mut conn = Conn::open(addr).await?;
        let mut times = Vec::with_capacity(rounds);
        let mut pages = Vec::new();
        for round in 0..rounds {
            let started = Instant::now();
            pages.clear();
            let mut cont = String::new();
            loop {
                let mut path = format!("{CONFIGMAPS}?limit={limit}");
                if !cont.is_empty() {
                    path = with_query(&path, "continue", &cont);
                }
                let body = conn
                    .expect(Method::GET, &path, Bytes::new(), StatusCode::OK)
                    .await
                    .with_context(|| format!("round {round}, page {}", pages.len()))?;
                cont = continue_token(&body);
                pages.push((path, body, cont.clone()));
                if cont.is_empty() {
                    break;
                }
                if pages.len() > expect / limit.max(1) + 2 {
                    bail!("round {round}: the walk did not end after {} pages of {limit} ({expect} items expected)", pages.len());
                }
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            let mut items = 0;
            for (path, body, scanned) in &pages {
                let (n, cont) = page(body).with_context(|| format!("GET {path}"))?;
                if n > limit {
                    bail!("GET {path}: {n} items, more than the limit");
                }
                if &cont != scanned {
                    bail!(
                        "GET {path}: metadata.continue is {cont:?}, but the scan found {scanned:?}"
                    );
                }
                items += n;
            }
            if items != expect {
                bail!(
                    "round {round}: the walk saw {items} items in {} pages, expected {expect}",
                    pages.len()
                );
            }
        }
        Ok(Lists::new(times, expect, pages.len(), Some(limit)))
    })
}

/// `metadata.continue` of a list, found by a substring scan before `"items":` (a list's metadata
/// comes first); empty if absent.
fn continue_token(body: &[u8]) -> String {
    const KEY: &[u8] = b"\"continue\":\"";
    let head = &body[..watch::find(body, b"\"items\":").unwrap_or(body.len())];
    let Some(at) = watch::find(head, KEY).map(|i| i + KEY.len()) else {
        return String::new();
    };
    let len = head[at..].iter().position(|&b| b == b'"').unwrap_or(0);
    String::from_utf8_lossy(&head[at..at + len]).into_owned()
}
