//! Start-up: kube-apiserver's flags, the storage, the registry, and serving HTTP (hyper, HTTP/1.1
//! and h2c) with in-flight limits and graceful shutdown.

pub mod flags;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http::{header, HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::apimachinery::{KindInfo, Status, StatusDetails};
use crate::endpoints::openapi::{OpenApi, OpenApiDocs};
use crate::endpoints::{status_response, ApiServer, Body, VersionInfo};
use crate::registry::Registry;
use crate::storage::embedded::{Embedded, EmbeddedOptions};
use crate::storage::etcd3::{Etcd3, Etcd3Options};
use crate::storage::keys::KeyLayout;
use crate::storage::Storage;
pub use flags::{Backend, Flags};

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
    /// IO (binding the port, writing the kubeconfig).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
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
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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

/// A started server: its address and a handle to stop it (tests use [`start`] directly).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The kubeconfig written for it.
    pub kubeconfig: PathBuf,
    /// The API.
    pub server: Arc<ApiServer>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting, ends open requests (watches end), and waits for the accept loop.
    pub async fn stop(self) {
        self.server.begin_shutdown();
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Serves until SIGINT or SIGTERM.
pub async fn run(generated: Generated, flags: Flags) -> Result<(), ServeError> {
    let running = start(generated, flags).await?;
    eprintln!("kapi apiserver serving on http://{}", running.addr);
    println!("export KUBECONFIG={}", running.kubeconfig.display());
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

/// Opens storage, starts the registry, binds and serves in the background.
pub async fn start(generated: Generated, flags: Flags) -> Result<Running, ServeError> {
    flags.check()?;
    let data_dir = flags.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|source| ServeError::Io { what: format!("creating {}", data_dir.display()), source })?;
    let storage = open_storage(&flags).await?;
    let layout = KeyLayout::new(&flags.etcd_prefix);
    let cache = flags.watch_cache_config()?;
    let registry = Registry::start(generated.kinds, storage, &layout, &cache, flags.media_type()?)
        .await
        .map_err(|e| ServeError::Registry(e.to_string()))?;
    let server = Arc::new(ApiServer::new(registry, OpenApi::new(generated.openapi), VersionInfo::default()));
    let bind = SocketAddr::new(flags.insecure_bind_address, flags.insecure_port);
    let listener = TcpListener::bind(bind).await.map_err(|source| ServeError::Io { what: format!("binding {bind}"), source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Io { what: "reading the bound address".into(), source })?;
    let kubeconfig = write_kubeconfig(&data_dir, &format!("http://{addr}"))?;
    let limits = Arc::new(Limits {
        readonly: (flags.max_requests_inflight > 0).then(|| Semaphore::new(flags.max_requests_inflight)),
        mutating: (flags.max_mutating_requests_inflight > 0).then(|| Semaphore::new(flags.max_mutating_requests_inflight)),
    });
    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, server.clone(), limits, stopped));
    Ok(Running { addr, kubeconfig, server, shutdown, task })
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

async fn accept_loop(listener: TcpListener, server: Arc<ApiServer>, limits: Arc<Limits>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (server, limits, mut stop) = (server.clone(), limits.clone(), stopped.clone());
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (server, limits) = (server.clone(), limits.clone());
                        async move { Ok::<_, Infallible>(serve_one(&server, &limits, req).await) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
                        }
                    }
                });
            }
        }
        while connections.try_join_next().is_some() {}
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), async { while connections.join_next().await.is_some() {} }).await;
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

/// Writes `<data-dir>/kubeconfig` for `server` (plain HTTP until the security work lands).
fn write_kubeconfig(data_dir: &Path, server: &str) -> Result<PathBuf, ServeError> {
    let path = std::path::absolute(data_dir.join("kubeconfig")).unwrap_or_else(|_| data_dir.join("kubeconfig"));
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kapi\n  cluster:\n    server: {server}\ncontexts:\n- name: kapi\n  context:\n    cluster: kapi\n    user: admin\n    namespace: default\ncurrent-context: kapi\nusers:\n- name: admin\n  user: {{}}\n"
    );
    std::fs::write(&path, text).map_err(|source| ServeError::Io { what: format!("writing {}", path.display()), source })?;
    Ok(path)
}
