//! The exported `wasi:keyvalue/store`: `open` wraps the backend's bucket; `get` and `exists` read
//! through L1; `set` and `delete` write through (backend first, then L1); `list-keys` is passed
//! through and never cached. Invariant: L1 changes only after the backend has answered `Ok`.

use crate::bindings::exports::wasi::keyvalue::store::{self as ex, Guest, GuestBucket};
use crate::bindings::wasi::keyvalue::store as im;
use crate::tier::{self, Lookup, Presence};
use crate::Component;

/// Converts the backend's error into the exported one (the same variant; they are distinct
/// generated types because the interface is both imported and exported).
pub fn error(e: im::Error) -> ex::Error {
    match e {
        im::Error::NoSuchStore => ex::Error::NoSuchStore,
        im::Error::AccessDenied => ex::Error::AccessDenied,
        im::Error::Other(m) => ex::Error::Other(m),
    }
}

/// Calls the backend and counts the call.
pub fn backend<T>(call: impl FnOnce() -> Result<T, im::Error>) -> Result<T, ex::Error> {
    let result = call();
    tier::count_backend_call(&result);
    result.map_err(error)
}

/// An exported bucket: the backend's bucket and the prefix of its keys in L1.
pub struct Bucket {
    prefix: String,
    pub inner: im::Bucket,
}

impl Bucket {
    /// The L1 key of `key`. `None` only when memory is refused even after the allocator evicted
    /// every L1 entry, so L1 holds nothing that could go stale: skipping L1 is then correct.
    pub fn l1_key(&self, key: &str) -> Option<String> {
        tier::l1_key(&self.prefix, key)
    }
}

impl Guest for Component {
    type Bucket = Bucket;

    fn open(identifier: String) -> Result<ex::Bucket, ex::Error> {
        tier::init().map_err(ex::Error::Other)?;
        // Not counted as a backend call: hosts resolve `open` locally (no round trip).
        let inner = im::open(&identifier).map_err(error)?;
        Ok(ex::Bucket::new(Bucket {
            prefix: tier::bucket_prefix(&identifier),
            inner,
        }))
    }
}

impl GuestBucket for Bucket {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, ex::Error> {
        let l1_key = self.l1_key(&key);
        let mut stale = None;
        if let Some(k) = &l1_key {
            match tier::lookup(k) {
                Lookup::Present(value) => {
                    tier::count_saved_call();
                    return Ok(Some(value));
                }
                Lookup::Absent => {
                    tier::count_saved_call();
                    return Ok(None);
                }
                Lookup::Stale(value) => stale = Some(value),
                Lookup::Unknown => {}
            }
        }
        let value = match (backend(|| self.inner.get(&key)), stale) {
            (Ok(value), _) => value,
            // Stale-if-error: the backend failed, and L1's value expired only moments ago.
            (Err(_), Some(value)) => {
                tier::count_stale_served(1);
                return Ok(Some(value));
            }
            (Err(e), None) => return Err(e),
        };
        if let Some(k) = l1_key {
            tier::fill(k, value.as_deref());
        }
        Ok(value)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), ex::Error> {
        backend(|| self.inner.set(&key, &value))?;
        if let Some(k) = self.l1_key(&key) {
            tier::fill(k, Some(&value));
        }
        Ok(())
    }

    fn delete(&self, key: String) -> Result<(), ex::Error> {
        backend(|| self.inner.delete(&key))?;
        if let Some(k) = self.l1_key(&key) {
            // The key is now known to be absent: cached as such when negative caching is on.
            tier::fill(k, None);
        }
        Ok(())
    }

    fn exists(&self, key: String) -> Result<bool, ex::Error> {
        let l1_key = self.l1_key(&key);
        let mut stale = false;
        if let Some(k) = l1_key.as_deref() {
            match tier::presence(k) {
                Presence::Known(known) => {
                    tier::count_saved_call();
                    return Ok(known);
                }
                Presence::Stale => stale = true,
                Presence::Unknown => {}
            }
        }
        let exists = match (backend(|| self.inner.exists(&key)), stale) {
            (Ok(exists), _) => exists,
            // Stale-if-error, as for `get`: L1 held the key moments ago.
            (Err(_), true) => {
                tier::count_stale_served(1);
                return Ok(true);
            }
            (Err(e), false) => return Err(e),
        };
        if let (false, Some(k)) = (exists, l1_key) {
            tier::fill(k, None);
        }
        Ok(exists)
    }

    fn list_keys(&self, cursor: Option<String>) -> Result<ex::KeyResponse, ex::Error> {
        let page = backend(|| self.inner.list_keys(cursor.as_deref()))?;
        Ok(ex::KeyResponse {
            keys: page.keys,
            cursor: page.cursor,
        })
    }
}
