//! cargo xtask: the project's developer commands (generate, import, new-kind, test, bench, fuzz,
//! fresh-build).

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

/// `cargo xtask bench ...`: the benchmark binary lives in kapi-tests (it shares the etcd harness and
/// HTTP client with the tests, and keeps xtask free of the runtime); run it in release.
fn bench(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
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
