//! The component's import list is part of the product: exactly the two WASI interfaces the
//! contract world names, nothing from wasi:cli, wasi:io or wasi:filesystem; its exports are the
//! world's two interfaces, `cache` and `policy`. Also reports the size.

use faas_cache_host_test::{component, engine};

#[test]
fn imports_only_the_wall_clock_and_the_insecure_seed() {
    let (engine, component) = (engine(), component());
    let ty = component.component_type();
    let mut imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    imports.sort();
    assert_eq!(
        imports,
        [
            "wasi:clocks/wall-clock@0.2.0",
            "wasi:random/insecure-seed@0.2.0"
        ]
    );
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(
        exports,
        [
            "faas:cache/cache@0.1.0",
            "faas:cache/policy@0.1.0",
            "faas:cache/named@0.1.0"
        ]
    );
}

#[test]
fn release_component_size_is_reported() {
    let bytes = faas_cache_artifact::COMPONENT.len();
    println!(
        "faas_cache.wasm: {bytes} bytes ({:.1} KiB)",
        bytes as f64 / 1024.0
    );
    assert!(bytes < 256 * 1024, "the component grew to {bytes} bytes");
}
