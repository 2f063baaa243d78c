#![doc = include_str!("../README.md")]
//!
//! Invariant of the crate: the component it runs is the one this workspace built from its
//! current sources (`faas-cache-artifact`), behind exactly the contract in `wit/`.

mod bindings;
mod cache;
pub mod clock;
pub mod engine;
mod host;
mod instance;
pub mod limits;
pub mod seed;
mod state;

pub use bindings::{
    BatchError, CacheComponent, CacheComponentPre, CacheError, EvictionPolicy, Expiry, Options,
    Removal, RemovalCause, SizeExcess, Stats,
};
pub use cache::Cache;
pub use clock::{Clock, START_NANOS, START_SECONDS};
pub use host::{Builder, Host};
pub use instance::{CacheId, Instance};
pub use seed::Seed;
pub use state::HostState;

/// The built component's bytes, as this crate runs them.
pub const COMPONENT: &[u8] = faas_cache_artifact::COMPONENT;

/// Doc-tests of the repository README's Rust blocks: the example there compiles and runs.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod readme {}
