//! A thin etcd v3 client over tonic: one balanced gRPC channel to every `--etcd-servers` endpoint
//! (plain or mutual TLS, HTTP/2 keep-alives, etcd's `hasleader` requirement), the calls the etcd3
//! storage makes (range, txn, compact, watch, status), and constructors for transaction parts.
//!
//! The message types and stubs are the checked-in [`super::rpc`] code, so nothing here needs protoc
//! at build time.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::channel::Change;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::rpc::etcdserverpb::kv_client::KvClient;
use super::rpc::etcdserverpb::maintenance_client::MaintenanceClient;
use super::rpc::etcdserverpb::watch_client::WatchClient;
use super::rpc::etcdserverpb::{
    compare, request_op, watch_request, CompactionRequest, Compare, DeleteRangeRequest, PutRequest, RangeRequest,
    RangeResponse, RequestOp, StatusRequest, StatusResponse, TxnRequest, TxnResponse, WatchCreateRequest,
    WatchProgressRequest, WatchRequest, WatchResponse,
};

/// How to reach etcd.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Client URLs: `http://host:port`, `https://host:port`, or `host:port` (HTTPS when `tls` is set).
    pub endpoints: Vec<String>,
    /// TLS for `https` endpoints.
    pub tls: Option<TlsOptions>,
    /// Ask members to refuse requests while they have no leader (etcd's `hasleader` metadata), so a
    /// partitioned member cancels watches instead of serving stale ones.
    pub require_leader: bool,
}

/// PEM material for TLS to etcd.
#[derive(Clone)]
pub struct TlsOptions {
    /// The CA bundle that signed the servers' certificates.
    pub ca_pem: Vec<u8>,
    /// A client certificate and its key, for etcd's `--client-cert-auth`.
    pub identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsOptions {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_pem", &format_args!("{} bytes", self.ca_pem.len()))
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

/// What went wrong talking to etcd.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An endpoint that is not a URL.
    #[error("invalid etcd endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// As given.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// The TLS configuration was refused.
    #[error("etcd TLS configuration: {0}")]
    Tls(#[source] tonic::transport::Error),
    /// etcd (or the transport on its behalf) answered with a gRPC status.
    #[error("grpc request error: {0}")]
    Status(#[from] tonic::Status),
    /// The balanced channel is gone (its background task ended).
    #[error("the etcd channel is closed")]
    Closed,
    /// A request took longer than its deadline.
    #[error("etcd request timed out after {0:?}")]
    Timeout(Duration),
}

/// Adds `hasleader: true` to every request when leaders are required.
#[derive(Debug, Clone)]
pub struct RequireLeader(bool);

impl tonic::service::Interceptor for RequireLeader {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if self.0 {
            request.metadata_mut().insert("hasleader", AsciiMetadataValue::from_static("true"));
        }
        Ok(request)
    }
}

/// The channel every stub runs on.
pub type Service = InterceptedService<Channel, RequireLeader>;

/// A connection to an etcd cluster; cheap to clone (clones share the channel). Requests go to one of
/// the endpoints; tonic's balancer skips endpoints it cannot connect to.
#[derive(Debug, Clone)]
pub struct Client {
    service: Service,
    /// The balancer's endpoint set: kept, unchanged, for as long as the client lives.
    _endpoints: mpsc::Sender<Change<http::Uri, Endpoint>>,
}

/// Responses may be large (a range over every object of a resource).
const MAX_DECODING: usize = usize::MAX >> 1;

impl Client {
    /// Builds the channel. Connections are made lazily, by the first request: call [`Client::status`]
    /// to find out whether etcd answers.
    pub async fn connect(opts: &ConnectOptions) -> Result<Client, Error> {
        let mut endpoints = Vec::with_capacity(opts.endpoints.len());
        for e in &opts.endpoints {
            endpoints.push(endpoint(e, opts.tls.as_ref())?);
        }
        if endpoints.is_empty() {
            return Err(Error::Endpoint { endpoint: String::new(), reason: "no etcd endpoints given".into() });
        }
        let (channel, changes) = Channel::balance_channel(endpoints.len().max(1) * 2);
        for e in endpoints {
            changes.send(Change::Insert(e.uri().clone(), e)).await.map_err(|_| Error::Closed)?;
        }
        let service = InterceptedService::new(channel, RequireLeader(opts.require_leader));
        Ok(Client { service, _endpoints: changes })
    }

    /// The KV stub.
    pub fn kv(&self) -> KvClient<Service> {
        KvClient::new(self.service.clone()).max_decoding_message_size(MAX_DECODING)
    }

    /// `Range`.
    pub async fn range(&self, request: RangeRequest) -> Result<RangeResponse, Error> {
        Ok(self.kv().range(request).await?.into_inner())
    }

    /// `Txn`.
    pub async fn txn(&self, request: TxnRequest) -> Result<TxnResponse, Error> {
        Ok(self.kv().txn(request).await?.into_inner())
    }

    /// `Compact` to `revision` (not physical: etcd answers before the space is freed).
    pub async fn compact(&self, revision: i64) -> Result<(), Error> {
        self.kv().compact(CompactionRequest { revision, physical: false }).await?;
        Ok(())
    }

    /// `Maintenance.Status` of the member that answers.
    pub async fn status(&self) -> Result<StatusResponse, Error> {
        let mut stub = MaintenanceClient::new(self.service.clone());
        Ok(stub.status(StatusRequest {}).await?.into_inner())
    }

    /// Opens a watch stream with one watcher. The sender asks for progress (and keeps the stream open:
    /// dropping it half-closes the stream, and etcd then ends it).
    pub async fn watch(&self, create: WatchCreateRequest) -> Result<(WatchRequests, tonic::Streaming<WatchResponse>), Error> {
        let (tx, rx) = mpsc::channel(4);
        let first = WatchRequest { request_union: Some(watch_request::RequestUnion::CreateRequest(create)) };
        tx.send(first).await.map_err(|_| Error::Closed)?;
        let mut stub = WatchClient::new(self.service.clone()).max_decoding_message_size(MAX_DECODING);
        let responses = stub.watch(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner();
        Ok((WatchRequests(tx), responses))
    }
}

/// The request side of a watch stream.
#[derive(Debug)]
pub struct WatchRequests(mpsc::Sender<WatchRequest>);

impl WatchRequests {
    /// Asks for a progress notification (etcd 3.4+): a response with no events whose header carries
    /// the revision every event up to which has been sent.
    pub async fn request_progress(&self) -> Result<(), Error> {
        let request =
            WatchRequest { request_union: Some(watch_request::RequestUnion::ProgressRequest(WatchProgressRequest {})) };
        self.0.send(request).await.map_err(|_| Error::Closed)
    }
}

fn endpoint(url: &str, tls: Option<&TlsOptions>) -> Result<Endpoint, Error> {
    let bad = |reason: String| Error::Endpoint { endpoint: url.to_owned(), reason };
    let full = if url.starts_with("http://") || url.starts_with("https://") {
        url.to_owned()
    } else if tls.is_some() {
        format!("https://{url}")
    } else {
        format!("http://{url}")
    };
    let mut endpoint = Channel::from_shared(full.clone()).map_err(|e| bad(e.to_string()))?;
    if full.starts_with("https://") {
        let Some(tls) = tls else {
            return Err(bad("an https endpoint needs a CA (--etcd-cafile)".into()));
        };
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&tls.ca_pem));
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(cert, key));
        }
        endpoint = endpoint.tls_config(config).map_err(Error::Tls)?;
    }
    Ok(endpoint
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(10))
        .keep_alive_timeout(Duration::from_secs(5))
        .keep_alive_while_idle(true))
}

// Constructors for transaction parts (the generated messages have only field-by-field literals).

impl Compare {
    fn new(key: impl Into<Bytes>, result: compare::CompareResult, target: compare::TargetUnion) -> Compare {
        let kind = match target {
            compare::TargetUnion::Version(_) => compare::CompareTarget::Version,
            compare::TargetUnion::CreateRevision(_) => compare::CompareTarget::Create,
            compare::TargetUnion::ModRevision(_) => compare::CompareTarget::Mod,
            compare::TargetUnion::Value(_) => compare::CompareTarget::Value,
        };
        Compare { result: result as i32, target: kind as i32, key: key.into(), target_union: Some(target) }
    }

    /// The key's creation revision (0: it does not exist) compared with `revision`.
    pub fn create_revision(key: impl Into<Bytes>, result: compare::CompareResult, revision: i64) -> Compare {
        Compare::new(key, result, compare::TargetUnion::CreateRevision(revision))
    }

    /// The key's last modification revision compared with `revision`.
    pub fn mod_revision(key: impl Into<Bytes>, result: compare::CompareResult, revision: i64) -> Compare {
        Compare::new(key, result, compare::TargetUnion::ModRevision(revision))
    }

    /// The key's write count compared with `version`.
    pub fn version(key: impl Into<Bytes>, result: compare::CompareResult, version: i64) -> Compare {
        Compare::new(key, result, compare::TargetUnion::Version(version))
    }
}

impl RequestOp {
    /// Writes `value` at `key`.
    pub fn put(key: impl Into<Bytes>, value: impl Into<Bytes>) -> RequestOp {
        let put = PutRequest { key: key.into(), value: value.into(), ..Default::default() };
        RequestOp { request: Some(request_op::Request::RequestPut(put)) }
    }

    /// Reads `key` (its value too unless `keys_only`).
    pub fn get(key: impl Into<Bytes>, keys_only: bool) -> RequestOp {
        let range = RangeRequest { key: key.into(), keys_only, ..Default::default() };
        RequestOp { request: Some(request_op::Request::RequestRange(range)) }
    }

    /// Deletes `key`, returning what it held.
    pub fn delete_with_prev(key: impl Into<Bytes>) -> RequestOp {
        let delete = DeleteRangeRequest { key: key.into(), prev_kv: true, ..Default::default() };
        RequestOp { request: Some(request_op::Request::RequestDeleteRange(delete)) }
    }
}
