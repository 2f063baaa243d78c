//! The exported `wasi:keyvalue/batch`. `get-many` answers what it can from L1 and asks the
//! backend for the rest in one call; `set-many` and `delete-many` write through. Invariant: a
//! failed batch write (which the contract allows to be partial) drops every key it named from L1,
//! so L1 never keeps a value the backend may have replaced.

use std::collections::HashMap;

use crate::bindings::exports::wasi::keyvalue::batch::Guest;
use crate::bindings::exports::wasi::keyvalue::store::{self as ex, BucketBorrow};
use crate::bindings::wasi::keyvalue::batch as im;
use crate::store::{backend, Bucket};
use crate::tier::{self, Lookup};
use crate::Component;

/// Fills L1 with one answer the backend gave.
fn fill_from(b: &Bucket, (key, value): &(String, Option<Vec<u8>>)) {
    if let Some(k) = b.l1_key(key) {
        tier::fill(k, value.as_deref());
    }
}

fn out_of_memory() -> ex::Error {
    ex::Error::Other("faas-kv-l1: out of memory for the batch".to_owned())
}

impl Guest for Component {
    fn get_many(
        bucket: BucketBorrow<'_>,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, ex::Error> {
        let b = bucket.get::<Bucket>();
        let mut answers: Vec<(String, Option<Vec<u8>>)> = Vec::new();
        answers
            .try_reserve_exact(keys.len())
            .map_err(|_| out_of_memory())?;
        let mut missing: Vec<usize> = Vec::new();
        // The stale values among the missing keys (stale-if-error), by position in `missing`.
        let mut stale: Vec<Option<Vec<u8>>> = Vec::new();
        for key in keys {
            let found = match b.l1_key(&key) {
                Some(k) => tier::lookup(&k),
                None => Lookup::Unknown,
            };
            match found {
                Lookup::Present(value) => answers.push((key, Some(value))),
                Lookup::Absent => answers.push((key, None)),
                Lookup::Unknown | Lookup::Stale(_) => {
                    missing.try_reserve(1).map_err(|_| out_of_memory())?;
                    stale.try_reserve(1).map_err(|_| out_of_memory())?;
                    stale.push(match found {
                        Lookup::Stale(value) => Some(value),
                        _ => None,
                    });
                    missing.push(answers.len());
                    answers.push((key, None));
                }
            }
        }
        if missing.is_empty() {
            if !answers.is_empty() {
                tier::count_saved_call();
            }
            return Ok(answers);
        }
        let mut asked: Vec<String> = Vec::new();
        asked
            .try_reserve_exact(missing.len())
            .map_err(|_| out_of_memory())?;
        asked.extend(missing.iter().map(|&i| answers[i].0.clone()));
        let fetched = match backend(|| im::get_many(&b.inner, &asked)) {
            Ok(fetched) => fetched,
            // Stale-if-error, when every key the backend was asked for has a stale value.
            Err(_) if stale.iter().all(Option::is_some) => {
                tier::count_stale_served(stale.len() as u64);
                for (&i, value) in missing.iter().zip(stale) {
                    answers[i].1 = value;
                }
                return Ok(answers);
            }
            Err(e) => return Err(e),
        };
        let aligned = fetched.len() == asked.len()
            && fetched
                .iter()
                .zip(&asked)
                .all(|((got, _), want)| got == want);
        if aligned {
            for (&i, (_, value)) in missing.iter().zip(fetched) {
                answers[i].1 = value;
                fill_from(b, &answers[i]);
            }
        } else {
            // The backend answered in another order or left keys out: match by name. A key it
            // did not answer for reads as absent but is not cached as such.
            let mut by_key: HashMap<String, Option<Vec<u8>>> = HashMap::new();
            by_key
                .try_reserve(fetched.len())
                .map_err(|_| out_of_memory())?;
            by_key.extend(fetched);
            for &i in &missing {
                if let Some(value) = by_key.get(&answers[i].0) {
                    answers[i].1 = value.clone();
                    fill_from(b, &answers[i]);
                }
            }
        }
        Ok(answers)
    }

    fn set_many(
        bucket: BucketBorrow<'_>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<(), ex::Error> {
        let b = bucket.get::<Bucket>();
        let written = backend(|| im::set_many(&b.inner, &key_values));
        for (key, value) in &key_values {
            if let Some(k) = b.l1_key(key) {
                match written {
                    Ok(()) => tier::fill(k, Some(value)),
                    Err(_) => tier::invalidate(&k),
                }
            }
        }
        written
    }

    fn delete_many(bucket: BucketBorrow<'_>, keys: Vec<String>) -> Result<(), ex::Error> {
        let b = bucket.get::<Bucket>();
        let deleted = backend(|| im::delete_many(&b.inner, &keys));
        for key in &keys {
            if let Some(k) = b.l1_key(key) {
                match deleted {
                    Ok(()) => tier::fill(k, None),
                    Err(_) => tier::invalidate(&k),
                }
            }
        }
        deleted
    }
}
