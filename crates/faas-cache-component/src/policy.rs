//! The exported `policy` interface (`wit/policy.wit`): caches that evict by S3-FIFO. Invariant:
//! the WIT enum and the core's `EvictionPolicy` map one to one, and `create` shares every other
//! step with `cache-dict.create`.

use crate::bindings::exports::faas::cache::cache::{CacheDictBorrow, CacheError, Options};
use crate::bindings::exports::faas::cache::policy::{EvictionPolicy as WitPolicy, Guest};
use crate::exports::{create_with_policy, CacheDict, Component};
use faas_cache::EvictionPolicy;

pub fn from_wit(policy: WitPolicy) -> EvictionPolicy {
    match policy {
        WitPolicy::Lru => EvictionPolicy::Lru,
        WitPolicy::S3Fifo => EvictionPolicy::S3Fifo,
    }
}

fn to_wit(policy: EvictionPolicy) -> WitPolicy {
    match policy {
        EvictionPolicy::Lru => WitPolicy::Lru,
        EvictionPolicy::S3Fifo => WitPolicy::S3Fifo,
    }
}

impl Guest for Component {
    fn create(
        options: Options,
        policy: WitPolicy,
    ) -> Result<crate::bindings::exports::faas::cache::cache::CacheDict, CacheError> {
        create_with_policy(options, from_wit(policy))
    }

    fn policy_of(cache: CacheDictBorrow<'_>) -> WitPolicy {
        to_wit(cache.get::<CacheDict>().with(|c| c.policy()))
    }
}
