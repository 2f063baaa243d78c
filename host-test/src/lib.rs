//! A typed wasmtime host for the `faas:cache` component: it loads the built component, serves
//! the `wasi:clocks/wall-clock` import from a simulated clock the caller moves, serves a fixed
//! `wasi:random/insecure-seed`, optionally caps linear memory, and wraps every export in a plain
//! method. Invariant: a guest trap never passes silently: each wrapper panics with the trap.

use std::sync::OnceLock;

use wasmtime::component::{Component, HasSelf, Linker, ResourceAny};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "cache-component",
    additional_derives: [PartialEq],
});

pub use exports::faas::cache::cache::{
    BatchError, CacheError, Expiry, Options, Removal, RemovalCause, SizeExcess, Stats,
};
pub use exports::faas::cache::policy::EvictionPolicy;
use wasi::clocks::wall_clock::Datetime;

/// The instant the simulated clock starts at: 2023-11-14T22:13:20Z.
pub const START_SECONDS: u64 = 1_700_000_000;

/// What the host gives the guest: a simulated clock, a seed and memory limits.
pub struct HostState {
    /// Simulated wall-clock time in nanoseconds since the epoch.
    pub now_nanos: u128,
    /// How many times the guest read the clock.
    pub clock_reads: u64,
    /// How many times the guest asked for the seed.
    pub seed_reads: u64,
    limits: Limiter,
}

/// `StoreLimits` that also remember how large linear memory has grown.
struct Limiter {
    limits: StoreLimits,
    memory_bytes: usize,
    refused_growths: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.limits.memory_growing(current, desired, maximum)?;
        if ok {
            self.memory_bytes = self.memory_bytes.max(desired);
        } else {
            self.refused_growths += 1;
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }
}

impl wasi::clocks::wall_clock::Host for HostState {
    fn now(&mut self) -> Datetime {
        self.clock_reads += 1;
        Datetime {
            seconds: (self.now_nanos / 1_000_000_000) as u64,
            nanoseconds: (self.now_nanos % 1_000_000_000) as u32,
        }
    }

    fn resolution(&mut self) -> Datetime {
        Datetime {
            seconds: 0,
            nanoseconds: 1,
        }
    }
}

impl wasi::random::insecure_seed::Host for HostState {
    fn insecure_seed(&mut self) -> (u64, u64) {
        self.seed_reads += 1;
        (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210)
    }
}

/// The engine and the compiled component, shared by every guest of this process.
pub fn engine_and_component() -> &'static (Engine, Component) {
    static COMPILED: OnceLock<(Engine, Component)> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let mut config = Config::new();
        config.wasm_component_model(true);
        // `perf record` can name the guest's JIT-compiled functions (/tmp/perf-<pid>.map).
        if std::env::var_os("FAAS_CACHE_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).expect("engine");
        let component =
            Component::new(&engine, faas_cache_artifact::COMPONENT).expect("compile the component");
        (engine, component)
    })
}

/// A linker that serves the component's imports (the simulated clock and the seed).
pub fn linker(engine: &Engine) -> Linker<HostState> {
    let mut linker = Linker::<HostState>::new(engine);
    CacheComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
        .expect("link");
    linker
}

/// A store whose clock starts at `START_SECONDS`, with `limits` on its linear memory.
pub fn new_store(engine: &Engine, limits: StoreLimits) -> Store<HostState> {
    let mut store = Store::new(
        engine,
        HostState {
            now_nanos: u128::from(START_SECONDS) * 1_000_000_000,
            clock_reads: 0,
            seed_reads: 0,
            limits: Limiter {
                limits,
                memory_bytes: 0,
                refused_growths: 0,
            },
        },
    );
    store.limiter(|s| &mut s.limits);
    store
}

/// Pre-instantiates the component: imports resolved and type-checked once.
pub fn instance_pre() -> CacheComponentPre<HostState> {
    let (engine, component) = engine_and_component();
    let pre = linker(engine)
        .instantiate_pre(component)
        .expect("instantiate_pre");
    CacheComponentPre::new(pre).expect("the component has the cache-component world's shape")
}

/// One instance of the component in its own store.
pub struct Guest {
    pub store: Store<HostState>,
    bindings: CacheComponent,
}

/// A `cache-dict` handle owned by the guest's store.
pub type Dict = ResourceAny;

macro_rules! call {
    ($self:ident, $method:ident $(, $arg:expr)*) => {
        $self
            .bindings
            .faas_cache_cache()
            .cache_dict()
            .$method(&mut $self.store $(, $arg)*)
            .unwrap_or_else(|trap| panic!("guest trapped in {}: {trap:?}", stringify!($method)))
    };
}

impl Guest {
    /// A guest without a memory limit, its clock at `START_SECONDS`.
    pub fn new() -> Guest {
        Guest::with_limits(StoreLimitsBuilder::new().build())
    }

    /// A guest whose linear memory may not grow past `bytes` (growth fails, it does not trap).
    pub fn with_memory_limit(bytes: usize) -> Guest {
        Guest::with_limits(StoreLimitsBuilder::new().memory_size(bytes).build())
    }

    fn with_limits(limits: StoreLimits) -> Guest {
        let (engine, component) = engine_and_component();
        let mut store = new_store(engine, limits);
        let bindings = CacheComponent::instantiate(&mut store, component, &linker(engine))
            .expect("instantiate");
        Guest { store, bindings }
    }

    /// A guest instantiated from a pre-instantiated component (`InstancePre`): the path a
    /// long-lived host takes for every new instance.
    pub fn from_pre(pre: &CacheComponentPre<HostState>) -> Guest {
        let mut store = new_store(pre.engine(), StoreLimitsBuilder::new().build());
        let bindings = pre.instantiate(&mut store).expect("instantiate");
        Guest { store, bindings }
    }

    /// Moves the simulated clock by `secs` seconds (negative: backwards).
    pub fn advance(&mut self, secs: f64) {
        let delta = (secs * 1e9).round() as i128;
        let now = self.store.data().now_nanos as i128 + delta;
        self.store.data_mut().now_nanos = now.max(0) as u128;
    }

    /// Moves the simulated clock by `nanos` nanoseconds.
    pub fn advance_nanos(&mut self, nanos: u128) {
        self.store.data_mut().now_nanos += nanos;
    }

    /// The simulated time in seconds since the epoch.
    pub fn now_secs(&self) -> f64 {
        self.store.data().now_nanos as f64 / 1e9
    }

    /// Bytes of linear memory the guest has grown to (its memory never shrinks).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limits.memory_bytes
    }

    /// How many times the host refused to grow the guest's memory.
    pub fn refused_growths(&self) -> u64 {
        self.store.data().limits.refused_growths
    }

    pub fn tick(&mut self) -> u32 {
        self.bindings
            .faas_cache_cache()
            .call_tick(&mut self.store)
            .unwrap_or_else(|trap| panic!("guest trapped in tick: {trap:?}"))
    }

    pub fn create(&mut self, options: &Options) -> Result<Dict, CacheError> {
        call!(self, call_create, options)
    }

    /// `policy.create`: a cache that evicts by `policy`.
    pub fn create_with_policy(
        &mut self,
        options: &Options,
        policy: EvictionPolicy,
    ) -> Result<Dict, CacheError> {
        self.bindings
            .faas_cache_policy()
            .call_create(&mut self.store, options, policy)
            .unwrap_or_else(|trap| panic!("guest trapped in policy.create: {trap:?}"))
    }

    /// `policy.policy-of`.
    pub fn policy_of(&mut self, d: Dict) -> EvictionPolicy {
        self.bindings
            .faas_cache_policy()
            .call_policy_of(&mut self.store, d)
            .unwrap_or_else(|trap| panic!("guest trapped in policy.policy-of: {trap:?}"))
    }

    pub fn restore(&mut self, snapshot: &[u8]) -> Result<Dict, CacheError> {
        call!(self, call_restore, snapshot)
    }

    /// Drops a handle (the guest frees the cache).
    pub fn drop_dict(&mut self, dict: Dict) {
        dict.resource_drop(&mut self.store)
            .expect("drop cache-dict");
    }

    pub fn get(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        call!(self, call_get, d, key)
    }
    pub fn peek(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        call!(self, call_peek, d, key)
    }
    pub fn contains(&mut self, d: Dict, key: &str) -> bool {
        call!(self, call_contains, d, key)
    }
    pub fn set(&mut self, d: Dict, key: &str, value: &[u8]) -> Result<(), CacheError> {
        call!(self, call_set, d, key, value)
    }
    pub fn set_with_expiry(
        &mut self,
        d: Dict,
        key: &str,
        value: &[u8],
        expiry: Expiry,
    ) -> Result<(), CacheError> {
        call!(self, call_set_with_expiry, d, key, value, expiry)
    }
    pub fn delete(&mut self, d: Dict, key: &str) -> bool {
        call!(self, call_delete, d, key)
    }
    pub fn pop(&mut self, d: Dict, key: &str) -> Option<Vec<u8>> {
        call!(self, call_pop, d, key)
    }
    pub fn pop_item(&mut self, d: Dict, last: bool) -> Option<(String, Vec<u8>)> {
        call!(self, call_pop_item, d, last)
    }
    pub fn set_default(&mut self, d: Dict, key: &str, value: &[u8]) -> Result<Vec<u8>, CacheError> {
        call!(self, call_set_default, d, key, value)
    }
    pub fn move_to_end(&mut self, d: Dict, key: &str, last: bool) -> Result<(), CacheError> {
        call!(self, call_move_to_end, d, key, last)
    }
    pub fn len(&mut self, d: Dict) -> u32 {
        call!(self, call_len, d)
    }
    pub fn keys(&mut self, d: Dict) -> Vec<String> {
        call!(self, call_keys, d)
    }
    pub fn keys_reversed(&mut self, d: Dict) -> Vec<String> {
        call!(self, call_keys_reversed, d)
    }
    pub fn values(&mut self, d: Dict) -> Vec<Vec<u8>> {
        call!(self, call_values, d)
    }
    pub fn items(&mut self, d: Dict) -> Vec<(String, Vec<u8>)> {
        call!(self, call_items, d)
    }
    pub fn clear(&mut self, d: Dict) {
        call!(self, call_clear, d)
    }
    pub fn get_ttl(&mut self, d: Dict, key: &str) -> Result<Option<f64>, CacheError> {
        call!(self, call_get_ttl, d, key)
    }
    pub fn set_ttl(&mut self, d: Dict, key: &str, ttl: Option<f64>) -> Result<(), CacheError> {
        call!(self, call_set_ttl, d, key, ttl)
    }
    pub fn expire_at(&mut self, d: Dict, key: &str, epoch_seconds: f64) -> Result<(), CacheError> {
        call!(self, call_expire_at, d, key, epoch_seconds)
    }
    pub fn is_expired(&mut self, d: Dict, key: &str) -> Option<bool> {
        call!(self, call_is_expired, d, key)
    }
    pub fn default_ttl(&mut self, d: Dict) -> Option<f64> {
        call!(self, call_default_ttl, d)
    }
    pub fn set_default_ttl(&mut self, d: Dict, ttl: Option<f64>) -> Result<(), CacheError> {
        call!(self, call_set_default_ttl, d, ttl)
    }
    pub fn max_size_bytes(&mut self, d: Dict) -> Option<u64> {
        call!(self, call_max_size_bytes, d)
    }
    pub fn change_byte_size(&mut self, d: Dict, max_size: Option<&str>) -> Result<(), CacheError> {
        call!(self, call_change_byte_size, d, max_size)
    }
    pub fn max_items(&mut self, d: Dict) -> Option<u32> {
        call!(self, call_max_items, d)
    }
    pub fn change_max_items(&mut self, d: Dict, max_items: Option<u32>) -> Result<(), CacheError> {
        call!(self, call_change_max_items, d, max_items)
    }
    pub fn byte_size(&mut self, d: Dict) -> u64 {
        call!(self, call_byte_size, d)
    }
    pub fn purge_expired(&mut self, d: Dict) -> u32 {
        call!(self, call_purge_expired, d)
    }
    pub fn snapshot(&mut self, d: Dict) -> Vec<u8> {
        call!(self, call_snapshot, d)
    }
    pub fn drain_removals(&mut self, d: Dict, max: u32) -> Vec<Removal> {
        call!(self, call_drain_removals, d, max)
    }
    pub fn stats(&mut self, d: Dict) -> Stats {
        call!(self, call_stats, d)
    }
    pub fn reset_stats(&mut self, d: Dict) {
        call!(self, call_reset_stats, d)
    }
    pub fn describe(&mut self, d: Dict) -> String {
        call!(self, call_describe, d)
    }
    pub fn get_many(&mut self, d: Dict, keys: &[String]) -> Vec<Option<Vec<u8>>> {
        call!(self, call_get_many, d, keys)
    }
    pub fn set_many(&mut self, d: Dict, entries: &[(String, Vec<u8>)]) -> Result<(), BatchError> {
        call!(self, call_set_many, d, entries)
    }
    pub fn delete_many(&mut self, d: Dict, keys: &[String]) -> u32 {
        call!(self, call_delete_many, d, keys)
    }
}

impl Default for Guest {
    fn default() -> Self {
        Guest::new()
    }
}

/// Options with every limit off and no removal log.
pub fn options() -> Options {
    Options {
        default_ttl: None,
        max_size: None,
        max_items: None,
        removal_log_capacity: 0,
    }
}
