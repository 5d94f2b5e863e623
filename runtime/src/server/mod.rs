//! Start-up: kube-apiserver's flags, the PKI, the storage, the registry, and serving (hyper, HTTP/1.1
//! and HTTP/2) over HTTPS on `--secure-port` and plain HTTP on the loopback-only `--insecure-port`,
//! with in-flight limits and graceful shutdown.

pub mod conn;
pub mod flags;
pub mod kubeconfig;
pub mod pki;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::{header, HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::apimachinery::{KindInfo, Status, StatusDetails};
use crate::endpoints::openapi::{OpenApi, OpenApiDocs};
use crate::endpoints::{status_response, ApiServer, Body, VersionInfo};
use crate::registry::Registry;
use crate::storage::embedded::{Embedded, EmbeddedOptions};
use crate::storage::etcd3::{Etcd3, Etcd3Options};
use crate::storage::keys::KeyLayout;
use crate::storage::Storage;
pub use flags::{Backend, Flags, TlsVersion};
pub use kubeconfig::Kubeconfig;
pub use pki::Pki;

/// What request handling knows of the connection a request came on: a request extension on every
/// request (`req.extensions().get::<ConnInfo>()`).
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The client's certificate chain from the TLS handshake (leaf first; not verified: that is
    /// authentication's job); empty on the insecure port or when the client sent none.
    pub peer_certificates: Arc<Vec<CertificateDer<'static>>>,
    /// Whether the request came over the secure (TLS) port; the insecure port has full access.
    pub secure: bool,
    /// The client's address.
    pub remote: SocketAddr,
}

/// Start-up failures (printed by the binary, which then exits non-zero).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A flag that cannot be honoured, or a bad flag value.
    #[error("{0}")]
    Flag(String),
    /// Storage could not be opened.
    #[error("opening storage at {dir}: {source}")]
    Storage {
        /// The data directory.
        dir: PathBuf,
        /// Why.
        source: crate::storage::StorageError,
    },
    /// etcd could not be reached or the connection could not be set up.
    #[error("connecting to etcd: {0}")]
    Etcd(String),
    /// The registry could not start.
    #[error("starting the registry: {0}")]
    Registry(String),
    /// The generated PKI could not be prepared.
    #[error("preparing certificates: {0}")]
    Pki(Box<pki::PkiError>),
    /// The serving TLS configuration could not be built.
    #[error("{0}")]
    Tls(Box<tls::TlsError>),
    /// The kubeconfig could not be written.
    #[error("writing the kubeconfig: {0}")]
    Kubeconfig(Box<kubeconfig::KubeconfigError>),
    /// IO (binding the port, writing the kubeconfig).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

// Boxed: the PKI and TLS errors are large, and every flag check returns a ServeError.
impl From<pki::PkiError> for ServeError {
    fn from(e: pki::PkiError) -> Self {
        ServeError::Pki(Box::new(e))
    }
}

impl From<tls::TlsError> for ServeError {
    fn from(e: tls::TlsError) -> Self {
        ServeError::Tls(Box::new(e))
    }
}

impl From<kubeconfig::KubeconfigError> for ServeError {
    fn from(e: kubeconfig::KubeconfigError) -> Self {
        ServeError::Kubeconfig(Box::new(e))
    }
}

/// What a generated apiserver passes to [`run`]: its kinds and OpenAPI documents.
#[derive(Debug, Clone, Copy)]
pub struct Generated {
    /// The registry table.
    pub kinds: &'static [&'static KindInfo],
    /// The OpenAPI documents.
    pub openapi: OpenApiDocs,
}

/// Parses the process arguments and serves until SIGINT/SIGTERM. The generated binary's `main`.
pub fn main(generated: Generated) -> ! {
    let flags = Flags::parse_args();
    // Stacks deep enough for objects nested as deep as upstream reads them (10,000 levels).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(crate::apimachinery::json::STACK_SIZE)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(generated, flags)) {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// A started server: its addresses and a handle to stop it (tests use [`start`] directly).
pub struct Running {
    /// Where HTTPS is served (`--secure-port`), unless disabled.
    pub secure_addr: Option<SocketAddr>,
    /// Where plain HTTP is served (`--insecure-port`), unless disabled.
    pub insecure_addr: Option<SocketAddr>,
    /// The kubeconfig written for it (the secure port's when there is one).
    pub kubeconfig: PathBuf,
    /// The certificates and keys in effect.
    pub pki: Arc<Pki>,
    /// The API.
    pub server: Arc<ApiServer>,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, ends open requests (watches end), and waits for the accept loops.
    pub async fn stop(self) {
        self.server.begin_shutdown();
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Serves until SIGINT or SIGTERM. Once up, it says what to do next: on stderr where it serves, where
/// the data and the kubeconfig are, a `kubectl` to try and how to stop; on stdout the
/// `export KUBECONFIG=` line (absolute, so it works from any directory).
pub async fn run(generated: Generated, flags: Flags) -> Result<(), ServeError> {
    // Worked out before `start` takes the flags (a bad backend never gets past `start`).
    let data = match flags.backend() {
        Ok(Backend::Embedded) => {
            let dir = std::path::absolute(&flags.data_dir).unwrap_or_else(|_| flags.data_dir.clone());
            Some(format!("embedded store in {}", dir.display()))
        }
        Ok(Backend::Etcd3(servers)) => Some(format!("etcd at {} (keys under {})", servers.join(","), flags.etcd_prefix)),
        Err(_) => None,
    };
    let running = start(generated, flags).await?;
    if let Some(addr) = running.secure_addr {
        eprintln!("kapi apiserver serving securely on {}", kubeconfig::url("https", addr));
    }
    if let Some(addr) = running.insecure_addr {
        eprintln!("kapi apiserver serving insecurely (no authentication) on {}", kubeconfig::url("http", addr));
    }
    if let Some(data) = data {
        eprintln!("data: {data}");
    }
    // The kubeconfig `start` wrote (the secure port's when there is one), built again to read what it
    // holds: credentials, and notes on what it leaves out.
    let config = match running.secure_addr {
        Some(addr) => Kubeconfig::for_secure_port(&running.pki, addr).ok(),
        None => running.insecure_addr.map(Kubeconfig::for_insecure_port),
    };
    // Without credentials on the secure port kubectl is anonymous, which RBAC does not let list
    // namespaces: no `kubectl get ns` to try then.
    let works = config.as_ref().is_some_and(|c| c.client.is_some() || running.secure_addr.is_none());
    eprintln!("kubeconfig: {}", running.kubeconfig.display());
    for note in config.iter().flat_map(|c| &c.notes) {
        eprintln!("note: {note}");
    }
    eprintln!("to use it, run:");
    println!("export KUBECONFIG={}", running.kubeconfig.display());
    if works {
        eprintln!("then try `kubectl get ns` (it lists default, kube-node-lease, kube-public and kube-system)");
    }
    eprintln!("Press Ctrl+C to stop.");
    wait_for_signal().await;
    eprintln!("shutting down");
    running.stop().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Prepares the PKI, opens storage, starts the registry, binds and serves in the background.
pub async fn start(generated: Generated, flags: Flags) -> Result<Running, ServeError> {
    flags.check()?;
    crate::auth::authz::chain::validate(&flags)?;
    let data_dir = flags.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|source| ServeError::Io { what: format!("creating {}", data_dir.display()), source })?;
    // Certificates first: a bad --tls-cert-file fails start-up before storage is touched.
    let pki = Arc::new(Pki::from_flags(&flags)?);
    let tls = match flags.secure_port {
        0 => None,
        _ => Some(TlsAcceptor::from(tls::server_config(&pki, flags.tls_min_version()?)?)),
    };
    let storage = open_storage(&flags).await?;
    let layout = KeyLayout::new(&flags.etcd_prefix);
    let cache = flags.watch_cache_config()?;
    let registry = Registry::start(generated.kinds, storage, &layout, &cache, flags.media_type()?)
        .await
        .map_err(|e| ServeError::Registry(e.to_string()))?;
    // Storage, registry and `pki` are up here: what the API needs from them is handed over below.
    let security = crate::auth::setup::security_from_flags(&flags, pki.client_ca_file.as_deref(), &pki.sa_key, &registry).await?;
    let server = Arc::new(ApiServer::new(registry, OpenApi::new(generated.openapi), VersionInfo::default()).with_security(security));
    let secure = match tls {
        Some(acceptor) => Some((bind(SocketAddr::new(flags.bind_address, flags.secure_port)).await?, acceptor)),
        None => None,
    };
    let insecure = match flags.insecure_port {
        0 => None,
        port => Some(bind(SocketAddr::new(flags.insecure_bind_address, port)).await?),
    };
    let secure_addr = secure.as_ref().map(|(l, _)| local_addr(l)).transpose()?;
    let insecure_addr = insecure.as_ref().map(local_addr).transpose()?;
    let config = match (secure_addr, insecure_addr) {
        (Some(addr), _) => Kubeconfig::for_secure_port(&pki, addr)?,
        (None, Some(addr)) => Kubeconfig::for_insecure_port(addr),
        (None, None) => return Err(ServeError::Flag("nothing to serve: --secure-port and --insecure-port are both 0".into())),
    };
    let kubeconfig = config.write(&data_dir)?;
    let limits = Arc::new(Limits {
        readonly: (flags.max_requests_inflight > 0).then(|| Semaphore::new(flags.max_requests_inflight)),
        mutating: (flags.max_mutating_requests_inflight > 0).then(|| Semaphore::new(flags.max_mutating_requests_inflight)),
    });
    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let conns = conn::Tracker::new(conn::ConnLimits::from_environment());
    let mut tasks = Vec::new();
    if let Some((listener, acceptor)) = secure {
        let serving = Serving { server: server.clone(), limits: limits.clone(), conns: conns.clone() };
        tasks.push(tokio::spawn(accept_loop(listener, Some(acceptor), serving, stopped.clone())));
    }
    if let Some(listener) = insecure {
        let serving = Serving { server: server.clone(), limits: limits.clone(), conns: conns.clone() };
        tasks.push(tokio::spawn(accept_loop(listener, None, serving, stopped.clone())));
    }
    Ok(Running { secure_addr, insecure_addr, kubeconfig, pki, server, shutdown, tasks })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).await.map_err(|source| ServeError::Io { what: format!("binding {addr}"), source })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, ServeError> {
    listener.local_addr().map_err(|source| ServeError::Io { what: "reading the bound address".into(), source })
}

/// The backend the flags choose: etcd3 (`--etcd-servers`) or the embedded store in `--data-dir`.
async fn open_storage(flags: &Flags) -> Result<Arc<dyn Storage>, ServeError> {
    let compaction_interval = flags.compaction_interval()?;
    match flags.backend()? {
        Backend::Embedded => {
            let dir = flags.data_dir.clone();
            let options = EmbeddedOptions { compaction_interval, ..EmbeddedOptions::default() };
            let store = Embedded::open(&dir, options).map_err(|source| ServeError::Storage { dir, source })?;
            Ok(store)
        }
        Backend::Etcd3(endpoints) => {
            let options = Etcd3Options {
                endpoints,
                ca_file: flags.etcd_cafile.clone(),
                cert_file: flags.etcd_certfile.clone(),
                key_file: flags.etcd_keyfile.clone(),
                compaction_interval,
                ..Etcd3Options::default()
            };
            let etcd = Etcd3::connect(options).await.map_err(|e| ServeError::Etcd(e.to_string()))?;
            if !etcd.progress_requests() {
                eprintln!(
                    "warning: etcd {} does not order requested watch progress with events (etcd-io/etcd#15220, fixed in 3.5.13 and 3.4.31): consistent lists are served from etcd instead of the watch cache",
                    etcd.server_version()
                );
            }
            Ok(etcd)
        }
    }
}

/// `--max-requests-inflight` and `--max-mutating-requests-inflight`.
struct Limits {
    readonly: Option<Semaphore>,
    mutating: Option<Semaphore>,
}

/// What serving a connection needs.
#[derive(Clone)]
struct Serving {
    server: Arc<ApiServer>,
    limits: Arc<Limits>,
    conns: Arc<conn::Tracker>,
}

/// Accepts connections until shutdown: TLS ones (handshake first) when given an acceptor, plain
/// HTTP otherwise. A failed handshake drops only its connection, with one log line.
async fn accept_loop(listener: TcpListener, tls: Option<TlsAcceptor>, serving: Serving, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(a) => a,
                    Err(_) => {
                        // Out of file descriptors and the like: close the connection waiting
                        // longest, and let connections end before retrying.
                        serving.conns.make_room();
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let registered = serving.conns.open();
                connections.spawn(connection(stream, remote, tls.clone(), serving.clone(), registered, stopped.clone()));
            }
        }
        while connections.try_join_next().is_some() {}
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async { while connections.join_next().await.is_some() {} }).await;
}

/// One connection: the TLS handshake (when secure), then HTTP until it closes, it must close
/// (a deadline passed while it waited, or it made room for another), or shutdown.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    tls: Option<TlsAcceptor>,
    serving: Serving,
    registered: conn::Registered,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let Some(acceptor) = tls else {
        let info = ConnInfo { peer_certificates: Arc::new(Vec::new()), secure: false, remote };
        return serve_connection(stream, info, serving, registered, stop).await;
    };
    let handshake = tokio::select! {
        h = tls::handshake(&acceptor, stream) => h,
        _ = registered.must_close() => return,
        _ = stop.changed() => return,
    };
    match handshake {
        Ok(None) => {}
        Ok(Some(stream)) => {
            let info = ConnInfo { peer_certificates: Arc::new(tls::peer_certificates(&stream)), secure: true, remote };
            registered.handshaken(stream.get_ref().1.alpn_protocol() == Some(b"h2"));
            serve_connection(stream, info, serving, registered, stop).await;
        }
        Err(e) => eprintln!("http: TLS handshake error from {remote}: {e}"),
    }
}

/// Serves HTTP/1.1 or HTTP/2 on `io` with upstream's limits, tagging every request with `info`.
async fn serve_connection<I>(
    io: I,
    info: ConnInfo,
    serving: Serving,
    registered: conn::Registered,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let state = registered.conn().clone();
    let io = TokioIo::new(conn::Watched::new(io, state.clone()));
    let Serving { server, limits, .. } = serving;
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let (server, limits) = (server.clone(), limits.clone());
        let in_flight = state.request_started();
        req.extensions_mut().insert(info.clone());
        async move {
            let response = serve_one(&server, &limits, req).await;
            Ok::<_, Infallible>(response.map(|body| conn::Tracked::new(body, Some(in_flight))))
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // Go's MaxHeaderBytes, with its 4 KiB of slack for the request line.
    builder.http1().max_buf_size(conn::MAX_HEADER_BYTES + 4096);
    builder
        .http2()
        .max_header_list_size(u32::try_from(conn::MAX_HEADER_BYTES + 320).unwrap_or(u32::MAX))
        .max_concurrent_streams(conn::H2_MAX_STREAMS)
        .initial_stream_window_size(conn::H2_STREAM_WINDOW)
        .initial_connection_window_size(conn::H2_STREAM_WINDOW * conn::H2_MAX_STREAMS)
        .max_frame_size(conn::H2_STREAM_WINDOW);
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = registered.must_close() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
        }
    }
}

/// Watches and other long-running requests are exempt from in-flight limits, as upstream.
fn long_running(req: &Request<Incoming>) -> bool {
    let query = crate::endpoints::request::Query::parse(req.uri().query());
    req.uri().path().contains("/watch/") || query.bool("watch").ok().flatten().unwrap_or(false)
}

async fn serve_one(server: &Arc<ApiServer>, limits: &Limits, req: Request<Incoming>) -> Response<Body> {
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let semaphore = if long_running(&req) {
        None
    } else if mutating {
        limits.mutating.as_ref()
    } else {
        limits.readonly.as_ref()
    };
    let _permit = match semaphore.map(Semaphore::try_acquire) {
        Some(Err(_)) => return too_many_requests(),
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let mut response = server.handle(req).await;
    response.headers_mut().entry("audit-id").or_insert_with(|| {
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap_or(HeaderValue::from_static(""))
    });
    response
}

fn too_many_requests() -> Response<Body> {
    let mut status = Status::failure(429, "TooManyRequests", "Too many requests, please try again later.");
    status.details = Some(StatusDetails { retry_after_seconds: 1, ..StatusDetails::default() });
    let mut r = status_response(&status);
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}
