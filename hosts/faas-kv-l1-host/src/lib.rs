//! The `faas:kv-l1` host: `wasi:keyvalue@0.2.0-draft2` served from a real Redis, the
//! L1 middleware composed in front of an unchanged app with `wac-graph` (what `wac plug` does),
//! and typed wrappers for tests, the demo and the benchmark.

pub mod backend;
pub mod guest;
pub mod host;
pub mod redis_server;

pub use backend::RedisBackend;
pub use faas_cache_host::{Clock, START_NANOS};
pub use guest::{compose, AppGuest, L1Guest};
pub use host::Host;
pub use redis_server::RedisServer;
