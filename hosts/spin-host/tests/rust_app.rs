//! The Rust Spin app (`examples/spin-app`), composed with the cache component by wac and served by
//! wasmtime-wasi-http over real HTTP on 127.0.0.1: a miss, then hits from the same reused
//! instance.
//!
//! Needs the app built for wasm32-wasip2 and the cache component built (`cargo xtask test` does
//! both before it runs this).

use spin_cache_host::client::{artifact, cache_component, get, served_by_one_instance};
use spin_cache_host::{compose, imports, serve, Reuse};

fn app() -> Vec<u8> {
    artifact(
        "examples/spin-app/target/wasm32-wasip2/release/spin_cache_app.wasm",
        "build it with `cargo build --release --target wasm32-wasip2 -p spin-cache-app` in examples/spin-app",
    )
}

#[test]
fn composition_plugs_the_cache_import_and_leaves_only_wasi() {
    let composed = compose(&app(), &cache_component()).unwrap();
    let names = imports(&composed).unwrap();
    assert!(
        !names.iter().any(|n| n.starts_with("faas:cache/")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "wasi:clocks/wall-clock@0.2.0"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| n.starts_with("wasi:")), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miss_then_hits_across_requests_in_one_reused_instance() {
    let composed = compose(&app(), &cache_component()).unwrap();
    let (addr, server) = serve(&composed, "127.0.0.1:0".parse().unwrap(), Reuse::default())
        .await
        .unwrap();
    let replies = tokio::task::spawn_blocking(move || {
        let mut replies = vec![get(addr, "/item/42")];
        for _ in 0..3 {
            replies.push(get(addr, "/item/42"));
        }
        replies.push(get(addr, "/item/7"));
        replies.push(get(addr, "/nope"));
        replies
    })
    .await
    .unwrap();
    server.abort();

    let first = &replies[0];
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("x-cache"), "miss");
    assert_eq!(first.body, r#"{"id":"42","computed":true}"#);
    for (i, hit) in replies[1..4].iter().enumerate() {
        assert_eq!(hit.status, 200);
        assert_eq!(hit.header("x-cache"), "hit");
        assert_eq!(hit.body, first.body);
        assert_eq!(hit.header("x-cache-hits"), (i + 1).to_string());
    }
    assert!(
        served_by_one_instance(&replies[..5]),
        "one instance served them all"
    );
    assert_eq!(replies[4].header("x-cache"), "miss");
    assert_eq!(replies[4].header("x-cache-entries"), "2");
    assert_eq!(replies[5].status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_are_all_served_and_the_warm_instance_hits() {
    let composed = compose(&app(), &cache_component()).unwrap();
    let reuse = Reuse {
        max_concurrent: 16,
        ..Reuse::default()
    };
    let (addr, server) = serve(&composed, "127.0.0.1:0".parse().unwrap(), reuse)
        .await
        .unwrap();
    // Warm one key, then 16 clients at once: 8 ask for it, 8 for new keys. The handler may start
    // more instances under the burst (each with its own, empty cache, as in Spin); the warmed
    // instance answers the hot key from its cache.
    let warm = tokio::task::spawn_blocking(move || get(addr, "/item/hot"))
        .await
        .unwrap();
    assert_eq!(warm.header("x-cache"), "miss");
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let path = if i % 2 == 0 {
                "/item/hot".to_owned()
            } else {
                format!("/item/cold-{i}")
            };
            tokio::task::spawn_blocking(move || get(addr, &path))
        })
        .collect();
    let mut hits = 0;
    for client in clients {
        let reply = client.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        if reply.header("x-cache") == "hit" {
            hits += 1;
        }
    }
    server.abort();
    assert!(
        hits >= 1,
        "the warmed instance served the hot key from its cache"
    );
}
