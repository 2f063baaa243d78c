//! The wasmtime engine every host of this workspace runs the guests in, configured the way the
//! benchmark measured fastest for a synchronous host: the component model with cranelift and
//! the default features (`Config::concurrency_support(false)` was measured: no change for this
//! component). Invariant: one engine per process; what the tests and the benchmark measure is
//! what users of this crate get.
//!
//! Compiling the component is the one costly step of a start (a few hundred milliseconds in a
//! release build, seconds in a debug build of wasmtime), so the engine keeps wasmtime's
//! compilation cache: the first process compiles and writes the compiled artifact to disk, keyed
//! by the engine's settings, wasmtime's version and the component's bytes; later processes load
//! it (milliseconds) after checking it against the engine. When the cache cannot be set up (no
//! home directory, an unwritable directory), the engine compiles as it would without one.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use wasmtime::component::Component;
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// The environment variable that places the compilation cache: a directory (made if missing;
/// relative to the working directory if relative), or `off` for none. Unset or empty: wasmtime's
/// default cache directory (`$XDG_CACHE_HOME/wasmtime` or `~/.cache/wasmtime` on Linux).
pub const COMPILE_CACHE_ENV: &str = "FAAS_CACHE_COMPILE_CACHE";

/// The process's compilation cache, as [`config()`] sets it up (once per process: the variable
/// [`COMPILE_CACHE_ENV`] is read on first use).
#[derive(Debug, Clone)]
pub enum CompileCache {
    /// Compiled components are stored in and loaded from [`Cache::directory`].
    On(Cache),
    /// [`COMPILE_CACHE_ENV`] is `off`: every process compiles.
    Off,
    /// The cache could not be set up (the reason): every process compiles.
    Unavailable(String),
}

impl CompileCache {
    /// The cache, if there is one.
    pub fn cache(&self) -> Option<&Cache> {
        match self {
            CompileCache::On(cache) => Some(cache),
            CompileCache::Off | CompileCache::Unavailable(_) => None,
        }
    }

    fn from_setting(setting: Option<OsString>) -> CompileCache {
        let mut settings = CacheConfig::new();
        match setting {
            Some(value) if value == "off" => return CompileCache::Off,
            Some(value) if !value.is_empty() => {
                // wasmtime wants an absolute directory.
                match std::path::absolute(PathBuf::from(&value)) {
                    Ok(directory) => {
                        settings.with_directory(directory);
                    }
                    Err(e) => {
                        return CompileCache::Unavailable(format!(
                            "{COMPILE_CACHE_ENV}={}: {e}",
                            value.to_string_lossy()
                        ))
                    }
                }
            }
            _ => {}
        }
        match Cache::new(settings) {
            Ok(cache) => CompileCache::On(cache),
            Err(e) => CompileCache::Unavailable(format!("{e:#}")),
        }
    }
}

/// The process's compilation cache, set up on first use from [`COMPILE_CACHE_ENV`]. One per
/// process, so that every engine made from [`config()`] shares its background worker.
pub fn compile_cache() -> &'static CompileCache {
    static CACHE: OnceLock<CompileCache> = OnceLock::new();
    CACHE.get_or_init(|| CompileCache::from_setting(std::env::var_os(COMPILE_CACHE_ENV)))
}

/// The engine configuration, with the process's compilation cache ([`compile_cache()`]; none
/// when it is off or could not be set up). `FAAS_CACHE_PERFMAP` set in the environment makes
/// `perf record` able to name the guests' JIT-compiled functions (`/tmp/perf-<pid>.map`).
pub fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    if std::env::var_os("FAAS_CACHE_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config.cache(compile_cache().cache().cloned());
    config
}

/// The process's engine, made on first use.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&config()).expect("the engine configuration is valid"))
}

/// The built-in `faas:cache` component for `engine`: loaded from the engine's compilation cache
/// when an earlier process stored it there (milliseconds), compiled otherwise (a few hundred
/// milliseconds, stored in the cache if the engine has one).
pub fn compile(engine: &Engine) -> wasmtime::Result<Component> {
    Component::new(engine, faas_cache_artifact::COMPONENT)
}

/// The built-in component for [`engine()`], compiled or loaded once per process.
pub fn component() -> &'static Component {
    static COMPONENT: OnceLock<Component> = OnceLock::new();
    COMPONENT.get_or_init(|| compile(engine()).expect("the built-in component compiles"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "faas-cache-host-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn engine_with(cache: &CompileCache) -> Engine {
        let mut config = config();
        config.cache(cache.cache().cloned());
        Engine::new(&config).expect("a valid configuration")
    }

    #[test]
    fn off_disables_the_cache() {
        assert!(matches!(
            CompileCache::from_setting(Some("off".into())),
            CompileCache::Off
        ));
    }

    #[test]
    fn an_unusable_directory_falls_back_to_compiling() {
        let file = scratch("not-a-directory");
        std::fs::write(&file, b"a file").expect("write");
        let cache = CompileCache::from_setting(Some(file.join("cache").into_os_string()));
        assert!(matches!(cache, CompileCache::Unavailable(_)), "{cache:?}");
        // The engine still compiles the component.
        compile(&engine_with(&cache)).expect("compile without a cache");
        std::fs::remove_file(&file).expect("remove");
    }

    #[test]
    fn a_second_engine_loads_what_the_first_compiled() {
        let dir = scratch("cache");
        let cache = CompileCache::from_setting(Some(dir.clone().into_os_string()));
        let on = cache
            .cache()
            .expect("a cache in a fresh temporary directory");
        compile(&engine_with(&cache)).expect("compile");
        assert_eq!((on.cache_hits(), on.cache_misses()), (0, 1));
        // A new engine with the same settings, as the next process would make.
        let component = compile(&engine_with(&cache)).expect("load");
        assert_eq!((on.cache_hits(), on.cache_misses()), (1, 1));
        // What was loaded runs.
        let host = crate::Host::builder()
            .engine(component.engine().clone())
            .build_with(&component)
            .expect("link");
        let mut instance = host.instantiate().expect("instantiate");
        let id = instance.create(&crate::Options::new()).expect("create");
        instance.cache(id).set("k", b"v").expect("set");
        assert_eq!(instance.cache(id).get("k"), Some(b"v".to_vec()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
