//! The built `faas:cache` component, for hosts, tests and examples in this workspace.
//! Invariant: the bytes are the component encoded from the current sources of
//! `crates/faas-cache-component` (the build script rebuilds it when they change).

/// Path of the component file in this build's output directory.
pub const COMPONENT_PATH: &str = concat!(env!("OUT_DIR"), "/faas_cache.wasm");

/// The component's bytes.
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/faas_cache.wasm"));
