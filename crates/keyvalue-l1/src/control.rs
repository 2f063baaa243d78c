//! The exported `faas:kv-l1/l1` interface: counters, settings, purge, invalidation. Invariant:
//! it holds no state and borrows none; every function only calls steps of [`tier`].

use crate::bindings::exports::faas::kv_l1::l1::{Guest, L1Settings, L1Stats};
use crate::{tier, Component};

impl Guest for Component {
    fn stats() -> L1Stats {
        tier::stats()
    }

    fn reset_stats() {
        tier::reset_stats();
    }

    fn settings() -> Result<L1Settings, String> {
        tier::init()?;
        let s = tier::settings().ok_or_else(|| "the L1 tier is busy".to_owned())?;
        Ok(L1Settings {
            max_bytes: s.max_bytes,
            max_items: s.max_items,
            ttl_seconds: s.ttl_seconds,
            negative_ttl_seconds: s.negative_ttl_seconds,
            stale_if_error_seconds: s.stale_if_error_seconds,
            policy: s.policy.name().to_owned(),
        })
    }

    fn tick() -> u64 {
        tier::purge_expired()
    }

    fn invalidate_all() {
        tier::clear();
    }
}
