//! Real etcd processes for tests: single members or three-member clusters on loopback, optionally
//! with client mTLS, killable and restartable member by member.
//!
//! The binaries are the pinned etcd 3.5.1 `cargo xtask test` provisions into `<workspace>/.tools/bin`
//! (see [`tool`]). Tests that need etcd fail when it is missing; they never skip.
//!
//! Everything is synchronous (`std::process`), so async tests call it directly too; it blocks the
//! calling thread while a cluster starts (well under a second for one member, about a second for
//! three).
//!
//! ```no_run
//! use kapi_runtime::storage::etcd_process::{EtcdCluster, EtcdOptions};
//!
//! let etcd = EtcdCluster::start(EtcdOptions::default());
//! etcd.etcdctl_ok(&["put", "/registry/k", "v"]);
//! assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "/registry/k"]), "v\n");
//! let etcd_servers = etcd.endpoints(); // kube-apiserver's --etcd-servers
//! # drop(etcd_servers);
//! ```

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// How long members may take to answer `etcdctl endpoint health` after a start or restart.
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`EtcdCluster::leader`] waits for a running member to be the agreed leader.
const LEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a start is retried on fresh ports when a picked port got taken meanwhile.
const PORT_ATTEMPTS: usize = 5;
/// How many lines of each member's log a failure message quotes.
const LOG_TAIL_LINES: usize = 40;

/// The path of the provisioned tool `name` (`etcd`, `etcdctl`, `etcdutl`, ...): in
/// `$KAPI_TOOLS_BIN` if set, else `$KAPI_TOOLS/bin` (what `cargo xtask test` exports), else
/// `<workspace>/.tools/bin`.
///
/// Panics when it is missing: tests that need etcd fail rather than skip.
pub fn tool(name: &str) -> PathBuf {
    let bin = match (std::env::var_os("KAPI_TOOLS_BIN"), std::env::var_os("KAPI_TOOLS")) {
        (Some(bin), _) if !bin.is_empty() => PathBuf::from(bin),
        (_, Some(tools)) if !tools.is_empty() => PathBuf::from(tools).join("bin"),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools/bin")),
    };
    let path = bin.join(name);
    if !path.is_file() {
        panic!(
            "{name} not found at {}: run `cargo xtask test`, which provisions it into .tools/",
            path.display()
        );
    }
    path
}

/// A test PKI in PEM files: a self-signed CA, a server certificate it signed (for every member;
/// SANs `127.0.0.1`, `localhost`, `::1`) and a client certificate it signed (CN `kapi-apiserver`).
///
/// The server certificate carries both the `serverAuth` and `clientAuth` extended key usages:
/// etcd's own gRPC gateway dials its members with it when clients must present certificates.
#[derive(Debug, Clone)]
pub struct EtcdTls {
    /// Holds `ca.crt`, `server.crt`, `server.key`, `client.crt` and `client.key`.
    pub dir: PathBuf,
}

impl EtcdTls {
    /// Generates a fresh CA, server and client certificate (ECDSA P-256) into `dir` (created if
    /// missing; existing files are overwritten).
    pub fn generate(dir: &Path) -> EtcdTls {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("creating the TLS dir {}: {e}", dir.display()));
        let tls = EtcdTls { dir: dir.to_path_buf() };

        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name.push(DnType::CommonName, "kapi-test-etcd-ca");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().expect("generating the test CA key");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signing the test CA certificate");
        let ca = Issuer::new(ca_params, ca_key);

        let mut server_params = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
            "::1".to_owned(),
        ])
        .expect("the test server certificate's SANs are valid");
        server_params.distinguished_name.push(DnType::CommonName, "kapi-test-etcd");
        server_params.key_usages =
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        server_params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        server_params.use_authority_key_identifier_extension = true;
        let server_key = KeyPair::generate().expect("generating the test server key");
        let server_cert = server_params
            .signed_by(&server_key, &ca)
            .expect("signing the test server certificate");

        let mut client_params = CertificateParams::default();
        client_params.distinguished_name = rcgen::DistinguishedName::new();
        client_params.distinguished_name.push(DnType::CommonName, "kapi-apiserver");
        client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        client_params.use_authority_key_identifier_extension = true;
        let client_key = KeyPair::generate().expect("generating the test client key");
        let client_cert = client_params
            .signed_by(&client_key, &ca)
            .expect("signing the test client certificate");

        let write = |path: PathBuf, pem: String| {
            std::fs::write(&path, pem).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        };
        write(tls.ca(), ca_cert.pem());
        write(tls.server_cert(), server_cert.pem());
        write(tls.server_key(), server_key.serialize_pem());
        write(tls.client_cert(), client_cert.pem());
        write(tls.client_key(), client_key.serialize_pem());
        tls
    }

    /// The CA certificate (`ca.crt`): what clients and etcd's `--trusted-ca-file` trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// The members' certificate (`server.crt`).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.crt")
    }

    /// The members' private key (`server.key`, PKCS#8).
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }

    /// The client certificate (`client.crt`, CN `kapi-apiserver`).
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.crt")
    }

    /// The client's private key (`client.key`, PKCS#8).
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }
}

/// How [`EtcdCluster::start`] runs etcd.
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    /// Number of members: 1 or 3.
    pub members: usize,
    /// Client mTLS: `https` client URLs, `--client-cert-auth` with the generated CA as
    /// `--trusted-ca-file` (see [`EtcdTls`]). Peers talk plain `http` either way.
    pub tls: bool,
    /// `--unsafe-no-fsync`: no fsync, for speed. Data still survives killing the process (the page
    /// cache keeps it), only not a machine crash.
    pub unsafe_no_fsync: bool,
    /// `--experimental-watch-progress-notify-interval` (etcd's default is 10 minutes).
    pub progress_notify_interval: Option<Duration>,
    /// More flags for every member, e.g. `--quota-backend-bytes=...` or
    /// `--experimental-compact-hash-check-enabled`.
    pub extra_args: Vec<String>,
    /// The etcd binary (None: the provisioned `etcd`, see [`tool`]). etcd 3.4 has no
    /// `--unsafe-no-fsync`: its data goes to a tmpfs (`/dev/shm`) instead, where fsync is free.
    pub binary: Option<PathBuf>,
}

impl Default for EtcdOptions {
    /// One member, plain HTTP, no fsync, progress notifications every 100 ms, no extra flags.
    fn default() -> Self {
        EtcdOptions {
            members: 1,
            tls: false,
            unsafe_no_fsync: true,
            progress_notify_interval: Some(Duration::from_millis(100)),
            extra_args: Vec::new(),
            binary: None,
        }
    }
}

/// One member's fixed identity and its process, if running.
#[derive(Debug)]
struct Member {
    /// `m0`, `m1`, `m2`.
    name: String,
    client_port: u16,
    peer_port: u16,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// The process while started (a `Mutex` so `&self` methods can reap it: it may die on its own).
    child: Mutex<Option<Child>>,
}

impl Member {
    /// The process slot (a poisoned lock still holds a valid `Option<Child>`).
    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running etcd cluster of real processes on 127.0.0.1, started healthy. Owns a temp dir holding
/// every member's data dir (`m0.etcd`, ...), log (`m0.log`, ...) and, with TLS, the certificates
/// (`tls/`). Every member is killed (SIGKILL) on drop; the log tails are printed then if the test
/// is panicking.
#[derive(Debug)]
pub struct EtcdCluster {
    options: EtcdOptions,
    members: Vec<Member>,
    /// The comma-joined `name=peer URL` list every member was bootstrapped with.
    initial_cluster: String,
    token: String,
    tls: Option<EtcdTls>,
    // Dropped after the members are killed (see `Drop`).
    dir: tempfile::TempDir,
}

impl EtcdCluster {
    /// Starts `options.members` members with static bootstrapping on free loopback ports and waits
    /// (30 s) until every one answers `etcdctl endpoint health`. Panics with the tail of the
    /// members' logs if they don't (retrying on fresh ports first if a port got taken meanwhile).
    pub fn start(options: EtcdOptions) -> EtcdCluster {
        assert!(
            options.members == 1 || options.members == 3,
            "EtcdCluster supports 1 or 3 members, not {}",
            options.members
        );
        let etcd = options.binary.clone().unwrap_or_else(|| tool("etcd"));
        assert!(
            etcd.is_file(),
            "etcd not found at {}: run `cargo xtask test`, which provisions it into .tools/",
            etcd.display()
        );
        tool("etcdctl");
        let mut options = options;
        let mut tmpfs = false;
        if options.unsafe_no_fsync && !has_unsafe_no_fsync(&etcd) {
            options.unsafe_no_fsync = false;
            tmpfs = Path::new("/dev/shm").is_dir();
        }
        let mut attempt = 1;
        loop {
            let mut cluster = EtcdCluster::new(options.clone(), tmpfs);
            for member in 0..cluster.members.len() {
                cluster.spawn(&etcd, member, "new");
            }
            match cluster.wait_healthy(&(0..cluster.members.len()).collect::<Vec<_>>()) {
                Ok(()) => return cluster,
                Err(failure) => {
                    let port_taken = (0..cluster.members.len())
                        .any(|m| cluster.log(m).contains("address already in use"));
                    if port_taken && attempt < PORT_ATTEMPTS {
                        attempt += 1;
                        continue; // dropping `cluster` kills what did start
                    }
                    // Killed before panicking, so `Drop` doesn't print the log tails a second time.
                    drop(cluster);
                    panic!("etcd cluster failed to start (attempt {attempt}): {failure}");
                }
            }
        }
    }

    /// A cluster on fresh ports and a fresh temp dir (on `/dev/shm` with `tmpfs`), nothing started yet.
    fn new(options: EtcdOptions, tmpfs: bool) -> EtcdCluster {
        static CLUSTERS: AtomicUsize = AtomicUsize::new(0);
        let mut builder = tempfile::Builder::new();
        builder.prefix("kapi-etcd-");
        let dir = if tmpfs { builder.tempdir_in("/dev/shm") } else { builder.tempdir() }
            .expect("creating a temp dir for etcd");
        let tls = options.tls.then(|| EtcdTls::generate(&dir.path().join("tls")));
        let ports = free_ports(2 * options.members);
        let members: Vec<Member> = (0..options.members)
            .map(|i| {
                let name = format!("m{i}");
                Member {
                    client_port: ports[2 * i],
                    peer_port: ports[2 * i + 1],
                    data_dir: dir.path().join(format!("{name}.etcd")),
                    log_path: dir.path().join(format!("{name}.log")),
                    name,
                    child: Mutex::new(None),
                }
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect::<Vec<_>>()
            .join(",");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let token = format!(
            "kapi-test-{}-{}-{nanos}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        );
        EtcdCluster { options, members, initial_cluster, token, tls, dir }
    }

    /// Spawns member `index` (which must not be running), its output appended to its log.
    fn spawn(&mut self, etcd: &Path, index: usize, cluster_state: &str) {
        let client_url = self.client_url(index);
        let member = &self.members[index];
        let peer_url = format!("http://127.0.0.1:{}", member.peer_port);
        let log = File::options()
            .create(true)
            .append(true)
            .open(&member.log_path)
            .unwrap_or_else(|e| panic!("opening {}: {e}", member.log_path.display()));
        let mut cmd = Command::new(etcd);
        clear_etcd_env(&mut cmd);
        cmd.arg(format!("--name={}", member.name))
            .arg(format!("--data-dir={}", member.data_dir.display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster={}", self.initial_cluster))
            .arg(format!("--initial-cluster-state={cluster_state}"))
            .arg(format!("--initial-cluster-token={}", self.token))
            .arg("--log-level=warn");
        if self.options.unsafe_no_fsync {
            cmd.arg("--unsafe-no-fsync");
        }
        if let Some(interval) = self.options.progress_notify_interval {
            cmd.arg(format!(
                "--experimental-watch-progress-notify-interval={}ms",
                interval.as_millis()
            ));
        }
        if let Some(tls) = &self.tls {
            cmd.arg(format!("--cert-file={}", tls.server_cert().display()))
                .arg(format!("--key-file={}", tls.server_key().display()))
                .arg("--client-cert-auth")
                .arg(format!("--trusted-ca-file={}", tls.ca().display()));
        }
        cmd.args(&self.options.extra_args)
            // Output goes to the log file, never to the test's pipes: a child holding those open
            // would look like a leak to nextest and interleave with the test's own output.
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning the etcd log file handle"))
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", etcd.display()));
        *self.members[index].child() = Some(child);
    }

    /// Waits until every member of `indices` answers `etcdctl endpoint health`; on timeout or when
    /// one exits, the reason with the tail of every member's log.
    fn wait_healthy(&self, indices: &[usize]) -> Result<(), String> {
        let deadline = Instant::now() + HEALTHY_TIMEOUT;
        let mut pending = indices.to_vec();
        loop {
            for &i in &pending {
                let mut slot = self.members[i].child();
                let child = slot.as_mut().expect("waiting on a started member");
                if let Some(status) = child.try_wait().expect("polling an etcd process") {
                    *slot = None;
                    drop(slot);
                    return Err(format!(
                        "member {} exited ({status}) before it was healthy\n{}",
                        self.members[i].name,
                        self.log_tails()
                    ));
                }
            }
            // Short probes first, so a member is seen healthy soon after it is (a probe blocks for
            // its whole timeout while there is no leader); long ones later, for a loaded machine.
            let timeout = if Instant::now() + HEALTHY_TIMEOUT / 2 > deadline { "3s" } else { "250ms" };
            pending.retain(|&i| !self.is_healthy(i, timeout));
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let names: Vec<&str> = pending.iter().map(|&i| self.members[i].name.as_str()).collect();
                return Err(format!(
                    "members {names:?} not healthy after {HEALTHY_TIMEOUT:?}\n{}",
                    self.log_tails()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether member `index` answers `etcdctl endpoint health` within `timeout` (a linearizable
    /// read through it: it needs a leader).
    fn is_healthy(&self, index: usize, timeout: &str) -> bool {
        let dial = format!("--dial-timeout={timeout}");
        let command = format!("--command-timeout={timeout}");
        self.etcdctl_on(index, &[&dial, &command, "endpoint", "health"]).status.success()
    }

    /// Every member's client URL, in member order (running or not), e.g. `http://127.0.0.1:40123`
    /// (`https://` with TLS).
    pub fn client_urls(&self) -> Vec<String> {
        (0..self.members.len()).map(|i| self.client_url(i)).collect()
    }

    /// Member `index`'s client URL.
    fn client_url(&self, index: usize) -> String {
        let scheme = if self.options.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.members[index].client_port)
    }

    /// The comma-joined client URLs: the value of kube-apiserver's `--etcd-servers`.
    pub fn endpoints(&self) -> String {
        self.client_urls().join(",")
    }

    /// The certificates, when started with `tls: true`: clients need [`EtcdTls::ca`],
    /// [`EtcdTls::client_cert`] and [`EtcdTls::client_key`].
    pub fn tls(&self) -> Option<&EtcdTls> {
        self.tls.as_ref()
    }

    /// The number of members (running or not).
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// The temp dir holding the members' data dirs, logs and certificates; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kills member `member` with SIGKILL and reaps it (no-op if it is not running).
    pub fn kill(&mut self, member: usize) {
        if let Some(mut child) = self.members[member].child().take() {
            if child.try_wait().expect("polling an etcd process").is_none() {
                child.kill().expect("killing an etcd member");
                child.wait().expect("reaping a killed etcd member");
            }
        }
    }

    /// Starts killed member `member` again on its data dir and ports
    /// (`--initial-cluster-state existing`) and waits until it is healthy; panics with the log
    /// tails if it does not become so. Panics if it is running.
    pub fn restart(&mut self, member: usize) {
        assert!(!self.is_running(member), "restart of etcd member m{member}, which is running");
        let etcd = self.options.binary.clone().unwrap_or_else(|| tool("etcd"));
        self.spawn(&etcd, member, "existing");
        if let Err(failure) = self.wait_healthy(&[member]) {
            panic!("etcd member m{member} failed to restart: {failure}");
        }
    }

    /// Whether member `member`'s process is alive (it may have died on its own: then it is reaped,
    /// its log says why, and [`EtcdCluster::restart`] can start it again).
    pub fn is_running(&self, member: usize) -> bool {
        let mut slot = self.members[member].child();
        let exited = match slot.as_mut() {
            None => return false,
            Some(child) => child.try_wait().expect("polling an etcd process").is_some(),
        };
        if exited {
            *slot = None;
        }
        !exited
    }

    /// The index of the current leader: a running member every running member that answers
    /// `etcdctl endpoint status` names as leader. Retries for up to 10 s (e.g. while an election
    /// follows killing the old leader), then panics.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + LEADER_TIMEOUT;
        loop {
            match self.try_leader() {
                Ok(leader) => return leader,
                Err(why) if Instant::now() > deadline => {
                    panic!("no etcd leader among the running members after {LEADER_TIMEOUT:?}: {why}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// One look at the members' statuses for [`EtcdCluster::leader`].
    fn try_leader(&self) -> Result<usize, String> {
        // (index, member id, leader id) of every running member that answers.
        let mut statuses = Vec::new();
        for i in (0..self.members.len()).filter(|&i| self.is_running(i)) {
            let out = self.etcdctl_on(
                i,
                &["--dial-timeout=1s", "--command-timeout=2s", "endpoint", "status", "-w", "json"],
            );
            if !out.status.success() {
                continue;
            }
            let json: serde_json::Value = serde_json::from_slice(&out.stdout)
                .map_err(|e| format!("m{i}: unparsable `endpoint status` output: {e}"))?;
            let status = &json[0]["Status"];
            let (Some(id), Some(leader)) =
                (status["header"]["member_id"].as_u64(), status["leader"].as_u64())
            else {
                return Err(format!("m{i}: no member_id/leader in `endpoint status`: {json}"));
            };
            statuses.push((i, id, leader));
        }
        let Some(&(_, _, leader_id)) = statuses.first() else {
            return Err("no running member answered `endpoint status`".to_owned());
        };
        if leader_id == 0 || statuses.iter().any(|&(_, _, l)| l != leader_id) {
            return Err(format!("no agreed leader yet: {statuses:?} (index, member id, leader id)"));
        }
        statuses
            .iter()
            .find(|&&(_, id, _)| id == leader_id)
            .map(|&(i, _, _)| i)
            .ok_or_else(|| format!("the leader {leader_id:x} is not a running member: {statuses:?}"))
    }

    /// Runs the provisioned `etcdctl` (API v3) against the running members
    /// (`--endpoints`, plus `--cacert`/`--cert`/`--key` with TLS) with `args`. With no member
    /// running it targets all of them (and fails), never etcdctl's default `127.0.0.1:2379`.
    pub fn etcdctl(&self, args: &[&str]) -> Output {
        let mut endpoints: Vec<String> = (0..self.members.len())
            .filter(|&i| self.is_running(i))
            .map(|i| self.client_url(i))
            .collect();
        if endpoints.is_empty() {
            endpoints = self.client_urls();
        }
        self.run_etcdctl(&endpoints.join(","), args)
    }

    /// [`EtcdCluster::etcdctl`] against member `member` only (running or not), e.g. to check what a
    /// restarted member serves.
    pub fn etcdctl_on(&self, member: usize, args: &[&str]) -> Output {
        self.run_etcdctl(&self.client_url(member), args)
    }

    /// [`EtcdCluster::etcdctl`]'s stdout; panics with its stderr if it fails.
    pub fn etcdctl_ok(&self, args: &[&str]) -> String {
        let out = self.etcdctl(args);
        assert!(
            out.status.success(),
            "etcdctl {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("etcdctl's output is UTF-8")
    }

    /// `etcdctl --endpoints=<endpoints> [TLS flags] <args>`.
    fn run_etcdctl(&self, endpoints: &str, args: &[&str]) -> Output {
        self.etcdctl_command(endpoints)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running etcdctl {args:?}: {e}"))
    }

    /// `etcdctl --endpoints=<endpoints> [TLS flags]`, stdin from /dev/null, to add arguments to.
    fn etcdctl_command(&self, endpoints: &str) -> Command {
        let mut cmd = Command::new(tool("etcdctl"));
        clear_etcd_env(&mut cmd);
        cmd.env("ETCDCTL_API", "3").arg(format!("--endpoints={endpoints}"));
        if let Some(tls) = &self.tls {
            cmd.arg(format!("--cacert={}", tls.ca().display()))
                .arg(format!("--cert={}", tls.client_cert().display()))
                .arg(format!("--key={}", tls.client_key().display()));
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Member `member`'s whole log (stdout and stderr of every run of it, restarts appended).
    pub fn log(&self, member: usize) -> String {
        let path = &self.members[member].log_path;
        match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => panic!("reading {}: {e}", path.display()),
        }
    }

    /// The last lines of every member's log, for failure messages.
    fn log_tails(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                format!(
                    "--- {} (client {}, peer {}), {} last lines:\n{}",
                    m.name,
                    m.client_port,
                    m.peer_port,
                    LOG_TAIL_LINES,
                    tail(&m.log_path, LOG_TAIL_LINES)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for EtcdCluster {
    /// Kills every member (SIGKILL), ignoring errors; prints the log tails if the test panicked.
    fn drop(&mut self) {
        for member in &self.members {
            if let Some(mut child) = member.child().take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            eprintln!("etcd cluster in {}:\n{}", self.dir.path().display(), self.log_tails());
        }
    }
}

/// `count` distinct free loopback ports: each bound on 127.0.0.1:0 (all held at once, so they
/// differ), then released. Another process may take one before etcd binds it; `start` retries.
/// Whether this etcd has `--unsafe-no-fsync` (3.5 onwards).
fn has_unsafe_no_fsync(etcd: &Path) -> bool {
    let out = Command::new(etcd).arg("--version").output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    !text.contains("etcd Version: 3.4.") && !text.contains("etcd Version: 3.3.")
}

fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a free loopback port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("a bound listener's address").port())
        .collect()
}

/// Removes `ETCD_*`/`ETCDCTL_*` variables from a child's environment: etcd and etcdctl read their
/// flags from them too, and the test's environment must not change the cluster.
fn clear_etcd_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("ETCD_") || k.starts_with("ETCDCTL_") {
            cmd.env_remove(&key);
        }
    }
}

/// The last `lines` lines of the file at `path` (at most its last 64 KiB are read).
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts a cluster and prints how long it took.
    fn start_timed(what: &str, options: EtcdOptions) -> EtcdCluster {
        let started = Instant::now();
        let cluster = EtcdCluster::start(options);
        eprintln!("{what}: healthy after {:?} at {}", started.elapsed(), cluster.endpoints());
        cluster
    }

    #[test]
    fn one_member_put_get() {
        let etcd = start_timed("1 member", EtcdOptions::default());
        assert_eq!(etcd.member_count(), 1);
        assert!(etcd.tls().is_none());
        assert!(etcd.is_running(0));
        let urls = etcd.client_urls();
        assert_eq!(urls.len(), 1);
        assert!(urls[0].starts_with("http://127.0.0.1:"), "{urls:?}");
        assert_eq!(etcd.endpoints(), urls[0]);

        assert_eq!(etcd.etcdctl_ok(&["put", "/registry/k", "v1"]).trim(), "OK");
        assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "/registry/k"]), "v1\n");
        assert_eq!(etcd.leader(), 0);
        let status = etcd.etcdctl_ok(&["endpoint", "status", "-w", "json"]);
        assert!(status.contains("\"version\":\"3.5.1\""), "{status}");
        assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "/nope"]), "");

        // --experimental-watch-progress-notify-interval took: progress notifications every 100 ms.
        let mut watch = etcd
            .etcdctl_command(&etcd.endpoints())
            .args(["watch", "--progress-notify", "/registry/k"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning etcdctl watch");
        std::thread::sleep(Duration::from_millis(800));
        watch.kill().expect("killing etcdctl watch");
        let out = watch.wait_with_output().expect("reaping etcdctl watch");
        let notifies = String::from_utf8_lossy(&out.stdout).matches("progress notify: ").count();
        assert!(notifies >= 3, "{notifies} progress notifications in 800 ms");

        // A killed single member comes back with its data.
        let mut etcd = etcd;
        etcd.kill(0);
        assert!(!etcd.is_running(0));
        assert!(!etcd.etcdctl(&["--command-timeout=1s", "get", "/registry/k"]).status.success());
        let started = Instant::now();
        etcd.restart(0);
        eprintln!("1 member: restarted healthy after {:?}", started.elapsed());
        assert!(etcd.is_running(0));
        assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "/registry/k"]), "v1\n");
    }

    #[test]
    fn tls_requires_client_certificates() {
        let etcd = start_timed("1 member, TLS", EtcdOptions { tls: true, ..EtcdOptions::default() });
        let url = etcd.endpoints();
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let tls = etcd.tls().expect("a TLS cluster has certificates");
        for file in [tls.ca(), tls.server_cert(), tls.server_key(), tls.client_cert(), tls.client_key()] {
            assert!(file.is_file(), "{} missing", file.display());
        }

        assert_eq!(etcd.etcdctl_ok(&["put", "secure", "yes"]).trim(), "OK");
        assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "secure"]), "yes\n");

        let plain = |extra: &[String]| {
            let mut cmd = Command::new(tool("etcdctl"));
            clear_etcd_env(&mut cmd);
            cmd.env("ETCDCTL_API", "3")
                .arg(format!("--endpoints={url}"))
                .args(["--dial-timeout=1s", "--command-timeout=1s"])
                .args(extra)
                .args(["get", "secure"])
                .stdin(Stdio::null())
                .output()
                .expect("running etcdctl")
        };
        // No certificates at all: the server's is not trusted.
        let out = plain(&[]);
        assert!(!out.status.success(), "etcdctl without certificates succeeded");
        // Trusting the server but presenting no client certificate: refused by --client-cert-auth.
        let out = plain(&[format!("--cacert={}", tls.ca().display())]);
        assert!(!out.status.success(), "etcdctl without a client certificate succeeded");
        // The same explicit flags with the client certificate work (the flags above are right).
        let out = plain(&[
            format!("--cacert={}", tls.ca().display()),
            format!("--cert={}", tls.client_cert().display()),
            format!("--key={}", tls.client_key().display()),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Plain HTTP to the HTTPS port fails as well.
        let http = url.replacen("https://", "http://", 1);
        let out = Command::new(tool("etcdctl"))
            .args([format!("--endpoints={http}"), "--dial-timeout=1s".into(), "--command-timeout=1s".into()])
            .args(["get", "secure"])
            .stdin(Stdio::null())
            .output()
            .expect("running etcdctl");
        assert!(!out.status.success(), "plain HTTP to the TLS port succeeded");
    }

    #[test]
    fn three_members_survive_losing_the_leader() {
        let mut etcd = start_timed("3 members", EtcdOptions { members: 3, ..EtcdOptions::default() });
        assert_eq!(etcd.member_count(), 3);
        assert_eq!(etcd.endpoints().split(',').count(), 3);
        let members = etcd.etcdctl_ok(&["member", "list"]);
        for name in ["m0", "m1", "m2"] {
            assert!(members.contains(&format!(", {name}, ")), "{members}");
        }
        etcd.etcdctl_ok(&["put", "before", "1"]);

        let old = etcd.leader();
        eprintln!("3 members: leader m{old}");
        let killed = Instant::now();
        etcd.kill(old);
        assert!(!etcd.is_running(old));
        let new = etcd.leader();
        eprintln!("3 members: new leader m{new} after {:?}", killed.elapsed());
        assert_ne!(new, old);
        assert!(etcd.is_running(new));

        // Two of three are a quorum: writes go on.
        etcd.etcdctl_ok(&["put", "during", "2"]);

        let restarted = Instant::now();
        etcd.restart(old);
        eprintln!("3 members: m{old} restarted healthy after {:?}", restarted.elapsed());
        assert!(etcd.is_running(old));
        // The restarted member caught up (a linearizable read through it).
        let out = etcd.etcdctl_on(old, &["get", "--print-value-only", "during"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
        let leader = etcd.leader();
        assert!(etcd.is_running(leader));
        assert_eq!(etcd.etcdctl_ok(&["get", "--print-value-only", "before"]), "1\n");
    }
}
