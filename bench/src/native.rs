//! Section 1 and 3 of the report: the native core next to `lru`, `quick_cache` (unsync) and
//! `moka` (sync), one thread, on the workload of `workload`. Invariant: every library gets the
//! same keys, values and order, hashes with the same seeded aHash (except `moka`, whose builder
//! takes it too), and every timed loop contains cache calls only: owned keys and values are
//! built before the clock starts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use faas_cache::{Cache, ManualClock, Time};

use crate::measure::{per_op, repeat, Sample};
use crate::subjects::{
    faas_config, hasher, Faas, FaasS3Fifo, Lru, Moka, Quick, Subject, FAAS_SEED,
};
use crate::workload::{key, mixed_plan, shuffled_keys, value, Step};
use crate::Row;

/// How much to measure.
#[derive(Clone, Copy)]
pub struct Plan {
    pub runs: usize,
    /// Operations per run (fewer when a run needs a fresh cache each time, see `set_new`).
    pub ops: usize,
}

/// A cache of `capacity` holding `key-0` .. `key-<n-1>`, inserted in order.
fn filled<S: Subject>(capacity: usize, n: usize, bytes: &[u8]) -> S {
    let mut cache = S::with_capacity(capacity);
    for i in 0..n {
        cache.set(key(i), S::make_value(bytes));
    }
    assert_eq!(cache.settled_len(), n, "{}: every key stays", S::NAME);
    cache
}

/// `count` owned (key, value) pairs, cycling through `keys`.
fn owned_pairs<S: Subject>(keys: &[String], count: usize, bytes: &[u8]) -> Vec<(String, S::Value)> {
    (0..count)
        .map(|i| (keys[i % keys.len()].clone(), S::make_value(bytes)))
        .collect()
}

fn lookups<S: Subject>(cache: &mut S, probes: &[String], ops: usize) -> (f64, usize) {
    let mut hits = 0;
    let ns = per_op(ops, || {
        for i in 0..ops {
            hits += usize::from(cache.get(&probes[i % probes.len()]));
        }
    });
    (ns, hits)
}

fn writes<S: Subject>(cache: &mut S, pairs: Vec<(String, S::Value)>) -> f64 {
    let count = pairs.len();
    per_op(count, || {
        for (k, v) in pairs {
            cache.set(k, v);
        }
    })
}

/// Every operation of the report for one library at one size.
fn library<S: Subject>(n: usize, plan: Plan, rows: &mut Vec<Row>) {
    let bytes = value();
    let mut push = |op: &str, sample: Sample| {
        eprintln!(
            "  {:<12} {:<11} {:>9} entries: {:>9.1} ns/op (spread {:.0}%)",
            S::NAME,
            op,
            n,
            sample.ns,
            sample.spread * 100.0
        );
        rows.push(Row::new(S::NAME, op, n, sample));
    };

    let mut cache = filled::<S>(n, n, &bytes);
    let present = shuffled_keys(0, n);
    let absent = shuffled_keys(n, 2 * n);
    let hit = repeat(plan.runs, || {
        let (ns, hits) = lookups(&mut cache, &present, plan.ops);
        assert_eq!(hits, plan.ops, "{}: every probe hits", S::NAME);
        ns
    });
    push("get_hit", hit);
    let miss = repeat(plan.runs, || {
        let (ns, hits) = lookups(&mut cache, &absent, plan.ops);
        assert_eq!(hits, 0, "{}: no probe hits", S::NAME);
        ns
    });
    push("get_miss", miss);
    drop(cache);

    // set-new: fresh keys into a cache that holds n entries and has room for more (no
    // eviction). A run is ops writes, split over fresh caches when n is small.
    let per_cache = n.min(plan.ops);
    let caches = plan.ops.div_ceil(per_cache);
    let fresh_keys: Vec<String> = (2 * n..2 * n + per_cache).map(key).collect();
    let set_new = repeat(plan.runs, || {
        let mut total = 0.0;
        for _ in 0..caches {
            let mut cache = filled::<S>(2 * n, n, &bytes);
            let pairs = owned_pairs::<S>(&fresh_keys, per_cache, &bytes);
            total += writes(&mut cache, pairs) * per_cache as f64;
            assert_eq!(
                cache.settled_len(),
                n + per_cache,
                "{}: no eviction",
                S::NAME
            );
        }
        total / (caches * per_cache) as f64
    });
    push("set_new", set_new);

    // set with eviction: bounded to n/2 entries; writes cycle through 2n keys that are not in
    // the cache, so every write evicts one entry (LRU or not).
    let evict_keys: Vec<String> = (n..3 * n).map(key).collect();
    let set_evict = repeat(plan.runs, || {
        let mut cache = filled::<S>(n / 2, n / 2, &bytes);
        let pairs = owned_pairs::<S>(&evict_keys, plan.ops, &bytes);
        let ns = writes(&mut cache, pairs);
        assert!(cache.settled_len() <= n / 2, "{}: bounded", S::NAME);
        ns
    });
    push("set_evict", set_evict);

    // mixed: 90% get / 10% set, Zipf(1) over 2n keys, the cache bounded to n and full.
    let universe: Vec<String> = (0..2 * n).map(key).collect();
    let mut seed = 0;
    let mixed = repeat(plan.runs, || {
        seed += 1;
        let steps = mixed_plan(2 * n, plan.ops, seed);
        let mut cache = filled::<S>(n, n, &bytes);
        let mut values = (0..steps.len())
            .filter(|i| matches!(steps[*i], Step::Set(_)))
            .map(|_| S::make_value(&bytes))
            .collect::<Vec<_>>()
            .into_iter();
        let owned: Vec<Option<String>> = steps
            .iter()
            .map(|s| match s {
                Step::Set(k) => Some(universe[*k].clone()),
                Step::Get(_) => None,
            })
            .collect();
        let mut owned = owned.into_iter();
        per_op(steps.len(), || {
            for step in &steps {
                let slot = owned.next().flatten();
                match step {
                    Step::Get(k) => {
                        cache.get(&universe[*k]);
                    }
                    Step::Set(_) => {
                        let k = slot.expect("a write has its key");
                        cache.set(k, values.next().expect("a write has its value"));
                    }
                }
            }
        })
    });
    push("mixed_zipf", mixed);
}

/// The two policies of the same core, for the policy targets: get-hit and evicting set, with the
/// runs of the two interleaved (LRU, S3-FIFO, LRU, ...) so that a noisy neighbour slows both
/// alike. Rows `get_hit_ab` and `set_evict_ab`.
fn policy_ab(n: usize, plan: Plan, rows: &mut Vec<Row>) {
    let bytes = value();
    let present = shuffled_keys(0, n);
    let mut lru = filled::<Faas>(n, n, &bytes);
    let mut s3 = filled::<FaasS3Fifo>(n, n, &bytes);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs.max(1) {
        a.push(lookups(&mut lru, &present, plan.ops).0);
        b.push(lookups(&mut s3, &present, plan.ops).0);
    }
    drop((lru, s3));
    let evict_keys: Vec<String> = (n..3 * n).map(key).collect();
    let (mut c, mut d) = (Vec::new(), Vec::new());
    for _ in 0..plan.runs.max(1) {
        let mut lru = filled::<Faas>(n / 2, n / 2, &bytes);
        c.push(writes(
            &mut lru,
            owned_pairs::<Faas>(&evict_keys, plan.ops, &bytes),
        ));
        let mut s3 = filled::<FaasS3Fifo>(n / 2, n / 2, &bytes);
        d.push(writes(
            &mut s3,
            owned_pairs::<FaasS3Fifo>(&evict_keys, plan.ops, &bytes),
        ));
    }
    for (library, op, runs) in [
        (Faas::NAME, "get_hit_ab", a),
        (FaasS3Fifo::NAME, "get_hit_ab", b),
        (Faas::NAME, "set_evict_ab", c),
        (FaasS3Fifo::NAME, "set_evict_ab", d),
    ] {
        let sample = Sample::of(runs);
        eprintln!(
            "  {library:<18} {op:<12} {n:>9} entries: {:>9.1} ns/op (spread {:.0}%)",
            sample.ns,
            sample.spread * 100.0
        );
        rows.push(Row::new(library, op, n, sample));
    }
}

/// TTL purge of k = n/10 expired entries among n: `faas-cache` with a manual clock.
fn faas_ttl_purge(n: usize, runs: usize) -> Sample {
    let k = (n / 10).max(1);
    let bytes = value();
    repeat(runs, || {
        let clock = ManualClock::new(Time::from_unix(1_700_000_000, 0));
        let mut cache =
            Cache::with_clock_and_seed(faas_config(n), clock.clone(), FAAS_SEED).expect("config");
        for i in 0..n {
            cache.set(key(i), bytes.clone()).expect("fits");
            if i % 10 == 0 && i / 10 < k {
                cache.set_ttl(&key(i), Some(1.0)).expect("present");
            }
        }
        clock.advance_secs(2.0);
        let mut purged = 0;
        let ns = per_op(k, || purged = cache.purge_expired());
        assert_eq!(
            purged as usize, k,
            "faas-cache purges the k expired entries"
        );
        ns
    })
}

/// `moka` with a per-entry expiry: k entries expire after 1 s of wall-clock time (moka has no
/// clock to move), the others after an hour; 2.6 s later its maintenance runs until they are gone.
fn moka_ttl_purge(n: usize, runs: usize) -> Sample {
    struct ShortIfMarked;
    impl moka::Expiry<String, Arc<[u8]>> for ShortIfMarked {
        fn expire_after_create(&self, _: &String, v: &Arc<[u8]>, _: Instant) -> Option<Duration> {
            Some(if v[0] == 0xff {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(3600)
            })
        }
    }
    let k = (n / 10).max(1);
    let bytes = value();
    let mut marked = bytes.clone();
    marked[0] = 0xff;
    repeat(runs, || {
        let cache: Moka = moka::sync::Cache::builder()
            .max_capacity(n as u64)
            .expire_after(ShortIfMarked)
            .build_with_hasher(hasher());
        for i in k..n {
            cache.insert(key(i), Arc::from(&bytes[..]));
        }
        let start = Instant::now();
        for i in 0..k {
            cache.insert(key(i), Arc::from(&marked[..]));
        }
        cache.run_pending_tasks();
        assert_eq!(cache.entry_count() as usize, n, "moka: nothing expired yet");
        // moka's timer wheel has buckets of about 1.07 s: wait until every bucket is due.
        std::thread::sleep(Duration::from_millis(2600).saturating_sub(start.elapsed()));
        let ns = per_op(k, || {
            for _ in 0..10_000 {
                cache.run_pending_tasks();
                if cache.entry_count() as usize == n - k {
                    break;
                }
            }
        });
        assert_eq!(
            cache.entry_count() as usize,
            n - k,
            "moka purges the k entries"
        );
        ns
    })
}

/// Every library at every size; rows are ns per operation.
pub fn run(sizes: &[usize], plan: Plan) -> Vec<Row> {
    let mut rows = Vec::new();
    for &n in sizes {
        eprintln!("native, {n} entries");
        library::<Faas>(n, plan, &mut rows);
        library::<FaasS3Fifo>(n, plan, &mut rows);
        policy_ab(n, plan, &mut rows);
        library::<Lru>(n, plan, &mut rows);
        library::<Quick>(n, plan, &mut rows);
        library::<Moka>(n, plan, &mut rows);
        let runs = plan.runs.min(3);
        for (name, sample) in [
            ("faas-cache", faas_ttl_purge(n, plan.runs)),
            ("moka", moka_ttl_purge(n, runs)),
        ] {
            eprintln!(
                "  {name:<12} ttl_purge   {n:>9} entries: {:>9.1} ns/entry",
                sample.ns
            );
            rows.push(Row::new(name, "ttl_purge", n, sample));
        }
    }
    rows
}
