//! `wasi:keyvalue` for one instance: a [`KvCtx`] holds the app's shared [`AppL1`]; a [`KvView`]
//! pairs it with the instance's resource table, and [`add_to_linker`] serves the three
//! interfaces from it. Invariant: a Redis failure reaches the guest as a keyvalue `error` value;
//! only a dangling resource handle (a guest bug the table catches) is a trap.

use std::sync::Arc;

use faas_cache::Clock;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::bindings::wasi::keyvalue::{atomics, batch, store};
use crate::l1::{AppL1, Cas, KvError};

/// An open bucket: its identifier.
pub struct BucketHandle {
    name: String,
}

/// Per-instance state: the app's L1, shared by every instance of the app, or none (then every
/// `open` fails with an error that says so).
pub struct KvCtx<C: Clock> {
    l1: Option<Arc<AppL1<C>>>,
}

impl<C: Clock> KvCtx<C> {
    pub fn new(l1: Option<Arc<AppL1<C>>>) -> KvCtx<C> {
        KvCtx { l1 }
    }
}

/// What `open` answers when the host has no store.
pub const NO_STORE: &str = "no key-value store here: the host was started without one (for \
    faas-cache-serve: --keyvalue redis://HOST:PORT)";

/// What the generated traits are implemented on.
pub struct KvView<'a, C: Clock> {
    ctx: &'a mut KvCtx<C>,
    table: &'a mut ResourceTable,
}

impl<'a, C: Clock> KvView<'a, C> {
    pub fn new(ctx: &'a mut KvCtx<C>, table: &'a mut ResourceTable) -> KvView<'a, C> {
        KvView { ctx, table }
    }

    fn bucket(&self, bucket: &Resource<BucketHandle>) -> wasmtime::Result<String> {
        Ok(self.table.get(bucket)?.name.clone())
    }

    /// The L1; a bucket or CAS handle exists only if it does, so `None` is a host bug.
    fn l1(&self) -> wasmtime::Result<&AppL1<C>> {
        self.ctx
            .l1
            .as_deref()
            .ok_or_else(|| wasmtime::Error::msg("a keyvalue handle without a store"))
    }
}

fn error(e: KvError) -> store::Error {
    match e {
        KvError::NoSuchStore => store::Error::NoSuchStore,
        KvError::Other(m) => store::Error::Other(m),
    }
}

type Answer<T> = wasmtime::Result<Result<T, store::Error>>;

impl<C: Clock + Send + 'static> store::Host for KvView<'_, C> {
    fn open(&mut self, identifier: String) -> Answer<Resource<BucketHandle>> {
        let Some(l1) = &self.ctx.l1 else {
            return Ok(Err(store::Error::Other(NO_STORE.into())));
        };
        if let Err(e) = l1.check_bucket(&identifier) {
            return Ok(Err(error(e)));
        }
        Ok(Ok(self.table.push(BucketHandle { name: identifier })?))
    }
}

impl<C: Clock + Send + 'static> store::HostBucket for KvView<'_, C> {
    fn get(&mut self, bucket: Resource<BucketHandle>, key: String) -> Answer<Option<Vec<u8>>> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.get(&b, &key).map_err(error))
    }

    fn set(&mut self, bucket: Resource<BucketHandle>, key: String, value: Vec<u8>) -> Answer<()> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.set(&b, &key, &value).map_err(error))
    }

    fn delete(&mut self, bucket: Resource<BucketHandle>, key: String) -> Answer<()> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.delete(&b, &key).map_err(error))
    }

    fn exists(&mut self, bucket: Resource<BucketHandle>, key: String) -> Answer<bool> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.exists(&b, &key).map_err(error))
    }

    fn list_keys(
        &mut self,
        bucket: Resource<BucketHandle>,
        cursor: Option<String>,
    ) -> Answer<store::KeyResponse> {
        let b = self.bucket(&bucket)?;
        Ok(self
            .l1()?
            .list_keys(&b, cursor.as_deref())
            .map(|(keys, cursor)| store::KeyResponse { keys, cursor })
            .map_err(error))
    }

    fn drop(&mut self, bucket: Resource<BucketHandle>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl<C: Clock + Send + 'static> batch::Host for KvView<'_, C> {
    fn get_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        keys: Vec<String>,
    ) -> Answer<Vec<(String, Option<Vec<u8>>)>> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.get_many(&b, &keys).map_err(error))
    }

    fn set_many(
        &mut self,
        bucket: Resource<BucketHandle>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Answer<()> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.set_many(&b, &key_values).map_err(error))
    }

    fn delete_many(&mut self, bucket: Resource<BucketHandle>, keys: Vec<String>) -> Answer<()> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.delete_many(&b, &keys).map_err(error))
    }
}

impl<C: Clock + Send + 'static> atomics::Host for KvView<'_, C> {
    fn increment(
        &mut self,
        bucket: Resource<BucketHandle>,
        key: String,
        delta: i64,
    ) -> Answer<i64> {
        let b = self.bucket(&bucket)?;
        Ok(self.l1()?.increment(&b, &key, delta).map_err(error))
    }

    fn swap(
        &mut self,
        cas: Resource<Cas>,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), atomics::CasError>> {
        let handle = self.table.get(&cas)?.clone();
        Ok(match self.l1()?.swap(&handle, &value) {
            Ok(true) => {
                self.table.delete(cas)?;
                Ok(())
            }
            // The value moved on: the guest gets the handle back, now expecting the new value.
            Ok(false) => match self.l1()?.cas_new(&handle.bucket, &handle.key) {
                Ok(fresh) => {
                    *self.table.get_mut(&cas)? = fresh;
                    Err(atomics::CasError::CasFailed(cas))
                }
                Err(e) => {
                    self.table.delete(cas)?;
                    Err(atomics::CasError::StoreError(error(e)))
                }
            },
            Err(e) => {
                self.table.delete(cas)?;
                Err(atomics::CasError::StoreError(error(e)))
            }
        })
    }
}

impl<C: Clock + Send + 'static> atomics::HostCas for KvView<'_, C> {
    fn new(&mut self, bucket: Resource<BucketHandle>, key: String) -> Answer<Resource<Cas>> {
        let b = self.bucket(&bucket)?;
        match self.l1()?.cas_new(&b, &key) {
            Ok(cas) => Ok(Ok(self.table.push(cas)?)),
            Err(e) => Ok(Err(error(e))),
        }
    }

    fn current(&mut self, cas: Resource<Cas>) -> Answer<Option<Vec<u8>>> {
        Ok(Ok(self.table.get(&cas)?.expected.clone()))
    }

    fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

struct HasKv<C>(std::marker::PhantomData<C>);

impl<C: Clock + Send + 'static> HasData for HasKv<C> {
    type Data<'a> = KvView<'a, C>;
}

/// Adds `wasi:keyvalue/{store,atomics,batch}@0.2.0-draft2` to `linker`, served by the app's L1;
/// `view` reaches an instance's [`KvView`] from its store data.
pub fn add_to_linker<T: Send + 'static, C: Clock + Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> KvView<'_, C>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasKv<C>>(linker, view)?;
    atomics::add_to_linker::<T, HasKv<C>>(linker, view)?;
    batch::add_to_linker::<T, HasKv<C>>(linker, view)?;
    Ok(())
}
