//! Running the real apiserver binary: a fresh data dir per server, readiness wait, its kubeconfig,
//! and a small HTTP client for raw requests.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running `apiserver` process (on its embedded store in a fresh data dir, or on etcd when given
/// `--etcd-servers`); killed on drop.
pub struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log: PathBuf,
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names), in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (panics with the body text when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} response is not JSON ({e}): {}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a header.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}

impl Server {
    /// Starts the apiserver with `args` (besides `--insecure-port` and `--data-dir`) and waits until
    /// `/readyz` answers. Panics with the server's log if it does not start.
    pub fn start(args: &[&str]) -> Server {
        let dir = tempfile::Builder::new().prefix("kapi-server-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Server::start_in(dir, args)
    }

    /// Starts on an existing data directory (restarts).
    pub fn start_in(mut dir: tempfile::TempDir, args: &[&str]) -> Server {
        let bin = crate::cargo_bin("apiserver");
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let port = crate::free_port();
            let (child, log) = spawn(&bin, dir.path(), port, args);
            let mut server = Server { child, port, dir, log };
            if server.wait_ready(Duration::from_secs(60)) {
                return server;
            }
            last_log = crate::tail(&server.log, 40);
            let _ = server.child.kill();
            let _ = server.child.wait();
            // The port may have been taken between picking and binding: retry on a new one.
            dir = std::mem::replace(&mut server.dir, tempfile::TempDir::new().unwrap_or_else(|e| panic!("tempdir: {e}")));
            if !last_log.contains("address already in use") && !last_log.contains("Address already in use") {
                break;
            }
        }
        panic!("apiserver did not become ready; its log:\n{last_log}");
    }

    fn wait_ready(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.get("/readyz").status == 200 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("data").join("kubeconfig")
    }

    /// The server's data directory parent (logs, kubectl cache).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        crate::tail(&self.log, 200)
    }

    /// Stops the server (SIGKILL) and returns its directory for a restart.
    pub fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::TempDir::new().unwrap_or_else(|e| panic!("tempdir: {e}")));
        dir
    }

    /// Runs the provisioned kubectl against this server.
    pub fn kubectl(&self, args: &[&str]) -> std::process::Output {
        crate::kubectl(&self.kubeconfig(), args)
    }

    /// Runs kubectl and returns stdout, panicking with stderr when it fails.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{}\nstdout:\n{stdout}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        stdout
    }

    /// A request with optional body and headers.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        request(&format!("{}{path}", self.url()), method, headers, body)
    }

    /// `POST path` with a JSON body, giving up after `timeout` (then the reply has status 0 and the
    /// error as its body, like any transport error).
    pub fn post_json_within(&self, path: &str, body: &Value, timeout: Duration) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        request_within(
            &format!("{}{path}", self.url()),
            "POST",
            &[("content-type", "application/json")],
            Some(&bytes),
            timeout,
        )
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.request("POST", path, &[("content-type", "application/json")], Some(&bytes))
    }

    /// `PUT path` with a JSON body.
    pub fn put_json(&self, path: &str, body: &Value) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.request("PUT", path, &[("content-type", "application/json")], Some(&bytes))
    }

    /// Runs the apiserver with `args` (besides `--insecure-port` and `--data-dir`, as
    /// [`Server::start`]) expecting it to refuse to start: waits up to `within` for it to exit and
    /// returns how it exited and its output. Panics if it becomes ready or is still running then.
    pub fn start_failure(args: &[&str], within: Duration) -> StartFailure {
        let dir = tempfile::Builder::new().prefix("kapi-server-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let bin = crate::cargo_bin("apiserver");
        let port = crate::free_port();
        let started = Instant::now();
        let (mut child, log) = spawn(&bin, dir.path(), port, args);
        let url = format!("http://127.0.0.1:{port}/readyz");
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    return StartFailure { status, output: crate::tail(&log, 200), elapsed: started.elapsed() };
                }
                Ok(None) => {}
                Err(e) => panic!("waiting for the apiserver: {e}"),
            }
            let ready = request(&url, "GET", &[], None).status == 200;
            if ready || started.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                let what = if ready { "became ready" } else { "was still running" };
                panic!(
                    "apiserver {args:?} {what} after {:?}; it should have refused to start. Its output:\n{}",
                    started.elapsed(),
                    crate::tail(&log, 40)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// How an apiserver that refused to start ended ([`Server::start_failure`]).
#[derive(Debug)]
pub struct StartFailure {
    /// Its exit status.
    pub status: std::process::ExitStatus,
    /// Its stdout and stderr (the last 200 lines).
    pub output: String,
    /// From spawning it to its exit.
    pub elapsed: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}


/// Runs the apiserver binary on `port` with its data in `dir/data`, output to `dir/apiserver-<port>.log`.
fn spawn(bin: &Path, dir: &Path, port: u16, args: &[&str]) -> (Child, PathBuf) {
    let log = dir.join(format!("apiserver-{port}.log"));
    let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("log file: {e}"));
    let err_file = log_file.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
    let child = Command::new(bin)
        .arg(format!("--insecure-port={port}"))
        .arg(format!("--data-dir={}", dir.join("data").display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    (child, log)
}
/// One HTTP request (HTTP status codes are answers here, not errors), given 60 s.
pub fn request(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    request_within(url, method, headers, body, Duration::from_secs(60))
}

/// [`request`] with its own deadline: past `timeout` the reply has status 0 and the error as body.
pub fn request_within(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&[u8]>, timeout: Duration) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder.body(body.map(<[u8]>::to_vec).unwrap_or_default()).unwrap_or_else(|e| panic!("request {url}: {e}"));
    match agent.run(req) {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let mut body = Vec::new();
            let _ = resp.into_body().as_reader().read_to_end(&mut body);
            Reply { status, headers, body }
        }
        Err(e) => Reply { status: 0, headers: Vec::new(), body: e.to_string().into_bytes() },
    }
}
