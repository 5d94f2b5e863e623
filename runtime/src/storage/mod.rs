//! Storage: one interface with etcd3's semantics (a global revision, get/range at a revision,
//! compare-and-swap writes by `mod_revision`, watch from a revision, compaction). Values are opaque
//! bytes; codecs live above. Backends: `embedded` (SQLite, the default) and `etcd3` (`--etcd-servers`), both
//! proven by the same `conformance` suite.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

/// A revision of the whole store (etcd's `revision`): every successful write bumps it by one.
pub type Revision = i64;

/// etcd's default request size limit: values larger than this are refused.
pub const MAX_VALUE_BYTES: usize = 1536 * 1024;

/// One key and its value at some revision.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// Full key (`/registry/pods/default/web-0`).
    pub key: String,
    /// The stored bytes.
    pub value: Bytes,
    /// Revision of the write that created the key (since its last deletion).
    pub create_revision: Revision,
    /// Revision of the last write to the key: the compare-and-swap token (resourceVersion).
    pub mod_revision: Revision,
}

impl fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyValue")
            .field("key", &self.key)
            .field("bytes", &self.value.len())
            .field("create_revision", &self.create_revision)
            .field("mod_revision", &self.mod_revision)
            .finish()
    }
}

/// The result of a range read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResult {
    /// Matching keys in key order, at most `limit`.
    pub items: Vec<KeyValue>,
    /// The revision the read was served at.
    pub revision: Revision,
    /// How many more keys match after the last returned one (0 when complete).
    pub remaining: u64,
}

/// A range read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Read at this revision (None: the current one). Older than the compacted revision → `Expired`.
    pub revision: Option<Revision>,
    /// At most this many items (None: all).
    pub limit: Option<usize>,
    /// Start strictly after this key (for limit/continue pagination).
    pub start_after: Option<String>,
}

/// What happened to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The key did not exist before this write.
    Created,
    /// The key existed and was overwritten.
    Updated,
    /// The key was deleted.
    Deleted,
}

/// One change, as seen by a watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The key after the change (for `Deleted`: `value` is empty and `mod_revision` is the delete's
    /// revision).
    pub kv: KeyValue,
    /// The key before the change (`Updated` and `Deleted`), as etcd's `prev_kv`.
    pub prev: Option<KeyValue>,
}

/// An item of a watch stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchItem {
    /// A change, in revision order.
    Event(Event),
    /// Progress: every change up to this revision has been delivered (etcd progress notify).
    Progress(Revision),
}

/// A watch stream: items in revision order; ends with `Err(Expired)` if the watcher fell behind
/// compaction, or when the store shuts down. A backend also ends (without an error item) the
/// stream of a consumer that falls further behind than its buffer allows (etcd3: for longer than a
/// short grace, as etcd delivers in bursts), rather than stall writers; the consumer re-watches
/// from the last revision it saw.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchItem, StorageError>> + Send>>;

/// Storage failures. The HTTP edge maps them to Kubernetes `Status` codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The key does not exist (404).
    #[error("key {key:?} not found")]
    NotFound {
        /// The key.
        key: String,
    },
    /// Create of an existing key (409 AlreadyExists).
    #[error("key {key:?} already exists")]
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// The key's mod_revision is not the expected one (409 Conflict).
    #[error("key {key:?} was modified: expected revision {expected}, found {actual}")]
    Conflict {
        /// The key.
        key: String,
        /// What the caller expected.
        expected: Revision,
        /// What is stored (0 if the key is gone).
        actual: Revision,
    },
    /// The revision asked for is older than the compacted one (410 Expired / Gone).
    #[error("required revision {requested} has been compacted (compacted revision {compacted})")]
    Expired {
        /// What was asked for.
        requested: Revision,
        /// The oldest revision still available.
        compacted: Revision,
    },
    /// The revision asked for is newer than the store's (etcd: "future revision").
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        /// What was asked for.
        requested: Revision,
        /// The current revision.
        current: Revision,
    },
    /// The value is larger than `MAX_VALUE_BYTES` (413 RequestEntityTooLarge).
    #[error("value of {size} bytes for key {key:?} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The key.
        key: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The backend is unavailable or failed (503 / 500).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The object could not be converted to the storage media type (500 InternalError).
    #[error("encoding the object for storage: {0}")]
    Encoding(String),
}

/// A key-value store with etcd3's semantics. Keys are `/`-separated UTF-8 strings; a prefix ends
/// with `/` when it names a "directory". Implementations must be safe for concurrent use.
#[async_trait::async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The value of `key` at `revision` (None: now).
    async fn get(&self, key: &str, revision: Option<Revision>) -> Result<Option<KeyValue>, StorageError>;

    /// Keys starting with `prefix`, in key order.
    async fn list(&self, prefix: &str, opts: ListOptions) -> Result<ListResult, StorageError>;

    /// Creates `key`; fails with `AlreadyExists` if it exists. Returns the new revision.
    async fn create(&self, key: &str, value: Bytes) -> Result<Revision, StorageError>;

    /// Replaces `key` if its `mod_revision` is `expected` (compare-and-swap). `NotFound` if absent,
    /// `Conflict` if modified. Returns the new revision.
    async fn update(&self, key: &str, value: Bytes, expected: Revision) -> Result<Revision, StorageError>;

    /// Deletes `key`, if `expected` is given only when its `mod_revision` matches. Returns the
    /// deleted key-value and the revision of the delete.
    async fn delete(&self, key: &str, expected: Option<Revision>) -> Result<(KeyValue, Revision), StorageError>;

    /// Changes under `prefix` with revision > `after`, then live changes, plus `Progress` items
    /// during quiet periods (the backend's own interval). `after` older than the compacted revision →
    /// the stream's only item is `Err(Expired)`.
    async fn watch(&self, prefix: &str, after: Revision) -> Result<WatchStream, StorageError>;

    /// The current revision: that of the last write. A new store is at revision 1 (as etcd), so the
    /// first write gets revision 2.
    async fn current_revision(&self) -> Result<Revision, StorageError>;

    /// Forgets history at and below `revision` (keeps the latest value of every live key).
    async fn compact(&self, revision: Revision) -> Result<(), StorageError>;

    /// The revision history was last compacted at (0 if never).
    async fn compacted_revision(&self) -> Result<Revision, StorageError>;

    /// Whether a quiet watch gets a `Progress` item promptly (within about a second) that is
    /// ordered with its events, so a cache can serve consistent reads by waiting until its watch
    /// reaches `current_revision()`. When false, consistent reads go to storage.
    fn progress_requests(&self) -> bool {
        true
    }

    /// Whether writes succeed as far as the backend knows (a readiness check): an error says why
    /// not. A backend that cannot tell answers `Ok`.
    fn writable(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

#[cfg(any(test, feature = "testing"))]
pub mod conformance;
#[cfg(any(test, feature = "testing"))]
pub mod etcd_process;
pub mod codec;
pub mod embedded;
pub mod etcd3;
pub mod keys;
