//! The apiserver on a real etcd (issue 5's acceptance), black-box over HTTP: storage media types as
//! etcdctl sees them, mutual TLS to etcd, two apiservers sharing one etcd (watch, optimistic
//! concurrency, no lost updates), losing the etcd leader under write load, and a whole etcd outage.
//!
//! etcd is the pinned release `cargo xtask test` provisions into .tools/; without it these fail
//! (naming `cargo xtask test`), they never skip. The apiserver binary is the one built into the
//! same target dir as this test (`cargo build -p apiserver`).
//!
//! The two timing-sensitive tests live in `mod serial_timing`, so nextest's `serial_` override
//! (.config/nextest.toml) runs them with every test slot: alone on the 2 CI cores.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kapi_tests::server::Reply;
use kapi_tests::{EtcdCluster, EtcdOptions, Server, Watcher};
use serde_json::{json, Value};

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn configmap(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

/// `metadata.resourceVersion` of an object or list.
fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"].as_str().unwrap_or_else(|| panic!("no resourceVersion in {v}")).to_owned()
}

/// Starts an apiserver on `etcd` with `extra` flags.
fn apiserver(etcd: &EtcdCluster, extra: &[&str]) -> Server {
    let servers = format!("--etcd-servers={}", etcd.endpoints());
    let mut args = vec![servers.as_str()];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The reply's JSON, asserting its status first.
fn expect(r: &Reply, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    r.json()
}

/// `(status, reason)` of a reply whose body is a `Status` (panics otherwise).
fn status_reason(r: &Reply) -> (u16, String) {
    let v = r.json();
    assert_eq!(v["kind"], "Status", "not a Status ({}): {v}", r.status);
    (r.status, v["reason"].as_str().unwrap_or("").to_owned())
}

/// The raw value of `key` as `etcdctl get --print-value-only` prints it (one trailing newline
/// removed).
fn etcd_value(etcd: &EtcdCluster, key: &str) -> Vec<u8> {
    let out = etcd.etcdctl(&["get", key, "--print-value-only"]);
    assert!(out.status.success(), "etcdctl get {key}: {}", String::from_utf8_lossy(&out.stderr));
    let mut value = out.stdout;
    assert!(!value.is_empty(), "{key} is not in etcd");
    if value.last() == Some(&b'\n') {
        value.pop();
    }
    value
}

#[test]
fn json_media_type_is_readable_with_etcdctl() {
    let etcd = EtcdCluster::start(EtcdOptions::default());
    let json_server = apiserver(&etcd, &["--storage-media-type=application/json"]);
    let x_data = json!({"greeting": "hello", "multi": "line one\nline two", "n": "1"});
    let x = expect(&json_server.post_json(CONFIGMAPS, &configmap("x", x_data.clone())), 201, "create x");

    let stored = etcd_value(&etcd, "/registry/configmaps/default/x");
    let stored: Value = serde_json::from_slice(&stored).unwrap_or_else(|e| {
        panic!("x is not stored as JSON ({e}): {}", String::from_utf8_lossy(&stored))
    });
    assert_eq!(stored["kind"], "ConfigMap", "{stored}");
    assert_eq!(stored["apiVersion"], "v1", "{stored}");
    assert_eq!(stored["metadata"]["name"], "x", "{stored}");
    assert_eq!(stored["metadata"]["namespace"], "default", "{stored}");
    assert_eq!(stored["metadata"]["uid"], x["metadata"]["uid"], "{stored}");
    assert_eq!(stored["data"], x_data, "{stored}");

    // A second apiserver on the same etcd, storing protobuf (the default).
    let proto_server = apiserver(&etcd, &[]);
    let y_data = json!({"greeting": "hi", "n": "2"});
    expect(&proto_server.post_json(CONFIGMAPS, &configmap("y", y_data.clone())), 201, "create y");
    let stored_y = etcd_value(&etcd, "/registry/configmaps/default/y");
    assert!(
        stored_y.starts_with(b"k8s\0"),
        "y is not stored as Kubernetes protobuf: {:?}",
        String::from_utf8_lossy(&stored_y[..stored_y.len().min(64)])
    );
    // x was not rewritten by the second server's start.
    assert_eq!(etcd_value(&etcd, "/registry/configmaps/default/x").first(), Some(&b'{'));

    // Both formats read back through either server.
    for (server, which) in [(&json_server, "json server"), (&proto_server, "protobuf server")] {
        for (name, data) in [("x", &x_data), ("y", &y_data)] {
            let got = expect(&server.get(&format!("{CONFIGMAPS}/{name}")), 200, &format!("{which}: get {name}"));
            assert_eq!(got["kind"], "ConfigMap", "{which}: {got}");
            assert_eq!(got["apiVersion"], "v1", "{which}: {got}");
            assert_eq!(&got["data"], data, "{which}: {got}");
        }
        let list = expect(&server.get(CONFIGMAPS), 200, &format!("{which}: list"));
        let names: BTreeSet<&str> =
            list["items"].as_array().into_iter().flatten().filter_map(|i| i["metadata"]["name"].as_str()).collect();
        assert!(names.contains("x") && names.contains("y"), "{which}: {names:?}");
    }

    // An update through the protobuf server rewrites x as protobuf; the JSON server still reads it
    // (and writes JSON again).
    let mut x_now = expect(&proto_server.get(&format!("{CONFIGMAPS}/x")), 200, "get x");
    x_now["data"]["n"] = json!("3");
    expect(&proto_server.put_json(&format!("{CONFIGMAPS}/x"), &x_now), 200, "update x via protobuf server");
    assert!(etcd_value(&etcd, "/registry/configmaps/default/x").starts_with(b"k8s\0"));
    let mut x_now = expect(&json_server.get(&format!("{CONFIGMAPS}/x")), 200, "get x");
    assert_eq!(x_now["data"]["n"], "3");
    x_now["data"]["n"] = json!("4");
    expect(&json_server.put_json(&format!("{CONFIGMAPS}/x"), &x_now), 200, "update x via json server");
    let stored: Value = serde_json::from_slice(&etcd_value(&etcd, "/registry/configmaps/default/x"))
        .unwrap_or_else(|e| panic!("x is not JSON again after the JSON server's update: {e}"));
    assert_eq!(stored["data"]["n"], "4");
}

#[test]
fn mutual_tls_to_etcd() {
    let etcd = EtcdCluster::start(EtcdOptions { tls: true, ..EtcdOptions::default() });
    let endpoints = etcd.endpoints();
    assert!(endpoints.starts_with("https://"), "{endpoints}");
    let tls = etcd.tls().expect("a TLS cluster has certificates");
    let servers = format!("--etcd-servers={endpoints}");
    let cafile = format!("--etcd-cafile={}", tls.ca().display());
    let certfile = format!("--etcd-certfile={}", tls.client_cert().display());
    let keyfile = format!("--etcd-keyfile={}", tls.client_key().display());

    // The refusals run alongside the working server: a missing client certificate only shows when
    // etcd rejects the handshake, and the apiserver retries that for a while before giving up.
    std::thread::scope(|scope| {
        let no_client_cert =
            scope.spawn(|| Server::start_failure(&[&servers, &cafile], Duration::from_secs(90)));
        let no_ca = scope.spawn(|| Server::start_failure(&[&servers, &certfile, &keyfile], Duration::from_secs(30)));

        let server = Server::start(&[&servers, &cafile, &certfile, &keyfile]);
        let created = expect(&server.post_json(CONFIGMAPS, &configmap("secure", json!({"k": "v"}))), 201, "create");
        let got = expect(&server.get(&format!("{CONFIGMAPS}/secure")), 200, "get");
        assert_eq!(got["data"]["k"], "v");
        assert_eq!(rv(&got), rv(&created));
        assert_eq!(server.get("/readyz/etcd").status, 200);
        // It really is in that etcd (etcdctl with the client certificate).
        assert!(etcd_value(&etcd, "/registry/configmaps/default/secure").starts_with(b"k8s\0"));

        let failure = no_ca.join().expect("the no-CA start-up thread");
        assert!(!failure.status.success(), "{failure:?}");
        assert!(failure.output.contains("--etcd-cafile"), "https without --etcd-cafile: {}", failure.output);
        eprintln!("https without --etcd-cafile ({:?}, {}):\n{}", failure.elapsed, failure.status, failure.output);

        let failure = no_client_cert.join().expect("the no-client-certificate start-up thread");
        eprintln!("no client certificate ({:?}, {}):\n{}", failure.elapsed, failure.status, failure.output);
        assert!(!failure.status.success(), "{failure:?}");
        assert!(failure.output.to_lowercase().contains("etcd"), "no client certificate: {}", failure.output);
        // Helpful: it names the etcd it could not use.
        assert!(failure.output.contains(&endpoints), "the error does not name {endpoints}: {}", failure.output);
        assert!(failure.output.to_lowercase().contains("certificate"), "the error does not say why: {}", failure.output);
        assert!(!failure.output.contains("panicked"), "{}", failure.output);
    });
}

#[test]
fn two_apiservers_share_one_etcd() {
    let etcd = EtcdCluster::start(EtcdOptions::default());
    let (a, b) = (apiserver(&etcd, &[]), apiserver(&etcd, &[]));

    // B watches from its current list; A creates: B sees it at A's resourceVersion.
    let list_rv = rv(&expect(&b.get(CONFIGMAPS), 200, "list on B"));
    let watch = Watcher::start(&b.client(), CONFIGMAPS, &list_rv);
    let created = expect(&a.post_json(CONFIGMAPS, &configmap("shared", json!({"from": "a"}))), 201, "create on A");
    let seen = watch.wait_until(Duration::from_secs(10), |s| s.names("ADDED").contains(&"shared".to_owned()));
    let snapshot = watch.snapshot();
    assert!(seen, "B's watch saw no ADDED shared within 10 s: {snapshot:?}");
    let added = snapshot
        .events
        .iter()
        .find(|e| e["object"]["metadata"]["name"] == "shared")
        .expect("the event for shared");
    assert_eq!(added["type"], "ADDED", "{snapshot:?}");
    assert_eq!(rv(&added["object"]), rv(&created), "B's ADDED vs A's create");
    assert_eq!(added["object"]["metadata"]["uid"], created["metadata"]["uid"]);

    // B updates; A reads it.
    let mut obj = expect(&b.get(&format!("{CONFIGMAPS}/shared")), 200, "get on B");
    obj["data"]["from"] = json!("b");
    let updated = expect(&b.put_json(&format!("{CONFIGMAPS}/shared"), &obj), 200, "update on B");
    let on_a = expect(&a.get(&format!("{CONFIGMAPS}/shared")), 200, "get on A");
    assert_eq!(on_a["data"]["from"], "b", "{on_a}");
    assert_eq!(rv(&on_a), rv(&updated));
    assert!(
        watch.wait_until(Duration::from_secs(10), |s| s.names("MODIFIED").contains(&"shared".to_owned())),
        "B's watch saw no MODIFIED: {:?}",
        watch.snapshot()
    );

    // Optimistic concurrency across replicas: both PUT with the same resourceVersion at once.
    for round in 0..5 {
        let base = expect(&a.get(&format!("{CONFIGMAPS}/shared")), 200, "get");
        let barrier = std::sync::Barrier::new(2);
        let replies: Vec<Reply> = std::thread::scope(|scope| {
            let handles: Vec<_> = [(&a, "a"), (&b, "b")]
                .into_iter()
                .map(|(server, who)| {
                    let (barrier, mut body) = (&barrier, base.clone());
                    body["data"]["round"] = json!(format!("{round}-{who}"));
                    scope.spawn(move || {
                        barrier.wait();
                        server.put_json(&format!("{CONFIGMAPS}/shared"), &body)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a PUT thread")).collect()
        });
        let mut codes: Vec<u16> = replies.iter().map(|r| r.status).collect();
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "round {round}: {replies:?}");
        let conflict = replies.iter().find(|r| r.status == 409).expect("a 409");
        assert_eq!(status_reason(conflict), (409, "Conflict".to_owned()), "{}", conflict.text());
        let winner = replies.iter().find(|r| r.status == 200).expect("a 200").json();
        // Both replicas agree on the winner.
        for server in [&a, &b] {
            let now = expect(&server.get(&format!("{CONFIGMAPS}/shared")), 200, "get");
            assert_eq!(now["data"]["round"], winner["data"]["round"]);
            assert_eq!(rv(&now), rv(&winner));
        }
    }

    // Problems found below; reported together so one does not hide the other.
    let mut problems = Vec::new();

    // The same body twice with the same resourceVersion, one per replica: the second is a
    // conflict too (the precondition holds even when the write would change nothing), else two
    // clients that read n and both write n+1 each think their increment landed.
    let base = expect(&a.get(&format!("{CONFIGMAPS}/shared")), 200, "get");
    let mut same = base.clone();
    // A field the client already manages: the managedFields of the two writes agree too.
    same["data"]["from"] = json!("same body");
    let first = expect(&a.put_json(&format!("{CONFIGMAPS}/shared"), &same), 200, "update on A");
    // Once B has seen that write, B gets the same body with the old resourceVersion.
    let first_rv = rv(&first);
    assert!(
        watch.wait_until(Duration::from_secs(10), |s| s.events.iter().any(|e| rv(&e["object"]) == first_rv)),
        "B's watch did not see A's update at {first_rv}: {:?}",
        watch.snapshot()
    );
    assert_eq!(rv(&expect(&b.get(&format!("{CONFIGMAPS}/shared")), 200, "get on B")), first_rv);
    let second = b.put_json(&format!("{CONFIGMAPS}/shared"), &same);
    if second.status != 409 {
        problems.push(format!(
            "a PUT with the stale resourceVersion {} and a body equal to the stored object answered {} \
             (kube-apiserver: 409 Conflict): {}",
            rv(&base),
            second.status,
            second.text()
        ));
    }

    // No lost update: 2 threads per replica, 25 read-modify-writes each, retrying conflicts.
    expect(&a.post_json(CONFIGMAPS, &configmap("counter", json!({"n": "0"}))), 201, "create counter");
    let path = format!("{CONFIGMAPS}/counter");
    let started = Instant::now();
    let conflicts: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = [&a, &a, &b, &b]
            .into_iter()
            .map(|server| {
                let path = &path;
                scope.spawn(move || {
                    let mut conflicts = 0;
                    for _ in 0..25 {
                        loop {
                            let mut cm = expect(&server.get(path), 200, "get counter");
                            let n: u64 = cm["data"]["n"].as_str().and_then(|n| n.parse().ok()).expect("a count");
                            cm["data"]["n"] = json!((n + 1).to_string());
                            let r = server.put_json(path, &cm);
                            match r.status {
                                200 => break,
                                409 => {
                                    assert_eq!(status_reason(&r).1, "Conflict", "{}", r.text());
                                    conflicts += 1;
                                }
                                _ => panic!("increment: {} {}", r.status, r.text()),
                            }
                        }
                    }
                    conflicts
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("an incrementing thread")).sum()
    });
    eprintln!("100 increments by 4 threads on 2 replicas: {conflicts} conflicts retried, {:?}", started.elapsed());
    for (server, which) in [(&a, "A"), (&b, "B")] {
        let counter = expect(&server.get(&path), 200, "get counter");
        if counter["data"]["n"] != "100" {
            problems.push(format!(
                "lost updates: 100 acknowledged increments, the counter on {which} is {} ({} at resourceVersion {})",
                counter["data"]["n"],
                counter["metadata"]["name"],
                rv(&counter)
            ));
        }
    }
    let snapshot = watch.snapshot();
    assert!(snapshot.gave_up.is_none(), "B's watch: {snapshot:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

mod serial_timing {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::OnceLock;

    use super::*;

    /// What one writer of [`leader_kill_during_writes`] did.
    #[derive(Debug, Default)]
    struct Writer {
        /// Sequence numbers whose create was acknowledged (201, or 409 AlreadyExists on a retry).
        acked: BTreeSet<u32>,
        /// A sequence number still failing when the writer had to stop (its create is ambiguous).
        abandoned: Option<u32>,
        /// (sent, answered) of every successful request.
        successes: Vec<(Instant, Instant)>,
        /// Failed attempts (5xx, transport errors and [`CREATE_TIMEOUT`]s): when answered, and what.
        failures: Vec<(Instant, String)>,
        /// Retries answered 409 AlreadyExists: an earlier, failed-looking attempt had landed.
        landed_anyway: usize,
    }

    /// How long a writer waits for one create. etcd answers a proposal that was forwarded to a
    /// leader that just died only after its own request timeout (7 s: 5 s + 2 election timeouts,
    /// "etcdserver: request timed out, possibly due to previous leader failure"); like a client
    /// with a deadline, the writer gives up sooner and retries (on a member that knows the new
    /// leader by then). Without this, every writer can be parked in such a request and the first
    /// create after the kill only succeeds 7 s later, however soon etcd accepts writes again.
    const CREATE_TIMEOUT: Duration = Duration::from_secs(2);

    /// Creates `s-<writer>-<seq>` in `path` with increasing seq until `stop`, retrying a failed
    /// create of the same name (for up to `give_up` once stopped).
    fn write(server: &Server, path: &str, writer: usize, stop: &AtomicBool, give_up: Duration) -> Writer {
        let mut log = Writer::default();
        for seq in 0u32.. {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let name = format!("s-{writer}-{seq}");
            let body = configmap(&name, json!({"writer": writer.to_string(), "seq": seq.to_string()}));
            let mut stopped_at: Option<Instant> = None;
            for attempt in 0.. {
                let sent = Instant::now();
                let r = server.post_json_within(path, &body, CREATE_TIMEOUT);
                let answered = Instant::now();
                match r.status {
                    201 => {
                        log.acked.insert(seq);
                        log.successes.push((sent, answered));
                        break;
                    }
                    409 if attempt > 0 && status_reason(&r).1 == "AlreadyExists" => {
                        log.acked.insert(seq);
                        log.landed_anyway += 1;
                        log.successes.push((sent, answered));
                        break;
                    }
                    0 | 429 | 500..=599 => {
                        log.failures.push((answered, format!("{name}: {} {}", r.status, r.text())));
                        if stop.load(Ordering::SeqCst) && stopped_at.get_or_insert(answered).elapsed() > give_up {
                            log.abandoned = Some(seq);
                            return log;
                        }
                        std::thread::sleep(Duration::from_millis(25));
                    }
                    _ => panic!("create {name} (attempt {attempt}): unexpected {} {}", r.status, r.text()),
                }
            }
        }
        log
    }

    /// Creates namespace `name` and waits until configmaps can be created in it.
    fn namespace(server: &Server, name: &str) {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        expect(&server.post_json("/api/v1/namespaces", &ns), 201, "create namespace");
        let path = format!("/api/v1/namespaces/{name}/configmaps");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = server.post_json(&path, &configmap("probe", json!({})));
            if r.status == 201 {
                return;
            }
            assert!(Instant::now() < deadline, "creating in namespace {name}: {} {}", r.status, r.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One probe of [`leader_kill_during_writes`]: a single create (`p-<n>`, no retry).
    #[derive(Debug)]
    struct Probe {
        name: String,
        sent: Instant,
        answered: Instant,
        status: u16,
    }

    /// With one of three members down (quorum intact), every write succeeds: a request the client
    /// routes to the dead member never left, so it goes to another member instead of failing.
    #[test]
    fn follower_down_writes_all_succeed() {
        let mut etcd = EtcdCluster::start(EtcdOptions { members: 3, unsafe_no_fsync: true, ..EtcdOptions::default() });
        let server = apiserver(&etcd, &[]);
        let leader = etcd.leader();
        etcd.kill((leader + 1) % 3);
        let mut failed = Vec::new();
        for i in 0..100 {
            let r = server.post_json(CONFIGMAPS, &configmap(&format!("f{i}"), json!({"i": i.to_string()})));
            if r.status != 201 {
                failed.push(format!("f{i}: {} {}", r.status, r.text()));
            }
        }
        assert!(failed.is_empty(), "{} of 100 creates failed with a follower down: {:?}", failed.len(), &failed[..failed.len().min(3)]);
        let listed = expect(&server.get(CONFIGMAPS), 200, "list");
        assert_eq!(listed["items"].as_array().map(Vec::len), Some(100));
    }

    #[test]
    fn leader_kill_during_writes() {
        const WRITERS: usize = 8;
        // fsync stays off: SIGKILL leaves written data in the page cache, so an acknowledged write
        // survives the kill either way; fsync would only add disk latency (large and erratic on
        // shared CI disks) to every raft round, not test anything the kill does.
        let mut etcd = EtcdCluster::start(EtcdOptions { members: 3, unsafe_no_fsync: true, ..EtcdOptions::default() });
        let server = apiserver(&etcd, &[]);
        namespace(&server, "load");
        let path = "/api/v1/namespaces/load/configmaps";
        let list_rv = rv(&expect(&server.get(path), 200, "list"));
        let watch = Watcher::start(&server.client(), path, &list_rv);

        let stop = AtomicBool::new(false);
        let killed_at: OnceLock<(Instant, usize)> = OnceLock::new();
        let (writers, probes): (Vec<Writer>, Vec<Probe>) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let (server, stop) = (&server, &stop);
                    scope.spawn(move || write(server, path, w, stop, Duration::from_secs(20)))
                })
                .collect();
            std::thread::sleep(Duration::from_secs(2));
            let leader = etcd.leader();
            etcd.kill(leader);
            let killed = Instant::now();
            let _ = killed_at.set((killed, leader));
            // The writers' creates are parked in whatever etcd does with them at the kill; a fresh
            // create every 100 ms (each on its own thread, given 10 s) shows when etcd takes writes
            // again.
            let mut probes = Vec::new();
            for n in 0.. {
                let due = killed + Duration::from_millis(100 * n);
                if due > killed + Duration::from_secs(5) {
                    break;
                }
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let server = &server;
                probes.push(scope.spawn(move || {
                    let name = format!("p-{n}");
                    let sent = Instant::now();
                    let r = server.post_json_within(path, &configmap(&name, json!({})), Duration::from_secs(10));
                    Probe { name, sent, answered: Instant::now(), status: r.status }
                }));
            }
            stop.store(true, Ordering::SeqCst);
            let writers = handles.into_iter().map(|h| h.join().expect("a writer thread")).collect();
            (writers, probes.into_iter().map(|h| h.join().expect("a probe thread")).collect())
        });
        let (killed, leader) = *killed_at.get().expect("the leader was killed");

        // Writes resumed: the first create sent after the kill that succeeded.
        let successes: Vec<(Instant, Instant)> = writers
            .iter()
            .flat_map(|w| w.successes.iter().copied())
            .chain(probes.iter().filter(|p| p.status == 201).map(|p| (p.sent, p.answered)))
            .collect();
        let resumed = successes
            .iter()
            .filter(|(sent, _)| *sent >= killed)
            .map(|(_, answered)| answered.duration_since(killed))
            .min();
        let before = successes.iter().filter(|(_, answered)| *answered < killed).count();
        let after = successes.len() - before;
        let mut answered: Vec<Instant> = successes.iter().map(|s| s.1).collect();
        answered.sort();
        let longest_gap = answered.windows(2).map(|p| p[1] - p[0]).max().unwrap_or_default();
        let mut failures: Vec<&(Instant, String)> = writers.iter().flat_map(|w| &w.failures).collect();
        failures.sort_by_key(|f| f.0);
        let landed_anyway: usize = writers.iter().map(|w| w.landed_anyway).sum();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, what) in &failures {
            let kind = if what.contains(": 0 ") {
                "client gave up (timeout or transport)"
            } else if what.contains("request timed out") {
                "etcd: request timed out"
            } else if what.contains("transport error") || what.contains("connect error") {
                "connection to the dead member"
            } else {
                "other"
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let probe_log: Vec<String> = probes
            .iter()
            .map(|p| {
                format!(
                    "{}@{:.1}s:{}({:.2}s)",
                    p.name,
                    p.sent.duration_since(killed).as_secs_f64(),
                    p.status,
                    (p.answered - p.sent).as_secs_f64()
                )
            })
            .collect();
        eprintln!(
            "leader m{leader} killed; writes resumed {resumed:?} after the kill; {before} creates before, \
             {after} after; longest pause between acknowledgements {longest_gap:?}; {} failed writer attempts \
             {kinds:?} ({landed_anyway} retries found the earlier attempt had landed); first failures: {:?}\n\
             probes (name@sent:status(took)): {}",
            failures.len(),
            failures.iter().take(3).map(|(at, what)| (at.saturating_duration_since(killed), what)).collect::<Vec<_>>(),
            probe_log.join(" ")
        );
        let resumed = resumed.unwrap_or_else(|| panic!("no create succeeded after killing the leader: {failures:?}"));
        let failed_after_resume = failures.iter().filter(|(at, _)| *at > killed + resumed).count();
        let probes_failed_after_resume =
            probes.iter().filter(|p| p.status != 201 && p.sent > killed + resumed).count();
        eprintln!(
            "after writes resumed: {failed_after_resume} writer attempts and {probes_failed_after_resume} of {} \
             probes still failed",
            probes.iter().filter(|p| p.sent > killed + resumed).count()
        );
        assert!(resumed < Duration::from_secs(5), "writes resumed only {resumed:?} after the leader was killed");
        assert!(before > 0, "no create succeeded before the kill");
        for (w, log) in writers.iter().enumerate() {
            assert!(log.abandoned.is_none(), "writer {w} still failing 20 s after stopping: {:?}", log.failures.last());
        }

        // Acknowledged creates: the writers' and the probes' that answered 201. A probe that failed
        // is ambiguous (it may have landed): it may be listed and watched, but at most once.
        let acked: BTreeSet<String> = writers
            .iter()
            .enumerate()
            .flat_map(|(w, log)| log.acked.iter().map(move |&seq| format!("s-{w}-{seq}")))
            .chain(probes.iter().filter(|p| p.status == 201).map(|p| p.name.clone()))
            .collect();
        let ambiguous: BTreeSet<String> = probes.iter().filter(|p| p.status != 201).map(|p| p.name.clone()).collect();
        let ours = |n: &str| n.starts_with("s-") || n.starts_with("p-");

        // Every acknowledged create is in a final LIST.
        let list = expect(&server.get(path), 200, "final list");
        let listed: BTreeSet<&str> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["metadata"]["name"].as_str())
            .filter(|n| ours(n))
            .collect();
        let missing: Vec<&String> = acked.iter().filter(|n| !listed.contains(n.as_str())).collect();
        assert!(missing.is_empty(), "acknowledged but not listed: {missing:?}");
        let unacked: Vec<&&str> = listed.iter().filter(|n| !acked.contains(**n) && !ambiguous.contains(**n)).collect();
        assert!(unacked.is_empty(), "listed but never sent: {unacked:?}");

        // The watch saw every acknowledged object exactly once.
        let all_seen = watch.wait_until(Duration::from_secs(20), |s| {
            let seen: BTreeSet<String> = s.names("ADDED").into_iter().collect();
            acked.iter().all(|n| seen.contains(n)) || s.gave_up.is_some()
        });
        // A little longer, for duplicates that would follow.
        std::thread::sleep(Duration::from_millis(500));
        let seen = watch.snapshot();
        assert!(seen.gave_up.is_none(), "the watch stopped: {:?}", seen.gave_up);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for name in seen.names("ADDED").into_iter().filter(|n| ours(n)) {
            *counts.entry(name).or_default() += 1;
        }
        let duplicates: Vec<(&String, &usize)> = counts.iter().filter(|(_, c)| **c > 1).collect();
        assert!(duplicates.is_empty(), "delivered more than once: {duplicates:?}");
        let others: Vec<&Value> = seen.events.iter().filter(|e| e["type"] != "ADDED").collect();
        assert!(others.is_empty(), "events other than ADDED: {others:?}");
        for (w, log) in writers.iter().enumerate() {
            let prefix = format!("s-{w}-");
            let seen_seqs: BTreeSet<u32> =
                counts.keys().filter_map(|n| n.strip_prefix(&prefix)?.parse().ok()).collect();
            assert_eq!(seen_seqs, log.acked, "writer {w}: watched vs acknowledged");
        }
        let unseen: Vec<&String> = acked.iter().filter(|n| !counts.contains_key(*n)).collect();
        assert!(unseen.is_empty(), "acknowledged, never watched: {unseen:?}");
        let strangers: Vec<&String> = counts.keys().filter(|n| !acked.contains(*n) && !ambiguous.contains(*n)).collect();
        assert!(strangers.is_empty(), "watched but never sent: {strangers:?}");
        assert!(all_seen);
        eprintln!(
            "watch: {} ADDED ({} acknowledged, {} ambiguous probes), {} bookmarks, re-watched {} times: {:?}",
            counts.len(),
            acked.len(),
            ambiguous.len(),
            seen.bookmarks,
            seen.reopened.len(),
            seen.reopened
        );
    }

    #[test]
    fn etcd_outage_and_recovery() {
        let mut etcd = EtcdCluster::start(EtcdOptions::default());
        let server = apiserver(&etcd, &[]);
        assert_eq!(server.get("/readyz/etcd").status, 200, "{}", server.get("/readyz/etcd").text());

        let list_rv = rv(&expect(&server.get(CONFIGMAPS), 200, "list"));
        let watch = Watcher::start(&server.client(), CONFIGMAPS, &list_rv);
        expect(&server.post_json(CONFIGMAPS, &configmap("o-before", json!({}))), 201, "create before the outage");
        assert!(
            watch.wait_until(Duration::from_secs(10), |s| s.names("ADDED").contains(&"o-before".to_owned())),
            "{:?}",
            watch.snapshot()
        );

        // etcd goes away: readiness fails within ~10 s.
        etcd.kill(0);
        let killed = Instant::now();
        let unready = loop {
            let r = server.get("/readyz/etcd");
            if r.status != 200 {
                break killed.elapsed();
            }
            assert!(killed.elapsed() < Duration::from_secs(10), "/readyz/etcd still 200 10 s after etcd died");
            std::thread::sleep(Duration::from_millis(100));
        };
        let readyz = server.get("/readyz?verbose");
        assert_ne!(readyz.status, 200, "{}", readyz.text());
        assert!(readyz.text().contains("[-]etcd"), "{}", readyz.text());

        // A write fails, with a 5xx Status, in bounded time.
        let sent = Instant::now();
        let during = server.post_json(CONFIGMAPS, &configmap("o-during", json!({})));
        let write_took = sent.elapsed();
        assert!((500..600).contains(&during.status), "write during the outage: {} {}", during.status, during.text());
        let (code, reason) = status_reason(&during);
        assert_eq!(during.json()["code"], code, "{}", during.text());
        assert!(write_took < Duration::from_secs(35), "the write during the outage took {write_took:?}");
        let get = server.get(&format!("{CONFIGMAPS}/o-before"));
        eprintln!(
            "outage: /readyz/etcd failed {unready:?} after the kill; a create failed after {write_took:?}: {code} \
             {reason}: {}; a GET: {} {}",
            during.json()["message"],
            get.status,
            get.text()
        );

        // etcd comes back on the same data.
        etcd.restart(0);
        let restarted = Instant::now();
        let ready = loop {
            if server.get("/readyz").status == 200 {
                break restarted.elapsed();
            }
            assert!(
                restarted.elapsed() < Duration::from_secs(30),
                "/readyz not 200 30 s after etcd came back: {}",
                server.get("/readyz?verbose").text()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let after: Vec<String> = (1..=3).map(|i| format!("o-after-{i}")).collect();
        for name in &after {
            expect(&server.post_json(CONFIGMAPS, &configmap(name, json!({}))), 201, &format!("create {name}"));
        }
        let delivered = watch.wait_until(Duration::from_secs(30), |s| {
            let added = s.names("ADDED");
            after.iter().all(|n| added.contains(n)) || s.gave_up.is_some()
        });
        std::thread::sleep(Duration::from_millis(500));
        let seen = watch.snapshot();
        eprintln!(
            "recovery: /readyz 200 {ready:?} after etcd restarted; watch re-watched {} times: {:?}; {} bookmarks",
            seen.reopened.len(),
            seen.reopened,
            seen.bookmarks
        );
        assert!(seen.gave_up.is_none(), "the watch stopped: {:?}", seen.gave_up);
        assert!(delivered, "events after recovery not delivered: {seen:?}");
        let added = seen.names("ADDED");
        for name in after.iter().map(String::as_str).chain(["o-before"]) {
            let n = added.iter().filter(|a| *a == name).count();
            assert_eq!(n, 1, "{name} delivered {n} times: {added:?}");
        }
        assert!(added.iter().filter(|a| *a == "o-during").count() <= 1, "{added:?}");
        assert!(!server.log().contains("panicked"), "{}", server.log());
    }
}
