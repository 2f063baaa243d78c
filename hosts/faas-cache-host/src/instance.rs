//! [`Instance`]: one guest in its own store, with its caches. It creates and restores caches,
//! hands out [`Cache`] views of them, runs the idle-time `tick`, and moves a simulated clock.
//! Invariant: a guest trap never passes silently: it panics with the trap (the guest's contract
//! is never to trap; after a trap the instance and its caches are gone).

use wasmtime::component::ResourceAny;
use wasmtime::Store;

use crate::bindings::{CacheComponent, CacheError, EvictionPolicy, Options};
use crate::cache::Cache;
use crate::clock::Clock;
use crate::state::HostState;

/// A cache inside an [`Instance`]: the guest's `cache-dict` handle. Valid in the instance that
/// made it until [`Instance::drop_cache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheId(pub(crate) ResourceAny);

impl CacheId {
    /// The raw resource handle, for calls through [`Instance::bindings`].
    pub fn resource(self) -> ResourceAny {
        self.0
    }
}

/// Panics with the trap: see the module's invariant.
pub(crate) fn trapped<T>(what: &'static str) -> impl FnOnce(wasmtime::Error) -> T {
    move |trap| panic!("the faas:cache guest trapped in {what}: {trap:?}")
}

/// Room the guest's allocator needs beside a call's arguments (its reserve and bookkeeping).
const ALLOCATOR_MARGIN: usize = 64 * 1024;

/// One instance of the component and its store.
pub struct Instance {
    store: Store<HostState>,
    bindings: CacheComponent,
    policy: EvictionPolicy,
    /// Bytes one argument may take in guest memory under the memory cap: a third of what the
    /// guest has with every entry evicted, the cap less the memory a new instance holds and
    /// [`ALLOCATOR_MARGIN`] (none: no cap). A third, because an argument must be one contiguous
    /// block, and the memory that evictions free can be split by the allocations that outlive
    /// the entries (keys in the removal log, the caches' tables): with half, a 550 KiB `set`
    /// trapped in a differential sequence with 1.1 MiB free under a 1.5 MiB cap; with a third,
    /// 6.5 million differential calls gave none.
    argument_room: Option<usize>,
    /// How many times [`Instance::arguments_fit`] said no.
    refused_arguments: std::cell::Cell<u64>,
}

impl Instance {
    pub(crate) fn new(
        store: Store<HostState>,
        bindings: CacheComponent,
        policy: EvictionPolicy,
        memory_cap: Option<usize>,
    ) -> Instance {
        let baseline = store.data().memory.peak_bytes();
        Instance {
            store,
            bindings,
            policy,
            argument_room: memory_cap
                .map(|cap| cap.saturating_sub(baseline.saturating_add(ALLOCATOR_MARGIN)) / 3),
            refused_arguments: std::cell::Cell::new(0),
        }
    }

    /// Whether an argument of `bytes` can be copied into the guest under the memory cap: at most
    /// a third of the room the guest has with every entry evicted (see `argument_room`). The
    /// canonical ABI copies a call's arguments in before the guest runs, and a copy that cannot
    /// be placed traps (destroying the instance and its caches), so the typed calls check this
    /// first and refuse such a call with an error value.
    pub fn arguments_fit(&self, bytes: usize) -> bool {
        let fit = self.argument_room.is_none_or(|room| bytes <= room);
        if !fit {
            self.refused_arguments.set(self.refused_arguments.get() + 1);
        }
        fit
    }

    /// How many calls (or batch runs) the memory-cap argument check refused.
    pub fn refused_arguments(&self) -> u64 {
        self.refused_arguments.get()
    }

    /// A new cache under the host's default policy (LRU unless [`crate::Builder::policy`]).
    pub fn create(&mut self, options: &Options) -> Result<CacheId, CacheError> {
        match self.policy {
            EvictionPolicy::Lru => self
                .bindings
                .faas_cache_cache()
                .cache_dict()
                .call_create(&mut self.store, options)
                .unwrap_or_else(trapped("create"))
                .map(CacheId),
            policy => self.create_with_policy(options, policy),
        }
    }

    /// A new cache that evicts by `policy` (`policy.create`).
    pub fn create_with_policy(
        &mut self,
        options: &Options,
        policy: EvictionPolicy,
    ) -> Result<CacheId, CacheError> {
        self.bindings
            .faas_cache_policy()
            .call_create(&mut self.store, options, policy)
            .unwrap_or_else(trapped("policy.create"))
            .map(CacheId)
    }

    /// A cache restored from a snapshot (entries, order, settings, policy, absolute expiries).
    /// `OutOfMemory` when the snapshot cannot fit under the memory cap at all.
    pub fn restore(&mut self, snapshot: &[u8]) -> Result<CacheId, CacheError> {
        if !self.arguments_fit(snapshot.len()) {
            return Err(CacheError::OutOfMemory);
        }
        self.bindings
            .faas_cache_cache()
            .cache_dict()
            .call_restore(&mut self.store, snapshot)
            .unwrap_or_else(trapped("restore"))
            .map(CacheId)
    }

    /// The cache called `name` in this instance (`named.open`): created with `options` and
    /// `policy` on the first open, returned with its entries (and `options`' limits and default
    /// TTL applied) on a later one. Dropping its handle leaves the cache for the next open.
    pub fn open(
        &mut self,
        name: &str,
        options: &Options,
        policy: EvictionPolicy,
    ) -> Result<CacheId, CacheError> {
        if !self.arguments_fit(name.len()) {
            return Err(CacheError::OutOfMemory);
        }
        self.bindings
            .faas_cache_named()
            .call_open(&mut self.store, name, options, policy)
            .unwrap_or_else(trapped("named.open"))
            .map(CacheId)
    }

    /// The names of this instance's named caches, in the order first opened (`named.names`).
    pub fn names(&mut self) -> Vec<String> {
        self.bindings
            .faas_cache_named()
            .call_names(&mut self.store)
            .unwrap_or_else(trapped("named.names"))
    }

    /// The cache `id`, to call.
    pub fn cache(&mut self, id: CacheId) -> Cache<'_> {
        Cache::new(self, id)
    }

    /// Frees the cache `id` in the guest.
    pub fn drop_cache(&mut self, id: CacheId) {
        id.0.resource_drop(&mut self.store)
            .unwrap_or_else(trapped("cache-dict drop"))
    }

    /// Idle-time work (`tick`): purges expired entries of every cache; returns how many.
    pub fn tick(&mut self) -> u32 {
        self.bindings
            .faas_cache_cache()
            .call_tick(&mut self.store)
            .unwrap_or_else(trapped("tick"))
    }

    /// The guest's clock.
    pub fn clock(&self) -> Clock {
        self.store.data().clock
    }

    /// Replaces the guest's clock.
    pub fn set_clock(&mut self, clock: Clock) {
        self.store.data_mut().clock = clock;
    }

    /// Moves a simulated clock by `secs` seconds (negative: backwards); no effect on the
    /// machine's clock.
    pub fn advance(&mut self, secs: f64) {
        self.store.data_mut().clock.advance(secs);
    }

    /// Moves a simulated clock by `nanos` nanoseconds.
    pub fn advance_nanos(&mut self, nanos: u128) {
        let nanos = i128::try_from(nanos).unwrap_or(i128::MAX);
        self.store.data_mut().clock.advance_nanos(nanos);
    }

    /// The guest's time in seconds since the epoch.
    pub fn now_secs(&self) -> f64 {
        self.store.data().clock.now_nanos() as f64 / 1e9
    }

    /// Bytes of linear memory the guest has grown to (its memory never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().memory.peak_bytes()
    }

    /// How many times the memory cap refused to grow the guest's memory.
    pub fn refused_growths(&self) -> u64 {
        self.store.data().memory.refused_growths()
    }

    /// How many times the guest read the clock.
    pub fn clock_reads(&self) -> u64 {
        self.store.data().clock_reads
    }

    /// How many times the guest asked for its seed.
    pub fn seed_reads(&self) -> u64 {
        self.store.data().seed_reads
    }

    /// The generated bindings and the store, for calls this crate does not wrap.
    pub fn bindings(&mut self) -> (&CacheComponent, &mut Store<HostState>) {
        (&self.bindings, &mut self.store)
    }

    /// The store.
    pub fn store(&self) -> &Store<HostState> {
        &self.store
    }
}
