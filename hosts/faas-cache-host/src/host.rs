//! [`Host`]: the compiled component, its imports linked and type-checked once (`InstancePre`),
//! and the settings every new instance gets. Invariant: building a `Host` is the only costly
//! step (compiling the component, once per engine); instantiating from it costs microseconds.

use std::sync::Arc;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

use crate::bindings::{CacheComponent, CacheComponentPre, EvictionPolicy};
use crate::clock::Clock;
use crate::engine;
use crate::instance::Instance;
use crate::seed::Seed;
use crate::state::HostState;

/// What each new instance starts with.
#[derive(Debug, Clone)]
struct Settings {
    clock: Clock,
    seed: Seed,
    memory_cap: Option<usize>,
    policy: EvictionPolicy,
}

/// The `faas:cache` component ready to instantiate. Cheap to clone and to share across threads.
#[derive(Clone)]
pub struct Host {
    pre: CacheComponentPre<HostState>,
    settings: Arc<Settings>,
}

/// Settings for a [`Host`]: see [`Host::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    engine: Option<Engine>,
    settings: Settings,
}

impl Builder {
    /// Run in `engine` instead of this crate's shared engine ([`engine::engine`]).
    pub fn engine(mut self, engine: Engine) -> Builder {
        self.engine = Some(engine);
        self
    }

    /// The guests' wall clock (default: the machine's clock).
    pub fn clock(mut self, clock: Clock) -> Builder {
        self.settings.clock = clock;
        self
    }

    /// A simulated clock at [`crate::START_SECONDS`] that only [`Instance::advance`] moves.
    pub fn simulated_clock(self) -> Builder {
        self.clock(Clock::simulated())
    }

    /// The guests' hash seed (default: random per instance).
    pub fn seed(mut self, seed: Seed) -> Builder {
        self.settings.seed = seed;
        self
    }

    /// Linear memory may not grow past `bytes`: growth fails, the guest evicts, nothing traps.
    pub fn memory_cap(mut self, bytes: usize) -> Builder {
        self.settings.memory_cap = Some(bytes);
        self
    }

    /// The eviction policy [`Instance::create`] uses (default: LRU, the contract's `create`).
    pub fn policy(mut self, policy: EvictionPolicy) -> Builder {
        self.settings.policy = policy;
        self
    }

    /// Compiles the component (once per process on the shared engine) and links its imports.
    pub fn build(self) -> wasmtime::Result<Host> {
        let (engine, component) = match self.engine {
            Some(engine) => {
                let component = engine::compile(&engine)?;
                (engine, component)
            }
            None => (engine::engine().clone(), engine::component().clone()),
        };
        Host::from_component(&engine, &component, self.settings)
    }

    /// Links and pre-instantiates `component`, compiled (or deserialized) by the caller for the
    /// builder's engine: only the microseconds of linking, none of compiling.
    pub fn build_with(self, component: &Component) -> wasmtime::Result<Host> {
        let engine = self.engine.unwrap_or_else(|| engine::engine().clone());
        Host::from_component(&engine, component, self.settings)
    }
}

impl Host {
    /// A host on the shared engine, the machine's clock, a random seed, no memory cap, LRU.
    pub fn new() -> wasmtime::Result<Host> {
        Host::builder().build()
    }

    /// Settings for a host.
    pub fn builder() -> Builder {
        Builder {
            engine: None,
            settings: Settings {
                clock: Clock::System,
                seed: Seed::Random,
                memory_cap: None,
                policy: EvictionPolicy::Lru,
            },
        }
    }

    fn from_component(
        engine: &Engine,
        component: &Component,
        settings: Settings,
    ) -> wasmtime::Result<Host> {
        let mut linker = Linker::<HostState>::new(engine);
        CacheComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = CacheComponentPre::new(linker.instantiate_pre(component)?)?;
        Ok(Host {
            pre,
            settings: Arc::new(settings),
        })
    }

    /// A new instance in its own store: an empty guest with the host's clock, seed and cap.
    /// Keep it for as long as its caches should live (across invocations, for a FaaS host).
    pub fn instantiate(&self) -> wasmtime::Result<Instance> {
        let s = &self.settings;
        let mut store = Store::new(
            self.pre.engine(),
            HostState::new(s.clock, s.seed, s.memory_cap),
        );
        store.limiter(|state| &mut state.memory);
        let bindings = self.pre.instantiate(&mut store)?;
        Ok(Instance::new(store, bindings, s.policy, s.memory_cap))
    }

    /// The engine the host runs in.
    pub fn engine(&self) -> &Engine {
        self.pre.engine()
    }

    /// The pre-instantiated component, for hosts that make their own stores.
    pub fn instance_pre(&self) -> &CacheComponentPre<HostState> {
        &self.pre
    }
}
