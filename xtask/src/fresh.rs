//! `cargo xtask fresh-build`: the README's first command, checked as a new user meets it. A copy of
//! the checkout (the files git would commit, nothing else: no `target/`, no `.tools/`) is built with
//! an empty `CARGO_HOME`, a fresh target directory, no `protoc` on `PATH` and no `PROTOC`, so the
//! build gets nothing but what cargo downloads for the apiserver itself. Then the binary is started
//! with its defaults from an empty folder, and `kubectl get ns` with the kubeconfig it printed must
//! list the four namespaces a fresh server has.
//!
//! `cargo xtask test` runs it (niced, beside the suite) on full runs. It needs the crates.io registry,
//! as a new user's first build does; `.tools/bin/kubectl` is provisioned by `cargo xtask test`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What a fresh server lists with `kubectl get ns`.
const NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// How to run the check.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Build with `--release`, exactly the README's command (slower; the default is a debug build
    /// without debug info and with unoptimised dependencies, which needs the same downloads, build
    /// scripts and proc-macros).
    pub(crate) release: bool,
    /// Lower the build's CPU priority (`nice -n 19`), when it runs beside the test suite.
    pub(crate) nice: bool,
    /// Keep the temporary folder (source copy, CARGO_HOME, target, logs) for a look afterwards.
    pub(crate) keep: bool,
    /// Check this tree instead of the checkout (e.g. a `git worktree` of an older commit).
    pub(crate) tree: Option<PathBuf>,
}

/// How long each step took.
#[derive(Debug)]
pub(crate) struct Timings {
    pub(crate) build: Duration,
    pub(crate) serve: Duration,
}

/// `cargo xtask fresh-build [--release] [--keep] [--tree DIR]`.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let mut opts = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => opts.release = true,
            "--keep" => opts.keep = true,
            "--nice" => opts.nice = true,
            "--tree" => opts.tree = Some(it.next().context("--tree needs a folder")?.into()),
            bad => bail!("fresh-build: unknown argument {bad:?} (usage: cargo xtask fresh-build [--release] [--nice] [--keep] [--tree DIR])"),
        }
    }
    let tools = crate::test::provisioned(root)?;
    let t = check(root, &tools, &opts)?;
    println!(
        "fresh-build: ok (build {:.0} s, serve and kubectl get ns {:.1} s)",
        t.build.as_secs_f64(),
        t.serve.as_secs_f64()
    );
    Ok(())
}

/// Runs the check; `tools` is the provisioned `.tools/` (for kubectl).
pub(crate) fn check(root: &Path, tools: &Path, opts: &Options) -> Result<Timings> {
    let kubectl = tools.join("bin/kubectl");
    if !kubectl.is_file() {
        bail!("{} is missing: run `cargo xtask test` to provision .tools/", kubectl.display());
    }
    let tree = opts.tree.clone().unwrap_or_else(|| root.to_path_buf());
    // Outside the checkout: cargo reads every .cargo/config.toml from the build's folder upwards.
    let tmp = tempfile::Builder::new().prefix("kapi-fresh-build-").tempdir().context("creating a temporary folder")?;
    let dir = tmp.path().to_path_buf();
    if opts.keep {
        let _ = tmp.keep();
        eprintln!("fresh-build: keeping {}", dir.display());
    }
    let src = dir.join("kapi");
    copy_tree(&tree, &src)?;

    let started = Instant::now();
    let log = dir.join("build.log");
    let mut build = Command::new(if opts.nice { "nice" } else { "cargo" });
    if opts.nice {
        build.args(["-n", "19", "cargo"]);
    }
    build.args(["build", "-p", "apiserver"]);
    if opts.release {
        build.arg("--release");
    }
    clean_env(&mut build, root, &dir)?;
    if !opts.release {
        // Less work for the same proof: optimisation and debug info change no download, build script
        // or proc-macro (kapi-codegen keeps its own opt-level: it runs inside rustc).
        build.args(["--config", "profile.dev.package.\"*\".opt-level=0"]).env("CARGO_PROFILE_DEV_DEBUG", "0");
    }
    let status = build
        .current_dir(&src)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "fresh-build: `cargo build -p apiserver{}` with an empty CARGO_HOME failed ({status}); its last lines:\n{}",
            if opts.release { " --release" } else { "" },
            tail(&log, 40)
        );
    }
    let build_time = started.elapsed();

    let started = Instant::now();
    let binary = dir.join("target").join(if opts.release { "release" } else { "debug" }).join("apiserver");
    let run = dir.join("run");
    std::fs::create_dir_all(&run).with_context(|| format!("creating {}", run.display()))?;
    serve_and_list(&binary, &run, &kubectl)?;
    Ok(Timings { build: build_time, serve: started.elapsed() })
}

/// Copies what git would commit from `tree` (tracked files as they are now, and new files that are
/// not ignored) into `to`.
fn copy_tree(tree: &Path, to: &Path) -> Result<()> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(tree)
        .output()
        .context("running git ls-files")?;
    if !out.status.success() {
        bail!("git ls-files in {} failed: {}", tree.display(), String::from_utf8_lossy(&out.stderr));
    }
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).context("a file name that is not UTF-8")?;
        let from = tree.join(name);
        // Deleted in the work tree but still in the index: not part of what would be committed.
        if !from.is_file() {
            continue;
        }
        let dest = to.join(name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&from, &dest).with_context(|| format!("copying {}", from.display()))?;
    }
    Ok(())
}

/// A new user's environment: HOME and the toolchain's PATH, an empty CARGO_HOME, no protoc.
fn clean_env(cmd: &mut Command, root: &Path, dir: &Path) -> Result<()> {
    let home = dir.join("cargo-home");
    std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
    let tools = root.join(".tools");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> =
        std::env::split_paths(&path).filter(|p| !p.starts_with(&tools) && !p.join("protoc").exists()).collect();
    cmd.env_clear()
        .env("PATH", std::env::join_paths(kept).context("building PATH")?)
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", dir.join("target"));
    // Where rustup keeps the toolchain, and which one this run uses.
    for var in ["HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "TMPDIR", "LANG"] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    Ok(())
}

/// Starts the binary with its defaults (but a free port) in `run`, waits for the `export KUBECONFIG=`
/// line, and checks `kubectl get ns` against it.
fn serve_and_list(binary: &Path, run: &Path, kubectl: &Path) -> Result<()> {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port();
    let stderr_log = run.join("apiserver.log");
    let mut child = Command::new(binary)
        .args([format!("--secure-port={port}"), "--bind-address=127.0.0.1".into()])
        .current_dir(run)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_log).context("creating the server's log")?)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let result = list_namespaces(&mut child, kubectl);
    let _ = child.kill();
    let _ = child.wait();
    result.with_context(|| format!("the freshly built apiserver; its output:\n{}", tail(&stderr_log, 30)))
}

fn list_namespaces(child: &mut Child, kubectl: &Path) -> Result<()> {
    let stdout = child.stdout.take().context("the server's stdout")?;
    // The line comes once the server listens; a server that exits closes stdout first.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(path) = line.strip_prefix("export KUBECONFIG=") {
                let _ = tx.send(PathBuf::from(path));
            }
        }
    });
    let kubeconfig = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(k) => k,
        Err(_) => bail!("no `export KUBECONFIG=` line on stdout within 120 s ({:?})", child.try_wait()),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = Command::new(kubectl)
            .args(["get", "ns", "-o", "name"])
            .env("KUBECONFIG", &kubeconfig)
            .output()
            .with_context(|| format!("running {}", kubectl.display()))?;
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut names: Vec<&str> = listed.lines().filter_map(|l| l.strip_prefix("namespace/")).collect();
        names.sort_unstable();
        if out.status.success() && names == NAMESPACES {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "`kubectl get ns` with {} listed {names:?}, not {NAMESPACES:?} ({}):\n{}",
                kubeconfig.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The last `lines` lines of a log file.
fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
