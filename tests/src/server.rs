//! Running the real apiserver binary: a fresh data dir per server, readiness wait, its kubeconfig,
//! and a small HTTPS client for raw requests as the admin (the kubeconfig's client certificate) or
//! another identity.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

/// A running `apiserver` process (on its embedded store in a fresh data dir, or on etcd when given
/// `--etcd-servers`), serving HTTPS on a free loopback port; killed on drop.
pub struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log: PathBuf,
    credentials: OnceLock<Credentials>,
}

/// Who a request is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The admin of the generated kubeconfig (its client certificate: kubernetes-admin in
    /// system:masters).
    Admin,
    /// No credentials at all.
    Anonymous,
    /// `Authorization: Bearer <token>`, no client certificate.
    Bearer(String),
    /// A client certificate (PEM chain, leaf first) and its PEM key.
    ClientCert {
        /// The certificate chain.
        cert_pem: String,
        /// The private key.
        key_pem: String,
    },
}

/// What the generated kubeconfig says about reaching the server: the CA that verifies it and the
/// admin's client certificate (either may be missing, e.g. with a user-given `--client-ca-file`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// PEM CA bundle (`certificate-authority-data`).
    pub ca_pem: Option<String>,
    /// PEM client certificate (`client-certificate-data`).
    pub cert_pem: Option<String>,
    /// PEM client key (`client-key-data`).
    pub key_pem: Option<String>,
}

impl Credentials {
    /// Reads a kubeconfig written by the apiserver (its first cluster and user).
    pub fn from_kubeconfig(path: &Path) -> Result<Credentials, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|e| format!("{} is not YAML: {e}", path.display()))?;
        let data = |section: &str, inner: &str, field: &str| -> Result<Option<String>, String> {
            let Some(encoded) = doc[section][0][inner][field].as_str() else { return Ok(None) };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("{field} in {}: {e}", path.display()))?;
            String::from_utf8(bytes).map(Some).map_err(|e| format!("{field} in {}: {e}", path.display()))
        };
        Ok(Credentials {
            ca_pem: data("clusters", "cluster", "certificate-authority-data")?,
            cert_pem: data("users", "user", "client-certificate-data")?,
            key_pem: data("users", "user", "client-key-data")?,
        })
    }
}

/// An HTTPS (or HTTP) client for one server as one identity; cheap to clone and `Send`, for threads.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    tls: TlsConfig,
    bearer: Option<String>,
}

impl Client {
    /// A client of `base` (`https://host:port`) trusting `ca_pem` (none: any server certificate
    /// is accepted) as `identity`; `admin` is the kubeconfig's certificate for [`Identity::Admin`].
    pub fn new(base: &str, ca_pem: Option<&str>, identity: &Identity, admin: Option<(&str, &str)>) -> Client {
        let mut tls = TlsConfig::builder();
        match ca_pem {
            Some(pem) => {
                let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(pem.as_bytes())
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                tls = tls.root_certs(RootCerts::new_with_certs(&certs));
            }
            None => tls = tls.disable_verification(true),
        }
        let client_cert = match identity {
            Identity::Admin => admin,
            Identity::ClientCert { cert_pem, key_pem } => Some((cert_pem.as_str(), key_pem.as_str())),
            Identity::Anonymous | Identity::Bearer(_) => None,
        };
        if let Some((cert_pem, key_pem)) = client_cert {
            let chain: Vec<Certificate<'static>> = ureq::tls::parse_pem(cert_pem.as_bytes())
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            let key = PrivateKey::from_pem(key_pem.as_bytes()).unwrap_or_else(|e| panic!("client key: {e}"));
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        let bearer = match identity {
            Identity::Bearer(token) => Some(token.clone()),
            _ => None,
        };
        Client { base: base.trim_end_matches('/').to_owned(), tls: tls.build(), bearer }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A ureq agent configured for this client (TLS, statuses as answers) with these timeouts.
    pub fn agent(&self, timeout_global: Option<Duration>, timeout_connect: Option<Duration>) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(timeout_global)
            .timeout_connect(timeout_connect)
            .tls_config(self.tls.clone())
            .build()
            .into()
    }

    /// The identity's extra headers (a bearer token).
    pub fn auth_headers(&self) -> Vec<(String, String)> {
        self.bearer.iter().map(|t| ("authorization".to_owned(), format!("Bearer {t}"))).collect()
    }

    /// One request to `path` (HTTP status codes are answers here, not errors), given 60 s.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.request_within(method, path, headers, body, Duration::from_secs(60))
    }

    /// [`Client::request`] with its own deadline: past `timeout` the reply has status 0 and the
    /// error as body.
    pub fn request_within(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Reply {
        let auth = self.auth_headers();
        let mut all: Vec<(&str, &str)> = auth.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.extend_from_slice(headers);
        run(&self.agent(Some(timeout), None), &format!("{}{path}", self.base), method, &all, body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }
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
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> Server {
        Server::start_limited(dir, args, None)
    }

    /// Starts with at most `open_files` file descriptors (soft and hard limit, as `ulimit -n`).
    pub fn start_with_open_files(args: &[&str], open_files: u64) -> Server {
        let dir = tempfile::Builder::new().prefix("kapi-server-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Server::start_limited(dir, args, Some(open_files))
    }

    /// Starts another apiserver binary built on the runtime (an example's, with its own kinds).
    pub fn start_binary(bin: &Path, args: &[&str]) -> Server {
        let dir = tempfile::Builder::new().prefix("kapi-server-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        Server::start_bin(bin, dir, args, None)
    }

    fn start_limited(dir: tempfile::TempDir, args: &[&str], open_files: Option<u64>) -> Server {
        Server::start_bin(&crate::cargo_bin("apiserver"), dir, args, open_files)
    }

    fn start_bin(bin: &Path, mut dir: tempfile::TempDir, args: &[&str], open_files: Option<u64>) -> Server {
        let bin = bin.to_path_buf();
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let port = crate::free_port();
            let (child, log) = spawn(&bin, dir.path(), port, args, open_files);
            let mut server = Server { child, port, dir, log, credentials: OnceLock::new() };
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
            // The kubeconfig is written once the port is bound; on a restart an old one is there
            // already, with the same CA and admin certificate (they are kept in the data dir).
            if self.credentials.get().is_none() {
                match Credentials::from_kubeconfig(&self.kubeconfig()) {
                    Ok(c) => {
                        let _ = self.credentials.set(c);
                    }
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
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

    /// The server's resident set size in MiB (`VmRSS` in /proc/<pid>/status; Linux).
    pub fn rss_mib(&self) -> f64 {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no VmRSS line in {path}"));
        kib / 1024.0
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// What the kubeconfig gives to reach the server (read once it exists).
    pub fn credentials(&self) -> Credentials {
        match self.credentials.get() {
            Some(c) => c.clone(),
            None => Credentials::from_kubeconfig(&self.kubeconfig()).unwrap_or_default(),
        }
    }

    /// A client as the admin (the kubeconfig's client certificate), trusting the kubeconfig's CA.
    pub fn client(&self) -> Client {
        self.client_as(&Identity::Admin)
    }

    /// A client as `identity`, trusting the kubeconfig's CA.
    pub fn client_as(&self, identity: &Identity) -> Client {
        let c = self.credentials();
        let admin = c.cert_pem.as_deref().zip(c.key_pem.as_deref());
        Client::new(&self.url(), c.ca_pem.as_deref(), identity, admin)
    }

    /// A request sent as `identity`.
    pub fn request_as(&self, identity: &Identity, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.client_as(identity).request(method, path, headers, body)
    }

    /// The generated certificates (`<data-dir>/pki`: ca.crt, admin.crt/key, apiserver.crt, sa.key, ...).
    pub fn pki_dir(&self) -> PathBuf {
        self.dir.path().join("data").join("pki")
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

    /// A request (as the admin) with optional body and headers.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.client().request(method, path, headers, body)
    }

    /// `POST path` with a JSON body, giving up after `timeout` (then the reply has status 0 and the
    /// error as its body, like any transport error).
    pub fn post_json_within(&self, path: &str, body: &Value, timeout: Duration) -> Reply {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.client().request_within("POST", path, &[("content-type", "application/json")], Some(&bytes), timeout)
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

    /// Runs the apiserver with `args` (besides the harness's defaults, as [`Server::start`])
    /// expecting it to refuse to start: waits up to `within` for it to exit and returns how it
    /// exited and its output. Panics if it becomes ready or is still running then.
    pub fn start_failure(args: &[&str], within: Duration) -> StartFailure {
        let dir = tempfile::Builder::new().prefix("kapi-server-").tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let bin = crate::cargo_bin("apiserver");
        let port = crate::free_port();
        let started = Instant::now();
        let (mut child, log) = spawn(&bin, dir.path(), port, args, None);
        // Readiness as an anonymous client that does not check the (not yet known) certificate.
        let probe = Client::new(&format!("https://127.0.0.1:{port}"), None, &Identity::Anonymous, None);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    return StartFailure { status, output: crate::tail(&log, 200), elapsed: started.elapsed() };
                }
                Ok(None) => {}
                Err(e) => panic!("waiting for the apiserver: {e}"),
            }
            let ready = probe.get("/readyz").status == 200;
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


/// The harness's flags for a server on `port` with its data in `dir/data`: HTTPS on loopback only,
/// no insecure port. A flag the test gives itself (in `args`) replaces the harness's.
pub fn default_args(dir: &Path, port: u16, args: &[&str]) -> Vec<String> {
    let name = |a: &str| a.split('=').next().unwrap_or("").to_owned();
    let given: Vec<String> = args.iter().map(|a| name(a)).collect();
    [
        format!("--secure-port={port}"),
        "--bind-address=127.0.0.1".to_owned(),
        "--insecure-port=0".to_owned(),
        format!("--data-dir={}", dir.join("data").display()),
    ]
    .into_iter()
    .filter(|d| !given.contains(&name(d)))
    .chain(args.iter().map(|a| (*a).to_owned()))
    .collect()
}

/// Runs the apiserver binary on `port` with its data in `dir/data`, output to `dir/apiserver-<port>.log`,
/// under `ulimit -n <open_files>` when given (the shell `exec`s it: the child is the server).
fn spawn(bin: &Path, dir: &Path, port: u16, args: &[&str], open_files: Option<u64>) -> (Child, PathBuf) {
    let log = dir.join(format!("apiserver-{port}.log"));
    let log_file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("log file: {e}"));
    let err_file = log_file.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
    let mut command = match open_files {
        None => Command::new(bin),
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(bin);
            sh
        }
    };
    let child = command
        .args(default_args(dir, port, args))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    (child, log)
}
/// One plain-HTTP request to `url` (e.g. an `--insecure-port`; HTTP status codes are answers
/// here, not errors), given 60 s. Use a [`Client`] for the HTTPS port.
pub fn request(url: &str, method: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().into();
    run(&agent, url, method, headers, body)
}

fn run(agent: &ureq::Agent, url: &str, method: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
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
