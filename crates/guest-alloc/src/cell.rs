//! The guarded cell a guest keeps its state in: calls borrow the state one at a time and end with
//! the after-call work (taking the allocator's reserve back); the allocator's reclaim path only
//! tries to borrow. Invariant: nothing here panics; an allocation made while a call holds the
//! state finds [`GuardedCell::try_reclaim`] returning false (never a second borrow, never a
//! trap), and the allocator falls back on the reserve.

use std::cell::RefCell;

use crate::reserve;

/// How a guest's state gives memory back.
pub trait Reclaim {
    /// Frees one piece of the state's memory (a cache entry) and says whether it did. Must not
    /// allocate unboundedly.
    fn reclaim(&mut self) -> bool;
}

/// State that does not exist yet has nothing to give.
impl<T: Reclaim> Reclaim for Option<T> {
    fn reclaim(&mut self) -> bool {
        self.as_mut().is_some_and(T::reclaim)
    }
}

/// A guest's state, kept in a `thread_local!` so that the guest's [`GuardedAlloc`] can reach it:
///
/// ```
/// use faas_guest_alloc::{GuardedAlloc, GuardedCell, Reclaim};
///
/// struct State(Vec<Vec<u8>>);
///
/// impl Reclaim for State {
///     fn reclaim(&mut self) -> bool {
///         self.0.pop().is_some()
///     }
/// }
///
/// thread_local! {
///     static STATE: GuardedCell<State> = const { GuardedCell::new(State(Vec::new())) };
/// }
/// #[cfg_attr(target_arch = "wasm32", global_allocator)]
/// static ALLOCATOR: GuardedAlloc<State> = GuardedAlloc::new(&STATE);
///
/// // An export: the call, then the after-call work.
/// let len = STATE.with(|s| s.call(|state| state.0.len()));
/// assert_eq!(len, Some(0));
/// ```
///
/// [`GuardedAlloc`]: crate::GuardedAlloc
pub struct GuardedCell<T> {
    state: RefCell<T>,
}

impl<T: Reclaim> GuardedCell<T> {
    pub const fn new(state: T) -> GuardedCell<T> {
        GuardedCell {
            state: RefCell::new(state),
        }
    }

    /// Runs `f` on the state, without the after-call work; `None` if the state is in use. For a
    /// step whose export has no after-call work (one that only gives memory back, or creates the
    /// state).
    pub fn run<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let mut state = self.state.try_borrow_mut().ok()?;
        Some(f(&mut state))
    }

    /// Runs one call: `f` on the state (`None` if the state is in use), then, with the state
    /// released, the after-call work ([`GuardedCell::after_call`]) in either case.
    pub fn call<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let result = self.run(f);
        self.after_call();
        result
    }

    /// The after-call work: takes the allocator's reserve back if it was given up, reclaiming
    /// from the state until the reserve fits or the state has nothing left to give.
    pub fn after_call(&self) {
        reserve::take_back(|| self.try_reclaim());
    }

    /// The reclaim path: one [`Reclaim::reclaim`] of the state if no call is using it; false
    /// while one is (or when the state has nothing to give).
    pub fn try_reclaim(&self) -> bool {
        self.state
            .try_borrow_mut()
            .is_ok_and(|mut state| state.reclaim())
    }
}
