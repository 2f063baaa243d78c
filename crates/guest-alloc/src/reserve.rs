//! The reserve ("parachute"): one block of [`RESERVE_BYTES`] held between calls and given up when
//! nothing else can be reclaimed, so that allocations inside a call (error messages, small copies)
//! still succeed. Invariant: at most one block is held; it is freed exactly once, by [`release`].

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

use crate::heap::Heap;

/// Bytes kept in reserve for allocations inside an operation.
pub const RESERVE_BYTES: usize = 64 * 1024;

thread_local! {
    static RESERVE: Cell<*mut u8> = const { Cell::new(std::ptr::null_mut()) };
}

fn layout() -> Layout {
    // 64 KiB with byte alignment is always a valid layout.
    Layout::from_size_align(RESERVE_BYTES, 1).unwrap_or(Layout::new::<u8>())
}

/// Whether the reserve is held.
pub fn is_held() -> bool {
    !RESERVE.with(|r| r.get()).is_null()
}

/// Frees the reserve; false if it was not held.
pub fn release() -> bool {
    let ptr = RESERVE.with(|r| r.replace(std::ptr::null_mut()));
    if ptr.is_null() {
        return false;
    }
    // SAFETY: the pointer came from `Heap.alloc(layout())` in `take_back` and is freed once.
    unsafe { Heap.dealloc(ptr, layout()) };
    true
}

/// Takes the reserve back if it is not held, calling `reclaim` each time the allocation fails
/// until it succeeds or `reclaim` has nothing left to give.
pub fn take_back(mut reclaim: impl FnMut() -> bool) {
    if is_held() {
        return;
    }
    loop {
        // SAFETY: a valid non-zero-size layout.
        let ptr = unsafe { Heap.alloc(layout()) };
        if !ptr.is_null() {
            RESERVE.with(|r| r.set(ptr));
            return;
        }
        if !reclaim() {
            return;
        }
    }
}
