//! `wasi:keyvalue` for every instance of an app, served by the host from Redis through an L1
//! that outlives instances: [`l1`] (the app's L1 on `faas-kv-l1-core`, write-through, with
//! Redis' key names), [`tracking`] (Redis' invalidations keep it coherent) and [`view`] (the
//! `wasi:keyvalue` host traits on it, and `add_to_linker`). Invariant: nothing here trusts a value Redis may have changed
//! without telling: when tracking is lost, the L1 is emptied before it answers again.

pub mod bindings;
pub mod l1;
pub mod tracking;
pub mod view;

pub use l1::{AppL1, KvError};
pub use view::{add_to_linker, KvCtx, KvView};
