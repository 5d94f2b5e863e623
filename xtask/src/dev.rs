//! `cargo xtask dev [--package P] [--release] [-- SERVER ARGS]`: the edit loop. Generates, builds and
//! starts the apiserver, then watches the schema folders (with the strategy modules beside the schemas)
//! and the crates the binary is built from. On a change it regenerates (when a schema folder changed),
//! rebuilds while the old server keeps serving, and restarts the server on the same arguments — so on
//! the same data dir: objects stored before the edit are read back by the new binary. A schema error or
//! a failed build is printed and the old server keeps serving until the next change. Each round says
//! how long the edit took to be served, and of that how long each step took.
//!
//! Changes are found by polling modification times (every 200 ms): the watched folders hold a few
//! hundred files, and polling needs nothing from the platform.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: cargo xtask dev [--package P] [--release] [-- SERVER ARGS...]";

/// Source folders of the crates every apiserver binary is built from (besides its own package).
const CRATES: &[&str] = &["runtime/src", "codegen/src", "codegen/macros/src", "cel/src"];

/// How often the watched folders are looked at.
const POLL: Duration = Duration::from_millis(200);

/// How long a stopped server has to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How long a started server has to say it serves.
const START_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    package: String,
    release: bool,
    server_args: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options { package: "apiserver".into(), release: false, server_args: Vec::new() };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--package" | "-p" => opts.package = it.next().context("--package needs a package name")?.clone(),
            "--release" => opts.release = true,
            "--" => {
                opts.server_args = it.cloned().collect();
                break;
            }
            bad => bail!("dev: unknown argument {bad:?}\n{USAGE}"),
        }
    }
    Ok(opts)
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let package_dir = package_dir(root, &opts.package)?;
    let sets: Vec<(PathBuf, PathBuf)> = crate::generate::SETS.iter().map(|(s, g)| (root.join(s), root.join(g))).collect();
    let schema_dirs: Vec<PathBuf> = sets.iter().map(|(s, _)| s.clone()).collect();
    let mut code_dirs: Vec<PathBuf> = CRATES.iter().map(|c| root.join(c)).collect();
    code_dirs.push(package_dir.join("src"));
    // The package's own generated files are written by `generate`; its sources are watched above.
    let watched = Watched { schemas: schema_dirs, code: code_dirs };

    let mut server: Option<Server> = None;
    let mut seen = watched.snapshot();
    let mut round = Round { edited: Instant::now(), sets: sets.clone(), what: "first build".into() };
    loop {
        match build_round(root, &opts, &round) {
            Ok((binary, generate, build)) => {
                let stopped = Instant::now();
                if let Some(old) = server.take() {
                    old.stop();
                }
                match Server::start(&binary, root, &opts.server_args) {
                    Ok(new) => {
                        let restart = stopped.elapsed();
                        eprintln!(
                            "dev: {} → serving {:.1} s after the edit (generate {:.1} s, build {:.1} s, restart {:.1} s)",
                            round.what,
                            round.edited.elapsed().as_secs_f64(),
                            generate.as_secs_f64(),
                            build.as_secs_f64(),
                            restart.as_secs_f64()
                        );
                        server = Some(new);
                    }
                    Err(e) => eprintln!("dev: the new server did not start: {e:#}"),
                }
            }
            Err(e) => {
                eprintln!("dev: {e:#}");
                eprintln!(
                    "dev: {}; waiting for the next change",
                    if server.is_some() { "the previous server keeps serving" } else { "no server is running" }
                );
            }
        }
        // Wait for the next change (a server that exits by itself is reported, not restarted).
        loop {
            std::thread::sleep(POLL);
            if let Some(s) = &mut server {
                if let Ok(Some(status)) = s.child.try_wait() {
                    eprintln!("dev: the server exited ({status}); it starts again after the next change");
                    server = None;
                }
            }
            let now = watched.snapshot();
            let changed = changes(&seen, &now);
            if changed.is_empty() {
                continue;
            }
            let edited = Instant::now();
            // Let an editor finish writing (save-all, formatters) before building.
            std::thread::sleep(POLL);
            seen = watched.snapshot();
            // Only the schema folders that changed are generated again.
            let changed_sets =
                sets.iter().filter(|(s, _)| changed.iter().any(|p| p.starts_with(s))).cloned().collect();
            let names: Vec<String> =
                changed.iter().map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string()).collect();
            let what = match names.as_slice() {
                [one] => format!("{one} changed"),
                [first, rest @ ..] => format!("{first} and {} more changed", rest.len()),
                [] => unreachable!("checked non-empty above"),
            };
            eprintln!("dev: {what}");
            round = Round { edited, sets: changed_sets, what };
            break;
        }
    }
}

/// One change being brought to the server.
struct Round {
    /// When the change was seen (within [`POLL`] of the edit).
    edited: Instant,
    /// The schema folders to generate from (those that changed), with their generated folders.
    sets: Vec<(PathBuf, PathBuf)>,
    what: String,
}

/// Generates (the schema folders that changed) and builds; the binary and the two steps' durations.
fn build_round(root: &Path, opts: &Options, round: &Round) -> Result<(PathBuf, Duration, Duration)> {
    let started = Instant::now();
    for (schemas, generated) in &round.sets {
        let args = ["--schemas".into(), schemas.display().to_string(), "--out".into(), generated.display().to_string()];
        crate::generate::run(root, &args).context("generate failed")?;
    }
    let generate = started.elapsed();
    let started = Instant::now();
    let binary = build(root, opts)?;
    Ok((binary, generate, started.elapsed()))
}

/// `cargo build -p <package>`; the path of the binary it built.
fn build(root: &Path, opts: &Options) -> Result<PathBuf> {
    let mut cmd = crate::cargo();
    cmd.current_dir(root).args(["build", "-p", &opts.package, "--message-format=json-render-diagnostics"]);
    if opts.release {
        cmd.arg("--release");
    }
    // Diagnostics go to the terminal as cargo renders them; stdout carries the JSON messages.
    let out = cmd.stderr(Stdio::inherit()).output().context("running cargo build")?;
    if !out.status.success() {
        bail!("`cargo build -p {}` failed", opts.package);
    }
    executable(&String::from_utf8_lossy(&out.stdout))
        .with_context(|| format!("cargo built no binary for package {}", opts.package))
}

/// The executable cargo reports having built (`cargo build -p` builds one package: its binary target).
fn executable(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| m["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin")))
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next()
}

/// The folder of a workspace package, from `cargo metadata`.
fn package_dir(root: &Path, package: &str) -> Result<PathBuf> {
    let out = crate::cargo()
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let packages = meta["packages"].as_array().context("cargo metadata without packages")?;
    let found = packages.iter().find(|p| p["name"] == package);
    let Some(manifest) = found.and_then(|p| p["manifest_path"].as_str()) else {
        let binaries: Vec<&str> = packages
            .iter()
            .filter(|p| p["targets"].as_array().is_some_and(|t| t.iter().any(|t| t["kind"][0] == "bin")))
            .filter_map(|p| p["name"].as_str())
            .collect();
        bail!("dev: no package {package:?} in the workspace (packages with a binary: {})", binaries.join(", "));
    };
    Ok(Path::new(manifest).parent().context("a manifest path without folder")?.to_path_buf())
}

/// The folders whose files are watched.
struct Watched {
    schemas: Vec<PathBuf>,
    code: Vec<PathBuf>,
}

impl Watched {
    fn snapshot(&self) -> Snapshot {
        let mut files = BTreeMap::new();
        for dir in self.schemas.iter().chain(&self.code) {
            walk(dir, &mut files);
        }
        files
    }
}

/// Every watched file with its modification time and size.
type Snapshot = BTreeMap<PathBuf, (Option<SystemTime>, u64)>;

fn walk(dir: &Path, files: &mut Snapshot) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        let name = entry.file_name();
        // Editors' swap and backup files are not edits.
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp") {
            continue;
        }
        if meta.is_dir() {
            walk(&path, files);
        } else {
            files.insert(path, (meta.modified().ok(), meta.len()));
        }
    }
}

/// Files added, removed or modified between two snapshots.
fn changes(before: &Snapshot, after: &Snapshot) -> Vec<PathBuf> {
    let mut changed: Vec<PathBuf> =
        after.iter().filter(|(p, m)| before.get(*p) != Some(*m)).map(|(p, _)| p.clone()).collect();
    changed.extend(before.keys().filter(|p| !after.contains_key(*p)).cloned());
    changed.sort();
    changed
}

/// The running apiserver, its stdout forwarded.
struct Server {
    child: Child,
}

impl Server {
    /// Starts `binary` in `dir` and waits until it says it serves (its `export KUBECONFIG=` line),
    /// forwarding its output.
    fn start(binary: &Path, dir: &Path, args: &[String]) -> Result<Server> {
        let mut child = Command::new(binary)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("{line}");
                if line.starts_with("export KUBECONFIG=") {
                    let _ = tx.send(());
                }
            }
        });
        let mut server = Server { child };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(()) => Ok(server),
            Err(_) => {
                let status = server.child.try_wait();
                server.stop();
                bail!("it did not say it serves within {} s ({status:?})", START_TIMEOUT.as_secs())
            }
        }
    }

    /// SIGTERM (the server shuts down cleanly, closing its store), then SIGKILL after [`STOP_GRACE`].
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("dev: the server did not stop within {} s; killing it", STOP_GRACE.as_secs());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse(&args(&["-p", "apiserver-widget-example", "--release", "--", "--data-dir", "d", "--release"])).expect("ok"),
            Options {
                package: "apiserver-widget-example".into(),
                release: true,
                server_args: args(&["--data-dir", "d", "--release"])
            }
        );
        assert_eq!(parse(&[]).expect("ok").package, "apiserver");
        let err = parse(&args(&["--watch"])).expect_err("refused").to_string();
        assert!(err.contains("unknown argument \"--watch\"") && err.contains(USAGE), "{err}");
    }

    #[test]
    fn changes_name_added_modified_and_removed_files() {
        let dir = tempfile::tempdir().expect("ok");
        let watched = Watched { schemas: vec![dir.path().join("schemas")], code: vec![dir.path().join("src")] };
        std::fs::create_dir_all(dir.path().join("schemas/group")).expect("ok");
        std::fs::create_dir_all(dir.path().join("src")).expect("ok");
        std::fs::write(dir.path().join("schemas/group/a.yaml"), "a: 1\n").expect("ok");
        std::fs::write(dir.path().join("src/lib.rs"), "").expect("ok");
        let before = watched.snapshot();
        assert!(changes(&before, &watched.snapshot()).is_empty());
        std::fs::write(dir.path().join("schemas/group/a.yaml"), "a: 12\n").expect("ok");
        std::fs::write(dir.path().join("schemas/group/.a.yaml.swp"), "").expect("ok");
        std::fs::write(dir.path().join("schemas/b.rs"), "").expect("ok");
        std::fs::remove_file(dir.path().join("src/lib.rs")).expect("ok");
        let names: Vec<_> = changes(&before, &watched.snapshot())
            .iter()
            .map(|p| p.strip_prefix(dir.path()).expect("ok").display().to_string())
            .collect();
        assert_eq!(names, ["schemas/b.rs", "schemas/group/a.yaml", "src/lib.rs"]);
    }

    #[test]
    fn the_built_executable_is_found_in_cargo_messages() {
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"name":"kapi_runtime","kind":["lib"]},"executable":null}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"apiserver","kind":["bin"]},"executable":"/t/debug/apiserver"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(executable(&messages), Some(PathBuf::from("/t/debug/apiserver")));
        assert_eq!(executable(&messages[..messages.find("\n{\"reason\":\"compiler-artifact\",\"target\":{\"name\":\"apiserver\"").expect("ok")]), None);
    }
}
