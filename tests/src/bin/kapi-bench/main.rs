//! `kapi-bench [--quick] [--apiserver PATH] [--out DIR] [embedded] [etcd] [cel]` (`cargo xtask bench`
//! runs it in release): starts kapi apiservers and measures them with a load generator in this
//! process, beside baselines measured in the same run, and prints one table with the ratios and the
//! goals; every figure also goes to `<out>/bench.json` (default `<root>/target/bench`).
//!
//! - `embedded` ([`embedded`]): creates/s at 1/16/64 clients against raw SQLite batched writes;
//!   on a second server, RSS idle and with the objects in, full, paginated and `resourceVersion=0`
//!   LISTs, GETs by name at 64 clients and watch fan-out ([`watch`]).
//! - `etcd` ([`etcd`]): creates/s at 1/16/64 clients through kapi on a real etcd against raw etcd
//!   txn-creates at the same concurrency, interleaved; GETs by name.
//! - `cel` ([`cel`]): creates/s of a kind with ten CEL rules against the same kind without, on one
//!   server of this binary's own kinds.
//!
//! The machines are shared, noisy and have 2 cores, so absolute figures lie: what counts are ratios
//! against baselines measured in the same run, and the CPU every process used meanwhile (the load
//! generator, one tokio worker thread, competes with the servers for the same cores). With no
//! section named, all run. Without `--apiserver`, the release apiserver is built first.

mod cel;
mod embedded;
mod etcd;
mod loadgen;
mod server;
mod sqlite;
mod watch;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::json;

use loadgen::{Timing, Usage, Window};

const USAGE: &str = "usage: kapi-bench [--quick] [--apiserver PATH] [--out DIR] [embedded] [etcd] [cel]
  embedded, etcd, cel  the sections to run (none named: all)
  --quick            short windows and small counts (a smoke run; figures are not comparable with the goals)
  --apiserver PATH   the apiserver binary to measure (default: build the release apiserver)
  --out DIR          where bench.json goes (default: <workspace>/target/bench)";

fn main() -> ExitCode {
    cel::serve_if_asked();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match Args::parse(&args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kapi-bench: {e:#}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&kapi_tests::project_root(), &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kapi-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A section of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Embedded,
    Etcd,
    Cel,
}

/// The command line.
#[derive(Debug)]
struct Args {
    quick: bool,
    apiserver: Option<PathBuf>,
    out: Option<PathBuf>,
    sections: Vec<Section>,
}

impl Args {
    /// `None` for `--help`.
    fn parse(args: &[String]) -> Result<Option<Args>> {
        let mut parsed = Args {
            quick: false,
            apiserver: None,
            out: None,
            sections: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |flag: &str| match inline.clone().or_else(|| args.next().cloned()) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => bail!("{flag} needs a value"),
            };
            match name {
                "--quick" if inline.is_none() => parsed.quick = true,
                "--apiserver" => parsed.apiserver = Some(value("--apiserver")?),
                "--out" => parsed.out = Some(value("--out")?),
                "embedded" => parsed.sections.push(Section::Embedded),
                "etcd" => parsed.sections.push(Section::Etcd),
                "cel" => parsed.sections.push(Section::Cel),
                "-h" | "--help" | "help" => return Ok(None),
                _ => bail!("unknown argument {arg:?}"),
            }
        }
        if parsed.sections.is_empty() {
            parsed.sections = vec![Section::Embedded, Section::Etcd, Section::Cel];
        }
        parsed.sections.dedup();
        Ok(Some(parsed))
    }
}

/// What a run measures: window lengths and counts (`--quick` shrinks them).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) quick: bool,
    /// The concurrencies creates are measured at.
    pub(crate) clients: [usize; 3],
    /// Create windows (and the raw baselines').
    pub(crate) creates: Timing,
    /// GET-by-name windows.
    pub(crate) gets: Timing,
    /// Clients of the GET windows and of the fills.
    pub(crate) get_clients: usize,
    /// ConfigMaps for the LISTs and GETs (and the middle RSS figure).
    pub(crate) objects: usize,
    /// ConfigMaps at the last RSS figure.
    pub(crate) full: usize,
    pub(crate) list_rounds: usize,
    pub(crate) page_rounds: usize,
    pub(crate) page_limit: usize,
    /// Watcher counts of the fan-outs, in order.
    pub(crate) watchers: [usize; 2],
    /// Creates per fan-out.
    pub(crate) watch_creates: usize,
    /// ConfigMaps for the GETs on etcd.
    pub(crate) etcd_objects: usize,
    /// Quiet time before an RSS reading.
    pub(crate) settle: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        let secs =
            |full: u64, quick_secs: u64| Duration::from_secs(if quick { quick_secs } else { full });
        let pick = |full: usize, quick_n: usize| if quick { quick_n } else { full };
        Plan {
            quick,
            clients: [1, 16, 64],
            creates: Timing {
                warmup: Duration::from_secs(1),
                window: secs(15, 2),
            },
            gets: Timing {
                warmup: Duration::from_secs(1),
                window: secs(10, 2),
            },
            get_clients: 64,
            objects: pick(10_000, 500),
            full: pick(50_000, 2_500),
            list_rounds: pick(15, 3),
            page_rounds: pick(5, 3),
            // With --quick's 500 objects a limit of 500 would be one page: walk several.
            page_limit: pick(500, 100),
            watchers: if quick { [10, 50] } else { [100, 1_000] },
            watch_creates: pick(200, 20),
            etcd_objects: pick(1_000, 200),
            settle: Duration::from_secs(2),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "clients": self.clients, "warmup_secs": self.creates.warmup.as_secs_f64(),
            "create_window_secs": self.creates.window.as_secs_f64(), "get_window_secs": self.gets.window.as_secs_f64(),
            "get_clients": self.get_clients, "objects": self.objects, "full": self.full,
            "list_rounds": self.list_rounds, "page_rounds": self.page_rounds, "page_limit": self.page_limit,
            "watchers": self.watchers, "watch_creates": self.watch_creates, "etcd_objects": self.etcd_objects,
            "settle_secs": self.settle.as_secs_f64(),
        })
    }
}

/// One line of the summary table. A row with only `measure` is a heading.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub(crate) measure: String,
    pub(crate) kapi: String,
    pub(crate) baseline: String,
    pub(crate) ratio: String,
    pub(crate) anchor: &'static str,
    pub(crate) goal: &'static str,
    /// Whether the goal is met; `None` where there is none or the run can't tell (`--quick`).
    pub(crate) met: Option<bool>,
}

impl Row {
    fn is_heading(&self) -> bool {
        self.kapi.is_empty() && self.baseline.is_empty()
    }
}

/// One line of the CPU table: what each process used in a window.
#[derive(Debug, Clone)]
pub(crate) struct CpuRow {
    pub(crate) window: String,
    pub(crate) ops: u64,
    pub(crate) secs: f64,
    pub(crate) etcd: Option<Usage>,
    pub(crate) apiserver: Option<Usage>,
    pub(crate) loadgen: Usage,
}

impl CpuRow {
    /// From a window whose usage is `[apiserver]` or, with `etcd`, `[etcd, apiserver]`.
    pub(crate) fn of(window: impl Into<String>, w: &Window, etcd: bool) -> CpuRow {
        let (etcd, apiserver) = match (etcd, w.usage.as_slice()) {
            (true, [e, a, ..]) => (Some(*e), Some(*a)),
            (true, [e]) => (Some(*e), None),
            (false, [a, ..]) => (None, Some(*a)),
            _ => (None, None),
        };
        CpuRow {
            window: window.into(),
            ops: w.ops,
            secs: w.secs,
            etcd,
            apiserver,
            loadgen: w.loadgen,
        }
    }
}

/// Everything a run measured: the summary table, the CPU table and the JSON report.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<Row>,
    pub(crate) cpu: Vec<CpuRow>,
    pub(crate) json: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    pub(crate) fn heading(&mut self, title: &str) {
        self.rows.push(Row {
            measure: title.to_owned(),
            ..Row::default()
        });
    }

    pub(crate) fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// The GETs-by-name row (anchor and goal are the issue's) and its CPU row.
    pub(crate) fn gets(&mut self, measure: String, cpu: String, get: &Window, etcd: bool) {
        self.row(Row {
            measure,
            kapi: format!("{} (p99 {:.1} ms)", per_sec(get.rate()), get.latency.p99_ms),
            anchor: "4,500–4,800/s",
            goal: "≥ 9,600/s",
            met: Some(get.rate() >= 9_600.0),
            ..Row::default()
        });
        self.cpu.push(CpuRow::of(cpu, get, etcd));
    }

    /// Prints the tables; `quick` leaves out whether goals are met (its figures can't tell).
    fn print(&self, quick: bool) {
        let header = Row {
            measure: "measure".into(),
            kapi: "kapi".into(),
            baseline: "baseline (in-run)".into(),
            ratio: "ratio".into(),
            anchor: "kube-apiserver anchor",
            goal: "goal",
            met: None,
        };
        let met = |r: &Row| match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        let all = || std::iter::once(&header).chain(self.rows.iter().filter(|r| !r.is_heading()));
        let width = |f: fn(&Row) -> usize| all().map(f).max().unwrap_or(0);
        let w = [
            width(|r| r.measure.chars().count()),
            width(|r| r.kapi.chars().count()),
            width(|r| r.baseline.chars().count()),
            width(|r| r.ratio.chars().count()),
            width(|r| r.anchor.chars().count()),
            width(|r| r.goal.chars().count()),
        ];
        let line = |r: &Row, met: &str| {
            let text = format!(
                "  {:<a$} | {:>b$} | {:<c$} | {:>d$} | {:<e$} | {:<f$} | {met}",
                r.measure,
                r.kapi,
                r.baseline,
                r.ratio,
                r.anchor,
                r.goal,
                a = w[0],
                b = w[1],
                c = w[2],
                d = w[3],
                e = w[4],
                f = w[5]
            );
            println!("{}", text.trim_end());
        };
        line(&header, if quick { "" } else { "met" });
        println!(
            "  {}",
            "-".repeat(w.iter().sum::<usize>() + 3 * w.len() + 3)
        );
        for r in &self.rows {
            if r.is_heading() {
                println!("  {}", r.measure);
            } else {
                line(r, if quick { "" } else { met(r) });
            }
        }
        if self.cpu.is_empty() {
            return;
        }
        println!();
        println!("  CPU in the measuring windows: cores used / cores' worth of threads waiting for a CPU; CPU µs per operation");
        let label = self
            .cpu
            .iter()
            .map(|c| c.window.chars().count())
            .max()
            .unwrap_or(0)
            .max("window".len());
        println!(
            "  {:<label$} {:>11} {:>11} {:>11}   µs/op: etcd + apiserver + loadgen",
            "window", "etcd", "apiserver", "loadgen"
        );
        for c in &self.cpu {
            let cores = |u: Option<Usage>| {
                u.map_or("-".to_owned(), |u| {
                    format!("{:.2}/{:.2}", u.cpu / c.secs, u.wait / c.secs)
                })
            };
            let micros = |u: Option<Usage>| u.map(|u| u.cpu * 1e6 / c.ops.max(1) as f64);
            let parts = [micros(c.etcd), micros(c.apiserver), micros(Some(c.loadgen))];
            let total: f64 = parts.iter().flatten().sum();
            let shown: Vec<String> = parts
                .iter()
                .map(|p| p.map_or("-".to_owned(), |p| format!("{p:.0}")))
                .collect();
            println!(
                "  {:<label$} {:>11} {:>11} {:>11}   {} = {total:.0}",
                c.window,
                cores(c.etcd),
                cores(c.apiserver),
                cores(Some(c.loadgen)),
                shown.join(" + ")
            );
        }
    }
}

/// Formats a rate as `12,345/s`.
pub(crate) fn per_sec(rate: f64) -> String {
    format!("{}/s", thousands(rate.round() as u64))
}

/// `clients` with its count: `1 client`, `16 clients`.
pub(crate) fn clients(n: usize) -> String {
    format!("{n} client{}", if n == 1 { "" } else { "s" })
}

/// `12345` → `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn run(root: &Path, args: &Args) -> Result<()> {
    let plan = Plan::new(args.quick);
    // The cel section serves kinds of its own from this binary: no apiserver to build for it alone.
    let needs_apiserver = args.sections.iter().any(|s| *s != Section::Cel);
    let binary = match &args.apiserver {
        Some(path) if path.is_file() => path.clone(),
        Some(path) => bail!("--apiserver {}: no such file", path.display()),
        None if needs_apiserver => build_apiserver(root)?,
        None => std::env::current_exe().context("finding this binary")?,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/bench"));
    let rt = loadgen::runtime()?;
    let mut report = Report::default();
    let mut failure = None;
    for section in &args.sections {
        let result = match section {
            Section::Embedded => {
                embedded::run(&rt, &binary, &plan, &mut report).context("the embedded section")
            }
            Section::Etcd => {
                etcd::run(&rt, &binary, &plan, &mut report).context("the etcd section")
            }
            Section::Cel => cel::run(&rt, &plan, &mut report).context("the cel section"),
        };
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    let commit = commit(root);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "kapi bench: commit {commit}, {cores} cores, {}; apiserver {}",
        if args.quick {
            "--quick (short windows, small counts: not comparable with the goals)"
        } else {
            "full run"
        },
        binary.display()
    );
    report.print(args.quick);
    if let Some(e) = failure {
        return Err(e);
    }
    let rows: Vec<serde_json::Value> = report
        .rows
        .iter()
        .filter(|r| !r.is_heading())
        .map(|r| {
            let met = if args.quick { None } else { r.met };
            json!({"measure": r.measure, "kapi": r.kapi, "baseline": r.baseline, "ratio": r.ratio,
                   "anchor": r.anchor, "goal": r.goal, "met": met})
        })
        .collect();
    let mut json = serde_json::Map::new();
    json.insert("commit".into(), json!(commit));
    json.insert("cores".into(), json!(cores));
    json.insert("quick".into(), json!(args.quick));
    json.insert("apiserver".into(), json!(binary.display().to_string()));
    json.insert("plan".into(), plan.to_json());
    json.append(&mut report.json);
    json.insert("table".into(), json!(rows));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let path = out.join("bench.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("kapi-bench: wrote {}", path.display());
    Ok(())
}

/// Builds the release apiserver; returns the binary's path (in `$CARGO_TARGET_DIR` if set).
fn build_apiserver(root: &Path) -> Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "-p",
            "apiserver",
            "--bin",
            "apiserver",
        ])
        .current_dir(root)
        .status()
        .context("building the release apiserver")?;
    if !status.success() {
        bail!("building the release apiserver failed");
    }
    // A relative CARGO_TARGET_DIR is relative to where cargo ran: the root, above.
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    Ok(target.join("release/apiserver"))
}

/// The short hash of HEAD, with `-dirty` if the work tree has changes.
fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(hash) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_owned();
    };
    match git(&["status", "--porcelain"]) {
        Some(changes) if !changes.is_empty() => format!("{hash}-dirty"),
        _ => hash,
    }
}
