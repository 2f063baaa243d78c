//! Instances of the L1 and of the app, each in its own store, with one typed method per export;
//! and [`compose`], which plugs the L1 into the app exactly as `wac plug` does. Invariant: a
//! guest trap never passes silently: each wrapper panics with the trap.

use std::sync::OnceLock;

pub use faas_cache_host::engine::engine;
use faas_cache_host::limits::MemoryLimiter;
use faas_cache_host::{Clock, START_NANOS};
use wac_graph::{plug, types::Package, CompositionGraph, EncodeOptions};
use wasmtime::component::{Component, ResourceAny};
use wasmtime::Store;

use crate::backend::RedisBackend;
use crate::host::l1::exports::faas::kv_l1::l1::{L1Settings, L1Stats};
use crate::host::l1::exports::wasi::keyvalue::atomics::CasError;
use crate::host::l1::exports::wasi::keyvalue::store::{Error, KeyResponse};
use crate::host::{app::App, l1::KvL1, linker, Host};

/// Plugs `l1` into `app`'s `wasi:keyvalue` imports, as `wac plug app.wasm --plug
/// faas_kv_l1.wasm` does: the same `wac_graph::plug` call, with the package names the wac CLI
/// (0.12) gives (`socket`, and `plug:` + the plug's file stem). The result exports what the app
/// exports and imports what the L1 imports.
pub fn compose(app: &[u8], l1: &[u8]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut graph = CompositionGraph::new();
    let app = Package::from_bytes("socket", None, app.to_vec(), graph.types_mut())?;
    let app = graph.register_package(app)?;
    let l1 = Package::from_bytes("plug:faas_kv_l1", None, l1.to_vec(), graph.types_mut())?;
    let l1 = graph.register_package(l1)?;
    plug(&mut graph, vec![l1], app)?;
    Ok(graph.encode(EncodeOptions::default())?)
}

fn compiled(bytes: &'static [u8], cell: &'static OnceLock<Component>) -> &'static Component {
    cell.get_or_init(|| Component::new(engine(), bytes).expect("compile the component"))
}

/// The L1 component, compiled once per process.
pub fn l1_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    compiled(faas_cache_artifact::KV_L1_COMPONENT, &C)
}

/// The app alone (straight to the backend), compiled once per process.
pub fn app_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    compiled(faas_cache_artifact::KV_APP_COMPONENT, &C)
}

/// The app with the L1 plugged in, composed and compiled once per process.
pub fn composed_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    C.get_or_init(|| {
        let bytes = compose(
            faas_cache_artifact::KV_APP_COMPONENT,
            faas_cache_artifact::KV_L1_COMPONENT,
        )
        .expect("wac plug the L1 into the app");
        Component::new(engine(), bytes).expect("compile the composition")
    })
}

fn new_store(url: &str, clock: Clock, config: &[(&str, &str)]) -> Store<Host> {
    let backend = RedisBackend::new(url, &["default", "other"]).expect("redis url");
    let mut host = Host::new(backend, clock);
    for (k, v) in config {
        host.config.insert((*k).to_owned(), (*v).to_owned());
    }
    let mut store = Store::new(engine(), host);
    store.limiter(|h| &mut h.limits);
    store
}

/// Simulated time, for the store's clock.
pub trait SimulatedTime {
    fn store_mut(&mut self) -> &mut Store<Host>;

    /// Moves the simulated clock by `secs` seconds.
    fn advance(&mut self, secs: f64) {
        self.store_mut().data_mut().clock.advance(secs);
    }

    /// Redis round trips the host made so far.
    fn round_trips(&mut self) -> u64 {
        self.store_mut().data().backend.round_trips
    }
}

/// One instance of the L1 component, called through its exports.
pub struct L1Guest {
    pub store: Store<Host>,
    bindings: KvL1,
}

/// An exported `bucket` or `cas` handle owned by the guest's store.
pub type Handle = ResourceAny;

/// What `get-many` answers: each key with its value, if it has one.
pub type KeyValues = Vec<(String, Option<Vec<u8>>)>;

fn trap<T>(what: &str) -> impl FnOnce(wasmtime::Error) -> T + '_ {
    move |e| panic!("guest trapped in {what}: {e:?}")
}

/// One call of an export: `call!(self, "name", interface() => call_method, args...)`.
macro_rules! call {
    ($self:ident, $what:literal, $($path:ident()).+ => $method:ident $(, $arg:expr)*) => {
        $self
            .bindings
            .$($path()).+
            .$method(&mut $self.store $(, $arg)*)
            .unwrap_or_else(trap($what))
    };
}

impl SimulatedTime for L1Guest {
    fn store_mut(&mut self) -> &mut Store<Host> {
        &mut self.store
    }
}

impl L1Guest {
    /// An L1 on Redis at `url`, simulated clock, configured by `config` (`l1_*` keys).
    pub fn new(url: &str, config: &[(&str, &str)]) -> L1Guest {
        L1Guest::with_clock(url, Clock::Simulated(START_NANOS), config)
    }

    pub fn with_clock(url: &str, clock: Clock, config: &[(&str, &str)]) -> L1Guest {
        L1Guest::instantiate(new_store(url, clock, config))
    }

    /// An L1 whose linear memory may not grow past `bytes` (growth fails, it does not trap).
    pub fn with_memory_limit(url: &str, bytes: usize, config: &[(&str, &str)]) -> L1Guest {
        let mut store = new_store(url, Clock::Simulated(START_NANOS), config);
        store.data_mut().limits = MemoryLimiter::new(Some(bytes));
        L1Guest::instantiate(store)
    }

    fn instantiate(mut store: Store<Host>) -> L1Guest {
        let linker = linker(engine()).expect("link");
        let bindings = KvL1::instantiate(&mut store, l1_component(), &linker).expect("instantiate");
        L1Guest { store, bindings }
    }

    pub fn open(&mut self, identifier: &str) -> Result<Handle, Error> {
        call!(self, "open", wasi_keyvalue_store() => call_open, identifier)
    }

    pub fn get(&mut self, b: Handle, key: &str) -> Result<Option<Vec<u8>>, Error> {
        call!(self, "get", wasi_keyvalue_store().bucket() => call_get, b, key)
    }

    pub fn set(&mut self, b: Handle, key: &str, value: &[u8]) -> Result<(), Error> {
        call!(self, "set", wasi_keyvalue_store().bucket() => call_set, b, key, value)
    }

    pub fn delete(&mut self, b: Handle, key: &str) -> Result<(), Error> {
        call!(self, "delete", wasi_keyvalue_store().bucket() => call_delete, b, key)
    }

    pub fn exists(&mut self, b: Handle, key: &str) -> Result<bool, Error> {
        call!(self, "exists", wasi_keyvalue_store().bucket() => call_exists, b, key)
    }

    pub fn list_keys(&mut self, b: Handle, cursor: Option<&str>) -> Result<KeyResponse, Error> {
        call!(self, "list-keys", wasi_keyvalue_store().bucket() => call_list_keys, b, cursor)
    }

    pub fn get_many(&mut self, b: Handle, keys: &[&str]) -> Result<KeyValues, Error> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        call!(self, "get-many", wasi_keyvalue_batch() => call_get_many, b, &keys)
    }

    pub fn set_many(&mut self, b: Handle, pairs: &[(&str, &[u8])]) -> Result<(), Error> {
        let pairs: Vec<(String, Vec<u8>)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect();
        call!(self, "set-many", wasi_keyvalue_batch() => call_set_many, b, &pairs)
    }

    pub fn delete_many(&mut self, b: Handle, keys: &[&str]) -> Result<(), Error> {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        call!(self, "delete-many", wasi_keyvalue_batch() => call_delete_many, b, &keys)
    }

    pub fn increment(&mut self, b: Handle, key: &str, delta: i64) -> Result<i64, Error> {
        call!(self, "increment", wasi_keyvalue_atomics() => call_increment, b, key, delta)
    }

    pub fn cas_new(&mut self, b: Handle, key: &str) -> Result<Handle, Error> {
        call!(self, "cas.new", wasi_keyvalue_atomics().cas() => call_new, b, key)
    }

    pub fn cas_current(&mut self, cas: Handle) -> Result<Option<Vec<u8>>, Error> {
        call!(self, "cas.current", wasi_keyvalue_atomics().cas() => call_current, cas)
    }

    pub fn swap(&mut self, cas: Handle, value: &[u8]) -> Result<(), CasError> {
        call!(self, "swap", wasi_keyvalue_atomics() => call_swap, cas, value)
    }

    pub fn stats(&mut self) -> L1Stats {
        call!(self, "stats", faas_kv_l1_l1() => call_stats)
    }

    pub fn reset_stats(&mut self) {
        call!(self, "reset-stats", faas_kv_l1_l1() => call_reset_stats)
    }

    pub fn settings(&mut self) -> Result<L1Settings, String> {
        call!(self, "settings", faas_kv_l1_l1() => call_settings)
    }

    pub fn tick(&mut self) -> u64 {
        call!(self, "tick", faas_kv_l1_l1() => call_tick)
    }

    pub fn invalidate_all(&mut self) {
        call!(self, "invalidate-all", faas_kv_l1_l1() => call_invalidate_all)
    }

    /// Drops a handle the test no longer needs (buckets and CAS handles are resources).
    pub fn drop_handle(&mut self, h: Handle) {
        h.resource_drop(&mut self.store)
            .unwrap_or_else(trap("resource drop"));
    }
}

/// The example app, alone or with the L1 plugged in.
pub struct AppGuest {
    pub store: Store<Host>,
    bindings: App,
}

impl SimulatedTime for AppGuest {
    fn store_mut(&mut self) -> &mut Store<Host> {
        &mut self.store
    }
}

impl AppGuest {
    /// The app straight on Redis.
    pub fn direct(url: &str, clock: Clock) -> AppGuest {
        AppGuest::instantiate(app_component(), url, clock, &[])
    }

    /// The app with the L1 plugged in (`wac plug`), configured by `config`.
    pub fn with_l1(url: &str, clock: Clock, config: &[(&str, &str)]) -> AppGuest {
        AppGuest::instantiate(composed_component(), url, clock, config)
    }

    fn instantiate(
        component: &Component,
        url: &str,
        clock: Clock,
        config: &[(&str, &str)],
    ) -> AppGuest {
        let mut store = new_store(url, clock, config);
        let linker = linker(engine()).expect("link");
        let bindings = App::instantiate(&mut store, component, &linker).expect("instantiate");
        AppGuest { store, bindings }
    }

    /// Runs one shell command (see `app/wit/app.wit`) against `bucket`.
    pub fn run(&mut self, bucket: &str, command: &str) -> String {
        call!(self, "run", example_kv_app_shell() => call_run, bucket, command)
    }
}
