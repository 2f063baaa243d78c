//! The L1 tier of `faas:kv-l1`, free of any WIT binding: its [`settings`] (the `l1_*` keys,
//! validated) and its [`tier`] (a `faas-cache` cache of tagged values and cached absences, with
//! the stale-if-error window and the counters). The component (`crates/keyvalue-l1`) keeps it in
//! a guarded cell in front of its imported `wasi:keyvalue`; `faas-cache-serve --keyvalue` keeps
//! one per app in front of Redis. Invariant: both run this code for every L1 decision (what is
//! fresh, stale or absent, what a fill keeps), so the two deployments cannot drift apart.

#![forbid(unsafe_code)]

pub mod settings;
pub mod tier;

pub use settings::Settings;
pub use tier::{bucket_prefix, l1_key, tagged, tagged_absent, L1Stats, Lookup, Presence, Tier};
