//! `cargo xtask fuzz`: the fuzz targets the suite runs briefly (every `fuzz_*` test of the runtime's
//! lib tests and of `runtime/tests/proto.rs`, driven by `kapi_runtime::fuzzing`), run longer.
//!
//! ```text
//! cargo xtask fuzz [--seconds N] [--seed S] [--release] [TARGET]
//! ```
//! `--seconds` is each target's time (default 60; the suite gives each 0.4 s), `--seed` replays a
//! run (a failure prints its seed), `TARGET` picks targets by name (`quantity`, `proto`, ...).
//! Ends with a table of inputs tried per target.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut seconds = "60".to_string();
    let mut seed = None;
    let mut release = false;
    let mut target = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => seconds = it.next().context("--seconds wants a number")?.clone(),
            "--seed" => seed = Some(it.next().context("--seed wants a number")?.clone()),
            "--release" => release = true,
            s if s.starts_with('-') => bail!("unknown option {s:?}: cargo xtask fuzz [--seconds N] [--seed S] [--release] [TARGET]"),
            s => target = Some(s.to_string()),
        }
    }
    seconds
        .parse::<f64>()
        .with_context(|| format!("--seconds {seconds:?} is not a number"))?;
    let filter = format!("fuzz_{}", target.unwrap_or_default());

    let mut cmd = crate::cargo();
    cmd.current_dir(root)
        .args(["test", "-p", "kapi-runtime", "--lib", "--test", "proto"]);
    if release {
        cmd.arg("--release");
    }
    cmd.args(["--", &filter, "--nocapture", "--test-threads=2"])
        .env("KAPI_FUZZ_SECONDS", &seconds);
    if let Some(seed) = &seed {
        cmd.env("KAPI_FUZZ_SEED", seed);
    }
    eprintln!("xtask fuzz: targets matching {filter:?}, {seconds} s each");
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .context("running cargo test")?;
    // The targets report on stderr ("fuzz <name>: <n> inputs in <t>s ..."): pass it through and
    // keep those lines for the summary.
    let mut summary = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.context("reading cargo test's output")?;
            let _ = writeln!(std::io::stderr(), "{line}");
            if line.starts_with("fuzz ") && line.contains(" inputs in ") {
                summary.push(line);
            }
        }
    }
    let status = child.wait().context("waiting for cargo test")?;
    eprintln!("\nxtask fuzz: inputs tried per target");
    summary.sort();
    for line in &summary {
        eprintln!("  {}", line.trim_start_matches("fuzz "));
    }
    if !status.success() {
        bail!("a fuzz target failed (its seed is in the output above: --seed replays it)");
    }
    if summary.is_empty() {
        bail!("no fuzz target matched {filter:?}");
    }
    Ok(())
}
