//! The exported `wasi:keyvalue/atomics`, passed through to the backend, which alone can make
//! them atomic. Invariant: L1 never answers for a key an atomic call touched unless it knows the
//! value: `increment` drops the key (the backend's encoding of the counter is its own); a
//! successful `swap` caches the value it wrote; a failed one drops the key.

use crate::bindings::exports::wasi::keyvalue::atomics::{self as ex, CasError, Guest, GuestCas};
use crate::bindings::exports::wasi::keyvalue::store::{self as ex_store, BucketBorrow};
use crate::bindings::wasi::keyvalue::atomics as im;
use crate::store::{backend, error, Bucket};
use crate::tier;
use crate::Component;

/// An exported CAS handle: the backend's handle and the key's L1 name.
pub struct Cas {
    inner: im::Cas,
    l1_key: Option<String>,
}

impl Guest for Component {
    type Cas = Cas;

    fn increment(
        bucket: BucketBorrow<'_>,
        key: String,
        delta: i64,
    ) -> Result<i64, ex_store::Error> {
        let b = bucket.get::<Bucket>();
        let result = backend(|| im::increment(&b.inner, &key, delta));
        if let Some(k) = b.l1_key(&key) {
            tier::invalidate(&k);
        }
        result
    }

    fn swap(cas: ex::Cas, value: Vec<u8>) -> Result<(), CasError> {
        let Cas { inner, l1_key } = cas.into_inner::<Cas>();
        let result = im::swap(inner, &value);
        tier::count_backend_call(&result);
        match result {
            Ok(()) => {
                if let Some(k) = l1_key {
                    tier::fill(k, Some(&value));
                }
                Ok(())
            }
            Err(failure) => {
                if let Some(k) = &l1_key {
                    tier::invalidate(k);
                }
                Err(match failure {
                    im::CasError::StoreError(e) => CasError::StoreError(error(e)),
                    im::CasError::CasFailed(fresh) => CasError::CasFailed(ex::Cas::new(Cas {
                        inner: fresh,
                        l1_key,
                    })),
                })
            }
        }
    }
}

impl GuestCas for Cas {
    fn new(bucket: BucketBorrow<'_>, key: String) -> Result<ex::Cas, ex_store::Error> {
        let b = bucket.get::<Bucket>();
        let inner = backend(|| im::Cas::new(&b.inner, &key))?;
        Ok(ex::Cas::new(Cas {
            inner,
            l1_key: b.l1_key(&key),
        }))
    }

    fn current(&self) -> Result<Option<Vec<u8>>, ex_store::Error> {
        // Always the backend's value: a CAS must see the version it will swap against.
        backend(|| self.inner.current())
    }
}
