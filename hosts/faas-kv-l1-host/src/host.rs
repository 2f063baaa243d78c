//! The wasmtime side: bindings for the `faas:kv-l1` world (its imports, which this host serves,
//! and its exports, which tests call) and for the example app, and [`Host`], the store data that
//! serves `wasi:keyvalue@0.2.0-draft2` from [`RedisBackend`], `wasi:config/store` from a map, the
//! wall clock (simulated or real) and a fixed hash seed. Invariant: a backend failure reaches
//! the guest as a keyvalue `error` value; only a dangling resource handle (a guest bug) traps.

use std::collections::BTreeMap;

use faas_cache_host::limits::MemoryLimiter;
use faas_cache_host::seed::TEST_SEED;
use faas_cache_host::Clock;
use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};
use wasmtime::Engine;

use crate::backend::{BackendError, RedisBackend};

/// Bindings of the L1's world: `wasi::*` are the imports this host implements; `exports::*` are
/// what the L1 exports (called directly by the tests and the benchmark).
pub mod l1 {
    wasmtime::component::bindgen!({
        path: "../../crates/keyvalue-l1/wit",
        world: "kv-l1",
        imports: { default: trappable },
        with: {
            "wasi:keyvalue/store.bucket": super::RedisBucket,
            "wasi:keyvalue/atomics.cas": super::RedisCas,
        },
    });
}

/// Errors compare by variant and message (tests assert on them; the generated type has no
/// `PartialEq` because the same bindings hold resource handles, which have none).
impl PartialEq for l1::exports::wasi::keyvalue::store::Error {
    fn eq(&self, other: &Self) -> bool {
        use l1::exports::wasi::keyvalue::store::Error as E;
        match (self, other) {
            (E::NoSuchStore, E::NoSuchStore) | (E::AccessDenied, E::AccessDenied) => true,
            (E::Other(a), E::Other(b)) => a == b,
            _ => false,
        }
    }
}

/// Bindings of the example app: its keyvalue imports are the L1 world's (same host types).
pub mod app {
    wasmtime::component::bindgen!({
        path: "app/wit",
        world: "app",
        with: {
            "wasi:keyvalue/store": super::l1::wasi::keyvalue::store,
            "wasi:keyvalue/batch": super::l1::wasi::keyvalue::batch,
            "wasi:keyvalue/atomics": super::l1::wasi::keyvalue::atomics,
        },
    });
}

use l1::wasi::clocks::wall_clock::{self, Datetime};
use l1::wasi::config::store as config;
use l1::wasi::keyvalue::{atomics, batch, store};
use l1::wasi::random::insecure_seed;

/// A bucket the guest opened: the Redis key prefix of its identifier.
pub struct RedisBucket {
    prefix: String,
}

/// A CAS handle: the full Redis key and the value it was read with.
pub struct RedisCas {
    key: String,
    expected: Option<Vec<u8>>,
}

/// The store data of one guest.
pub struct Host {
    table: ResourceTable,
    /// The Redis-backed store.
    pub backend: RedisBackend,
    /// What `wasi:config/store` answers (the L1 reads `l1_*` keys).
    pub config: BTreeMap<String, String>,
    /// When set, every config read fails with this upstream error.
    pub config_error: Option<String>,
    pub clock: Clock,
    /// Limits on the guest's linear memory (none by default).
    pub limits: MemoryLimiter,
}

impl Host {
    pub fn new(backend: RedisBackend, clock: Clock) -> Host {
        Host {
            table: ResourceTable::new(),
            backend,
            config: BTreeMap::new(),
            config_error: None,
            clock,
            limits: MemoryLimiter::unlimited(),
        }
    }

    fn prefix(&self, bucket: &Resource<RedisBucket>) -> wasmtime::Result<String> {
        Ok(self.table.get(bucket)?.prefix.clone())
    }
}

/// A linker serving every import of the L1 world (a superset of the app's).
pub fn linker(engine: &Engine) -> wasmtime::Result<Linker<Host>> {
    let mut linker = Linker::<Host>::new(engine);
    l1::KvL1::add_to_linker::<Host, HasSelf<Host>>(&mut linker, |h| h)?;
    Ok(linker)
}

fn store_error(e: BackendError) -> store::Error {
    match e {
        BackendError::NoSuchStore => store::Error::NoSuchStore,
        BackendError::Other(m) => store::Error::Other(m),
    }
}

type KvResult<T> = wasmtime::Result<Result<T, store::Error>>;

impl store::Host for Host {
    fn open(&mut self, identifier: String) -> KvResult<Resource<RedisBucket>> {
        match self.backend.open(&identifier) {
            Ok(prefix) => Ok(Ok(self.table.push(RedisBucket { prefix })?)),
            Err(e) => Ok(Err(store_error(e))),
        }
    }
}

impl store::HostBucket for Host {
    fn get(&mut self, bucket: Resource<RedisBucket>, key: String) -> KvResult<Option<Vec<u8>>> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.get(&p, &key).map_err(store_error))
    }

    fn set(&mut self, bucket: Resource<RedisBucket>, key: String, value: Vec<u8>) -> KvResult<()> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.set(&p, &key, &value).map_err(store_error))
    }

    fn delete(&mut self, bucket: Resource<RedisBucket>, key: String) -> KvResult<()> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.delete(&p, &key).map_err(store_error))
    }

    fn exists(&mut self, bucket: Resource<RedisBucket>, key: String) -> KvResult<bool> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.exists(&p, &key).map_err(store_error))
    }

    fn list_keys(
        &mut self,
        bucket: Resource<RedisBucket>,
        cursor: Option<String>,
    ) -> KvResult<store::KeyResponse> {
        let p = self.prefix(&bucket)?;
        Ok(self
            .backend
            .list_keys(&p, cursor.as_deref())
            .map(|(keys, cursor)| store::KeyResponse { keys, cursor })
            .map_err(store_error))
    }

    fn drop(&mut self, bucket: Resource<RedisBucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl batch::Host for Host {
    fn get_many(
        &mut self,
        bucket: Resource<RedisBucket>,
        keys: Vec<String>,
    ) -> KvResult<Vec<(String, Option<Vec<u8>>)>> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.get_many(&p, keys).map_err(store_error))
    }

    fn set_many(
        &mut self,
        bucket: Resource<RedisBucket>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> KvResult<()> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.set_many(&p, &key_values).map_err(store_error))
    }

    fn delete_many(&mut self, bucket: Resource<RedisBucket>, keys: Vec<String>) -> KvResult<()> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.delete_many(&p, &keys).map_err(store_error))
    }
}

impl atomics::Host for Host {
    fn increment(
        &mut self,
        bucket: Resource<RedisBucket>,
        key: String,
        delta: i64,
    ) -> KvResult<i64> {
        let p = self.prefix(&bucket)?;
        Ok(self.backend.increment(&p, &key, delta).map_err(store_error))
    }

    fn swap(
        &mut self,
        cas: Resource<RedisCas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let RedisCas { key, expected } = self.table.delete(cas)?;
        match self
            .backend
            .compare_and_swap(&key, expected.as_deref(), &value)
        {
            Ok(true) => Ok(Ok(())),
            Ok(false) => match self.backend.get_full(&key) {
                Ok(current) => {
                    let fresh = self.table.push(RedisCas {
                        key,
                        expected: current,
                    })?;
                    Ok(Err(atomics::CasError::CasFailed(fresh)))
                }
                Err(e) => Ok(Err(atomics::CasError::StoreError(store_error(e)))),
            },
            Err(e) => Ok(Err(atomics::CasError::StoreError(store_error(e)))),
        }
    }
}

impl atomics::HostCas for Host {
    fn new(&mut self, bucket: Resource<RedisBucket>, key: String) -> KvResult<Resource<RedisCas>> {
        let key = format!("{}{key}", self.prefix(&bucket)?);
        match self.backend.get_full(&key) {
            Ok(expected) => Ok(Ok(self.table.push(RedisCas { key, expected })?)),
            Err(e) => Ok(Err(store_error(e))),
        }
    }

    /// The value the handle was read with: the version a `swap` compares against.
    fn current(&mut self, cas: Resource<RedisCas>) -> KvResult<Option<Vec<u8>>> {
        Ok(Ok(self.table.get(&cas)?.expected.clone()))
    }

    fn drop(&mut self, cas: Resource<RedisCas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl config::Host for Host {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        if let Some(m) = &self.config_error {
            return Ok(Err(config::Error::Upstream(m.clone())));
        }
        Ok(Ok(self.config.get(&key).cloned()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        if let Some(m) = &self.config_error {
            return Ok(Err(config::Error::Upstream(m.clone())));
        }
        Ok(Ok(self
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}

impl wall_clock::Host for Host {
    fn now(&mut self) -> wasmtime::Result<Datetime> {
        let (seconds, nanoseconds) = self.clock.seconds_and_nanos();
        Ok(Datetime {
            seconds,
            nanoseconds,
        })
    }

    fn resolution(&mut self) -> wasmtime::Result<Datetime> {
        Ok(Datetime {
            seconds: 0,
            nanoseconds: 1,
        })
    }
}

impl insecure_seed::Host for Host {
    fn insecure_seed(&mut self) -> wasmtime::Result<(u64, u64)> {
        Ok(TEST_SEED.draw())
    }
}
