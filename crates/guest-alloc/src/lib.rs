//! Never trapping on memory: a global allocator for wasm guests that hold a cache. When the host
//! refuses to grow linear memory (a `StoreLimits` cap, an embedder's budget), a plain guest traps
//! inside `cabi_realloc` while the host copies a call's arguments in, before any guest code runs.
//! [`GuardedAlloc`] retries a failed allocation after giving memory back:
//! 1. through the guest's `reclaim` hook, which evicts one cache entry when no cache operation is
//!    running (argument and result copies) and returns false while one is (the cache is busy);
//! 2. then by releasing a reserve block ("parachute") kept for allocations made inside an
//!    operation (error messages, small copies), where the cache itself grows with `try_reserve`.
//!
//! After every call the guest calls [`GuardedAlloc::after_call`] to take the reserve back,
//! evicting if necessary. Invariant: the allocator returns null only when `reclaim` has nothing
//! left to give and the reserve is gone. Single-threaded, like every wasm32 guest.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::marker::PhantomData;

/// Bytes kept in reserve for allocations inside an operation.
pub const RESERVE_BYTES: usize = 64 * 1024;

/// How a guest gives memory back: evict one cache entry.
pub trait Reclaim {
    /// Frees one piece of the guest's memory (an LRU entry) and says whether it did. Must not
    /// allocate unboundedly, and must return false rather than block when the cache is in use.
    fn reclaim() -> bool;
}

/// The allocator: `System` plus the reclaim loop of `R`. Declare it with
/// `#[cfg_attr(target_arch = "wasm32", global_allocator)]`.
pub struct GuardedAlloc<R: Reclaim> {
    reclaim: PhantomData<R>,
}

thread_local! {
    static RESERVE: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
    static RECLAIMING: Cell<bool> = const { Cell::new(false) };
}

fn reserve_layout() -> Layout {
    // 64 KiB with byte alignment is always a valid layout.
    Layout::from_size_align(RESERVE_BYTES, 1).unwrap_or(Layout::new::<u8>())
}

/// Frees the reserve; false if it was not held.
fn release_reserve() -> bool {
    let ptr = RESERVE.with(|r| r.replace(std::ptr::null_mut()));
    if ptr.is_null() {
        return false;
    }
    // SAFETY: the pointer came from `System.alloc(reserve_layout())` and is freed once.
    unsafe { System.dealloc(ptr, reserve_layout()) };
    true
}

impl<R: Reclaim> Default for GuardedAlloc<R> {
    fn default() -> Self {
        GuardedAlloc::new()
    }
}

impl<R: Reclaim> GuardedAlloc<R> {
    /// The allocator of a guest whose caches give memory back through `R`.
    pub const fn new() -> GuardedAlloc<R> {
        GuardedAlloc {
            reclaim: PhantomData,
        }
    }

    /// Gives one piece of memory back; false when nothing is left (or already reclaiming).
    fn reclaim_one(&self) -> bool {
        if RECLAIMING.with(|r| r.replace(true)) {
            return false;
        }
        let freed = R::reclaim() || release_reserve();
        RECLAIMING.with(|r| r.set(false));
        freed
    }

    fn retry(&self, mut attempt: impl FnMut() -> *mut u8) -> *mut u8 {
        loop {
            let ptr = attempt();
            if !ptr.is_null() || !self.reclaim_one() {
                return ptr;
            }
        }
    }

    /// Takes the reserve back after a call, evicting through `reclaim` until it can.
    pub fn after_call(&self) {
        if !RESERVE.with(|r| r.get()).is_null() {
            return;
        }
        loop {
            // SAFETY: a valid non-zero-size layout.
            let ptr = unsafe { System.alloc(reserve_layout()) };
            if !ptr.is_null() {
                RESERVE.with(|r| r.set(ptr));
                return;
            }
            if !R::reclaim() {
                return;
            }
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the retry path
// only frees memory the guest's caches or this module own before asking again.
unsafe impl<R: Reclaim> GlobalAlloc for GuardedAlloc<R> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.retry(|| unsafe { System.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.retry(|| unsafe { System.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.retry(|| unsafe { System.realloc(ptr, layout, new_size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static CALLS: Cell<u32> = const { Cell::new(0) };
    }

    struct CountAndRefuse;

    impl Reclaim for CountAndRefuse {
        fn reclaim() -> bool {
            CALLS.with(|c| c.set(c.get() + 1));
            false
        }
    }

    #[test]
    fn after_call_holds_the_reserve_and_releases_it_once() {
        let alloc = GuardedAlloc::<CountAndRefuse>::new();
        alloc.after_call();
        assert!(!RESERVE.with(|r| r.get()).is_null());
        assert!(alloc.reclaim_one(), "the reserve is given up");
        assert!(!alloc.reclaim_one(), "nothing left");
        assert_eq!(
            CALLS.with(|c| c.get()),
            2,
            "the hook is asked first each time"
        );
        alloc.after_call();
        assert!(release_reserve());
    }
}
