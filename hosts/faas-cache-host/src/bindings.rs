//! The typed bindings of the `cache-component` world (`wit/`, the contract as given), generated
//! by wasmtime's `bindgen!`. Invariant: nothing here is written by hand but small conveniences on
//! the generated types (an `Options` builder); the WIT stays the single source of the API.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "cache-component",
    additional_derives: [PartialEq],
});

pub use exports::faas::cache::cache::{
    BatchError, CacheError, Expiry, Options, Removal, RemovalCause, SizeExcess, Stats,
};
pub use exports::faas::cache::policy::EvictionPolicy;

impl Options {
    /// Every limit off and no removal log: an unbounded cache without default TTL.
    pub fn new() -> Options {
        Options {
            default_ttl: None,
            max_size: None,
            max_items: None,
            removal_log_capacity: 0,
        }
    }

    /// The byte budget, as the original takes it: `"128M"`, `"0.5G"`, `"4096"`.
    pub fn max_size(mut self, size: &str) -> Options {
        self.max_size = Some(size.to_owned());
        self
    }

    /// The item limit.
    pub fn max_items(mut self, items: u32) -> Options {
        self.max_items = Some(items);
        self
    }

    /// The TTL in seconds of keys written without an explicit expiry.
    pub fn default_ttl(mut self, seconds: f64) -> Options {
        self.default_ttl = Some(seconds);
        self
    }

    /// How many removal events the cache keeps for `drain_removals` (0: none).
    pub fn removal_log(mut self, capacity: u32) -> Options {
        self.removal_log_capacity = capacity;
        self
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl EvictionPolicy {
    /// The policy's name in the contract and in configuration: `lru` or `s3-fifo`.
    pub fn name(self) -> &'static str {
        match self {
            EvictionPolicy::Lru => "lru",
            EvictionPolicy::S3Fifo => "s3-fifo",
        }
    }

    /// The policy called `name` (`lru` or `s3-fifo`).
    pub fn from_name(name: &str) -> Option<EvictionPolicy> {
        match name {
            "lru" => Some(EvictionPolicy::Lru),
            "s3-fifo" => Some(EvictionPolicy::S3Fifo),
            _ => None,
        }
    }
}
