//! # faas-cache-provider
//!
//! A wasmtime host that provides `faas:cache/{cache,policy,named}` (the contract's `imports`
//! world) to the apps it runs, natively on the `faas-cache` core (the same code the component
//! runs), so an app's import is served by the host instead of a composed component. Its named
//! caches live in a [`Scope`], one per app, shared by every instance of the app, one after
//! another or at the same time, on any thread, and outliving the instances: an app whose host
//! makes a fresh instance per request still gets hits.
//!
//! ```no_run
//! use faas_cache_provider::{add_to_linker, CacheCtx, CacheView, Scope, ScopeLimits};
//! use wasmtime::component::{Linker, ResourceTable};
//! use wasmtime::{Engine, Store};
//!
//! struct State { cache: CacheCtx, table: ResourceTable }
//!
//! let engine = Engine::default();
//! let scope = Scope::new(ScopeLimits::default()); // one per app: 64 MiB ceiling, 256 names
//! let mut linker = Linker::<State>::new(&engine);
//! add_to_linker(&mut linker, |s| CacheView::new(&mut s.cache, &mut s.table))?;
//! // Per instance (per request, if you like): a store whose ctx shares the app's scope.
//! let mut store = Store::new(&engine, State { cache: CacheCtx::new(scope.clone()), table: ResourceTable::new() });
//! # Ok::<(), wasmtime::Error>(())
//! ```
//!
//! Calls on a cache are atomic (one mutex per cache, held for one core call, never across a
//! guest call or an await); [`Scope::purge_expired`] is for a background task;
//! [`Scope::snapshot`] / [`Scope::restore`] keep a scope across host restarts.

pub mod bindings;
mod clock;
mod scope;
pub mod sealed;
mod view;

pub use bindings::{CacheError, EvictionPolicy, Options};
pub use clock::ScopeClock;
pub use scope::{HostCache, Restored, Scope, ScopeLimits, SharedCache, SCOPE_MAGIC};
pub use view::{add_to_linker, CacheCtx, CacheDictHandle, CacheView};
