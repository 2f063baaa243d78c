//! The Rust Spin app (`examples/spin-app`, a WASIp3 handler) served by `faas-cache-serve` with a
//! fresh instance per request: the same app that Spin composes with the cache component gets
//! hits here because the host keeps its named cache. Ignored in a plain `cargo test`: it needs
//! the app built for wasm32-wasip2, which `cargo xtask test` does before it runs this with
//! `--ignored`.

mod common;

use common::Server;

const SPIN_APP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/spin-app/target/wasm32-wasip2/release/spin_cache_app.wasm"
);

#[test]
#[ignore = "needs examples/spin-app built for wasm32-wasip2 (cargo xtask test builds it)"]
fn the_spin_app_keeps_its_hits_across_fresh_instances() {
    assert!(
        std::path::Path::new(SPIN_APP).exists(),
        "build it with `cargo build --release --target wasm32-wasip2 -p spin-cache-app` in examples/spin-app"
    );
    let server = Server::start(&["--reuse", "1", SPIN_APP]);
    let first = server.get("/item/42");
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("x-cache"), Some("miss"));
    assert_eq!(first.body, r#"{"id":"42","computed":true}"#);
    for i in 1..=3 {
        let hit = server.get("/item/42");
        assert_eq!(hit.header("x-cache"), Some("hit"));
        assert_eq!(hit.body, first.body);
        // A fresh instance each time, yet the scope's cache counts every hit.
        assert_eq!(hit.header("x-instance-requests"), Some("1"));
        assert_eq!(hit.header("x-cache-hits"), Some(i.to_string().as_str()));
    }
    assert!(server.stop().0.success());
}
