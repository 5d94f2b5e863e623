//! Watch fan-out: W watchers on one namespace, one client creating ConfigMaps there one after
//! another; the delay of every event from the start of the create that caused it, and the events
//! that never arrived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio::runtime::Runtime;

use crate::loadgen::{self, configmap, excerpt, Conn, Latency, Meter, Window};

/// How long watchers may take to get their response headers, all together.
const SETUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long after the last create the watchers wait for stragglers.
const STRAGGLERS: Duration = Duration::from_secs(30);
/// How much of an event line is searched first for its name and type.
const HEAD: usize = 256;
/// How many watches are being opened at once (a burst of 1,000 connects overflows accept queues).
const OPENING: usize = 64;

/// What a fan-out saw.
#[derive(Debug, Clone)]
pub(crate) struct FanOut {
    pub(crate) watchers: usize,
    pub(crate) creates: usize,
    /// Delay from the start of a create to its event's arrival, over every event received.
    pub(crate) delay: Latency,
    pub(crate) received: usize,
    pub(crate) lost: usize,
    /// Seconds until every watcher had its response headers.
    pub(crate) setup_secs: f64,
    /// From the first create to the last watcher done: events received, and the CPU the apiserver
    /// and this load generator used (one thread reads every watcher's events: when it is busy, the
    /// delays are partly its own).
    pub(crate) window: Window,
}

impl FanOut {
    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({
            "watchers": self.watchers, "creates": self.creates,
            "delay_ms": {"p50": self.delay.p50_ms, "p99": self.delay.p99_ms, "max": self.delay.max_ms},
            "events_received": self.received, "events_lost": self.lost, "setup_secs": self.setup_secs,
            "events": self.window.to_json(&["apiserver"]),
        })
    }
}

/// Fails unless this process may open `2 × watchers + 256` files (the soft `RLIMIT_NOFILE`, read
/// from /proc/self/limits: the bench raises nothing).
pub(crate) fn check_fd_limit(watchers: usize) -> Result<()> {
    let limits =
        std::fs::read_to_string("/proc/self/limits").context("reading /proc/self/limits")?;
    let Some(soft) = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
    else {
        bail!("no \"Max open files\" line in /proc/self/limits");
    };
    let need = 2 * watchers + 256;
    if soft != "unlimited" && soft.parse::<usize>().map_or(true, |s| s < need) {
        bail!("{watchers} watchers need at least {need} open files, but the soft limit is {soft}: raise it (`ulimit -n {need}`) and rerun");
    }
    Ok(())
}

/// Creates namespace `ns`.
pub(crate) fn create_namespace(rt: &Runtime, addr: SocketAddr, ns: &str) -> Result<()> {
    let body = Bytes::from(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}).to_string(),
    );
    loadgen::run(rt, async move {
        let mut conn = Conn::open(addr).await?;
        conn.expect(
            Method::POST,
            "/api/v1/namespaces",
            body,
            StatusCode::CREATED,
        )
        .await?;
        Ok(())
    })
    .with_context(|| format!("creating namespace {ns}"))
}

/// Opens `watchers` watches on the ConfigMaps of `ns` from its current resourceVersion, waits until
/// each has its response headers, creates `creates` ConfigMaps `<tag>-<i:05>` there one after
/// another, and collects when each watcher saw each. `pid` is the apiserver's.
pub(crate) fn fan_out(
    rt: &Runtime,
    addr: SocketAddr,
    pid: u32,
    ns: &str,
    tag: &str,
    watchers: usize,
    creates: usize,
) -> Result<FanOut> {
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let (ns, tag) = (ns.to_owned(), tag.to_owned());
    loadgen::run(rt, async move {
        let mut creator = Conn::open(addr).await?;
        let list = creator
            .expect(
                Method::GET,
                &format!("{path}?limit=1"),
                Bytes::new(),
                StatusCode::OK,
            )
            .await
            .context("listing for a resourceVersion")?;
        let list: serde_json::Value = serde_json::from_slice(&list)
            .with_context(|| format!("the list is not JSON: {}", excerpt(&list)))?;
        let Some(rv) = list["metadata"]["resourceVersion"].as_str() else {
            bail!(
                "the list has no metadata.resourceVersion: {}",
                excerpt(list.to_string().as_bytes())
            );
        };
        let watch_path = format!("{path}?watch=true&resourceVersion={rv}");

        let started = Instant::now();
        let opening = Arc::new(tokio::sync::Semaphore::new(OPENING));
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<Result<()>>(watchers);
        let (give_up_tx, give_up_rx) = tokio::sync::watch::channel(false);
        let prefix: Arc<[u8]> = format!("\"name\":\"{tag}-").into_bytes().into();
        let tasks: Vec<_> = (0..watchers)
            .map(|w| {
                let (opening, ready, mut give_up) =
                    (opening.clone(), ready_tx.clone(), give_up_rx.clone());
                let (watch_path, prefix) = (watch_path.clone(), prefix.clone());
                tokio::spawn(async move {
                    let opened = async {
                        let _permit = opening.acquire().await?;
                        let mut conn = Conn::open(addr).await?;
                        let response = conn.send(Method::GET, &watch_path, Bytes::new()).await?;
                        if response.status() != StatusCode::OK {
                            let status = response.status();
                            let body = response
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            bail!("HTTP {status}: {}", excerpt(&body));
                        }
                        Ok((conn, response.into_body()))
                    }
                    .await;
                    let (_conn, mut body) = match opened {
                        Ok(o) => o,
                        Err(e) => {
                            let e = e.context(format!("watcher {w}: GET {watch_path}"));
                            let _ = ready.send(Err(anyhow!("{e:#}"))).await;
                            return Err(e);
                        }
                    };
                    let _ = ready.send(Ok(())).await;
                    let mut seen = vec![false; creates];
                    let mut arrivals: Vec<(u32, Instant)> = Vec::with_capacity(creates);
                    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
                    while arrivals.len() < creates {
                        let frame = tokio::select! {
                            frame = body.frame() => frame,
                            _ = give_up.changed() => break,
                        };
                        let Some(frame) = frame else { break };
                        let frame =
                            frame.with_context(|| format!("watcher {w}: reading the watch"))?;
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        let at = Instant::now();
                        buf.extend_from_slice(&data);
                        let mut start = 0;
                        while let Some(end) = buf[start..].iter().position(|&b| b == b'\n') {
                            let line = &buf[start..start + end];
                            start += end + 1;
                            match created_index(line, &prefix) {
                                // A repeated event (there should be none) counts once.
                                Some(i) if i < creates && !seen[i] => {
                                    seen[i] = true;
                                    arrivals.push((i as u32, at));
                                }
                                _ if find(&line[..line.len().min(HEAD)], b"\"type\":\"ERROR\"")
                                    .is_some() =>
                                {
                                    bail!("watcher {w}: an ERROR event: {}", excerpt(line));
                                }
                                _ => {}
                            }
                        }
                        buf.drain(..start);
                    }
                    Ok(arrivals)
                })
            })
            .collect();
        drop(ready_tx);
        let setup = async {
            for _ in 0..watchers {
                match ready_rx.recv().await {
                    Some(Ok(())) => {}
                    Some(Err(e)) => return Err(e),
                    None => bail!("a watcher ended before its watch started"),
                }
            }
            Ok(())
        };
        tokio::time::timeout(SETUP_TIMEOUT, setup)
            .await
            .map_err(|_| {
                anyhow!(
                    "not every watcher had its response headers after {} s",
                    SETUP_TIMEOUT.as_secs()
                )
            })??;
        let setup_secs = started.elapsed().as_secs_f64();

        let meter = Meter::start(&[pid]);
        let mut starts = Vec::with_capacity(creates);
        for i in 0..creates {
            let body = configmap(&format!("{tag}-{i:05}"), false, &[("bench", "watch")]);
            starts.push(Instant::now());
            creator
                .expect(Method::POST, &path, body, StatusCode::CREATED)
                .await
                .with_context(|| format!("creating {tag}-{i:05} in {ns}"))?;
        }
        tokio::spawn(async move {
            tokio::time::sleep(STRAGGLERS).await;
            let _ = give_up_tx.send(true);
        });

        let mut delays = Vec::with_capacity(watchers * creates);
        for task in tasks {
            let arrivals = task
                .await
                .map_err(|e| anyhow!("a watcher task failed: {e}"))??;
            delays.extend(arrivals.into_iter().map(|(i, at)| {
                let delay = at.saturating_duration_since(starts[i as usize]);
                u32::try_from(delay.as_micros()).unwrap_or(u32::MAX)
            }));
        }
        let received = delays.len();
        let window = meter.stop(received as u64);
        Ok(FanOut {
            watchers,
            creates,
            delay: Latency::of(delays),
            received,
            lost: watchers * creates - received,
            setup_secs,
            window,
        })
    })
}

/// The index `i` of an event line about `<tag>-<i>`, whose `metadata.name` starts with `prefix`
/// (`"name":"<tag>-`): a substring scan, no JSON parsing. The name comes early in an event
/// (`{"type":..,"object":{"kind":..,"apiVersion":..,"metadata":{"name":..`), so the line's head
/// is searched first: one thread scans every watcher's events.
fn created_index(line: &[u8], prefix: &[u8]) -> Option<usize> {
    let head = &line[..line.len().min(HEAD)];
    let at = find(head, prefix).or_else(|| find(line, prefix))? + prefix.len();
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if line.get(at + digits) != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// Where `needle` starts in `haystack`: candidates by their first byte, then compared.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let last = haystack.len().checked_sub(needle.len())?;
    (0..=last).find(|&i| haystack[i] == first && &haystack[i..i + needle.len()] == needle)
}
