//! The benchmark harness still runs: `kapi-bench --quick` on both sections against the debug
//! apiserver (built into the same target dir as this test: `cargo build -p apiserver`) and etcd from
//! `.tools/` (`KAPI_TOOLS`), and its `bench.json` holds what a user would check. No timing is
//! asserted: the figures of a debug build on shared CI cores mean nothing.
//!
//! `serial_`: nextest runs it alone (.config/nextest.toml); it starts three apiservers and an etcd
//! and loads them.

use std::process::Command;
use std::time::Instant;

use serde_json::Value;

/// `report[path...]` as a number, or a panic naming the path and the report.
fn number(report: &Value, path: &[&str]) -> f64 {
    let mut v = report;
    for key in path {
        v = &v[*key];
    }
    v.as_f64().unwrap_or_else(|| {
        panic!(
            "bench.json has no number at {}:\n{report:#}",
            path.join(".")
        )
    })
}

#[test]
fn serial_bench_quick() {
    let out = tempfile::tempdir().expect("tempdir");
    let apiserver = kapi_tests::cargo_bin("apiserver");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_kapi-bench"))
        .arg("--quick")
        .arg("--apiserver")
        .arg(&apiserver)
        .arg("--out")
        .arg(out.path())
        .args(["embedded", "etcd"])
        .output()
        .expect("running kapi-bench");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "kapi-bench failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    eprintln!(
        "kapi-bench --quick took {:.0?}:\n{stdout}",
        started.elapsed()
    );

    let path = out.path().join("bench.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}\n{stdout}", path.display()));
    let report: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
    assert_eq!(report["quick"], true, "{report:#}");

    // Every rate is positive.
    assert!(number(&report, &["embedded", "raw_sqlite_batched_rows_per_sec"]) > 0.0);
    for clients in ["1", "16", "64"] {
        assert!(
            number(&report, &["embedded", "creates", clients, "per_sec"]) > 0.0,
            "embedded creates at {clients}"
        );
        assert!(
            number(&report, &["etcd", "creates", clients, "raw", "per_sec"]) > 0.0,
            "raw etcd at {clients}"
        );
        assert!(
            number(&report, &["etcd", "creates", clients, "kapi", "per_sec"]) > 0.0,
            "kapi on etcd at {clients}"
        );
    }
    assert!(number(&report, &["embedded", "fill_creates_per_sec"]) > 0.0);
    assert!(number(&report, &["embedded", "gets", "per_sec"]) > 0.0);
    assert!(number(&report, &["etcd", "gets", "per_sec"]) > 0.0);

    // Every LIST saw every object.
    let objects = number(&report, &["embedded", "objects"]);
    assert!(objects > 0.0);
    for list in ["list_full", "list_rv0", "list_paginated"] {
        assert_eq!(
            number(&report, &["embedded", list, "items"]),
            objects,
            "{list}"
        );
        assert!(
            number(&report, &["embedded", list, "median_ms"]) > 0.0,
            "{list}"
        );
    }
    assert!(
        number(&report, &["embedded", "list_paginated", "pages"]) > 1.0,
        "the paginated LIST walked one page"
    );

    // No watcher lost an event.
    let watches = report["embedded"]["watch"]
        .as_array()
        .unwrap_or_else(|| panic!("no embedded.watch:\n{report:#}"));
    assert_eq!(watches.len(), 2, "{report:#}");
    for w in watches {
        assert_eq!(w["events_lost"], 0, "events lost: {w}");
        assert!(
            w["events_received"].as_u64().unwrap_or(0) > 0,
            "no events: {w}"
        );
    }

    // RSS grows from idle as objects go in.
    let rss = |at: &str| number(&report, &["embedded", "rss_mib", at]);
    assert!(rss("idle") > 0.0);
    assert!(
        rss("idle") < rss("objects") && rss("objects") < rss("full"),
        "RSS idle/objects/full: {}",
        report["embedded"]["rss_mib"]
    );
}
