//! # faas-cache
//!
//! A single-threaded in-memory cache for functions whose instance outlives one call: a dictionary
//! that evicts in least-recently-used order (or by S3-FIFO, see [`EvictionPolicy`]), bounded by a
//! byte budget (`"128M"`), by an item count and by per-key TTLs, with removal events and snapshots that keep absolute expiry times. A port of
//! the Python package `faas-cache-dict` with O(1) operations (O(log n) where a deadline changes).
//!
//! - Time comes from a [`Clock`] ([`SystemClock`] by default, [`ManualClock`] in tests). An entry
//!   with deadline `E` is expired when `E < now`; expired entries are never returned or counted
//!   and are reclaimed lazily on access, when room is needed and by [`Cache::purge_expired`].
//! - Sizes are accounted from postcard-encoded lengths plus fixed overheads ([`accounting`]).
//! - No `unsafe`, no locks, no threads, no global state.
#![forbid(unsafe_code)]

pub mod accounting;
mod cache;
mod compact;
mod error;
mod expiry_heap;
mod fallible;
mod ghost;
mod index;
mod named;
mod paged;
mod policy;
mod queues;
mod removal;
mod size;
mod slab;
mod snapshot;
mod stats;
mod time;

pub use cache::{Cache, Config, RemovalListener};
pub use error::CacheError;
pub use fallible::{try_copy, try_copy_str};
pub use named::{check_name, NameTable, MAX_NAME_BYTES};
pub use policy::EvictionPolicy;
pub use removal::{Removal, RemovalCause};
pub use size::{format_size, parse_size};
#[doc(hidden)]
pub use snapshot::{reseal, sealed};
pub use snapshot::{SNAPSHOT_MAGIC, SNAPSHOT_VERSION};
pub use stats::Stats;
pub use time::{Clock, Expiry, ManualClock, SystemClock, Time};
