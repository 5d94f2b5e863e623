//! The watch cache (upstream's `k8s.io/apiserver/pkg/storage/cacher`): per resource, one storage
//! watch feeds the current state and a ring of recent events; lists and watches are served from it.
//!
//! - [`Cacher`] serves `resourceVersion=0`/NotOlderThan lists from memory, makes consistent lists
//!   (resourceVersion unset) wait until the cache reaches storage's current revision, replays watches
//!   from the ring (or answers `410 Expired` in-stream), sends bookmarks and the
//!   `k8s.io/initial-events-end` bookmark of `sendInitialEvents`, and never lets a slow watcher stall
//!   the writer or other watchers.
//! - [`Passthrough`] is the same API straight from storage (`--watch-cache=false`).
//! - **Encode once**: an object revision is decoded by its [`ObjectCodec`] once, into a
//!   [`CachedObject`] holding the served bytes; every list and every watcher shares that `Arc`.
//!
//! The runtime never names a kind: the codec produces the bytes, labels and selectable fields, and
//! requests carry their selector as a [`Filter`] closure.

mod cache;
mod codec;
mod object;
mod options;
mod passthrough;
mod watch_cache;
mod watcher;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;

use crate::apimachinery::{Status, StatusCause, StatusDetails};
use crate::storage::{Revision, StorageError};

pub use cache::{Cacher, CacherStats};
pub use codec::JsonCodec;
pub use object::{AttrMap, CachedObject, DecodeError, Decoded, ObjectCodec, FIELD_NAME, FIELD_NAMESPACE};
pub use options::{
    parse_watch_cache_sizes, CacheMode, CacherOptions, WatchCacheConfig, DEFAULT_BOOKMARK_INTERVAL, DEFAULT_CAPACITY,
    DEFAULT_EVENT_FRESH_DURATION, DEFAULT_FRESHNESS_TIMEOUT, DEFAULT_LIST_PAGE_SIZE, DEFAULT_MAX_RING_BYTES,
    DEFAULT_MIN_RING_EVENTS, DEFAULT_WATCHER_BUFFER,
};
pub use passthrough::Passthrough;

/// The annotation upstream puts on the bookmark that ends `sendInitialEvents`.
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

/// The consistency a read asks for (`resourceVersion` + `resourceVersionMatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceVersion {
    /// `resourceVersion` unset: a consistent (most recent) read.
    #[default]
    Unset,
    /// `resourceVersion=N` (match NotOlderThan, the default): any state at least as new as N;
    /// `0` means any state at all.
    NotOlderThan(Revision),
    /// `resourceVersionMatch=Exact`: the state at exactly N.
    Exact(Revision),
}

/// Which keys a request covers, below the cacher's prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Keys {
    /// Every key under the resource prefix.
    #[default]
    All,
    /// Keys starting with this (a namespace: `/registry/pods/default/`).
    Prefix(String),
    /// Exactly this key (a watch or list of one named object).
    Key(String),
}

impl Keys {
    /// True if `key` is covered.
    pub fn matches(&self, key: &str) -> bool {
        match self {
            Keys::All => true,
            Keys::Prefix(prefix) => key.starts_with(prefix.as_str()),
            Keys::Key(k) => k == key,
        }
    }

    /// The storage prefix to read: the covered prefix, or the resource prefix.
    fn storage_prefix<'a>(&'a self, resource_prefix: &'a str) -> &'a str {
        match self {
            Keys::All => resource_prefix,
            Keys::Prefix(prefix) | Keys::Key(prefix) => prefix,
        }
    }
}

/// The predicate behind a [`Filter`].
type Predicate = dyn Fn(&CachedObject) -> bool + Send + Sync;

/// A label/field selector as a predicate on cached objects (the endpoints layer compiles selectors).
#[derive(Clone, Default)]
pub struct Filter(Option<Arc<Predicate>>);

impl Filter {
    /// Matches everything (no selector).
    pub fn everything() -> Filter {
        Filter(None)
    }

    /// Matches the objects `f` accepts.
    pub fn new(f: impl Fn(&CachedObject) -> bool + Send + Sync + 'static) -> Filter {
        Filter(Some(Arc::new(f)))
    }

    /// True if this filter matches everything.
    pub fn is_everything(&self) -> bool {
        self.0.is_none()
    }

    /// True if `object` matches.
    pub fn matches(&self, object: &CachedObject) -> bool {
        self.0.as_ref().is_none_or(|f| f(object))
    }
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "Filter(..)" } else { "Filter(everything)" })
    }
}

/// Where a paginated list continues (decoded from the continue token by the endpoints layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continue {
    /// The last key returned by the previous page.
    pub after_key: String,
    /// The revision the first page was read at; every page is read at it.
    pub revision: Revision,
}

/// A list request.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// Which keys.
    pub keys: Keys,
    /// Consistency (ignored when `continue_from` is set: pages are read at its revision).
    pub resource_version: ResourceVersion,
    /// The selector.
    pub filter: Filter,
    /// At most this many items.
    pub limit: Option<usize>,
    /// Continue a paginated list.
    pub continue_from: Option<Continue>,
}

/// A list result.
#[derive(Debug, Clone, Default)]
pub struct ListResponse {
    /// Matching objects in key order; the `Arc`s (and their bytes) are the cache's own.
    pub items: Vec<Arc<CachedObject>>,
    /// The list's resourceVersion.
    pub revision: Revision,
    /// Set when more items may follow: continue after this key at `revision`.
    pub continue_from: Option<Continue>,
    /// Keys after this page (only known without a selector: `remainingItemCount`).
    pub remaining: Option<u64>,
}

/// A get result.
#[derive(Debug, Clone, Default)]
pub struct GetResponse {
    /// The object, if it exists.
    pub object: Option<Arc<CachedObject>>,
    /// The revision the read was served at.
    pub revision: Revision,
}

/// A watch request.
#[derive(Debug, Clone, Default)]
pub struct WatchRequest {
    /// Which keys.
    pub keys: Keys,
    /// `resourceVersion`: None when unset, `Some(0)` for "0".
    pub resource_version: Option<Revision>,
    /// `sendInitialEvents` (None when unset).
    pub send_initial_events: Option<bool>,
    /// `allowWatchBookmarks`.
    pub allow_bookmarks: bool,
    /// The selector.
    pub filter: Filter,
    /// When the server will end the watch (`timeoutSeconds`): a last bookmark is sent 2 s before.
    pub deadline: Option<Instant>,
}

/// A bookmark: every event up to `revision` has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bookmark {
    /// Its resourceVersion.
    pub revision: Revision,
    /// Annotate with `k8s.io/initial-events-end: "true"` (the end of `sendInitialEvents`).
    pub initial_events_end: bool,
}

/// One item of a watch stream.
#[derive(Debug, Clone)]
pub enum CacheEvent {
    /// `ADDED`.
    Added(Arc<CachedObject>),
    /// `MODIFIED`.
    Modified(Arc<CachedObject>),
    /// `DELETED` (the object's last state, carrying the delete's resourceVersion).
    Deleted(Arc<CachedObject>),
    /// `BOOKMARK`.
    Bookmark(Bookmark),
    /// `ERROR`; always the stream's last item.
    Error(CacherError),
}

impl CacheEvent {
    /// The object of ADDED/MODIFIED/DELETED.
    pub fn object(&self) -> Option<&Arc<CachedObject>> {
        match self {
            CacheEvent::Added(o) | CacheEvent::Modified(o) | CacheEvent::Deleted(o) => Some(o),
            CacheEvent::Bookmark(_) | CacheEvent::Error(_) => None,
        }
    }

    /// The resourceVersion the item carries (None for errors).
    pub fn revision(&self) -> Option<Revision> {
        match self {
            CacheEvent::Added(o) | CacheEvent::Modified(o) | CacheEvent::Deleted(o) => Some(o.revision),
            CacheEvent::Bookmark(b) => Some(b.revision),
            CacheEvent::Error(_) => None,
        }
    }

    /// The wire event type (`ADDED`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            CacheEvent::Added(_) => "ADDED",
            CacheEvent::Modified(_) => "MODIFIED",
            CacheEvent::Deleted(_) => "DELETED",
            CacheEvent::Bookmark(_) => "BOOKMARK",
            CacheEvent::Error(_) => "ERROR",
        }
    }
}

/// A watch: items in resourceVersion order; it ends after an `Error`, when the cacher re-lists or
/// stops, or when a slow watcher is cut off.
pub type EventStream = Pin<Box<dyn Stream<Item = CacheEvent> + Send>>;

/// List-Watch over one resource: what the registry and the watch endpoints call. [`Cacher`] and
/// [`Passthrough`] implement it with the same semantics.
#[async_trait::async_trait]
pub trait ListWatch: Send + Sync + 'static {
    /// One object. `Unset` reads storage (as upstream, for backward compatibility).
    async fn get(&self, key: &str, resource_version: ResourceVersion) -> Result<GetResponse, CacherError>;

    /// Objects in key order.
    async fn list(&self, request: ListRequest) -> Result<ListResponse, CacherError>;

    /// A watch. Only invalid requests (and a stopped cacher) fail here; as upstream, everything
    /// else (410 Expired, a resourceVersion not reached in time) is a [`CacheEvent::Error`] in-stream.
    async fn watch(&self, request: WatchRequest) -> Result<EventStream, CacherError>;
}

/// Cacher failures. [`CacherError::to_status`] gives upstream's `Status` for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacherError {
    /// 504: the cache did not reach the requested resourceVersion in time.
    #[error("Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion {
        /// What was asked for.
        requested: Revision,
        /// What the cache had reached.
        current: Revision,
    },
    /// 410: the requested resourceVersion is older than the history kept.
    #[error("{message}")]
    Expired {
        /// Upstream's message (`too old resource version: 5 (10)`).
        message: String,
    },
    /// An invalid request (a negative resourceVersion, keys outside the resource).
    #[error("{0}")]
    BadRequest(String),
    /// A stored object could not be decoded.
    #[error("unable to decode {key:?}: {source}")]
    Decode {
        /// Its key.
        key: String,
        /// Why.
        source: DecodeError,
    },
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The cacher was stopped.
    #[error("the watch cache is stopped")]
    Stopped,
}

impl CacherError {
    /// The 410 of a watch (or continue) from before the ring: upstream's
    /// `too old resource version: <requested> (<oldest available - 1>)`.
    pub fn too_old(requested: Revision, oldest: Revision) -> CacherError {
        CacherError::Expired { message: format!("too old resource version: {requested} ({oldest})") }
    }

    /// The HTTP status code.
    pub fn code(&self) -> i32 {
        match self {
            CacherError::TooLargeResourceVersion { .. } => 504,
            CacherError::Expired { .. } => 410,
            CacherError::BadRequest(_) => 400,
            CacherError::Decode { .. } => 500,
            CacherError::Stopped => 503,
            CacherError::Storage(e) => match e {
                StorageError::NotFound { .. } => 404,
                StorageError::AlreadyExists { .. } | StorageError::Conflict { .. } => 409,
                StorageError::Expired { .. } => 410,
                StorageError::FutureRevision { .. } => 504,
                StorageError::TooLarge { .. } => 413,
                StorageError::Unavailable(_) => 503,
                StorageError::Encoding(_) => 500,
            },
        }
    }

    /// Upstream's `Status` body (also the object of a watch `ERROR` event).
    pub fn to_status(&self) -> Status {
        match self {
            CacherError::TooLargeResourceVersion { .. } | CacherError::Storage(StorageError::FutureRevision { .. }) => {
                // storage.NewTooLargeResourceVersionError: errors.NewTimeoutError(msg, 1) plus a cause.
                let mut status = Status::failure(504, "Timeout", format!("Timeout: {self}"));
                status.details = Some(StatusDetails {
                    causes: vec![StatusCause {
                        reason: "ResourceVersionTooLarge".into(),
                        message: "Too large resource version".into(),
                        field: String::new(),
                    }],
                    retry_after_seconds: 1,
                    ..StatusDetails::default()
                });
                status
            }
            CacherError::Expired { message } => Status::failure(410, "Expired", message.clone()),
            CacherError::Storage(StorageError::Expired { .. }) => Status::failure(410, "Expired", self.to_string()),
            CacherError::BadRequest(message) => Status::failure(400, "BadRequest", message.clone()),
            CacherError::Stopped | CacherError::Storage(StorageError::Unavailable(_)) => {
                Status::failure(503, "ServiceUnavailable", self.to_string())
            }
            CacherError::Storage(StorageError::NotFound { .. }) => Status::failure(404, "NotFound", self.to_string()),
            CacherError::Storage(StorageError::AlreadyExists { .. }) => {
                Status::failure(409, "AlreadyExists", self.to_string())
            }
            CacherError::Storage(StorageError::Conflict { .. }) => Status::failure(409, "Conflict", self.to_string()),
            CacherError::Storage(StorageError::TooLarge { .. }) => {
                Status::failure(413, "RequestEntityTooLarge", self.to_string())
            }
            // Upstream passes the decoder's error on as is: a 500 with its text and no reason.
            CacherError::Decode { source, .. } => Status::failure(500, "", source.0.clone()),
            CacherError::Storage(StorageError::Encoding(_)) => Status::failure(500, "InternalError", self.to_string()),
        }
    }
}

/// Rejects a negative resourceVersion (the endpoints parse the string; this guards the number).
fn check_revision(rv: Revision) -> Result<Revision, CacherError> {
    if rv < 0 {
        return Err(CacherError::BadRequest(format!("invalid resource version: {rv}")));
    }
    Ok(rv)
}

/// Checks that request keys lie under the resource prefix.
fn check_keys(keys: &Keys, resource_prefix: &str) -> Result<(), CacherError> {
    match keys {
        Keys::All => Ok(()),
        Keys::Prefix(k) | Keys::Key(k) if k.starts_with(resource_prefix) => Ok(()),
        Keys::Prefix(k) | Keys::Key(k) => {
            Err(CacherError::BadRequest(format!("key {k:?} is outside the resource prefix {resource_prefix:?}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_upstream() {
        let e = CacherError::too_old(5, 10);
        assert_eq!(e.to_string(), "too old resource version: 5 (10)");
        let s = e.to_status();
        assert_eq!((s.code, s.reason.as_str(), s.status.as_str()), (410, "Expired", "Failure"));
        let t = CacherError::TooLargeResourceVersion { requested: 12, current: 10 }.to_status();
        assert_eq!(t.code, 504);
        assert_eq!(t.reason, "Timeout");
        assert_eq!(t.message, "Timeout: Too large resource version: 12, current: 10");
        let details = t.details.expect("details");
        assert_eq!(details.retry_after_seconds, 1);
        assert_eq!(details.causes[0].reason, "ResourceVersionTooLarge");
    }

    #[test]
    fn keys_and_filters() {
        assert!(Keys::All.matches("/registry/pods/a/b"));
        assert!(Keys::Prefix("/registry/pods/a/".into()).matches("/registry/pods/a/b"));
        assert!(!Keys::Prefix("/registry/pods/a/".into()).matches("/registry/pods/ab/c"));
        assert!(Keys::Key("/registry/pods/a/b".into()).matches("/registry/pods/a/b"));
        assert!(!Keys::Key("/registry/pods/a/b".into()).matches("/registry/pods/a/bc"));
        assert!(check_keys(&Keys::Prefix("/registry/pods/a/".into()), "/registry/pods/").is_ok());
        assert!(check_keys(&Keys::Prefix("/registry/secrets/".into()), "/registry/pods/").is_err());
        assert!(Filter::everything().is_everything());
        assert!(!Filter::new(|_| true).is_everything());
    }
}
