//! GET /item/<id>: the item from the cache (`x-cache: hit`), or computed by a slow backend and
//! cached (`x-cache: miss`). The cache is opened by name (`faas:cache/named`): supplied by Spin
//! as a component dependency (see `spin.toml`), it lives as long as the instance; served by a host
//! that provides `faas:cache` (`faas-cache-serve`), it lives in the app's scope and outlives every
//! instance. Same code either way.
//!
//! Invariant: the instance opens the named cache on first use and keeps the handle. With WASIp3
//! instance reuse, requests interleave at `await` points, so every cache call is synchronous and
//! no cache state is held across an `await`.

use std::cell::{Cell, OnceCell};
use std::time::Duration;

use spin_sdk::http::{IntoResponse, Request, StatusCode};
use spin_sdk::http_service;

spin_sdk::wit_bindgen::generate!({
    inline: "package example:spin-cache-app;
             world app { import faas:cache/named@0.1.0; }",
    path: "../../../wit",
    world: "example:spin-cache-app/app",
    runtime_path: "::spin_sdk::wit_bindgen::rt",
    generate_all,
});

use faas::cache::cache::{CacheDict, Options};
use faas::cache::named;
use faas::cache::policy::EvictionPolicy;

thread_local! {
    static CACHE: OnceCell<CacheDict> = const { OnceCell::new() };
    static SERVED: Cell<u64> = const { Cell::new(0) };
}

/// Calls `f` with the cache named `items`, opened on first use (60 s TTL, 4 MiB budget).
/// None if the cache cannot be opened (the app then serves uncached).
fn with_cache<T>(f: impl FnOnce(&CacheDict) -> T) -> Option<T> {
    CACHE.with(|cell| {
        if cell.get().is_none() {
            let options = Options {
                default_ttl: Some(60.0),
                max_size: Some("4M".into()),
                max_items: None,
                removal_log_capacity: 0,
            };
            let _ = cell.set(named::open("items", &options, EvictionPolicy::Lru).ok()?);
        }
        cell.get().map(f)
    })
}

/// The slow backend: 20 ms of (simulated) network, then the item.
async fn compute(id: &str) -> Vec<u8> {
    spin_sdk::time::sleep(Duration::from_millis(20)).await;
    format!("{{\"id\":\"{id}\",\"computed\":true}}").into_bytes()
}

#[http_service]
async fn handle(request: Request) -> impl IntoResponse {
    let served = SERVED.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let path = request.uri().path().to_owned();
    let Some(id) = path.strip_prefix("/item/").filter(|id| !id.is_empty()) else {
        return spin_sdk::http::Response::<()>::builder()
            .status(StatusCode::NOT_FOUND)
            .body("GET /item/<id>\n".to_owned())
            .unwrap_or_default();
    };
    let key = format!("item:{id}");
    let (value, hit) = match with_cache(|c| c.get(&key)).flatten() {
        Some(value) => (value, true),
        None => {
            let value = compute(id).await;
            // A value larger than the budget is simply not cached (DataTooLarge).
            let _ = with_cache(|c| c.set(&key, &value));
            (value, false)
        }
    };
    let (hits, misses, entries) = with_cache(|c| (c.stats(), c.len()))
        .map_or((0, 0, 0), |(stats, len)| (stats.hits, stats.misses, len));
    spin_sdk::http::Response::<()>::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("x-cache", if hit { "hit" } else { "miss" })
        .header("x-cache-hits", hits.to_string())
        .header("x-cache-misses", misses.to_string())
        .header("x-cache-entries", entries.to_string())
        .header("x-instance-requests", served.to_string())
        .body(String::from_utf8_lossy(&value).into_owned())
        .unwrap_or_default()
}
