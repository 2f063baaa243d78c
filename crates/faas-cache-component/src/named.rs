//! The exported `named` interface (`wit/named.wit`): caches opened by name, whose scope is this
//! instance. Invariant: `open` checks the name and every setting before it reaches the registry,
//! which creates or updates the cache in one borrow; a named cache's handles never drop it.

use faas_cache::check_name;

use crate::bindings::exports::faas::cache::cache::{
    CacheDict as WitCacheDict, CacheError, Options,
};
use crate::bindings::exports::faas::cache::named::Guest;
use crate::bindings::exports::faas::cache::policy::EvictionPolicy;
use crate::exports::{config_of, CacheDict, Component};
use crate::seed::next_seed;
use crate::{convert, memory, policy};

impl Guest for Component {
    fn open(
        name: String,
        options: Options,
        policy: EvictionPolicy,
    ) -> Result<WitCacheDict, CacheError> {
        check_name(&name).map_err(convert::error)?;
        let config = config_of(options, policy::from_wit(policy))?;
        // The seed may call the host: taken before the registry is borrowed.
        let seed = next_seed();
        let id = memory::open_named(name, config, seed).map_err(convert::error)?;
        Ok(CacheDict::handle(id, true))
    }

    fn names() -> Vec<String> {
        memory::names()
    }
}
