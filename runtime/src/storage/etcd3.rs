//! The etcd3 storage backend (`--etcd-servers`): the [`Storage`] contract on etcd's v3 gRPC API
//! through tonic ([`client`], over the checked-in [`rpc`] code), with several endpoints (the channel
//! balances and fails over between them), mutual TLS (`--etcd-cafile/--etcd-certfile/--etcd-keyfile`)
//! and upstream's compactor.
//!
//! Mapping of the contract onto etcd:
//! - writes are transactions guarded by `create_revision` (create) and `mod_revision` (update and
//!   delete), as kube-apiserver's etcd3 store does; a failed guard reads the key back in the same
//!   transaction to tell `NotFound` from `Conflict`;
//! - watches ask for `prev_kv` and progress notifications; a task per watch forwards the gRPC
//!   stream into a bounded channel (a consumer that falls behind is cut off, never stalling etcd),
//!   and after a transport failure or a member losing its leader re-opens the watch from the last
//!   delivered revision on another endpoint, so the consumer sees every event exactly once;
//! - on etcd versions whose requested progress notifications are ordered with events (3.4.31+,
//!   3.5.13+, 3.6+; etcd-io/etcd#15220) a quiet watch requests progress, so the watch cache can
//!   serve consistent reads; older versions only get etcd's periodic notifications and
//!   [`Storage::progress_requests`] says so, so consistent reads go to etcd (as upstream decides);
//! - compaction follows kube-apiserver's compactor: every interval one replica wins a
//!   compare-and-swap on `compact_rev_key` and compacts to the revision seen an interval earlier,
//!   so replicas sharing an etcd do not compact more often than one would.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

pub mod client;
pub mod rpc;

use client::{Client, ConnectOptions, Error as EtcdError, TlsOptions};
use rpc::etcdserverpb::compare::CompareResult;
use rpc::etcdserverpb::{
    response_op, Compare, RangeRequest, RequestOp, ResponseHeader, TxnRequest, TxnResponse, WatchCreateRequest,
};
use rpc::mvccpb::{self, event::EventType};

use super::keys::prefix_range_end;
use super::{
    Event, EventKind, KeyValue, ListOptions, ListResult, Revision, Storage, StorageError, WatchItem, WatchStream,
    MAX_VALUE_BYTES,
};

/// The key kube-apiserver's compactor coordinates on (outside any `--etcd-prefix`, shared by every
/// apiserver on the cluster). Its value is the revision last compacted to; its version is the
/// compactor's logical clock.
pub const COMPACT_REV_KEY: &str = "compact_rev_key";

/// How to reach etcd and how the backend behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etcd3Options {
    /// Client URLs (`--etcd-servers`): `http://host:port` or `https://host:port`.
    pub endpoints: Vec<String>,
    /// PEM CA bundle verifying the servers (`--etcd-cafile`).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (`--etcd-certfile`), with `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM client key (`--etcd-keyfile`).
    pub key_file: Option<PathBuf>,
    /// Compactor interval (`--etcd-compaction-interval`); zero disables it.
    pub compaction_interval: Duration,
    /// A watch with nothing to deliver for this long requests a progress notification (on etcd
    /// versions where that is safe).
    pub progress_interval: Duration,
    /// Items a watch consumer may have outstanding before it is cut off...
    pub watch_buffer: usize,
    /// ...once its buffer has stayed full this long.
    pub watch_stall_timeout: Duration,
    /// Deadline of one request.
    pub request_timeout: Duration,
    /// How long start-up keeps trying to reach etcd.
    pub connect_timeout: Duration,
    /// How long a broken watch keeps re-opening before its stream ends with an error.
    pub watch_retry_for: Duration,
}

impl Default for Etcd3Options {
    fn default() -> Self {
        Self {
            endpoints: vec!["http://127.0.0.1:2379".into()],
            ca_file: None,
            cert_file: None,
            key_file: None,
            compaction_interval: Duration::from_secs(300),
            progress_interval: Duration::from_millis(250),
            watch_buffer: 16 * 1024,
            watch_stall_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            watch_retry_for: Duration::from_secs(60),
        }
    }
}

/// The etcd3 backend. Cheap to share (`Arc`); dropping the last handle stops the compactor.
pub struct Etcd3 {
    client: Client,
    opts: Etcd3Options,
    /// The highest compaction this process knows of (its own, the compactor's, or one an error
    /// revealed).
    compacted: Arc<AtomicI64>,
    /// The server version (of the member answering at connect time).
    version: String,
    progress_requests: bool,
    compactor: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Etcd3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Etcd3").field("endpoints", &self.opts.endpoints).field("version", &self.version).finish()
    }
}

impl Drop for Etcd3 {
    fn drop(&mut self) {
        if let Some(c) = self.compactor.take() {
            c.abort();
        }
    }
}

impl Etcd3 {
    /// Connects (retrying until `request_timeout`), reads the server version and starts the
    /// compactor. Fails with a message naming the endpoints when etcd cannot be reached.
    pub async fn connect(opts: Etcd3Options) -> Result<Arc<Etcd3>, StorageError> {
        if opts.endpoints.is_empty() {
            return Err(StorageError::Unavailable("no etcd endpoints given".into()));
        }
        let connect = ConnectOptions {
            endpoints: opts.endpoints.clone(),
            tls: tls_options(&opts)?,
            // A member that lost its leader cancels our watches instead of serving stale ones.
            require_leader: true,
        };
        let deadline = Instant::now() + opts.connect_timeout;
        let endpoints = opts.endpoints.join(",");
        let (client, version) = loop {
            let attempt = async {
                let client = Client::connect(&connect).await?;
                let status = client.status().await?;
                Ok::<_, EtcdError>((client, status.version))
            };
            match tokio::time::timeout(Duration::from_secs(5), attempt).await {
                Ok(Ok(done)) => break done,
                Ok(Err(e)) if Instant::now() >= deadline || refused_for_good(&e) => {
                    return Err(StorageError::Unavailable(format!("cannot reach etcd at {endpoints}: {}", chain(&e))))
                }
                Err(_) if Instant::now() >= deadline => {
                    return Err(StorageError::Unavailable(format!("cannot reach etcd at {endpoints}: timed out")))
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        let progress_requests = ordered_progress_requests(&version);
        let compacted = Arc::new(AtomicI64::new(0));
        let compactor = (!opts.compaction_interval.is_zero()).then(|| {
            tokio::spawn(compactor(client.clone(), opts.compaction_interval, compacted.clone()))
        });
        Ok(Arc::new(Etcd3 { client, opts, compacted, version, progress_requests, compactor }))
    }

    /// The etcd server version seen at connect time (`3.5.1`).
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// Runs a request with the backend's deadline.
    async fn call<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, EtcdError>>,
    ) -> Result<T, EtcdError> {
        match tokio::time::timeout(self.opts.request_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(EtcdError::Timeout(self.opts.request_timeout)),
        }
    }

    /// A read, retried a few times on transient failures (reads are idempotent; a member that
    /// just died is skipped by the balancer on the next attempt).
    async fn read<T, F, Fut>(&self, op: F) -> Result<T, EtcdError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, EtcdError>>,
    {
        self.retrying(op, 5, transient, |attempt| Duration::from_millis(50 << attempt)).await
    }

    /// A write, retried only when the request cannot have reached etcd (connecting to the member the
    /// balancer picked failed: it is down), so another member gets it. Any other failure is
    /// ambiguous — the write may have been applied — and is returned.
    async fn write<T, F, Fut>(&self, op: F) -> Result<T, EtcdError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, EtcdError>>,
    {
        self.retrying(op, 20, never_sent, |attempt| Duration::from_millis(5 * attempt)).await
    }

    /// Runs `op` with the request deadline, again (up to `max` more times, pausing `pause(n)`)
    /// while it fails with an error `retry` accepts.
    async fn retrying<T, F, Fut>(
        &self,
        mut op: F,
        max: u64,
        retry: fn(&EtcdError) -> bool,
        pause: fn(u64) -> Duration,
    ) -> Result<T, EtcdError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, EtcdError>>,
    {
        let mut attempt = 0;
        loop {
            match self.call(op()).await {
                Err(e) if attempt < max && retry(&e) => {
                    attempt += 1;
                    tokio::time::sleep(pause(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Maps an etcd error of a read at `requested` (None: now).
    async fn read_error(&self, e: EtcdError, requested: Option<Revision>) -> StorageError {
        match (classify(&e), requested) {
            (Class::Compacted, Some(requested)) => {
                let compacted = self.compacted_revision().await.unwrap_or(requested + 1);
                StorageError::Expired { requested, compacted }
            }
            (Class::Future, Some(requested)) => match self.current_revision().await {
                Ok(current) => StorageError::FutureRevision { requested, current },
                Err(e) => e,
            },
            _ => unavailable(&e),
        }
    }

    /// Whether `revision` can still be read (not compacted away).
    async fn readable(&self, revision: Revision) -> Result<bool, StorageError> {
        let request =
            RangeRequest { key: COMPACT_REV_KEY.into(), revision, count_only: true, ..Default::default() };
        let probe = self.read(|| self.client.range(request.clone())).await;
        match probe {
            Ok(_) => Ok(true),
            Err(e) => match classify(&e) {
                Class::Compacted => Ok(false),
                _ => Err(unavailable(&e)),
            },
        }
    }

    fn check_size(key: &str, value: &Bytes) -> Result<(), StorageError> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(StorageError::TooLarge { key: key.to_owned(), size: value.len(), limit: MAX_VALUE_BYTES });
        }
        Ok(())
    }

    fn write_error(key: &str, value_len: usize, e: &EtcdError) -> StorageError {
        match classify(e) {
            Class::TooLarge => StorageError::TooLarge { key: key.to_owned(), size: value_len, limit: MAX_VALUE_BYTES },
            _ => unavailable(e),
        }
    }

    /// The version (etcd's per-key write count) of the key a transaction's failure branch read.
    fn failure_kv_version(resp: &TxnResponse) -> Option<i64> {
        Etcd3::failure_range(resp).map(|kv| kv.version)
    }

    /// The first key-value of a transaction's failure branch (its `get`), if any.
    fn failure_kv(resp: &TxnResponse) -> Option<KeyValue> {
        Etcd3::failure_range(resp).map(convert_kv)
    }

    fn failure_range(resp: &TxnResponse) -> Option<&mvccpb::KeyValue> {
        resp.responses.iter().find_map(|r| match &r.response {
            Some(response_op::Response::ResponseRange(g)) => g.kvs.first(),
            _ => None,
        })
    }
}

fn tls_options(opts: &Etcd3Options) -> Result<Option<TlsOptions>, StorageError> {
    let https = opts.endpoints.iter().any(|e| e.starts_with("https://"));
    let read = |p: &PathBuf, what: &str| {
        std::fs::read(p).map_err(|e| StorageError::Unavailable(format!("reading {what} {}: {e}", p.display())))
    };
    if !https {
        return Ok(None);
    }
    let Some(ca) = &opts.ca_file else {
        return Err(StorageError::Unavailable(
            "https etcd endpoints need --etcd-cafile (the CA that signed the etcd servers' certificates)".into(),
        ));
    };
    let mut tls = TlsOptions { ca_pem: read(ca, "--etcd-cafile")?, identity: None };
    match (&opts.cert_file, &opts.key_file) {
        (Some(cert), Some(key)) => {
            tls.identity = Some((read(cert, "--etcd-certfile")?, read(key, "--etcd-keyfile")?));
        }
        (None, None) => {}
        _ => {
            return Err(StorageError::Unavailable(
                "--etcd-certfile and --etcd-keyfile must be given together".into(),
            ))
        }
    }
    Ok(Some(tls))
}

/// Whether requested progress notifications of this etcd version are ordered with the watch's
/// events (fixed by etcd-io/etcd#15237 and #17557 in 3.4.31 and 3.5.13; 3.6 onwards).
fn ordered_progress_requests(version: &str) -> bool {
    let mut parts = version.split(['.', '-', '+']).map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor, patch) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    match (major, minor) {
        (3, 4) => patch >= 31,
        (3, 5) => patch >= 13,
        (3, m) => m >= 6,
        (m, _) => m > 3,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Class {
    Compacted,
    Future,
    TooLarge,
    Other,
}

fn classify(e: &EtcdError) -> Class {
    let message = match e {
        EtcdError::Status(s) => s.message(),
        _ => return Class::Other,
    };
    if message.contains("required revision has been compacted") {
        Class::Compacted
    } else if message.contains("required revision is a future revision") {
        Class::Future
    } else if message.contains("request is too large") || message.contains("message larger than max") {
        Class::TooLarge
    } else {
        Class::Other
    }
}

/// Failures worth retrying for an idempotent request: the member or the connection went away,
/// or the cluster is between leaders.
fn transient(e: &EtcdError) -> bool {
    match e {
        // Transport failures come as statuses too (Unavailable, or Unknown when no endpoint is ready).
        EtcdError::Status(s) => matches!(
            s.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Unknown | tonic::Code::Aborted
        ),
        EtcdError::Endpoint { .. } | EtcdError::Tls(_) | EtcdError::Closed | EtcdError::Timeout(_) => false,
    }
}

/// Whether a request failed before it was sent: the connection to the chosen member could not be
/// made.
fn never_sent(e: &EtcdError) -> bool {
    match e {
        EtcdError::Status(s) if s.code() == tonic::Code::Unavailable => {
            let text = chain(e).to_lowercase();
            ["tcp connect error", "connection refused", "error trying to connect", "dns error"]
                .iter()
                .any(|w| text.contains(w))
        }
        _ => false,
    }
}

/// An error and its causes (`transport error: ... : tls handshake eof`).
fn chain(e: &EtcdError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Failures retrying will not fix: TLS and authentication problems.
fn refused_for_good(e: &EtcdError) -> bool {
    match e {
        EtcdError::Status(s) if matches!(s.code(), tonic::Code::Unauthenticated | tonic::Code::PermissionDenied) => {
            return true
        }
        EtcdError::Endpoint { .. } | EtcdError::Tls(_) => return true,
        _ => {}
    }
    let text = chain(e).to_lowercase();
    ["certificate", "handshake", "tls", "unknown ca", "invalid peer"].iter().any(|w| text.contains(w))
}

fn unavailable(e: &EtcdError) -> StorageError {
    let text = match e {
        EtcdError::Status(s) => format!("etcd: {} ({:?})", s.message(), s.code()),
        other => format!("etcd: {}", chain(other)),
    };
    StorageError::Unavailable(text)
}

/// A key as etcd takes it (one copy per request; its uses in a transaction share it).
fn key_bytes(key: &str) -> Bytes {
    Bytes::copy_from_slice(key.as_bytes())
}

fn convert_kv(kv: &mvccpb::KeyValue) -> KeyValue {
    KeyValue {
        key: String::from_utf8_lossy(&kv.key).into_owned(),
        // A slice of the response buffer, not a copy.
        value: kv.value.clone(),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
    }
}

fn header_revision(h: Option<&ResponseHeader>) -> Revision {
    h.map(|h| h.revision).unwrap_or(0)
}

#[async_trait::async_trait]
impl Storage for Etcd3 {
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError> {
        let request = RangeRequest { key: key_bytes(key), revision: revision.unwrap_or(0), ..Default::default() };
        let got = self.read(|| self.client.range(request.clone())).await;
        match got {
            Ok(resp) => Ok(resp.kvs.first().map(convert_kv)),
            Err(e) => Err(self.read_error(e, revision).await),
        }
    }

    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError> {
        let start = match &opts.start_after {
            Some(after) => {
                let mut s = after.as_bytes().to_vec();
                s.push(0);
                s
            }
            None => prefix.as_bytes().to_vec(),
        };
        let end = prefix_range_end(prefix.as_bytes()).unwrap_or_else(|| vec![0]);
        let request = RangeRequest {
            key: start.into(),
            range_end: end.into(),
            revision: opts.revision.unwrap_or(0),
            limit: opts.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX)).unwrap_or(0),
            ..Default::default()
        };
        let got = self.read(|| self.client.range(request.clone())).await;
        match got {
            Ok(resp) => {
                let items: Vec<KeyValue> = resp.kvs.iter().map(convert_kv).collect();
                let total = u64::try_from(resp.count).unwrap_or(0);
                let remaining = total.saturating_sub(items.len() as u64);
                let revision = opts.revision.unwrap_or_else(|| header_revision(resp.header.as_ref()));
                Ok(ListResult { items, revision, remaining })
            }
            Err(e) => Err(self.read_error(e, opts.revision).await),
        }
    }

    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError> {
        Etcd3::check_size(key, &value)?;
        let len = value.len();
        let k = key_bytes(key);
        let txn = TxnRequest {
            compare: vec![Compare::create_revision(k.clone(), CompareResult::Equal, 0)],
            success: vec![RequestOp::put(k, value)],
            failure: vec![],
        };
        let resp = self
            .write(|| self.client.txn(txn.clone()))
            .await
            .map_err(|e| Etcd3::write_error(key, len, &e))?;
        if !resp.succeeded {
            return Err(StorageError::AlreadyExists { key: key.to_owned() });
        }
        Ok(header_revision(resp.header.as_ref()))
    }

    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision, StorageError> {
        Etcd3::check_size(key, &value)?;
        let len = value.len();
        let k = key_bytes(key);
        let txn = TxnRequest {
            compare: vec![
                Compare::create_revision(k.clone(), CompareResult::Greater, 0),
                Compare::mod_revision(k.clone(), CompareResult::Equal, expected),
            ],
            success: vec![RequestOp::put(k.clone(), value)],
            failure: vec![RequestOp::get(k, true)],
        };
        let resp = self
            .write(|| self.client.txn(txn.clone()))
            .await
            .map_err(|e| Etcd3::write_error(key, len, &e))?;
        if resp.succeeded {
            return Ok(header_revision(resp.header.as_ref()));
        }
        match Etcd3::failure_kv(&resp) {
            None => Err(StorageError::NotFound { key: key.to_owned() }),
            Some(kv) => Err(StorageError::Conflict { key: key.to_owned(), expected, actual: kv.mod_revision }),
        }
    }

    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision), StorageError> {
        let k = key_bytes(key);
        let mut compare = vec![Compare::create_revision(k.clone(), CompareResult::Greater, 0)];
        if let Some(expected) = expected {
            compare.push(Compare::mod_revision(k.clone(), CompareResult::Equal, expected));
        }
        let txn = TxnRequest {
            compare,
            success: vec![RequestOp::delete_with_prev(k.clone())],
            failure: vec![RequestOp::get(k, true)],
        };
        let resp = self.write(|| self.client.txn(txn.clone())).await.map_err(|e| unavailable(&e))?;
        if !resp.succeeded {
            return match (Etcd3::failure_kv(&resp), expected) {
                (Some(kv), Some(expected)) => {
                    Err(StorageError::Conflict { key: key.to_owned(), expected, actual: kv.mod_revision })
                }
                _ => Err(StorageError::NotFound { key: key.to_owned() }),
            };
        }
        let revision = header_revision(resp.header.as_ref());
        let prev = resp.responses.iter().find_map(|r| match &r.response {
            Some(response_op::Response::ResponseDeleteRange(d)) => d.prev_kvs.first().map(convert_kv),
            _ => None,
        });
        match prev {
            Some(prev) => Ok((prev, revision)),
            None => Err(StorageError::Unavailable(format!("etcd deleted {key:?} without returning its previous value"))),
        }
    }

    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError> {
        let known = self.compacted.load(Ordering::Acquire);
        let (tx, rx) = mpsc::channel(self.opts.watch_buffer.max(1));
        if after < known {
            let _ = tx.try_send(Err(StorageError::Expired { requested: after, compacted: known }));
        } else {
            let task = WatchTask {
                client: self.client.clone(),
                prefix: prefix.to_owned(),
                last: after,
                tx,
                progress_requests: self.progress_requests,
                progress_interval: self.opts.progress_interval,
                retry_for: self.opts.watch_retry_for,
                stall_timeout: self.opts.watch_stall_timeout,
                compacted: self.compacted.clone(),
            };
            tokio::spawn(task.run());
        }
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }

    async fn current_revision(&self) -> Result<Revision, StorageError> {
        let request = RangeRequest { key: COMPACT_REV_KEY.into(), count_only: true, ..Default::default() };
        let resp = self.read(|| self.client.range(request.clone())).await.map_err(|e| unavailable(&e))?;
        Ok(header_revision(resp.header.as_ref()))
    }

    async fn compact(&self, revision: Revision) -> Result<(), StorageError> {
        let current = self.current_revision().await?;
        if revision > current {
            return Err(StorageError::FutureRevision { requested: revision, current });
        }
        match self.call(self.client.compact(revision)).await {
            Ok(_) => {
                self.compacted.fetch_max(revision, Ordering::AcqRel);
                Ok(())
            }
            // Compacting at or below the compacted revision is a no-op.
            Err(e) if classify(&e) == Class::Compacted => Ok(()),
            Err(e) if classify(&e) == Class::Future => Err(StorageError::FutureRevision { requested: revision, current }),
            Err(e) => Err(unavailable(&e)),
        }
    }

    async fn compacted_revision(&self) -> Result<Revision, StorageError> {
        // etcd does not report its compacted revision directly: reads below it fail, reads at it
        // work, so search for the lowest readable revision above what this process knows.
        let known = self.compacted.load(Ordering::Acquire);
        let mut lo = known.max(1);
        let mut hi = self.current_revision().await?;
        if lo >= hi || self.readable(lo).await? {
            return Ok(known);
        }
        // Invariant: lo is not readable, hi is.
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.readable(mid).await? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        self.compacted.fetch_max(hi, Ordering::AcqRel);
        Ok(hi)
    }

    fn progress_requests(&self) -> bool {
        self.progress_requests
    }
}

/// One watch: forwards etcd's stream into the consumer's bounded channel, re-opening it from the
/// last delivered revision after failures.
struct WatchTask {
    client: Client,
    prefix: String,
    /// Every change up to this revision has been delivered.
    last: Revision,
    tx: mpsc::Sender<Result<WatchItem, StorageError>>,
    progress_requests: bool,
    progress_interval: Duration,
    retry_for: Duration,
    stall_timeout: Duration,
    compacted: Arc<AtomicI64>,
}

/// Why a watch attempt ended.
enum Ended {
    /// The consumer is gone or was cut off, or the watch ended for good.
    Done,
    /// The stream broke: re-open from `last`.
    Broken(String),
}

impl WatchTask {
    async fn run(mut self) {
        let mut failing_since: Option<Instant> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            let delivered_before = self.last;
            match self.attempt().await {
                Ended::Done => return,
                Ended::Broken(why) => {
                    if self.last > delivered_before {
                        failing_since = None;
                        backoff = Duration::from_millis(50);
                    }
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.retry_for {
                        let _ = self.tx.try_send(Err(StorageError::Unavailable(why)));
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = self.tx.closed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Sends to the consumer; `false` when it is gone, or its buffer stays full for longer than
    /// the stall timeout (cut off: etcd delivers in batches, so a burst may briefly fill the buffer
    /// of a consumer that keeps up).
    async fn deliver(&self, item: Result<WatchItem, StorageError>) -> bool {
        match self.tx.try_send(item) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
            Err(mpsc::error::TrySendError::Full(item)) => {
                matches!(tokio::time::timeout(self.stall_timeout, self.tx.send(item)).await, Ok(Ok(())))
            }
        }
    }

    async fn attempt(&mut self) -> Ended {
        let end = prefix_range_end(self.prefix.as_bytes()).unwrap_or_else(|| vec![0]);
        let create = WatchCreateRequest {
            key: key_bytes(&self.prefix),
            range_end: end.into(),
            start_revision: self.last + 1,
            progress_notify: true,
            prev_kv: true,
        };
        let opened = tokio::select! {
            r = self.client.watch(create) => r,
            _ = self.tx.closed() => return Ended::Done,
        };
        let (requests, mut responses) = match opened {
            Ok(stream) => stream,
            Err(e) => return Ended::Broken(format!("opening an etcd watch: {e}")),
        };
        let mut quiet = tokio::time::interval(self.progress_interval.max(Duration::from_millis(10)));
        quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut heard = true;
        loop {
            let message = tokio::select! {
                m = responses.message() => m,
                _ = quiet.tick(), if self.progress_requests => {
                    if !heard {
                        if let Err(e) = requests.request_progress().await {
                            return Ended::Broken(format!("requesting watch progress: {e}"));
                        }
                    }
                    heard = false;
                    continue;
                }
                _ = self.tx.closed() => return Ended::Done,
            };
            heard = true;
            let resp = match message {
                Ok(Some(resp)) => resp,
                Ok(None) => return Ended::Broken("the etcd watch stream ended".into()),
                Err(e) => return Ended::Broken(format!("etcd watch: {e}")),
            };
            if resp.compact_revision > 0 {
                let compacted = resp.compact_revision;
                self.compacted.fetch_max(compacted, Ordering::AcqRel);
                let _ = self.tx.try_send(Err(StorageError::Expired { requested: self.last, compacted }));
                return Ended::Done;
            }
            if resp.canceled {
                // e.g. "etcdserver: no leader": re-open, on another member if need be.
                return Ended::Broken(format!("etcd canceled the watch: {}", resp.cancel_reason));
            }
            if resp.created {
                continue;
            }
            let events = &resp.events;
            if events.is_empty() {
                let revision = header_revision(resp.header.as_ref());
                if revision > self.last {
                    self.last = revision;
                    if !self.deliver(Ok(WatchItem::Progress(revision))).await {
                        return Ended::Done;
                    }
                }
                continue;
            }
            for e in events {
                let Some(kv) = &e.kv else { continue };
                let revision = kv.mod_revision;
                if revision <= self.last {
                    // Already delivered before a re-open.
                    continue;
                }
                let prev = e.prev_kv.as_ref().map(convert_kv);
                let event = match e.r#type() {
                    EventType::Delete => Event {
                        kind: EventKind::Deleted,
                        kv: KeyValue {
                            key: String::from_utf8_lossy(&kv.key).into_owned(),
                            value: Bytes::new(),
                            create_revision: prev.as_ref().map(|p| p.create_revision).unwrap_or(0),
                            mod_revision: revision,
                        },
                        prev,
                    },
                    EventType::Put => {
                        let kind =
                            if kv.create_revision == revision { EventKind::Created } else { EventKind::Updated };
                        Event { kind, kv: convert_kv(kv), prev }
                    }
                };
                if !self.deliver(Ok(WatchItem::Event(event))).await {
                    return Ended::Done;
                }
                self.last = revision;
            }
        }
    }
}

/// kube-apiserver's compactor (`storage/etcd3/compact.go`): every `interval`, compare-and-swap
/// `compact_rev_key` from the version this replica last saw; the winner compacts to the revision
/// current one interval ago. A new compactor only records the revision on its first round.
async fn compactor(client: Client, interval: Duration, compacted: Arc<AtomicI64>) {
    let mut version: i64 = 0;
    let mut rev: Revision = 0;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let txn = TxnRequest {
            compare: vec![Compare::version(COMPACT_REV_KEY, CompareResult::Equal, version)],
            success: vec![RequestOp::put(COMPACT_REV_KEY, rev.to_string())],
            failure: vec![RequestOp::get(COMPACT_REV_KEY, false)],
        };
        let resp = match client.txn(txn).await {
            Ok(resp) => resp,
            Err(_) => continue,
        };
        let current = header_revision(resp.header.as_ref());
        if !resp.succeeded {
            // Another replica compacted this round: adopt its clock.
            let theirs = Etcd3::failure_kv_version(&resp);
            version = theirs.unwrap_or(version);
            rev = current;
            continue;
        }
        version += 1;
        if rev > 0 && client.compact(rev).await.is_ok() {
            compacted.fetch_max(rev, Ordering::AcqRel);
        }
        rev = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_requests_by_version() {
        for (v, ok) in [
            ("3.5.1", false),
            ("3.5.12", false),
            ("3.5.13", true),
            ("3.5.21", true),
            ("3.4.23", false),
            ("3.4.31", true),
            ("3.6.0", true),
            ("3.6.0-rc.1", true),
            ("4.0.0", true),
            ("garbage", false),
        ] {
            assert_eq!(ordered_progress_requests(v), ok, "{v}");
        }
    }
}
