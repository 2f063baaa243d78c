//! Runs the Python package's test guest (`python/tests`, world `faas:cache-py-tests/tests`,
//! built by componentize-py and composed with the cache by [`crate::compose`]) in wasmtime with
//! WASIp2: its `test-clock` import moves the [`SimulatedClock`] that is also the instance's WASI
//! wall clock, which the cache component reads. Invariant: one fresh instance per call; nothing
//! but the guest decides what passes.

use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::clock::SimulatedClock;

/// The test-clock interface the guest imports.
const TEST_CLOCK: &str = "faas:cache-py-tests/test-clock@0.1.0";

struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    clock: SimulatedClock,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A compiled Python test guest, ready to instantiate.
pub struct PythonGuest {
    engine: Engine,
    linker: Linker<State>,
    component: Component,
    /// How long compiling the component took.
    pub compile: Duration,
}

impl PythonGuest {
    /// Compiles `composed` (the test guest with the cache plugged in).
    pub fn new(composed: &[u8]) -> wasmtime::Result<PythonGuest> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config)?;
        let started = Instant::now();
        let component = Component::new(&engine, composed)?;
        let compile = started.elapsed();
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let mut clock = linker.instance(TEST_CLOCK)?;
        clock.func_wrap("advance", |store, (seconds,): (f64,)| {
            store.data().clock.advance(seconds);
            Ok(())
        })?;
        clock.func_wrap("now", |store, (): ()| {
            Ok((store.data().clock.now_seconds(),))
        })?;
        Ok(PythonGuest {
            engine,
            linker,
            component,
            compile,
        })
    }

    /// A fresh instance on a new simulated clock, and how long instantiating it took.
    fn instantiate(
        &self,
    ) -> wasmtime::Result<(Store<State>, wasmtime::component::Instance, Duration)> {
        let clock = SimulatedClock::default();
        let wasi = WasiCtx::builder()
            .inherit_stderr()
            .wall_clock(clock.clone())
            .build();
        let mut store = Store::new(
            &self.engine,
            State {
                table: ResourceTable::new(),
                wasi,
                clock,
            },
        );
        let started = Instant::now();
        let instance = self.linker.instantiate(&mut store, &self.component)?;
        Ok((store, instance, started.elapsed()))
    }

    /// Runs the guest's `run-tests` in a fresh instance: its report, `Err` if a test failed.
    pub fn run_tests(&self) -> wasmtime::Result<Result<String, String>> {
        let (mut store, instance, _) = self.instantiate()?;
        let run =
            instance.get_typed_func::<(), (Result<String, String>,)>(&mut store, "run-tests")?;
        let (report,) = run.call(&mut store, ())?;
        Ok(report)
    }

    /// Runs the guest's `run-bench` for `iterations` in a fresh instance: its JSON figures.
    pub fn run_bench(&self, iterations: u32) -> wasmtime::Result<String> {
        let (mut store, instance, _) = self.instantiate()?;
        let bench = instance.get_typed_func::<(u32,), (String,)>(&mut store, "run-bench")?;
        let (figures,) = bench.call(&mut store, (iterations,))?;
        Ok(figures)
    }

    /// How long one fresh instance takes to instantiate.
    pub fn instantiate_time(&self) -> wasmtime::Result<Duration> {
        Ok(self.instantiate()?.2)
    }
}
