//! Never trapping on memory: the global allocator. When the host refuses to grow linear memory
//! (a `StoreLimits` cap, an embedder's budget), a plain guest traps inside `cabi_realloc` while
//! the host copies a call's arguments in, before any cache code runs. Here an allocation that
//! fails is retried after giving memory back:
//! 1. when no cache operation is running (argument and result copies), by evicting the least
//!    recently used entry of the fullest cache, reported as `evicted-size` (a full cache);
//! 2. inside an operation, where the caches are busy, by releasing a reserve block ("parachute")
//!    kept for that purpose; the core library meanwhile grows its structures with `try_reserve`
//!    and evicts on refusal, and the exports copy values fallibly.
//!
//! After every call the reserve is taken back, evicting if necessary. Invariant: the allocator
//! returns null only when no entry, removal record or reserve is left to give up.

#[cfg(target_arch = "wasm32")]
mod guarded {
    #![allow(unsafe_code)]

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Bytes kept in reserve for allocations inside an operation (error messages, small copies).
    pub const RESERVE_BYTES: usize = 64 * 1024;

    struct GuardedAlloc;

    #[global_allocator]
    static ALLOCATOR: GuardedAlloc = GuardedAlloc;

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

    /// Gives one piece of memory back; false when nothing is left (or already reclaiming).
    fn reclaim_one() -> bool {
        if RECLAIMING.with(|r| r.replace(true)) {
            return false;
        }
        let freed = crate::registry::evict_one_for_memory() || release_reserve();
        RECLAIMING.with(|r| r.set(false));
        freed
    }

    fn retry(mut attempt: impl FnMut() -> *mut u8) -> *mut u8 {
        loop {
            let ptr = attempt();
            if !ptr.is_null() || !reclaim_one() {
                return ptr;
            }
        }
    }

    // SAFETY: every method forwards to `System` with the caller's arguments unchanged; the retry
    // path only frees memory this module or the caches own before asking again.
    unsafe impl GlobalAlloc for GuardedAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            retry(|| unsafe { System.alloc(layout) })
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            retry(|| unsafe { System.alloc_zeroed(layout) })
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            retry(|| unsafe { System.realloc(ptr, layout, new_size) })
        }
    }

    /// Takes the reserve back after a call, evicting entries until it can.
    pub fn after_call() {
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
            if !crate::registry::evict_one_for_memory() {
                return;
            }
        }
    }
}

/// Restores the allocator's reserve after a cache call (a no-op off wasm32).
pub fn after_call() {
    #[cfg(target_arch = "wasm32")]
    guarded::after_call();
}
