//! The heap under the guests' allocator. On wasm32 it is dlmalloc (the allocator of Rust's own
//! wasm32 std, as the `dlmalloc` crate) over linear memory grown by [`Growth`]; elsewhere (the
//! native unit tests) the system allocator.
//!
//! Why not std's own: when dlmalloc runs out, it asks the system for the whole request again
//! (rounded up to pages), not for what its free top chunk lacks. Under a memory cap that growth
//! is refused although a smaller one would do: a 518 KiB argument copy trapped with 450 KiB free
//! at the top and 256 KiB left under the cap. [`Growth`] therefore takes, when the full growth is
//! refused, as many pages as the cap still allows; dlmalloc adds them to its top chunk (they are
//! contiguous with it) and serves the request from there when it now fits.
//!
//! Invariant: linear memory only ever grows at its end, by this module, and every page grown is
//! handed to dlmalloc exactly once. Single-threaded, like every wasm32 guest.

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use std::alloc::System as Heap;

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::Heap;

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::memory_grow;
    use core::cell::UnsafeCell;
    use std::alloc::{GlobalAlloc, Layout};

    use dlmalloc::{Allocator, Dlmalloc};

    #[cfg(target_feature = "atomics")]
    compile_error!("the guest heap is single-threaded: build without the atomics feature");

    const PAGE: usize = 64 * 1024;

    /// Grows linear memory for dlmalloc: the pages asked for, or else as many as the cap allows.
    pub struct Growth;

    // SAFETY: `alloc` returns only pages just added at the end of linear memory, never handed out
    // before; nothing is ever freed or remapped (linear memory cannot shrink).
    unsafe impl Allocator for Growth {
        fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
            let wanted = size.div_ceil(PAGE);
            let first = memory_grow(0, wanted);
            if first != usize::MAX {
                return ((first * PAGE) as *mut u8, wanted * PAGE, 0);
            }
            // Refused: take what the cap allows, in halving steps. Each grant lands right after
            // the previous one, so together they are one region.
            let (mut base, mut got, mut step) = (None, 0usize, wanted / 2);
            while step > 0 {
                match memory_grow(0, step) {
                    usize::MAX => step /= 2,
                    start => {
                        base.get_or_insert(start);
                        got += step;
                        step = step.min(wanted - 1 - got);
                    }
                }
            }
            match base {
                Some(start) => ((start * PAGE) as *mut u8, got * PAGE, 0),
                None => (core::ptr::null_mut(), 0, 0),
            }
        }
        fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
            core::ptr::null_mut()
        }
        fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
            false
        }
        fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
            false
        }
        fn can_release_part(&self, _flags: u32) -> bool {
            false
        }
        fn allocates_zeros(&self) -> bool {
            true
        }
        fn page_size(&self) -> usize {
            PAGE
        }
    }

    struct Shared(UnsafeCell<Dlmalloc<Growth>>);

    // SAFETY: a wasm32 guest without the atomics feature has one thread (checked above).
    unsafe impl Sync for Shared {}

    static HEAP: Shared = Shared(UnsafeCell::new(Dlmalloc::new_with_allocator(Growth)));

    /// The guest heap, as a `GlobalAlloc`.
    pub struct Heap;

    impl Heap {
        /// The one dlmalloc. Each method below takes it for the length of one dlmalloc call, which
        /// never calls back into the allocator, so no two of these borrows overlap.
        #[allow(clippy::mut_from_ref)]
        fn heap(&self) -> &mut Dlmalloc<Growth> {
            // SAFETY: single-threaded (see `Shared`), and the borrow ends with the dlmalloc call.
            unsafe { &mut *HEAP.0.get() }
        }
    }

    // SAFETY: forwards to dlmalloc with the caller's arguments, as std's wasm32 allocator does.
    unsafe impl GlobalAlloc for Heap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { self.heap().malloc(layout.size(), layout.align()) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            unsafe { self.heap().calloc(layout.size(), layout.align()) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { self.heap().free(ptr, layout.size(), layout.align()) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe {
                self.heap()
                    .realloc(ptr, layout.size(), layout.align(), new_size)
            }
        }
    }
}
