//! The built components (`faas:cache`, `faas:kv-l1`, the L1 host's app and faas-cache-serve's
//! test app: the guests listed in
//! [`guests::GUESTS`]), for hosts, tests and examples in this workspace.
//! Invariant: the bytes are the component encoded from the current sources of
//! their crates (the build script rebuilds them when they change).

/// Path of the component file in this build's output directory.
pub const COMPONENT_PATH: &str = concat!(env!("OUT_DIR"), "/faas_cache.wasm");

/// The component's bytes.
pub const COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/faas_cache.wasm"));

/// The `faas:kv-l1` middleware component (crates/keyvalue-l1): exports and imports
/// `wasi:keyvalue@0.2.0-draft2`.
pub const KV_L1_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/faas_kv_l1.wasm"));

/// The L1 host's app (hosts/faas-kv-l1-host/app): a `wasi:keyvalue` shell, the socket that
/// `wac plug` puts the L1 in front of.
pub const KV_APP_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kv_app.wasm"));

/// faas-cache-serve's test and benchmark app (hosts/faas-cache-serve/app): a WASIp2 HTTP handler
/// that imports `faas:cache/{cache,policy,named}`.
pub const SERVE_APP_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/serve_app.wasm"));

/// Path of [`SERVE_APP_COMPONENT`]'s file (for `faas-cache-serve APP.wasm`).
pub const SERVE_APP_PATH: &str = concat!(env!("OUT_DIR"), "/serve_app.wasm");

pub mod guests;
