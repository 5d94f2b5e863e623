//! Watch cache memory: 10,000 objects of 1 KiB must cost the cache less than twice their serialized
//! size. A binary of its own, because it counts every allocation through a global allocator and
//! nothing else may allocate while it measures.

use std::alloc::System;
use std::sync::Arc;
use std::time::Duration;

use cap::Cap;

use kapi_runtime::cacher::testing::{key, object, MemoryStorage};
use kapi_runtime::cacher::{Cacher, CacherOptions, JsonCodec, ListRequest, ListWatch, ResourceVersion};
use kapi_runtime::storage::Storage;

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

const PREFIX: &str = "/registry/configmaps/";
const OBJECTS: usize = 10_000;

#[tokio::test(flavor = "current_thread")]
async fn cacher_memory_10000_objects_of_1kib_cost_less_than_twice_their_size() {
    let storage = MemoryStorage::new();
    let pad = "x".repeat(880);
    let mut stored = 0;
    for i in 0..OBJECTS {
        let name = format!("config-{i:05}");
        let value = object(
            "default",
            &name,
            &[("app", "web"), ("tier", "frontend"), ("version", "v1")],
            &[("color", "blue"), ("pad", &pad)],
        );
        stored += value.len();
        storage.create(&key(PREFIX, "default", &name), value).await.expect("create");
    }

    let before = ALLOC.allocated();
    let cacher =
        Cacher::new(storage.clone(), PREFIX, CacherOptions::default(), Arc::new(JsonCodec::new(&["data.color"])));
    cacher.wait_ready(Duration::from_secs(30)).await.expect("ready");
    // Let the reflector open its watch and settle.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = ALLOC.allocated();
    let cost = after.saturating_sub(before);

    let list = cacher
        .list(ListRequest { resource_version: ResourceVersion::NotOlderThan(0), ..ListRequest::default() })
        .await
        .expect("list");
    assert_eq!(list.items.len(), OBJECTS);
    let served: usize = list.items.iter().map(|o| o.bytes.len()).sum();
    let stats = cacher.stats();
    eprintln!(
        "watch cache memory: {OBJECTS} objects, {stored} bytes stored, {served} bytes served; the cache allocated \
         {cost} bytes = {:.2}x the served size ({:.0} bytes per object; own estimate {:.2}x)",
        cost as f64 / served as f64,
        cost as f64 / OBJECTS as f64,
        stats.object_bytes as f64 / served as f64,
    );
    assert!(served >= OBJECTS * 1000, "objects of about 1 KiB");
    assert!(cost < 2 * served, "the cache costs {cost} bytes for {served} serialized bytes");
    // The storage's own copies are untouched: the cache holds its own served bytes.
    assert_eq!(storage.list(PREFIX, Default::default()).await.expect("list").items.len(), OBJECTS);
}
