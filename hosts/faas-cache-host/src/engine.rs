//! The wasmtime engine every host of this workspace runs the guests in, configured the way the
//! benchmark measured fastest for a synchronous host: the component model with cranelift and
//! the default features (`Config::concurrency_support(false)` was measured: no change for this
//! component). Invariant: one engine per process; what the tests and the benchmark measure is
//! what users of this crate get.

use std::sync::OnceLock;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The engine configuration. `FAAS_CACHE_PERFMAP` set in the environment makes `perf record`
/// able to name the guests' JIT-compiled functions (`/tmp/perf-<pid>.map`).
pub fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    if std::env::var_os("FAAS_CACHE_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// The process's engine, made on first use.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&config()).expect("the engine configuration is valid"))
}

/// The built-in `faas:cache` component compiled for `engine` (a few hundred milliseconds).
pub fn compile(engine: &Engine) -> wasmtime::Result<Component> {
    Component::new(engine, faas_cache_artifact::COMPONENT)
}

/// The built-in component compiled once per process for [`engine()`].
pub fn component() -> &'static Component {
    static COMPONENT: OnceLock<Component> = OnceLock::new();
    COMPONENT.get_or_init(|| compile(engine()).expect("the built-in component compiles"))
}
