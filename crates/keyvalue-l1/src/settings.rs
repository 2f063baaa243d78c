//! The L1's settings, read once from `wasi:config/store` (Spin variables, or any host's config)
//! and validated by `faas-kv-l1-core`. Invariant: a config-store failure is an error naming the
//! key, never a silent default.

pub use faas_kv_l1_core::Settings;

use crate::bindings::wasi::config::store as config;

/// Reads and validates the settings from the host's config store.
pub fn load() -> Result<Settings, String> {
    Settings::from_config(|key| {
        config::get(key).map_err(|e| match e {
            config::Error::Upstream(m) => format!("config {key}: upstream error: {m}"),
            config::Error::Io(m) => format!("config {key}: I/O error: {m}"),
        })
    })
}
