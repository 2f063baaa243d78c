//! Never trapping on memory. When the host refuses to grow linear memory (a `StoreLimits` cap, an
//! embedder's budget), a plain guest traps inside `cabi_realloc` while the host copies a call's
//! arguments in, before any guest code runs. A guest of this workspace instead keeps its state
//! (its caches) in one [`GuardedCell`] and declares [`GuardedAlloc`] over that cell as its global
//! allocator, which retries a failed allocation after giving memory back:
//! 1. through the cell's reclaim path, [`GuardedCell::try_reclaim`]: one [`Reclaim::reclaim`] of
//!    the state (evicting one cache entry) when no call is using it (argument and result copies),
//!    nothing while one is;
//! 2. then by releasing a reserve block ("parachute") kept for allocations made inside a call
//!    (error messages, small copies), where the cache itself grows with `try_reserve`.
//!
//! Each call runs through [`GuardedCell::call`]: the call, then the after-call work, which takes
//! the reserve back, reclaiming from the state if necessary. Dependencies point one way: a guest's
//! export glue calls the cell, the cell borrows the state; the allocator is given the cell once,
//! at its declaration, and only ever tries to borrow it. Invariant: the allocator returns null
//! only when the state has nothing left to give and the reserve is gone. Single-threaded, like
//! every wasm32 guest.
//!
//! [`stack`] is for the guests' build scripts: the size of the shadow stack they link with.

// A `GlobalAlloc` implementation is `unsafe` by definition; these three modules are that one place.
#[allow(unsafe_code)]
mod alloc;
mod cell;
#[allow(unsafe_code)]
mod heap;
#[allow(unsafe_code)]
mod reserve;
pub mod stack;

pub use alloc::GuardedAlloc;
pub use cell::{GuardedCell, Reclaim};
pub use reserve::RESERVE_BYTES;
