//! Watch cache settings: per-cacher options with their defaults, and kube-apiserver's
//! `--watch-cache` / `--watch-cache-sizes` flags turned into a per-resource choice.

use std::collections::BTreeMap;
use std::time::Duration;

/// Default size of the event ring (events kept for watch resumption).
///
/// Upstream sizes its ring dynamically between 100 and 102,400 events so that it holds ~75 s of
/// history, and ignores non-zero `--watch-cache-sizes` values. kapi bounds its ring by this count
/// (that the flag sets), by bytes ([`DEFAULT_MAX_RING_BYTES`]) and by age
/// ([`DEFAULT_EVENT_FRESH_DURATION`]): 10,000 events is ~75 s at 130 writes/s to one resource and,
/// since events share their objects with the current state, costs at most the previous versions of
/// 10,000 objects (~10 MiB for 1 KiB objects), and only while they are recent.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// Default bound of the bytes one resource's event ring keeps alive beyond its current objects (the
/// versions that later changes superseded, and deleted objects).
///
/// Upstream has no such bound: its ring holds up to 102,400 events whatever their size, so one client
/// updating a 1 MB object 1,500 times within 75 s pins 1.5 GB. 64 MiB keeps a full ring of 10,000
/// events of superseded ~6 KiB objects (a typical pod), so only resources with big objects updated
/// often keep fewer events; a watch resuming from before them gets `410 Expired` and re-lists, as
/// after a count eviction.
pub const DEFAULT_MAX_RING_BYTES: usize = 64 << 20;

/// Upstream's `eventFreshDuration`: the history upstream sizes its ring to hold. It is the bookmark
/// interval plus a margin, so that a client resuming from its last bookmark finds it in the ring.
/// kapi drops events older than this (keeping at least [`DEFAULT_MIN_RING_EVENTS`]), so an idle
/// resource does not hold big superseded objects forever.
pub const DEFAULT_EVENT_FRESH_DURATION: Duration = Duration::from_secs(75);

/// Upstream's `defaultLowerBoundCapacity`: events kept whatever their age (within the byte bound).
pub const DEFAULT_MIN_RING_EVENTS: usize = 100;

/// Default per-watcher buffer: how many events a watcher may fall behind the live stream before it is
/// served from the event ring instead (or cut off, when that is disabled or it fell out of the ring).
pub const DEFAULT_WATCHER_BUFFER: usize = 1024;

/// Upstream's `defaultBookmarkFrequency`.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// Upstream's `blockTimeout`: how long a read waits for the cache to reach a resourceVersion.
pub const DEFAULT_FRESHNESS_TIMEOUT: Duration = Duration::from_secs(3);

/// Upstream's `storageWatchListPageSize`: page size of the cacher's own lists from storage.
pub const DEFAULT_LIST_PAGE_SIZE: usize = 10_000;

/// Options of one [`Cacher`](super::Cacher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacherOptions {
    /// Events kept in the ring for watch resumption (at least 1).
    pub capacity: usize,
    /// Bytes the ring may keep alive beyond the current objects (superseded and deleted versions).
    pub max_ring_bytes: usize,
    /// Events older than this leave the ring, once more than `min_ring_events` newer ones are kept.
    pub event_fresh_duration: Duration,
    /// Events the ring keeps whatever their age (still within `capacity` and `max_ring_bytes`).
    pub min_ring_events: usize,
    /// Events a watcher may lag behind the live stream (rounded up to a power of two).
    pub watcher_buffer: usize,
    /// A watcher that fell further behind than `watcher_buffer` is served from the ring when its
    /// position is still there (as etcd serves its "unsynced" watchers), instead of being closed at
    /// once as upstream's cacher does. Either way one out of the ring gets `410 Expired` (the answer
    /// it would get on re-watching) and its stream ends.
    pub catch_up_from_ring: bool,
    /// How often a watcher that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How long reads wait for the cache to reach a resourceVersion (`Too large resource version`
    /// after that; consistent reads fall back to storage instead).
    pub freshness_timeout: Duration,
    /// Page size of the cacher's own lists from storage.
    pub list_page_size: usize,
    /// First delay before re-watching or re-listing after a storage failure (doubles up to 5 s).
    pub retry_backoff: Duration,
}

impl Default for CacherOptions {
    fn default() -> CacherOptions {
        CacherOptions {
            capacity: DEFAULT_CAPACITY,
            max_ring_bytes: DEFAULT_MAX_RING_BYTES,
            event_fresh_duration: DEFAULT_EVENT_FRESH_DURATION,
            min_ring_events: DEFAULT_MIN_RING_EVENTS,
            watcher_buffer: DEFAULT_WATCHER_BUFFER,
            catch_up_from_ring: true,
            bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
            freshness_timeout: DEFAULT_FRESHNESS_TIMEOUT,
            list_page_size: DEFAULT_LIST_PAGE_SIZE,
            retry_backoff: Duration::from_millis(100),
        }
    }
}

impl CacherOptions {
    /// The default options with a ring of `capacity` events.
    pub fn with_capacity(capacity: usize) -> CacherOptions {
        CacherOptions { capacity, ..CacherOptions::default() }
    }
}

/// How one resource is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Through a [`Cacher`](super::Cacher) with a ring of this many events.
    Cached {
        /// Ring capacity.
        capacity: usize,
    },
    /// Straight from storage ([`Passthrough`](super::Passthrough)).
    Passthrough,
}

/// `--watch-cache` and `--watch-cache-sizes`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchCacheConfig {
    /// `--watch-cache` (default true).
    pub enabled: bool,
    /// `--watch-cache-sizes`: `resource[.group]` → ring size; 0 disables the cache for it.
    pub sizes: BTreeMap<String, usize>,
    /// Ring size of resources not named in `sizes`.
    pub default_capacity: usize,
}

impl Default for WatchCacheConfig {
    fn default() -> WatchCacheConfig {
        WatchCacheConfig { enabled: true, sizes: BTreeMap::new(), default_capacity: DEFAULT_CAPACITY }
    }
}

impl WatchCacheConfig {
    /// From the flags' values (`sizes` as given to `--watch-cache-sizes`).
    pub fn from_flags(enabled: bool, sizes: &str) -> Result<WatchCacheConfig, String> {
        Ok(WatchCacheConfig { enabled, sizes: parse_watch_cache_sizes(sizes)?, ..WatchCacheConfig::default() })
    }

    /// How `group_resource` (`pods`, `deployments.apps`, as [`KindInfo::group_resource`]) is served.
    ///
    /// [`KindInfo::group_resource`]: crate::apimachinery::KindInfo::group_resource
    pub fn mode(&self, group_resource: &str) -> CacheMode {
        if !self.enabled {
            return CacheMode::Passthrough;
        }
        match self.sizes.get(group_resource) {
            Some(0) => CacheMode::Passthrough,
            Some(&capacity) => CacheMode::Cached { capacity },
            None => CacheMode::Cached { capacity: self.default_capacity },
        }
    }
}

/// Parses `--watch-cache-sizes` (`pods#1000,deployments.apps#50`) with upstream's format and
/// messages: each entry is `resource[.group]#size`, size a non-negative integer.
pub fn parse_watch_cache_sizes(value: &str) -> Result<BTreeMap<String, usize>, String> {
    let mut sizes = BTreeMap::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((resource, size)) = entry.split_once('#').filter(|(_, size)| !size.contains('#')) else {
            return Err(format!("invalid value of watch cache size: {entry}"));
        };
        let size: i64 = size.parse().map_err(|_| format!("invalid size of watch cache size: {entry}"))?;
        let size = usize::try_from(size).map_err(|_| format!("watch cache size cannot be negative: {entry}"))?;
        sizes.insert(resource.to_string(), size);
    }
    Ok(sizes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_upstream_format() {
        let sizes = parse_watch_cache_sizes("pods#1000, deployments.apps#50,configmaps#0").expect("valid");
        assert_eq!(sizes.get("pods"), Some(&1000));
        assert_eq!(sizes.get("deployments.apps"), Some(&50));
        assert_eq!(sizes.get("configmaps"), Some(&0));
        assert!(parse_watch_cache_sizes("").expect("empty").is_empty());
    }

    #[test]
    fn errors_name_the_bad_entry() {
        assert_eq!(
            parse_watch_cache_sizes("deployments.apps#65536,replicasets.extensions"),
            Err("invalid value of watch cache size: replicasets.extensions".into())
        );
        assert_eq!(parse_watch_cache_sizes("pods#1#2"), Err("invalid value of watch cache size: pods#1#2".into()));
        assert_eq!(
            parse_watch_cache_sizes("replicasets.extensions#655d1"),
            Err("invalid size of watch cache size: replicasets.extensions#655d1".into())
        );
        assert_eq!(parse_watch_cache_sizes("pods#-1"), Err("watch cache size cannot be negative: pods#-1".into()));
    }

    #[test]
    fn modes() {
        let config = WatchCacheConfig::from_flags(true, "pods#500,secrets#0").expect("valid");
        assert_eq!(config.mode("pods"), CacheMode::Cached { capacity: 500 });
        assert_eq!(config.mode("secrets"), CacheMode::Passthrough);
        assert_eq!(config.mode("configmaps"), CacheMode::Cached { capacity: DEFAULT_CAPACITY });
        let off = WatchCacheConfig::from_flags(false, "pods#500").expect("valid");
        assert_eq!(off.mode("pods"), CacheMode::Passthrough);
    }
}
