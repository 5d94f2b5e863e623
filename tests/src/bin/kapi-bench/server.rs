//! The processes under test: an apiserver with a data dir of its own (killed on drop), and one
//! etcd member with fsync on (the runtime's etcd harness, binaries from `.tools/`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use hyper::Method;
use kapi_runtime::storage::etcd_process::{EtcdCluster, EtcdOptions};
use tokio::runtime::Runtime;

use crate::loadgen::{self, Conn};

/// How long an apiserver may take to answer `/readyz` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running apiserver; killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `binary` on a free port (plain HTTP: the bench measures the API, not TLS) with its own
    /// temp `--data-dir`, no inflight limits and `args`, and waits until `/readyz` answers 200.
    /// Fails with the tail of its output otherwise.
    pub(crate) fn start(rt: &Runtime, binary: &Path, args: &[String]) -> Result<Server> {
        Self::start_with_env(rt, binary, args, &[])
    }

    /// [`Server::start`] with environment variables set for the server.
    pub(crate) fn start_with_env(rt: &Runtime, binary: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("kapi-bench-").tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = dir.path().join("apiserver.log");
        let out = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .arg(format!("--insecure-port={port}"))
            .arg("--secure-port=0")
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg("--max-requests-inflight=0")
            .arg("--max-mutating-requests-inflight=0")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting the apiserver {}", binary.display()))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let addr = server.addr;
            let ready = loadgen::run(rt, async move {
                let mut conn = Conn::open(addr).await?;
                Ok(conn.call(Method::GET, "/readyz", Bytes::new()).await?.0)
            });
            if ready.is_ok_and(|status| status == 200) {
                return Ok(server);
            }
            let why = match server.child.try_wait()? {
                Some(status) => format!("exited ({status})"),
                None if Instant::now() > deadline => {
                    format!("did not become ready in {} s", READY_TIMEOUT.as_secs())
                }
                None => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            bail!(
                "the apiserver ({} {}) {why}; its last output:\n{}",
                binary.display(),
                args.join(" "),
                server.log_tail()
            );
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the server's output.
    fn log_tail(&self) -> String {
        kapi_tests::tail(&self.log, 20)
    }

    /// `result`, with the server's state and last output added to an error (a crashed server
    /// explains most failures).
    pub(crate) fn annotate<T>(&mut self, result: Result<T>) -> Result<T> {
        result.map_err(|e| {
            let state = match self.child.try_wait() {
                Ok(Some(status)) => format!("the apiserver has exited ({status})"),
                _ => "the apiserver is still running".to_owned(),
            };
            e.context(format!("{state}; its last output:\n{}", self.log_tail()))
        })
    }

    /// The server's resident set size in MiB (`VmRSS` in /proc/<pid>/status).
    pub(crate) fn rss_mib(&self) -> Result<f64> {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .ok_or_else(|| anyhow!("no VmRSS line in {path}"))?;
        Ok(kib / 1024.0)
    }
}

/// One etcd member with fsync on, as in production. `EtcdCluster::start` panics when it can't:
/// turned into an error.
pub(crate) fn start_etcd() -> Result<EtcdCluster> {
    let options = EtcdOptions {
        members: 1,
        tls: false,
        unsafe_no_fsync: false,
        progress_notify_interval: None,
        ..EtcdOptions::default()
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let started = std::panic::catch_unwind(|| EtcdCluster::start(options));
    std::panic::set_hook(hook);
    started.map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        if why.contains("cargo xtask test") {
            anyhow!("etcd did not start: {why}")
        } else {
            anyhow!(
                "etcd did not start: {why}\n(`cargo xtask test` provisions etcd into .tools/bin)"
            )
        }
    })
}

/// The pid of the cluster's only member: the process whose command line names its data dir
/// (`EtcdCluster` does not expose its children).
pub(crate) fn etcd_pid(etcd: &EtcdCluster) -> Result<u32> {
    let arg = format!("--data-dir={}", etcd.dir().join("m0.etcd").display());
    for entry in std::fs::read_dir("/proc").context("reading /proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|&b| b == 0).any(|a| a == arg.as_bytes()) {
            return Ok(pid);
        }
    }
    bail!("no process in /proc has {arg} on its command line")
}
