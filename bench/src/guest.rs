//! The component instances the report measures, from the host crate (`faas-cache-host`) as a
//! user gets it: its engine, its `Host`/`InstancePre`, its typed `Cache` calls. Invariant: every
//! section uses this one host (simulated clock, fixed seed), so runs are reproducible and the
//! sections compare like with like.

use std::sync::OnceLock;

use faas_cache_host::{seed::TEST_SEED, Host, Instance};

/// The shared host: compiled and pre-instantiated once per process.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        Host::builder()
            .simulated_clock()
            .seed(TEST_SEED)
            .build()
            .expect("link the component")
    })
}

/// A new instance of the shared host.
pub fn instance() -> Instance {
    host().instantiate().expect("instantiate")
}
