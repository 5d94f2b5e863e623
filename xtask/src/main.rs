//! cargo xtask: the project's developer commands (generate, dev, import, new-kind, test, bench, fuzz,
//! fresh-build).

mod dev;
mod fresh;
mod fuzz;
mod generate;
mod import;
mod new_kind;
mod test;

use std::path::{Path, PathBuf};

const USAGE: &str = "\
usage: cargo xtask <command>
  generate [--check]            write generated/ (proto, openapi, JSON Schema); --check fails if stale
  dev [-p PACKAGE] [--release] [-- SERVER ARGS]   generate, build and serve; on every edit of schemas/
                                (or the code) regenerate, rebuild and restart the server on its data dir
  import [--reference DIR]      (re)write the built-in kinds in schemas/ from ../shared/reference
  new-kind <group>/<version> <Kind>   scaffold schemas/<group>/<plural>.yaml
  test [nextest args...]        provision .tools (etcd, kubectl, validators) and run the whole suite
  bench [embedded|etcd|cel] [--quick] benchmarks with in-run baselines (every section unless named)
  fuzz [--seconds N] [--seed S] [--release] [TARGET]   run the fuzz targets N s each (default 60;
                                the suite runs each for 0.4 s) and report inputs tried per target
  fresh-build [--release] [--keep] [--tree DIR]   build and serve a copy of the checkout with an empty
                                CARGO_HOME, as a new user's first command does (part of a full `test`)";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    match cmd {
        "generate" => generate::run(&project_root(), rest),
        "dev" => dev::run(&project_root(), rest),
        "import" => import::run(&project_root(), rest),
        "new-kind" => new_kind::run(&project_root(), rest),
        "test" => test::run(&project_root(), rest),
        "bench" => bench(&project_root(), rest),
        "fuzz" => fuzz::run(&project_root(), rest),
        "fresh-build" => fresh::run(&project_root(), rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            std::process::exit(2);
        }
    }
}

/// A `cargo` command as if typed in a shell: without the variables `cargo run` set for xtask itself
/// (`CARGO_PKG_NAME=xtask`, `CARGO_MANIFEST_DIR`, ...). Build scripts that watch them (ring's does)
/// would otherwise run again, and everything above them recompile, each time builds alternate between
/// `cargo xtask ...` and a plain `cargo build`.
pub(crate) fn cargo() -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_run = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_MANIFEST_")
            || matches!(key, "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE" | "OUT_DIR");
        if set_by_cargo_run {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// `cargo xtask bench ...`: the benchmark binary lives in kapi-tests (it shares the etcd harness and
/// HTTP client with the tests, and keeps xtask free of the runtime); run it in release.
fn bench(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let status = cargo()
        .current_dir(root)
        .args(["run", "--release", "-q", "-p", "kapi-tests", "--bin", "kapi-bench", "--"])
        .args(args)
        .status()?;
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

/// The workspace root (the parent of xtask/).
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
