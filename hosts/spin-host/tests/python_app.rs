//! The Spin Python example (`examples/spin-python`), built by componentize-py with the Python
//! spin-sdk, composed with the cache component by wac (as Spin does with its component
//! dependency) and served by wasmtime-wasi-http over real HTTP with instance reuse, on a
//! simulated wall clock: a miss then hits from one instance, a TTL expiry, a byte-budget eviction
//! and a `DataTooLarge`.
//!
//! The app is served as `spin-python-serve.wasm`: the same `app.py`, componentized against
//! `wasi:http/service` plus the cache import instead of Spin's whole `spin:up/http-trigger`
//! world, whose `spin:*` imports only Spin provides. The Spin build (`spin-python-app.wasm`) is
//! checked to compose and validate. Needs both built (`cargo xtask test` does it).

use std::net::SocketAddr;

use spin_cache_host::client::{artifact, cache_component, get, served_by_one_instance, Reply};
use spin_cache_host::{compose, imports, serve_with_clock, Reuse, SimulatedClock};

fn served_app() -> Vec<u8> {
    artifact(
        "target/python/spin-python-serve.wasm",
        "build it with `cargo xtask test` (componentize-py, examples/spin-python)",
    )
}

#[test]
fn the_spin_build_composes_and_leaves_only_platform_imports() {
    let app = artifact(
        "target/python/spin-python-app.wasm",
        "build it with `cargo xtask test` (componentize-py, examples/spin-python)",
    );
    let composed = compose(&app, &cache_component()).unwrap();
    let names = imports(&composed).unwrap();
    assert!(!names.iter().any(|n| n.starts_with("faas:")), "{names:?}");
    assert!(
        names.iter().all(|n| ["wasi:", "spin:", "fermyon:"]
            .iter()
            .any(|p| n.starts_with(p))),
        "{names:?}"
    );
}

#[test]
fn the_served_build_imports_only_wasi() {
    let composed = compose(&served_app(), &cache_component()).unwrap();
    let names = imports(&composed).unwrap();
    // wac merges the cache's `wall-clock@0.2.0` with the Python runtime's newer 0.2 import.
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("wasi:clocks/wall-clock@0.2.")),
        "the cache's clock: {names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("wasi:")), "{names:?}");
}

/// Serves the composed app on a simulated clock and runs `requests` (each a path, or a clock
/// move when it starts with `+`), from a blocking thread; returns the replies to the paths.
async fn session(requests: &[&str]) -> Vec<Reply> {
    let composed = compose(&served_app(), &cache_component()).unwrap();
    let clock = SimulatedClock::default();
    let (addr, server): (SocketAddr, _) = serve_with_clock(
        &composed,
        "127.0.0.1:0".parse().unwrap(),
        Reuse::default(),
        Some(clock.clone()),
    )
    .await
    .unwrap();
    let requests: Vec<String> = requests.iter().map(|r| r.to_string()).collect();
    let replies = tokio::task::spawn_blocking(move || {
        let mut replies = Vec::new();
        for r in &requests {
            match r.strip_prefix('+') {
                Some(seconds) => clock.advance(seconds.parse().unwrap()),
                None => replies.push(get(addr, r)),
            }
        }
        replies
    })
    .await
    .unwrap();
    server.abort();
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_app_caches_across_requests_in_one_reused_instance() {
    let r = session(&[
        "/item/42", "/item/42", "/item/42", "/item/7",
        // The 60 s TTL: just before it, a hit; past it, looked up again.
        "+59.5", "/item/42", "+1", "/item/42",
        // The 256 KiB budget: 100 KiB, then 200 KiB, which evicts the least recently used.
        "/big/100", "/big/100", "/big/200", "/big/100",
        // Larger than the whole budget: DataTooLarge, served uncached.
        "/big/300", "/stats",
    ])
    .await;
    for reply in &r {
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let cache: Vec<&str> = r[..11].iter().map(|r| r.header("x-cache")).collect();
    assert_eq!(
        cache,
        [
            "miss",
            "hit",
            "hit",
            "miss", // /item/42 three times, /item/7
            "hit",
            "miss", // /item/42 at 59.5 s, then past its 60 s TTL
            "miss",
            "hit",
            "miss",
            "miss",      // big:100 evicted by big:200
            "too-large", // /big/300: DataTooLarge
        ]
    );
    assert_eq!(r[0].body, r#"{"id": "42", "computed": true}"#);
    assert_eq!(r[1].body, r[0].body);
    assert!(served_by_one_instance(&r), "one instance served them all");
    let too_large = &r[10];
    let entry: u64 = too_large.header("x-cache-entry-bytes").parse().unwrap();
    let available: u64 = too_large.header("x-cache-available-bytes").parse().unwrap();
    assert!(entry > available, "{entry} > {available}");
}
