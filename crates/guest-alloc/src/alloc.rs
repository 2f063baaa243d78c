//! The global allocator: the guest heap (`crate::heap`), retrying a refused allocation after
//! giving memory back, first through the guest's state cell, then by releasing the reserve. Invariant: it returns null only
//! when both have nothing left to give; it never reclaims from inside a reclaim.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::thread::LocalKey;

use crate::heap::Heap;

use crate::cell::{GuardedCell, Reclaim};
use crate::reserve;

/// The allocator of a guest whose state lives in a `thread_local!` [`GuardedCell`]. Declare it
/// once, with that cell, as `#[cfg_attr(target_arch = "wasm32", global_allocator)] static
/// ALLOCATOR: GuardedAlloc<State> = GuardedAlloc::new(&STATE);`.
pub struct GuardedAlloc<T: 'static> {
    state: &'static LocalKey<GuardedCell<T>>,
}

thread_local! {
    static RECLAIMING: Cell<bool> = const { Cell::new(false) };
}

impl<T: Reclaim> GuardedAlloc<T> {
    /// The allocator that reclaims from `state`.
    pub const fn new(state: &'static LocalKey<GuardedCell<T>>) -> GuardedAlloc<T> {
        GuardedAlloc { state }
    }

    /// Gives one piece of memory back; false when nothing is left (or already reclaiming).
    fn reclaim_one(&self) -> bool {
        if RECLAIMING.with(|r| r.replace(true)) {
            return false;
        }
        let freed = self.state.with(GuardedCell::try_reclaim) || reserve::release();
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
}

// SAFETY: every method forwards to the guest heap (`crate::heap`) with the caller's arguments
// unchanged; the retry path only frees memory the guest's state or the reserve own before asking
// again.
unsafe impl<T: Reclaim> GlobalAlloc for GuardedAlloc<T> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.retry(|| unsafe { Heap.alloc(layout) })
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.retry(|| unsafe { Heap.alloc_zeroed(layout) })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Heap.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.retry(|| unsafe { Heap.realloc(ptr, layout, new_size) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State that counts reclaim requests and has nothing to give.
    struct CountAndRefuse {
        calls: u32,
    }

    impl Reclaim for CountAndRefuse {
        fn reclaim(&mut self) -> bool {
            self.calls += 1;
            false
        }
    }

    thread_local! {
        static STATE: GuardedCell<CountAndRefuse> =
            const { GuardedCell::new(CountAndRefuse { calls: 0 }) };
    }

    fn calls() -> u32 {
        STATE.with(|s| s.run(|s| s.calls)).unwrap_or(u32::MAX)
    }

    #[test]
    fn a_call_takes_the_reserve_back_and_the_allocator_releases_it_once() {
        let alloc = GuardedAlloc::new(&STATE);
        assert_eq!(STATE.with(|s| s.call(|_| 7)), Some(7));
        assert!(reserve::is_held(), "the after-call work took the reserve");
        assert!(alloc.reclaim_one(), "the reserve is given up");
        assert!(!alloc.reclaim_one(), "nothing left");
        assert_eq!(calls(), 2, "the state is asked first each time");
        STATE.with(GuardedCell::after_call);
        assert!(reserve::release());
    }

    #[test]
    fn the_reclaim_path_does_nothing_while_a_call_holds_the_state() {
        let alloc = GuardedAlloc::new(&STATE);
        let inside = STATE.with(|s| {
            s.run(|_| {
                let busy = STATE.with(|s| (s.try_reclaim(), s.run(|_| ()).is_none()));
                (busy, alloc.reclaim_one())
            })
        });
        assert_eq!(
            inside,
            Some(((false, true), false)),
            "no borrow, no reserve"
        );
        assert_eq!(calls(), 0, "the state was never asked");
    }
}
