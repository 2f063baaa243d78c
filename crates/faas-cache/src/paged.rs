//! A vector stored in fixed-size pages, so that growing it never copies what it holds. A plain
//! `Vec` doubles: while it moves to the new buffer, the old and the new one are both allocated
//! (three times the live slots), and afterwards up to half the buffer is unused. Under a byte
//! budget in a Wasm guest, whose linear memory never shrinks, that transient peak is memory the
//! host pays for ever. Here each page is allocated once, at its full size, filled with
//! `T::default()` (a vacant slot), and never moved.
//!
//! Invariants: every page holds exactly `PAGE` items (fixed-size arrays, so an offset within a
//! page needs no bounds check); index `i` lives in page `i / PAGE` at `i % PAGE`; items at
//! `len` and beyond are fillers that no caller has pushed.

use std::ops::{Index, IndexMut};

/// Items per page: a power of two, so that the page and the offset are a shift and a mask. 256
/// slots are 10 KiB in the guest (40-byte slots): the least a non-empty cache holds.
pub(crate) const PAGE: usize = 256;
const SHIFT: u32 = PAGE.trailing_zeros();

type Page<T> = Box<[T; PAGE]>;

#[derive(Debug)]
pub(crate) struct PagedVec<T> {
    pages: Vec<Page<T>>,
    len: usize,
}

/// A page of fillers; `None` if the allocator refused.
fn try_page<T: Default>() -> Option<Page<T>> {
    let mut items = Vec::new();
    items.try_reserve_exact(PAGE).ok()?;
    items.resize_with(PAGE, T::default);
    items.into_boxed_slice().try_into().ok()
}

impl<T: Default> PagedVec<T> {
    pub(crate) fn new() -> Self {
        PagedVec {
            pages: Vec::new(),
            len: 0,
        }
    }

    /// An empty vector with room for `n` items, every page allocated up front; `None` if the
    /// allocator refused (nothing is kept then).
    pub(crate) fn try_with_capacity(n: usize) -> Option<Self> {
        let count = n.div_ceil(PAGE);
        let mut pages = Vec::new();
        pages.try_reserve_exact(count).ok()?;
        for _ in 0..count {
            pages.push(try_page()?);
        }
        Some(PagedVec { pages, len: 0 })
    }

    /// Makes sure one more item can be pushed without allocating; false if the allocator refused.
    pub(crate) fn try_reserve_one(&mut self) -> bool {
        if self.len < self.pages.len() * PAGE {
            return true;
        }
        if self.pages.len() == self.pages.capacity() && self.pages.try_reserve(1).is_err() {
            return false;
        }
        match try_page() {
            Some(page) => {
                self.pages.push(page);
                true
            }
            None => false,
        }
    }

    /// Appends `item`; its index is the old `len`. Call `try_reserve_one` first to grow without
    /// aborting (otherwise this allocates infallibly).
    pub(crate) fn push(&mut self, item: T) -> usize {
        if !self.try_reserve_one() {
            // Out of memory with no fallible path left: behave like `Vec::push`.
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<[T; PAGE]>());
        }
        let index = self.len;
        self[index] = item;
        self.len += 1;
        index
    }

    /// Items pushed (the caller decides what a pushed item means).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Items there is room for without allocating.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.pages.len() * PAGE
    }
}

impl<T> Index<usize> for PagedVec<T> {
    type Output = T;

    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn index(&self, i: usize) -> &T {
        &self.pages[i >> SHIFT][i & (PAGE - 1)]
    }
}

impl<T> IndexMut<usize> for PagedVec<T> {
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.pages[i >> SHIFT][i & (PAGE - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_stay_valid_across_pages() {
        let mut v = PagedVec::new();
        for i in 0..3 * PAGE + 7 {
            assert_eq!(v.push(i), i);
        }
        assert_eq!(v.len(), 3 * PAGE + 7);
        for i in 0..v.len() {
            assert_eq!(v[i], i);
        }
        v[PAGE + 1] = 0;
        assert_eq!(v[PAGE + 1], 0);
    }

    #[test]
    fn pages_are_whole_and_never_more_than_one_is_spare() {
        let mut v = PagedVec::new();
        v.push(0u8);
        assert_eq!(v.capacity(), PAGE);
        for i in 1..=PAGE {
            v.push(i as u8);
        }
        assert_eq!(v.capacity(), 2 * PAGE);
    }

    #[test]
    fn preallocated_pages_fill_in_order_without_growing() {
        let mut v = PagedVec::try_with_capacity(2 * PAGE + 1).expect("memory");
        assert_eq!(v.capacity(), 3 * PAGE);
        for i in 0..2 * PAGE + 1 {
            assert_eq!(v.push(i), i);
        }
        assert_eq!(v.capacity(), 3 * PAGE);
        assert!((0..v.len()).all(|i| v[i] == i));
        assert_eq!(
            PagedVec::<u8>::try_with_capacity(0)
                .expect("memory")
                .capacity(),
            0
        );
    }

    #[test]
    fn reserving_is_idempotent() {
        let mut v: PagedVec<u64> = PagedVec::new();
        assert!(v.try_reserve_one());
        assert!(v.try_reserve_one());
        assert_eq!(v.capacity(), PAGE);
        assert_eq!(v.len(), 0);
    }
}
