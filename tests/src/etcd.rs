//! A real etcd (the provisioned, pinned one) for a test: loopback only, in a temp dir.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long etcd may take to report healthy.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a start is retried when a port picked by [`crate::free_port`] got taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// A single-member etcd listening on 127.0.0.1, its data and log in a temp dir. Started healthy;
/// killed and cleaned up on drop (its log tail is printed then if the test is panicking).
///
/// It runs with `--unsafe-no-fsync`: tests want speed, not durability across power loss.
pub struct Etcd {
    child: Child,
    client_port: u16,
    log: PathBuf,
    // Dropped after `child` is killed (see `Drop`).
    dir: tempfile::TempDir,
}

impl Etcd {
    /// Starts etcd and waits until it is healthy; panics (with its log) if it can't.
    pub fn start() -> Etcd {
        Etcd::try_start().unwrap_or_else(|e| panic!("starting etcd: {e:#}"))
    }

    /// Starts etcd and waits until it is healthy.
    pub fn try_start() -> Result<Etcd> {
        let etcd = crate::tool("etcd");
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            match Etcd::start_once(&etcd)? {
                Ok(etcd) => return Ok(etcd),
                // A port was taken between picking and binding it: try other ports.
                Err(log_tail) if log_tail.contains("address already in use") => {
                    last = Some(log_tail)
                }
                Err(log_tail) => {
                    bail!("etcd exited before it became healthy; its log ends:\n{log_tail}")
                }
            }
        }
        bail!(
            "etcd could not bind its ports in {PORT_ATTEMPTS} attempts; its last log ends:\n{}",
            last.unwrap_or_default()
        )
    }

    /// One attempt on fresh ports: `Ok(Err(log tail))` if etcd exited before it was healthy.
    fn start_once(etcd: &Path) -> Result<std::result::Result<Etcd, String>> {
        let dir = tempfile::Builder::new()
            .prefix("kapi-etcd-")
            .tempdir()
            .context("creating a temp dir")?;
        let client_port = crate::free_port();
        let peer_port = std::iter::repeat_with(crate::free_port)
            .find(|p| *p != client_port)
            .unwrap_or_default();
        let client = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let log = dir.path().join("etcd.log");
        let log_file = File::create(&log).with_context(|| format!("creating {}", log.display()))?;

        let child = Command::new(etcd)
            .arg("--name=kapi-test")
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=kapi-test={peer}"))
            .arg("--initial-cluster-state=new")
            .arg("--unsafe-no-fsync")
            // Its output goes to a file, never to the test's pipes: a child holding those open
            // would look like a leak to nextest and interleave with the test's own output.
            .stdin(Stdio::null())
            .stdout(
                log_file
                    .try_clone()
                    .context("cloning the log file handle")?,
            )
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("spawning {}", etcd.display()))?;
        let mut etcd = Etcd {
            child,
            client_port,
            log,
            dir,
        };

        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = etcd.child.try_wait().context("waiting for etcd")? {
                return Ok(Err(format!(
                    "(exited: {status})\n{}",
                    crate::tail(&etcd.log, 30)
                )));
            }
            if etcd.is_healthy() {
                return Ok(Ok(etcd));
            }
            if Instant::now() > deadline {
                bail!(
                    "etcd was not healthy after {START_TIMEOUT:?}; its log ends:\n{}",
                    crate::tail(&etcd.log, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The client URL, e.g. `http://127.0.0.1:40123` (what `--etcd-servers` takes).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The client port on 127.0.0.1.
    pub fn client_port(&self) -> u16 {
        self.client_port
    }

    /// The temp dir holding `data/` and `etcd.log`; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// etcd's log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Runs the provisioned `etcdctl --endpoints=<this etcd> <args>` and returns its output.
    pub fn etcdctl(&self, args: &[&str]) -> Output {
        Command::new(crate::tool("etcdctl"))
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.endpoint()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running etcdctl {args:?}: {e}"))
    }

    /// Whether `GET /health` on the client URL says healthy right now.
    pub fn is_healthy(&self) -> bool {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.client_port));
        http_get(addr, "/health")
            .is_some_and(|(status, body)| status == 200 && body.contains(r#""health":"true""#))
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- etcd on {} (log {}), last lines:\n{}\n---",
                self.endpoint(),
                self.log.display(),
                crate::tail(&self.log, 40)
            );
        }
    }
}

/// A minimal `GET` over HTTP/1.0: `(status, body)`, or `None` on any error.
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}
