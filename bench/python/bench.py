"""The Python baselines of BENCHMARKS.md: the original `faas-cache-dict` 0.8.0 and `cachetools`
on the workload of the Rust benchmarks (string keys `key-<i>`, 100-byte values, one thread).

Prints one JSON object per line: {"library", "op", "entries", "ns_per_op", "spread"}.

Usage: python bench.py <sizes, comma-separated> <runs> <ops per run>

Fairness notes:
- The original computes its size and purges expired keys by walking the whole dict on every
  write (O(n) per write), so filling 100k entries through its API would take hours. Caches are
  therefore filled through `OrderedDict.__setitem__` with the original's own entry layout
  `(expire_at, value)`, then its size is recomputed once: the state is exactly what its API
  would have built. Every timed operation goes through the public API.
- Slow operations are timed until `ops per run` are done or 1 s has passed (at least 3 ops).
- The original starts a purge thread per instance; its period is raised to an hour so that it
  never runs during a measurement.
"""

import gc
import json
import random
import statistics
import sys
import time
from collections import OrderedDict

import cachetools
from faas_cache_dict import FaaSCacheDict

FaaSCacheDict._auto_purge_seconds = 3600
VALUE = bytes(range(100))
TIME_CAP_NS = 1_000_000_000


def key(i):
    return f"key-{i}"


def shuffled(lo, hi, seed):
    keys = [key(i) for i in range(lo, hi)]
    random.Random(seed).shuffle(keys)
    return keys


def zipf_indices(universe, count, seed, s=1.0):
    """`count` draws from Zipf(s) over 0..universe-1 (rank 0 the most popular)."""
    weights = [1.0 / (r + 1) ** s for r in range(universe)]
    return random.Random(seed).choices(range(universe), weights=weights, k=count)


# --- the subjects -----------------------------------------------------------------------------


def faas_filled(n, capacity, ttl_for=None):
    """The original, `max_items=capacity`, holding key-0..key-<n-1> (LRU order = key order)."""
    cache = FaaSCacheDict(max_items=capacity)
    setitem = OrderedDict.__setitem__
    for i in range(n):
        expire = None if ttl_for is None else ttl_for(i)
        setitem(cache, key(i), (expire, VALUE))
    cache._set_self_byte_size(skip_purge=True)
    return cache


def lru_filled(n, capacity):
    cache = cachetools.LRUCache(maxsize=capacity)
    for i in range(n):
        cache[key(i)] = VALUE
    return cache


SUBJECTS = {
    "faas-cache-dict": faas_filled,
    "cachetools": lru_filled,
}


# --- timing -----------------------------------------------------------------------------------


def timed(ops, action):
    """Runs `action(op)` over `ops` until done or past the time cap; returns ns per op."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        done = 0
        for op in ops:
            action(op)
            done += 1
            if done >= 3 and done % 8 == 0 and time.perf_counter_ns() - start > TIME_CAP_NS:
                break
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / done


def report(library, op, n, samples):
    median = statistics.median(samples)
    spread = (max(samples) - min(samples)) / median if median > 0 else 0.0
    print(json.dumps({"library": library, "op": op, "entries": n,
                      "ns_per_op": median, "spread": spread}), flush=True)


def bench_size(library, build, n, runs, ops):
    present = shuffled(0, n, n)
    absent = shuffled(n, 2 * n, n + 1)
    count = min(ops, max(n, 10_000))

    def cycle(keys):
        return [keys[i % len(keys)] for i in range(count)]

    cache = build(n, n)

    def get(k):
        cache.get(k)

    report(library, "get_hit", n, [timed(cycle(present), get) for _ in range(runs)])
    report(library, "get_miss", n, [timed(cycle(absent), get) for _ in range(runs)])

    # set-new: fresh keys into a cache with room for all of them (no eviction).
    samples = []
    for r in range(runs):
        fresh = build(0, 2 * n + count)
        fresh_keys = [key(i) for i in range(n)]
        # Start from a cache holding n entries, as in the other operations.
        for k in fresh_keys:
            OrderedDict.__setitem__(fresh, k, (None, VALUE)) if library == "faas-cache-dict" else fresh.__setitem__(k, VALUE)
        if library == "faas-cache-dict":
            fresh._set_self_byte_size(skip_purge=True)
        new_keys = [key(2 * n + r * count + i) for i in range(count)]
        samples.append(timed(new_keys, lambda k: fresh.__setitem__(k, VALUE)))
    report(library, "set_new", n, samples)

    # set with eviction: bounded to n/2 entries, every write a key not present.
    samples = []
    for r in range(runs):
        half = build(n // 2, n // 2)
        writes = [key(n + (i % n)) for i in range(count)]
        samples.append(timed(writes, lambda k: half.__setitem__(k, VALUE)))
    report(library, "set_evict", n, samples)

    # mixed: 90% get / 10% set, Zipf(1.0) keys over 2n keys, the cache holds n.
    samples = []
    for r in range(runs):
        mixed = build(n, n)
        rng = random.Random(7 + r)
        idx = zipf_indices(2 * n, count, 11 + r)
        plan = [(rng.random() < 0.1, key(i)) for i in idx]

        def step(op):
            write, k = op
            if write:
                mixed[k] = VALUE
            else:
                mixed.get(k)

        samples.append(timed(plan, step))
    report(library, "mixed_zipf", n, samples)


def bench_ttl_purge(n, runs):
    """Purge of k = n/10 expired entries among n; ns per purged entry."""
    k = n // 10
    samples = []
    for _ in range(runs):
        now = time.time()
        cache = faas_filled(n, n, ttl_for=lambda i: now - 1 if i % 10 == 0 else None)
        gc.collect()
        start = time.perf_counter_ns()
        cache._purge_expired()
        samples.append((time.perf_counter_ns() - start) / k)
        assert len(OrderedDict.keys(cache)) == n - k
    report("faas-cache-dict", "ttl_purge", n, samples)

    samples = []
    for _ in range(runs):
        clock = [0.0]
        cache = cachetools.TTLCache(maxsize=n, ttl=10.0, timer=lambda: clock[0])
        # One TTL for the whole cache: the k entries to expire are written first, at t=0.
        for i in range(n):
            clock[0] = 0.0 if i < k else 5.0
            cache[key(i)] = VALUE
        clock[0] = 12.0
        gc.collect()
        start = time.perf_counter_ns()
        cache.expire()
        samples.append((time.perf_counter_ns() - start) / k)
        assert len(cache) == n - k, len(cache)
    report("cachetools", "ttl_purge", n, samples)


def main():
    sizes = [int(s) for s in sys.argv[1].split(",")]
    runs = int(sys.argv[2])
    ops = int(sys.argv[3])
    for n in sizes:
        for library, build in SUBJECTS.items():
            bench_size(library, build, n, runs, ops)
        bench_ttl_purge(n, runs)


if __name__ == "__main__":
    main()
