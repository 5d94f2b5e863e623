//! `Passthrough`: [`ListWatch`] straight from storage, for `--watch-cache=false` (or a resource
//! whose `--watch-cache-sizes` entry is 0). Same semantics as the cacher, every read decoded anew.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

use super::cache::list_from_storage;
use super::object::{CachedObject, ObjectCodec};
use super::options::CacherOptions;
use super::watcher::error_stream;
use super::{
    check_keys, check_revision, Bookmark, CacheEvent, CacherError, EventStream, Filter, GetResponse, Keys, ListRequest,
    ListResponse, ListWatch, ResourceVersion, WatchRequest,
};
use crate::storage::{Event, EventKind, KeyValue, Revision, Storage, StorageError, WatchItem, WatchStream};

/// upstream's etcd3 watcher answer to a compacted start revision (`interpretWatchError`).
const WATCH_TOO_OLD: &str = "The resourceVersion for the provided watch is too old.";

/// List-Watch of one resource without a cache.
pub struct Passthrough {
    storage: Arc<dyn Storage>,
    prefix: String,
    opts: CacherOptions,
    codec: Arc<dyn ObjectCodec>,
}

impl Passthrough {
    /// Serves the keys under `prefix` of `storage` (uses `bookmark_interval` and `list_page_size`).
    pub fn new(
        storage: Arc<dyn Storage>,
        prefix: impl Into<String>,
        opts: CacherOptions,
        codec: Arc<dyn ObjectCodec>,
    ) -> Passthrough {
        Passthrough { storage, prefix: prefix.into(), opts, codec }
    }

    fn decode(&self, kv: &KeyValue) -> Result<Arc<CachedObject>, CacherError> {
        decode(self.codec.as_ref(), kv)
    }

    async fn list_at(
        &self,
        request: &ListRequest,
        revision: Option<Revision>,
        after: Option<&str>,
    ) -> Result<ListResponse, CacherError> {
        list_from_storage(
            self.storage.as_ref(),
            &self.prefix,
            request,
            revision,
            after,
            self.opts.list_page_size,
            |kv| self.decode(kv),
        )
        .await
    }
}

fn decode(codec: &dyn ObjectCodec, kv: &KeyValue) -> Result<Arc<CachedObject>, CacherError> {
    let decoded = codec.decode(kv).map_err(|source| CacherError::Decode { key: kv.key.clone(), source })?;
    Ok(Arc::new(CachedObject::new(kv.key.as_str(), kv.mod_revision, decoded)))
}

/// etcd3's `validateMinimumResourceVersion`.
fn not_older_than(requested: Revision, current: Revision) -> Result<(), CacherError> {
    if requested > current {
        return Err(CacherError::TooLargeResourceVersion { requested, current });
    }
    Ok(())
}

#[async_trait::async_trait]
impl ListWatch for Passthrough {
    async fn get(&self, key: &str, resource_version: ResourceVersion) -> Result<GetResponse, CacherError> {
        check_keys(&Keys::Key(key.to_string()), &self.prefix)?;
        let (kv, revision) = match resource_version {
            ResourceVersion::Exact(rv) => {
                let rv = check_revision(rv)?;
                (self.storage.get(key, Some(rv)).await?, rv)
            }
            ResourceVersion::Unset | ResourceVersion::NotOlderThan(_) => {
                let current = self.storage.current_revision().await?;
                if let ResourceVersion::NotOlderThan(rv) = resource_version {
                    not_older_than(check_revision(rv)?, current)?;
                }
                (self.storage.get(key, Some(current)).await?, current)
            }
        };
        let object = kv.as_ref().map(|kv| self.decode(kv)).transpose()?;
        Ok(GetResponse { object, revision })
    }

    async fn list(&self, request: ListRequest) -> Result<ListResponse, CacherError> {
        check_keys(&request.keys, &self.prefix)?;
        if let Some(cont) = &request.continue_from {
            let revision = check_revision(cont.revision)?;
            return self.list_at(&request, Some(revision), Some(&cont.after_key)).await;
        }
        match request.resource_version {
            ResourceVersion::Unset => self.list_at(&request, None, None).await,
            ResourceVersion::NotOlderThan(rv) => {
                let rv = check_revision(rv)?;
                let response = self.list_at(&request, None, None).await?;
                not_older_than(rv, response.revision)?;
                Ok(response)
            }
            ResourceVersion::Exact(rv) => self.list_at(&request, Some(check_revision(rv)?), None).await,
        }
    }

    async fn watch(&self, request: WatchRequest) -> Result<EventStream, CacherError> {
        check_keys(&request.keys, &self.prefix)?;
        if let Some(rv) = request.resource_version {
            check_revision(rv)?;
        }
        let initial = match request.send_initial_events {
            Some(send) => send,
            None => matches!(request.resource_version, None | Some(0)),
        };
        let end_bookmark = request.send_initial_events == Some(true);
        let mut pending = VecDeque::new();
        let start = if initial {
            // The current state as ADDED events, then changes after the list's revision.
            let list =
                ListRequest { keys: request.keys.clone(), filter: request.filter.clone(), ..ListRequest::default() };
            let listed = match self.list_at(&list, None, None).await {
                Ok(listed) => listed,
                Err(e) => return Ok(error_stream(e)),
            };
            if let (true, Some(rv)) = (end_bookmark, request.resource_version) {
                if let Err(e) = not_older_than(rv, listed.revision) {
                    return Ok(error_stream(e));
                }
            }
            pending.extend(listed.items.into_iter().map(CacheEvent::Added));
            if end_bookmark {
                pending
                    .push_back(CacheEvent::Bookmark(Bookmark { revision: listed.revision, initial_events_end: true }));
            }
            listed.revision
        } else {
            match request.resource_version {
                Some(rv) if rv > 0 => rv,
                _ => match self.storage.current_revision().await {
                    Ok(current) => current,
                    Err(e) => return Ok(error_stream(e.into())),
                },
            }
        };
        let storage_prefix = request.keys.storage_prefix(&self.prefix).to_string();
        let stream = match self.storage.watch(&storage_prefix, start).await {
            Ok(stream) => stream,
            Err(StorageError::Expired { .. }) => {
                return Ok(error_stream(CacherError::Expired { message: WATCH_TOO_OLD.into() }));
            }
            Err(e) => return Ok(error_stream(e.into())),
        };
        let now = Instant::now();
        let watcher = StorageWatcher {
            stream,
            codec: self.codec.clone(),
            pending,
            position: start,
            keys: request.keys,
            filter: request.filter,
            bookmarks: request
                .allow_bookmarks
                .then(|| (self.opts.bookmark_interval, now + self.opts.bookmark_interval)),
            finished: false,
        };
        Ok(Box::pin(futures::stream::unfold(watcher, |mut w| async move {
            let event = w.next_event().await?;
            Some((event, w))
        })))
    }
}

/// A watch translated from a storage watch.
struct StorageWatcher {
    stream: WatchStream,
    codec: Arc<dyn ObjectCodec>,
    pending: VecDeque<CacheEvent>,
    position: Revision,
    keys: Keys,
    filter: Filter,
    /// (interval, next due) when bookmarks are allowed.
    bookmarks: Option<(std::time::Duration, Instant)>,
    finished: bool,
}

impl StorageWatcher {
    async fn next_event(&mut self) -> Option<CacheEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if let CacheEvent::Added(object) = &event {
                    if !self.filter.matches(object) {
                        continue;
                    }
                }
                return Some(event);
            }
            if self.finished {
                return None;
            }
            let item = match self.bookmarks {
                Some((interval, due)) => {
                    tokio::select! {
                        item = self.stream.next() => item,
                        _ = tokio::time::sleep_until(due.into()) => {
                            // Every change up to the position was delivered: the stream is in order.
                            self.bookmarks = Some((interval, Instant::now() + interval));
                            return Some(CacheEvent::Bookmark(Bookmark { revision: self.position, initial_events_end: false }));
                        }
                    }
                }
                None => self.stream.next().await,
            };
            match item {
                Some(Ok(WatchItem::Event(event))) => match self.translate(event) {
                    Ok(Some(out)) => return Some(out),
                    Ok(None) => {}
                    Err(e) => return Some(self.fail(e)),
                },
                Some(Ok(WatchItem::Progress(revision))) => self.position = self.position.max(revision),
                Some(Err(StorageError::Expired { .. })) => {
                    return Some(self.fail(CacherError::Expired { message: WATCH_TOO_OLD.into() }))
                }
                Some(Err(e)) => return Some(self.fail(e.into())),
                None => {
                    self.finished = true;
                    return None;
                }
            }
        }
    }

    fn fail(&mut self, error: CacherError) -> CacheEvent {
        self.finished = true;
        CacheEvent::Error(error)
    }

    fn translate(&mut self, event: Event) -> Result<Option<CacheEvent>, CacherError> {
        let revision = event.kv.mod_revision;
        if revision <= self.position {
            return Ok(None);
        }
        self.position = revision;
        if !self.keys.matches(&event.kv.key) {
            return Ok(None);
        }
        let codec = self.codec.as_ref();
        // The previous state, stamped with this event's revision: what DELETED carries.
        let prev_at_event = |prev: &KeyValue| decode(codec, &KeyValue { mod_revision: revision, ..prev.clone() });
        match event.kind {
            EventKind::Deleted => {
                let Some(prev) = event.prev.as_ref() else { return Ok(None) };
                let object = prev_at_event(prev)?;
                Ok(self.filter.matches(&object).then_some(CacheEvent::Deleted(object)))
            }
            EventKind::Created | EventKind::Updated => {
                let object = decode(codec, &event.kv)?;
                let existed = event.kind == EventKind::Updated;
                if self.filter.is_everything() {
                    return Ok(Some(if existed { CacheEvent::Modified(object) } else { CacheEvent::Added(object) }));
                }
                let before = match event.prev.as_ref() {
                    Some(prev) if existed => Some(prev_at_event(prev)?),
                    _ => None,
                };
                let was = before.as_ref().is_some_and(|b| self.filter.matches(b));
                let is = self.filter.matches(&object);
                Ok(match (was, is) {
                    (false, true) => Some(CacheEvent::Added(object)),
                    (true, true) => Some(CacheEvent::Modified(object)),
                    (true, false) => before.map(CacheEvent::Deleted),
                    (false, false) => None,
                })
            }
        }
    }
}
